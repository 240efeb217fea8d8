"""Fitted state as (JSON-able meta, named numpy arrays): no pickle, no object arrays.

Strings travel as unicode arrays, sparse matrices as ``data``/``indices``/``indptr``/``shape``,
and nested stages put their arrays under a ``prefix.`` so one ``.npz`` holds a whole pipeline.
``np.load(path, allow_pickle=False)`` reads every array written from here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
    "State",
    "csr_from_state",
    "csr_state",
    "frame_from_state",
    "frame_state",
    "nest",
    "series_from_state",
    "series_state",
    "unnest",
]

#: (JSON-able meta, arrays by name): what every ``to_state`` returns
State = tuple[dict[str, Any], dict[str, np.ndarray]]


def nest(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays`` with every name under ``prefix.``."""
    return {f"{prefix}.{k}": v for k, v in arrays.items()}


def unnest(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays under ``prefix.``, with the prefix taken off."""
    p = f"{prefix}."
    return {k[len(p) :]: v for k, v in arrays.items() if k.startswith(p)}


def csr_state(name: str, m: sp.spmatrix) -> dict[str, np.ndarray]:
    c = sp.csr_matrix(m)
    return {
        f"{name}.data": c.data,
        f"{name}.indices": c.indices,
        f"{name}.indptr": c.indptr,
        f"{name}.shape": np.asarray(c.shape, dtype=np.int64),
    }


def csr_from_state(name: str, arrays: dict[str, np.ndarray]) -> sp.csr_matrix:
    shape = tuple(int(s) for s in arrays[f"{name}.shape"])
    return sp.csr_matrix(
        (arrays[f"{name}.data"], arrays[f"{name}.indices"], arrays[f"{name}.indptr"]),
        shape=shape,
    )


def series_state(name: str, s: pd.Series) -> dict[str, np.ndarray]:
    """A float Series with a string index."""
    return {
        f"{name}.index": np.asarray(s.index, dtype=str),
        f"{name}.values": s.to_numpy(np.float64),
    }


def series_from_state(name: str, arrays: dict[str, np.ndarray]) -> pd.Series:
    idx = pd.Index(arrays[f"{name}.index"].astype(object), name="item_id")
    return pd.Series(arrays[f"{name}.values"], index=idx)


def frame_state(name: str, df: pd.DataFrame) -> dict[str, np.ndarray]:
    """A numeric DataFrame with a string index (column names are kept by position)."""
    return {f"{name}.index": np.asarray(df.index, dtype=str), f"{name}.values": df.to_numpy()}


def frame_from_state(name: str, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    idx = pd.Index(arrays[f"{name}.index"].astype(object), name="item_id")
    return pd.DataFrame(arrays[f"{name}.values"], index=idx)
