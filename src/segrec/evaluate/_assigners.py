"""The evaluation's named segmentations as fitted assigners that save without pickle.

Each assigner is fit on one training period and gives any user a segment with
``predict_detail(features, users) -> SegmentAssignment``: from the user's features
(``text``, ``graph``, ``fused``, ``gnn``), from their activity in ``users`` (a
:class:`~segrec.data.Dataset`: ``rfm``, ``behavior``), their attributes (``demographic``) or their
id alone (``random``). ``to_state()`` gives JSON-able meta and plain arrays;
:func:`load_assigner` rebuilds one by its name in :data:`ASSIGNERS`, the one catalogue of
named segmentations that the evaluation config reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.data._one_user import OneUserEvents, as_dataset
from segrec.diagnostics import UsageError
from segrec.features import UserFeatures
from segrec.segment import SegmentAssignment
from segrec.segment._base import center_detail

__all__ = [
    "ASSIGNERS",
    "FEATURE_SEGMENTATIONS",
    "SEGMENTATIONS",
    "BehaviorAssigner",
    "FeatureAssigner",
    "RFMAssigner",
    "RandomAssigner",
    "load_assigner",
]

State = tuple[dict[str, Any], dict[str, np.ndarray]]


def _ids(features: UserFeatures | None, users: Dataset | OneUserEvents | None) -> pd.Index:
    if features is not None:
        return pd.Index(np.asarray(features.user_ids, dtype=str), name="user_id")
    if users is not None:
        return pd.Index(np.asarray(users.user_ids, dtype=str), name="user_id")
    raise UsageError("predict_detail needs features= or users= (a Dataset of the users)")


def _flat(
    ids: pd.Index, labels: np.ndarray, strength: np.ndarray | None = None
) -> SegmentAssignment:
    """An assignment without geometry: no alternative, no distance."""
    n = len(ids)
    s = np.where(labels >= 0, 1.0, 0.0) if strength is None else strength
    return SegmentAssignment(labels, s, np.full(n, -1, np.int64), np.full(n, np.nan), ids)


class RandomAssigner:
    """Segment = seeded hash of the user id modulo ``k`` (the same rule as at fit)."""

    name: ClassVar[str] = "random"

    def __init__(self, k: int, random_state: int = 0) -> None:
        self.k, self.random_state = int(k), int(random_state)

    def labels(self, ids: pd.Index) -> np.ndarray:
        key = f"segrec-random{self.random_state:03d}"[-16:]  # pandas' hash key: 16 characters
        h = pd.util.hash_array(np.asarray(ids.astype(str), dtype=object), hash_key=key)
        return (h % np.uint64(self.k)).astype(np.int64)

    def predict_detail(
        self, features: UserFeatures | None = None, users: Dataset | OneUserEvents | None = None
    ) -> SegmentAssignment:
        ids = _ids(features, users)
        return _flat(ids, self.labels(ids))

    def to_state(self) -> State:
        return {"name": self.name, "k": self.k, "random_state": self.random_state}, {}

    @classmethod
    def from_state(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> RandomAssigner:
        return cls(meta["k"], meta["random_state"])


class RFMAssigner:
    """Classic quantile RFM: a new user's recency, frequency and monetary value are scored
    against the fit's score edges (the smallest value that reached each score), ``now`` fixed."""

    name: ClassVar[str] = "rfm"
    _COLS = (("R", "recency_days", -1.0), ("F", "frequency", 1.0), ("M", "monetary", 1.0))

    def __init__(self, now: int, basis: str, cats: list[str], edges: dict[str, np.ndarray]) -> None:
        self.now, self.basis, self.cats, self.edges = int(now), basis, list(cats), edges

    @classmethod
    def fit(cls, ds: Dataset, cats: list[str], n_bins: int = 5) -> RFMAssigner:
        from segrec.features import rfm_scores, rfm_table

        now = int(ds.interactions["timestamp"].max()) if len(ds.interactions) else 0
        raw, basis = rfm_table(ds, now)
        scores = rfm_scores(ds, n_bins, now)
        edges = {}
        for s, col, sign in cls._COLS:  # sign: higher value -> higher score
            v = sign * raw[col].to_numpy(float)
            sc = scores[s].to_numpy()
            edges[s] = np.array(
                [v[sc == b].min() if (sc == b).any() else np.inf for b in range(1, n_bins + 1)]
            )
        return cls(now, basis, cats, edges)

    def scores(self, ds: Dataset) -> pd.DataFrame:
        from segrec.features import rfm_table

        raw, _ = rfm_table(ds, self.now)
        out = {}
        for s, col, sign in self._COLS:
            v = sign * raw[col].to_numpy(float)
            e = self.edges[s]
            # the highest score whose smallest fit value is reached (scores rise with value)
            reached = v[:, None] >= np.where(np.isfinite(e), e, np.inf)[None, :]
            lowest = int(np.argmax(np.isfinite(e))) + 1  # the lowest score the fit gave
            best = np.where(reached.any(1), len(e) - np.argmax(reached[:, ::-1], 1), lowest)
            out[s] = best.astype(int)
        return pd.DataFrame(out, index=raw.index)

    def predict_detail(
        self, features: UserFeatures | None = None, users: Dataset | OneUserEvents | None = None
    ) -> SegmentAssignment:
        from segrec.features import rfm_segments

        if users is None:
            raise UsageError("rfm assigns users from their activity: pass users= (a Dataset)")
        users = as_dataset(users)
        named = rfm_segments(self.scores(users))
        code = {c: i for i, c in enumerate(self.cats)}
        lab = pd.Series([code.get(n, -1) for n in named], index=named.index.astype(str))
        ids = _ids(features, users)
        return _flat(ids, lab.reindex(ids).fillna(-1).to_numpy(np.int64))

    def to_state(self) -> State:
        meta = {"name": self.name, "now": self.now, "basis": self.basis, "cats": self.cats}
        return meta, {f"edges.{k}": np.asarray(v) for k, v in self.edges.items()}

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> RFMAssigner:
        edges = {k[6:]: np.asarray(v) for k, v in arrays.items() if k.startswith("edges.")}
        return cls(meta["now"], meta["basis"], meta["cats"], edges)


