"""The :class:`UserFeatures` artifact: named feature blocks over one set of user ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["UserFeatures"]


@dataclass(frozen=True)
class UserFeatures:
    """Per-user feature blocks (``text``, ``behavior``, ``graph``, ...) aligned on ``user_ids``.

    ``missing[name]`` is a boolean mask of users for whom block ``name`` has no data (for
    example users who wrote nothing); their rows in ``blocks[name]`` are not meaningful and are
    never silently zero in a fused matrix (see :mod:`segrec.features`).
    ``columns[name]`` optionally names the columns of a block (interpretable blocks such as
    behaviour features need names for rules and explanations).
    """

    user_ids: pd.Index
    blocks: dict[str, np.ndarray]
    missing: dict[str, np.ndarray] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.user_ids)
        for name, block in self.blocks.items():
            if block.shape[0] != n:
                raise ValueError(
                    f"block '{name}' has {block.shape[0]} rows but there are {n} user_ids"
                )
        for name in self.blocks:
            self.missing.setdefault(name, np.zeros(n, dtype=bool))

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def block(self, name: str) -> np.ndarray:
        if name not in self.blocks:
            raise KeyError(f"no feature block '{name}'; have {sorted(self.blocks)}")
        return self.blocks[name]

    def frame(self, name: str) -> pd.DataFrame:
        """Block ``name`` as a DataFrame indexed by user_id with its column names."""
        b = self.block(name)
        cols = self.columns.get(name) or [f"{name}_{j}" for j in range(b.shape[1])]
        return pd.DataFrame(b, index=self.user_ids, columns=cols)

    def subset(self, user_ids: pd.Index | list[str]) -> UserFeatures:
        """Rows for ``user_ids`` (all must be present)."""
        idx = self.user_ids.get_indexer(pd.Index(user_ids))
        if (idx < 0).any():
            raise KeyError(f"{int((idx < 0).sum())} user ids are not in these features")
        return UserFeatures(
            pd.Index(user_ids, name="user_id"),
            {k: v[idx] for k, v in self.blocks.items()},
            {k: v[idx] for k, v in self.missing.items()},
            dict(self.columns),
            {k: _rows_of(v, self.user_ids, idx) for k, v in self.meta.items()},
        )

    def with_block(
        self,
        name: str,
        values: np.ndarray,
        missing: np.ndarray | None = None,
        columns: list[str] | None = None,
    ) -> UserFeatures:
        blocks = dict(self.blocks)
        blocks[name] = values
        miss = dict(self.missing)
        miss[name] = missing if missing is not None else np.zeros(len(self.user_ids), bool)
        cols = dict(self.columns)
        if columns is not None:
            cols[name] = columns
        return UserFeatures(self.user_ids, blocks, miss, cols, dict(self.meta))


def _rows_of(value: Any, user_ids: pd.Index, idx: np.ndarray) -> Any:
    """Per-user meta (a Series indexed by ``user_ids``, or an array with one row per user) cut
    to the rows ``idx``; anything else is dataset-level and kept as it is."""
    if isinstance(value, pd.Series) and value.index.equals(user_ids):
        return value.iloc[idx]
    if isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == len(user_ids):
        return value[idx]
    return value
