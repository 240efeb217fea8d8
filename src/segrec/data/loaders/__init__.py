"""Dataset loaders; importing this package registers them all.

Each module registers one ``KIND`` with :func:`segrec.data.register_loader`:
``movielens``, ``amazon``, ``lastfm-hetrec``, ``yelp-csv``, ``filmtrust``, ``generic`` (and
``synthetic`` once that module exists).
"""

from segrec.data.loaders import amazon, filmtrust, generic, lastfm, movielens, yelp

try:  # the synthetic generator is built separately; register it when present
    from segrec.data.loaders import synthetic
except ImportError as exc:  # pragma: no cover - depends on the checkout
    if getattr(exc, "name", None) != "segrec.data.loaders.synthetic":
        raise
    synthetic = None  # type: ignore[assignment]

__all__ = ["amazon", "filmtrust", "generic", "lastfm", "movielens", "synthetic", "yelp"]