class BehaviorAssigner:
    """TF-IDF + truncated SVD of the user x item matrix, then the nearest k-means centre: a new
    user's items are folded in (``idf``, then the SVD ``components``), as at fit."""

    name: ClassVar[str] = "behavior"

    def __init__(
        self, item_ids: np.ndarray, idf: np.ndarray, components: np.ndarray, centers: np.ndarray
    ) -> None:
        self.item_ids = np.asarray(item_ids).astype(str)
        self.idf, self.components = np.asarray(idf), np.asarray(components)
        self.centers = np.asarray(centers, dtype=np.float32)
        self._index = pd.Index(self.item_ids)

    def embed(self, ds: Dataset) -> tuple[pd.Index, np.ndarray]:
        """Users of ``ds`` with at least one known item, and their folded-in SVD rows."""
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        inter = ds.interactions
        col = self._index.get_indexer(inter["item_id"].astype(str))
        ok = col >= 0
        users = pd.Index(np.asarray(inter["user_id"].astype(str))[ok])
        codes, uniq = pd.factorize(users, sort=True)
        m = sp.csr_matrix(
            (np.ones(int(ok.sum())), (codes, col[ok])), shape=(len(uniq), len(self.item_ids))
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        if m.shape[0] == 0:
            return pd.Index(uniq, name="user_id"), np.zeros((0, len(self.components)), np.float32)
        x = normalize(m.multiply(self.idf[None, :]).tocsr())
        return pd.Index(uniq, name="user_id"), normalize(x @ self.components.T).astype(np.float32)

    def predict_detail(
        self, features: UserFeatures | None = None, users: Dataset | OneUserEvents | None = None
    ) -> SegmentAssignment:
        if users is None:
            raise UsageError("behavior assigns users from their items: pass users= (a Dataset)")
        users = as_dataset(users)
        ids = _ids(features, users)
        known, z = self.embed(users)
        lab, strength, alt, dist = center_detail(z, self.centers)
        pos = known.get_indexer(ids)
        has = pos >= 0
        p = np.where(has, pos, 0)

        def pick(v: np.ndarray, fill: float) -> np.ndarray:
            return np.where(has, v[p], fill) if len(v) else np.full(len(ids), fill)

        return SegmentAssignment(
            pick(lab, -1).astype(np.int64),
            pick(strength, 0.0),
            pick(alt, -1).astype(np.int64),
            pick(dist, np.nan),
            ids,
        )

    def to_state(self) -> State:
        arrays = {
            "item_ids": self.item_ids.astype("U"),
            "idf": self.idf,
            "components": self.components,
            "centers": self.centers,
        }
        return {"name": self.name}, arrays

    @classmethod
    def from_state(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> BehaviorAssigner:
        return cls(arrays["item_ids"], arrays["idf"], arrays["components"], arrays["centers"])


class FeatureAssigner:
    """``text``, ``graph``, ``fused`` and ``gnn``: the fitted registry segmenter's own rule."""

    name: ClassVar[str] = "features"

    def __init__(self, segmentation: str, segmenter: Any) -> None:
        self.segmentation, self.segmenter = segmentation, segmenter

    def predict_detail(
        self, features: UserFeatures | None = None, users: Dataset | OneUserEvents | None = None
    ) -> SegmentAssignment:
        if features is None:
            raise UsageError(f"{self.segmentation} assigns users from features: pass features=")
        seg = self.segmenter
        if callable(getattr(seg, "predict_detail", None)):
            # the GNN folds users into its graph from their own rows (``users``)
            extra = (users,) if getattr(seg, "needs_dataset", False) else ()
            out: SegmentAssignment = seg.predict_detail(features, *extra)
            return out
        if users is not None:
            lab = np.asarray(seg.predict(features, users), dtype=np.int64)
        else:
            lab = np.asarray(seg.predict(features), dtype=np.int64)
        return _flat(_ids(features, users), lab, np.full(len(lab), np.nan))

    def to_state(self) -> State:
        from segrec.segment import segmenter_to_state

        meta, arrays = segmenter_to_state(self.segmenter)
        return {"name": self.name, "segmentation": self.segmentation, "segmenter": meta}, arrays

    @classmethod
    def from_state(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> FeatureAssigner:
        from segrec.segment import segmenter_from_state

        return cls(meta["segmentation"], segmenter_from_state(meta["segmenter"], arrays))


def _assigner_classes() -> dict[str, Any]:
    from segrec.evaluate._demographic import DemographicAssigner

    return {
        c.name: c
        for c in (
            RandomAssigner,
            RFMAssigner,
            BehaviorAssigner,
            DemographicAssigner,
            FeatureAssigner,
        )
    }


#: every named segmentation the evaluation can build, in report order, and the assigner kind
#: that serves it: the one catalogue (the evaluation config reads it)
ASSIGNERS: dict[str, str] = {
    "random": "random",
    "rfm": "rfm",
    "behavior": "behavior",
    "text": "features",
    "graph": "features",
    "fused": "features",
    "gnn": "features",
    "demographic": "demographic",
}
SEGMENTATIONS: tuple[str, ...] = tuple(ASSIGNERS)
#: the segmentations a registry segmenter builds from the user features
FEATURE_SEGMENTATIONS: tuple[str, ...] = tuple(n for n, k in ASSIGNERS.items() if k == "features")


def load_assigner(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    """The assigner ``to_state()`` described; its class is chosen by name only."""
    classes = _assigner_classes()
    kind = meta.get("name")
    if kind not in classes:
        raise UsageError(f"assigner state names {kind!r}; expected one of {sorted(classes)}")
    return classes[str(kind)].from_state(meta, {k: np.asarray(v) for k, v in arrays.items()})
