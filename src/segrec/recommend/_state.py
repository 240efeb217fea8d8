"""A fitted recommender as JSON-able meta plus named arrays, and back, without pickle.

:func:`recommender_to_state` walks the learned attributes (names ending in ``_``) of the model
and of every recommender nested in it, by type: scalars, lists and dicts go into the meta;
arrays, sparse matrices (data / indices / indptr) and string indexes (unicode arrays) into the
arrays, each stored once however often it appears. :func:`recommender_from_state` rebuilds only
classes it knows (the registry's recommenders, a few named value classes), so loading runs no
code from the files: ``np.load(path, allow_pickle=False)`` reads the arrays back.

Nested recommenders share the top model's reason index after loading (they are fitted on the
same training data; the top model's index carries the segmentation its users are explained by).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel

from segrec.diagnostics import UsageError
from segrec.recommend._reasons import ReasonIndex
from segrec.recommend._scorer import ScoringRecommender
from segrec.recommend._segment import SegmentRule
from segrec.recommend._tfidf import TextSpace

__all__ = ["STATE_FORMAT", "recommender_from_state", "recommender_to_state"]

#: version of the meta layout; a reader refuses a newer one
STATE_FORMAT = 1
_OBJECTS: dict[str, Any] = {"ReasonIndex": ReasonIndex, "TextSpace": TextSpace}
_MODELS: dict[str, type[BaseModel]] = {"SegmentRule": SegmentRule}
_SCALARS = (bool, int, float, str, np.bool_, np.integer, np.floating, np.str_)


def recommender_to_state(rec: ScoringRecommender) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of a fitted ``rec``: write meta with ``json`` and arrays with
    ``np.savez``; :func:`recommender_from_state` reads them back.

    >>> # meta, arrays = recommender_to_state(model); np.savez(path, **arrays)
    """
    rec._check_fitted()
    w = _Writer()
    meta = {"format": STATE_FORMAT, "model": w.recommender(rec, "m", top=True)}
    json.dumps(meta)  # fail here, naming nothing stored, rather than in the caller's write
    return meta, w.arrays


