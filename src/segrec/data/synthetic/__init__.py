"""A seeded synthetic music shop with planted personas (the built-in default dataset).

>>> from segrec.data.synthetic import generate
>>> ds = generate(users=500, seed=7)
>>> ds.truth.nunique()
7
"""

from segrec.data.synthetic._generate import generate
from segrec.data.synthetic._personas import CATEGORIES, PERSONAS, Persona
from segrec.data.synthetic._stream import read_streamed, stream_to_disk
from segrec.data.synthetic._world import SyntheticConfig

__all__ = [
    "CATEGORIES",
    "PERSONAS",
    "Persona",
    "SyntheticConfig",
    "generate",
    "read_streamed",
    "stream_to_disk",
]
