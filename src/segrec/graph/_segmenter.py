"""GNN segmenter: a GCN encoder and segment centres refined jointly, DEC-style.

Why DEC (Xie et al. 2016) and not DMoN (Tsitsulin et al. 2023): DMoN's objective is the graph's
modularity, which says nothing about users without edges. Our graphs have many of them (new
users, users who share no item with anyone and have no friends), and for those the text and
behaviour features are the only signal. DEC's loss lives in embedding space: every user, isolated
or not, gets a Student-t soft membership to each centre and is pulled by a sharpened target
distribution, while the BPR link-prediction loss stays on (as in IDEC) so the graph keeps
shaping the space and the embedding cannot collapse onto the centres. DEC also starts from
k-means centres on the encoder output, exactly as the issue asks, and mini-batches over users.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec._progress import progress
from segrec._threads import reproducible_threads
from segrec.data import Dataset
from segrec.data._one_user import OneUserEvents, as_dataset
from segrec.diagnostics import UsageError
from segrec.features import UserFeatures
from segrec.features._state import State, nest, unnest
from segrec.graph._build import build_user_graph, modularity
from segrec.graph._dec import _select_k, soft_assign, target_distribution
from segrec.graph._foldin import GraphFoldIn
from segrec.graph._gcn import GCNEncoder, _torch
from segrec.graph._inputs import InputFuser, InteractionSVD, inputs_from_state
from segrec.segment import Segmentation

__all__ = ["GNNSegmenter", "GNNSegmenterConfig", "soft_assign", "target_distribution"]

_log = logging.getLogger(__name__)


class GNNSegmenterConfig(BaseModel):
    """Options of :class:`GNNSegmenter` (graph, encoder, DEC refinement)."""

    model_config = ConfigDict(extra="forbid")

    n_segments: int | None = Field(None, ge=2, description="None: choose k by silhouette")
    k_range: tuple[int, int] = (2, 10)
    hidden_dim: int = Field(64, ge=1)
    out_dim: int = Field(32, ge=1)
    n_layers: int = Field(2, ge=1, le=4)
    epochs: int = Field(20, ge=0, description="BPR pretraining epochs")
    refine_epochs: int = Field(15, ge=0, description="joint DEC + BPR epochs")
    lr: float = Field(0.01, gt=0)
    batch_size: int = Field(1024, ge=1)
    #: see GCNConfig: an epoch visits at most 64 x batch_size edges (a larger graph's epoch
    #: costs no more; graphs of up to 65,536 edges train as without a cap)
    max_steps_per_epoch: int | None = Field(64, ge=1)
    kl_weight: float = Field(1.0, ge=0)
    alpha: float = Field(1.0, gt=0, description="Student-t degrees of freedom")
    tol: float = Field(0.001, ge=0, description="stop when fewer labels change per epoch")
    use_social: bool = True
    use_coint: bool = True
    co: Literal["jaccard", "cosine"] = "jaccard"
    topk: int = Field(20, ge=1)
    threshold: float = Field(0.05, ge=0)
    blocks: list[str] | None = None
    input_dim: int = Field(64, ge=1, description="SVD size of graph-only input")
    quality_sample: int = Field(5000, ge=100)
    random_state: int = 0


class GNNSegmenter:
    """Segments from a GCN over the user graph, with centres learned jointly (DEC-style).

    >>> from segrec.graph import GNNSegmenter
    >>> seg = GNNSegmenter(n_segments=6, epochs=10).fit(features, train_ds)  # doctest: +SKIP
    >>> seg.labels, seg.soft.shape, seg.meta["isolated_users"]  # doctest: +SKIP
    """

    def __init__(self, config: GNNSegmenterConfig | None = None, **kwargs: Any) -> None:
        base = config.model_dump() if config is not None else {}
        self.config = GNNSegmenterConfig(**{**base, **kwargs})

    def _graph(self, dataset: Dataset, user_ids: pd.Index):  # type: ignore[no-untyped-def]
        c = self.config
        return build_user_graph(
            dataset,
            co=c.co if c.use_coint else None,
            social=c.use_social,
            topk=c.topk,
            threshold=c.threshold,
            user_ids=user_ids,
        )

    def _inputs(
        self,
        features: UserFeatures | None,
        dataset: Dataset | OneUserEvents | None,
        user_ids: pd.Index,
        fit: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        if fit:
            self.fuser_ = InputFuser(self.config.blocks).fit(features) if features else None
            self.svd_ = (
                None
                if features
                else InteractionSVD(self.config.input_dim, self.config.random_state)
            )
        if self.fuser_ is not None:
            if features is None:
                raise UsageError("this GNNSegmenter was fitted on features; pass features")
            return self.fuser_.transform(features), self.fuser_.missing_all(features)
        if dataset is None:
            raise UsageError("a graph-only GNNSegmenter needs dataset= to embed users")
        assert self.svd_ is not None
        if fit:
            return self.svd_.fit_transform(as_dataset(dataset), user_ids)
        return self.svd_.transform(as_dataset(dataset), user_ids)

    def _refine(self, enc: GCNEncoder, centers: np.ndarray) -> tuple[list[float], list[float]]:
        torch = _torch()
        cfg = self.config
        mu = torch.nn.Parameter(torch.from_numpy(centers.astype(np.float32)))
        enc.optimizer_.add_param_group({"params": [mu]})
        losses: list[float] = []
        changes: list[float] = []
        prev = None
        with progress("DEC refinement", cfg.refine_epochs, "epochs") as p:
            for _ in range(cfg.refine_epochs):
                q = soft_assign(enc.transform(), mu.detach().numpy(), cfg.alpha)
                lab = q.argmax(1)
                if prev is not None:
                    changes.append(float((lab != prev).mean()))
                    if changes[-1] < cfg.tol:
                        break
                prev = lab
                ptar = torch.from_numpy(target_distribution(q).astype(np.float32))

                def kl(nodes: np.ndarray, z, ptar=ptar):  # type: ignore[no-untyped-def]
                    d2 = ((z[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
                    qb = (1.0 + d2 / cfg.alpha) ** (-(cfg.alpha + 1.0) / 2.0)
                    qb = qb / qb.sum(1, keepdim=True)
                    pb = ptar[torch.from_numpy(nodes)]
                    return (
                        cfg.kl_weight
                        * (pb * (torch.log(pb + 1e-12) - torch.log(qb + 1e-12))).sum(1).mean()
                    )

                losses.append(enc._epoch(extra=kl))
                p.update(1)
        self.centers_ = mu.detach().numpy().copy()
        return losses, changes

    def fit(self, features: UserFeatures | None, dataset: Dataset) -> Segmentation:
        """Build the graph of ``dataset`` (training period), train, and segment its users."""
        from sklearn.cluster import KMeans

        cfg = self.config
        if dataset is None:
            raise UsageError("GNNSegmenter.fit needs dataset= (the training-period Dataset)")
        user_ids = features.user_ids if features is not None else dataset.user_ids
        graph = self._graph(dataset, user_ids)
        x, no_input = self._inputs(features, dataset, user_ids, fit=True)
        enc = GCNEncoder(
            hidden_dim=cfg.hidden_dim,
            out_dim=cfg.out_dim,
            n_layers=cfg.n_layers,
            epochs=cfg.epochs,
            lr=cfg.lr,
            batch_size=cfg.batch_size,
            max_steps_per_epoch=cfg.max_steps_per_epoch,
            random_state=cfg.random_state,
        ).fit(x, graph.adjacency)
        z0 = enc.transform()
        k, k_scores = (
            (cfg.n_segments, {})
            if cfg.n_segments
            else _select_k(z0, cfg.k_range, cfg.quality_sample, cfg.random_state)
        )
        with reproducible_threads():
            km = KMeans(k, n_init=10, random_state=cfg.random_state).fit(z0)
        refine_loss, changes = self._refine(enc, km.cluster_centers_)
        self.encoder_ = enc
        self.embeddings_ = enc.transform()
        self.user_ids_ = pd.Index(user_ids, name="user_id")
        self.foldin_ = GraphFoldIn(
            co=cfg.co if cfg.use_coint else None,
            social=cfg.use_social,
            topk=cfg.topk,
            threshold=cfg.threshold,
        ).fit(dataset, graph, enc)
        isolated = graph.isolated
        meta = {
            "graph": dict(graph.meta),
            "isolated_users": int(isolated.sum()),
            "isolated_without_features": int((isolated & no_input).sum()),
            "isolated_handling": (
                "no edges: the user keeps its own input features (self loop only) projected "
                "by the learned W, and is assigned by DEC like everyone else"
            ),
            "pretrain_loss": enc.loss_history_,
            "refine_loss": refine_loss,
            "label_change": changes,
            "k_selection": k_scores,
            "kmeans_init_labels_agree": None,
        }
        seg = self._segmentation(self.embeddings_, self.user_ids_, meta)
        seg.meta["kmeans_init_labels_agree"] = float((km.labels_ == seg.labels).mean())
        seg.quality["modularity"] = modularity(graph.adjacency, seg.labels)
        self.labels_ = seg.labels
        return seg

    def _segmentation(self, z: np.ndarray, user_ids: pd.Index, meta: dict) -> Segmentation:
        from sklearn.metrics import silhouette_score

        q = soft_assign(z, self.centers_, self.config.alpha)
        labels = q.argmax(1).astype(np.int64)
        quality: dict[str, float] = {}
        if len(np.unique(labels)) > 1:
            rng = np.random.default_rng(self.config.random_state)
            idx = rng.choice(len(z), min(self.config.quality_sample, len(z)), replace=False)
            if len(np.unique(labels[idx])) > 1:
                quality["silhouette"] = float(silhouette_score(z[idx], labels[idx]))
        return Segmentation(
            user_ids=pd.Index(user_ids, name="user_id"),
            labels=labels,
            strength=q.max(1).astype(np.float64),
            method="gnn",
            centers=self.centers_.copy(),
            soft=q.astype(np.float64),
            quality=quality,
            meta=meta,
        )

    def predict(
        self, features: UserFeatures | None, dataset: Dataset | OneUserEvents | None = None
    ) -> Segmentation:
        """Segments of (possibly new) users through the fold-in (:class:`GraphFoldIn`): with
        ``dataset`` (these users' own interactions and named friends) each user's graph row is
        built from it against the known users; without it a known user keeps its fit-time row
        and an unknown user has none (its own features, self loop only). Nothing is recomputed
        over the training graph."""
        if not hasattr(self, "foldin_"):
            raise UsageError("this GNNSegmenter is not fitted; call fit(features, dataset) first")
        if features is None and dataset is None:
            raise UsageError("predict needs features, dataset or both")
        user_ids = features.user_ids if features is not None else dataset.user_ids  # type: ignore[union-attr]
        x, _ = self._inputs(features, dataset, user_ids, fit=False)
        if dataset is not None:
            rows = self.foldin_.neighbours(dataset, user_ids)
        else:
            rows = self.foldin_.known_rows(user_ids)
        z = self.foldin_.embed(x, rows)
        how = "own rows" if dataset is not None else "fit-time rows"
        seg = self._segmentation(z, user_ids, {"fold_in": how})
        # distance of each user's embedding to its segment's centre (drift reads it)
        seg.meta["distance"] = np.linalg.norm(z - self.centers_[seg.labels], axis=1)
        return seg

    # -- state (no pickle) ----------------------------------------------------------------
    def to_state(self) -> State:
        """(JSON-able meta, arrays): config, centres, known users, inputs and fold-in; the
        loaded segmenter predicts (numpy only) but cannot be trained further."""
        if not hasattr(self, "foldin_"):
            raise UsageError("this GNNSegmenter is not fitted; nothing to save")
        meta: dict[str, Any] = {"config": self.config.model_dump(mode="json")}
        arrays: dict[str, np.ndarray] = {
            "centers": np.asarray(self.centers_, np.float32),
            "user_ids": np.asarray(self.user_ids_, dtype=str),
            "labels": np.asarray(self.labels_, np.int64),
            "embeddings": np.asarray(self.embeddings_, np.float32),
        }
        for name, part in (("foldin", self.foldin_), ("fuser", self.fuser_), ("svd", self.svd_)):
            if part is not None:
                pm, pa = part.to_state()
                meta[name] = pm
                arrays.update(nest(name, pa))
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> GNNSegmenter:
        self = cls(GNNSegmenterConfig.model_validate(meta["config"]))
        self.centers_ = np.asarray(arrays["centers"], np.float32)
        self.user_ids_ = pd.Index(arrays["user_ids"].astype(object), name="user_id")
        self.labels_ = np.asarray(arrays["labels"], np.int64)
        self.embeddings_ = np.asarray(arrays["embeddings"], np.float32)
        self.foldin_ = GraphFoldIn.from_state(meta["foldin"], unnest("foldin", arrays))
        self.fuser_, self.svd_ = inputs_from_state(meta, arrays)
        return self