def recommender_from_state(
    meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> ScoringRecommender:
    """The fitted recommender of :func:`recommender_to_state`'s ``(meta, arrays)``."""
    fmt = meta.get("format")
    if not isinstance(fmt, int) or fmt > STATE_FORMAT:
        raise UsageError(
            f"recommender state format {fmt!r} is not readable by this segrec (reads up to "
            f"{STATE_FORMAT}); upgrade segrec to load it"
        )
    rec = _Reader(arrays).recommender(meta["model"])
    idx: ReasonIndex | None = getattr(rec, "reasons_", None)
    for r in rec.walk():
        if idx is not None and getattr(r, "reasons_", None) is None:
            r.reasons_ = idx
    return rec


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._seen: dict[str, str] = {}

    def put(self, a: np.ndarray, key: str) -> str:
        a = np.ascontiguousarray(a)
        digest = hashlib.sha1(f"{a.dtype.str}{a.shape}".encode() + a.tobytes()).hexdigest()
        if digest not in self._seen:
            self._seen[digest] = key
            self.arrays[key] = a
        return self._seen[digest]

    def recommender(self, rec: ScoringRecommender, key: str, top: bool = False) -> dict[str, Any]:
        from segrec.recommend._registry import _classes

        if _classes().get(rec.name) is not type(rec):
            raise UsageError(
                f"recommender_to_state: {type(rec).__name__} is not the registered "
                f"recommender '{rec.name}'; only registry classes can be stored and loaded"
            )
        attrs = {}
        for name, v in vars(rec).items():
            if not name.endswith("_") or name.startswith("_") or (name == "reasons_" and not top):
                continue
            attrs[name] = self.value(v, f"{key}.{name}", f"'{rec.name}' attribute {name}")
        config = rec.config.model_dump(mode="json")
        return {"t": "recommender", "name": rec.name, "config": config, "attrs": attrs}

    def value(self, v: Any, key: str, where: str) -> dict[str, Any]:
        if v is None:
            return {"t": "none"}
        if isinstance(v, _SCALARS):
            return {"t": "json", "v": v.item() if isinstance(v, np.generic) else v}
        if isinstance(v, ScoringRecommender):
            return self.recommender(v, key)
        if isinstance(v, np.ndarray):
            return self.array(v, key, where)
        if sp.issparse(v):
            fmt = "csc" if v.format == "csc" else "csr"
            m = sp.csc_matrix(v) if fmt == "csc" else sp.csr_matrix(v)
            parts = {
                p: self.put(getattr(m, p), f"{key}.{p}") for p in ("data", "indices", "indptr")
            }
            return {"t": "sparse", "format": fmt, "shape": list(m.shape), **parts}
        if isinstance(v, pd.Index) and not isinstance(v, pd.MultiIndex):
            values = self.array(v.to_numpy(), key, where)
            return {"t": "index", "dtype": str(v.dtype), "name": v.name, "values": values}
        if isinstance(v, pd.DataFrame | pd.Series):
            kind = "frame" if isinstance(v, pd.DataFrame) else "series"
            return {"t": kind, "v": v.to_json(orient="split")}
        if isinstance(v, dict):
            return self.mapping(v, key, where)
        if isinstance(v, list | tuple):
            items = [self.value(x, f"{key}.{i}", where) for i, x in enumerate(v)]
            return {"t": "tuple" if isinstance(v, tuple) else "list", "items": items}
        if type(v).__name__ in _MODELS and isinstance(v, _MODELS[type(v).__name__]):
            return {"t": "pydantic", "class": type(v).__name__, "v": v.model_dump(mode="json")}
        if type(v).__name__ in _OBJECTS and isinstance(v, _OBJECTS[type(v).__name__]):
            return {
                "t": "object",
                "class": type(v).__name__,
                "state": self.value(v.state(), key, where),
            }
        raise UsageError(
            f"recommender_to_state: cannot store {where} of type {type(v).__name__}; store "
            "arrays, sparse matrices, indexes, scalars, lists and dicts of them"
        )

    def array(self, v: np.ndarray, key: str, where: str) -> dict[str, Any]:
        obj = v.dtype == object
        if obj:
            if not all(isinstance(x, str) for x in v.ravel()):
                raise UsageError(
                    f"recommender_to_state: {where} is an object array with non-string values; "
                    "only numeric and string arrays can be stored without pickle"
                )
            v = v.astype(str) if v.size else np.empty(v.shape, dtype="<U1")
        return {"t": "array", "key": self.put(v, key), "object": bool(obj)}

    def mapping(self, v: dict[Any, Any], key: str, where: str) -> dict[str, Any]:
        if all(isinstance(k, str) for k in v):
            int_keys = False
        elif all(isinstance(k, int | np.integer) for k in v):
            int_keys = True
        else:
            raise UsageError(f"recommender_to_state: {where} has keys other than all str or int")
        keys = [int(k) if int_keys else k for k in v]
        items = [self.value(x, f"{key}.{i}", where) for i, x in enumerate(v.values())]
        return {"t": "dict", "int_keys": int_keys, "keys": keys, "items": items}


class _Reader:
    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = arrays

    def recommender(self, node: Mapping[str, Any]) -> ScoringRecommender:
        from segrec.recommend._registry import _classes

        cls = _classes().get(node["name"])
        if cls is None:
            raise UsageError(f"recommender state names unknown recommender {node['name']!r}")
        rec = cls(config=cls.config_class.model_validate(node["config"]))
        for name, v in node["attrs"].items():
            setattr(rec, name, self.value(v))
        return rec

    def value(self, node: Mapping[str, Any]) -> Any:
        t = node["t"]
        if t == "none":
            return None
        if t == "json":
            return node["v"]
        if t == "recommender":
            return self.recommender(node)
        if t == "array":
            a = np.asarray(self.arrays[node["key"]])
            return a.astype(object) if node["object"] else a
        if t == "sparse":
            parts = tuple(np.asarray(self.arrays[node[p]]) for p in ("data", "indices", "indptr"))
            fmt = sp.csc_matrix if node["format"] == "csc" else sp.csr_matrix
            return fmt(parts, shape=tuple(node["shape"]))
        if t == "index":
            values = self.value(node["values"])
            return pd.Index(values, dtype=node["dtype"], name=node["name"])
        if t in ("frame", "series"):
            from io import StringIO

            typ = "frame" if t == "frame" else "series"
            text = StringIO(node["v"])
            return pd.read_json(text, orient="split", typ=typ, dtype=False, convert_axes=False)
        if t in ("list", "tuple"):
            items = [self.value(x) for x in node["items"]]
            return tuple(items) if t == "tuple" else items
        if t == "dict":
            return {k: self.value(x) for k, x in zip(node["keys"], node["items"], strict=True)}
        if t == "pydantic" and node["class"] in _MODELS:
            return _MODELS[node["class"]].model_validate(node["v"])
        if t in ("object", "pydantic") and node["class"] not in {**_OBJECTS, **_MODELS}:
            raise UsageError(f"recommender state holds an unknown class {node['class']!r}")
        if t == "object":
            return _OBJECTS[node["class"]].from_state(self.value(node["state"]))
        raise UsageError(f"recommender state holds an unknown value type {t!r}")
