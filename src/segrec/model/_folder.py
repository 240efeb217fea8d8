"""The model folder on disk: JSON for what a person reads, ``.npz`` and Parquet for arrays and
tables, never pickle.

Each fitted part (encoder, featurizer, segmentation, recommender) is a *state*: a JSON-able
``meta`` dict and a dict of plain arrays. A state ``name`` is written as ``name.json`` and
``name.npz``; arrays are read back with ``allow_pickle=False``, so a folder someone sent you
cannot run code when it is loaded (the classes a state names are looked up in segrec's own
registries, never imported by path).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segrec._json import json_safe
from segrec.data import Dataset
from segrec.diagnostics import UsageError

__all__ = [
    "FORMAT_VERSION",
    "State",
    "dataset_fingerprint",
    "read_json",
    "read_state",
    "write_json",
    "write_state",
]

#: the model folder layout this code writes and reads; a newer folder is refused by name
FORMAT_VERSION = 1

State = tuple[dict[str, Any], dict[str, np.ndarray]]


def write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented JSON at ``path``, written whole or not at all."""
    _atomic_write(path, json.dumps(json_safe(obj), indent=2, allow_nan=False).encode())


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: missing; a model folder holds model.json and its parts, as "
            "`segrec fit --out DIR` or `segrec run` write them"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid JSON ({exc}); the model folder is damaged") from None


def write_state(folder: Path, name: str, state: State) -> list[str]:
    """Write ``state`` as ``name.json`` + ``name.npz``; returns the file names written."""
    meta, arrays = state
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(
                f"state '{name}': array '{key}' holds Python objects; store plain arrays"
            )
    write_json(folder / f"{name}.json", meta)
    tmp = folder / f".{name}.npz.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / f"{name}.npz")
    return [f"{name}.json", f"{name}.npz"]


def read_state(folder: Path, name: str) -> State:
    """The state ``name`` of ``folder`` (arrays loaded eagerly, never unpickled)."""
    meta = read_json(folder / f"{name}.json")
    path = folder / f"{name}.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise UsageError(f"{path}: missing; the model folder is incomplete") from None
    except ValueError as exc:  # object arrays need pickle: refused
        raise UsageError(
            f"{path}: refused ({exc}); a model folder holds plain arrays only"
        ) from None
    return meta, arrays


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def dataset_fingerprint(ds: Dataset) -> dict[str, Any]:
    """Counts and a content hash of the interactions and texts a model was fit on, so a reader
    can tell which data a folder came from (the hash is order-independent)."""
    h = hashlib.sha256()
    for name in ("interactions", "texts", "social"):
        df = getattr(ds, name)
        cols = [
            c for c in df.columns if c in ("user_id", "item_id", "src", "dst", "timestamp", "text")
        ]
        if len(df) and cols:
            rows = pd.util.hash_pandas_object(df[cols].astype(str), index=False).to_numpy()
            h.update(np.sort(rows).tobytes())
        h.update(f"{name}:{len(df)}".encode())
    return {
        "name": ds.name,
        "n_users": int(ds.n_users),
        "n_items": len(ds.item_ids),
        "n_interactions": len(ds.interactions),
        "n_texts": len(ds.texts),
        "n_ties": len(ds.social),
        "sha256": h.hexdigest(),
    }
