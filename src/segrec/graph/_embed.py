"""The "graph" feature block: :class:`GraphEmbedder` (fit, fold-in transform, state) and the
one-call :func:`graph_embeddings`."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from segrec.data import Dataset
from segrec.data._one_user import OneUserEvents, as_dataset
from segrec.diagnostics import UsageError
from segrec.features import UserFeatures
from segrec.features._state import State, nest, unnest
from segrec.graph._build import build_user_graph
from segrec.graph._foldin import GraphFoldIn
from segrec.graph._gcn import GCNEncoder
from segrec.graph._inputs import InputFuser, InteractionSVD, inputs_from_state

__all__ = ["GraphEmbedder", "GraphEmbedderConfig", "graph_embeddings"]


class GraphEmbedderConfig(BaseModel):
    """Options of :class:`GraphEmbedder` (the keyword options of :func:`graph_embeddings`)."""

    model_config = ConfigDict(extra="forbid")
    dim: int = Field(64, ge=1)
    epochs: int = Field(20, ge=0)
    random_state: int = 0
    use_social: bool = True
    use_coint: bool = True
    topk: int = Field(20, ge=1)
    threshold: float = Field(0.05, ge=0.0)


class GraphEmbedder:
    """GCN user vectors over the user graph; new users are folded in (see :class:`GraphFoldIn`).

    >>> emb = GraphEmbedder(dim=32)  # doctest: +SKIP
    >>> g = emb.fit_transform(train_ds, features)  # block "graph", one row per user  # doctest: +SKIP
    >>> new = emb.transform(user_ds, new_features)  # the same block for users never seen  # doctest: +SKIP
    """

    def __init__(self, config: GraphEmbedderConfig | None = None, **kwargs: Any) -> None:
        base = config.model_dump() if config is not None else {}
        self.config = GraphEmbedderConfig(**{**base, **kwargs})

    def fit_transform(self, dataset: Dataset, features: UserFeatures | None = None) -> UserFeatures:
        """Build the user graph of ``dataset``, train the GCN and embed every user."""
        c = self.config
        user_ids = features.user_ids if features is not None else dataset.user_ids
        graph = build_user_graph(
            dataset,
            co="jaccard" if c.use_coint else None,
            social=c.use_social,
            topk=c.topk,
            threshold=c.threshold,
            user_ids=user_ids,
        )
        self.fuser_: InputFuser | None = None
        self.svd_: InteractionSVD | None = None
        if features is not None:
            self.fuser_ = InputFuser().fit(features)
            x, no_input = self.fuser_.transform(features), self.fuser_.missing_all(features)
        else:
            self.svd_ = InteractionSVD(c.dim, c.random_state)
            x, no_input = self.svd_.fit_transform(dataset, user_ids)
        enc = GCNEncoder(
            hidden_dim=max(c.dim, 32), out_dim=c.dim, epochs=c.epochs, random_state=c.random_state
        ).fit(x, graph.adjacency)
        z = enc.transform()
        self.foldin_ = GraphFoldIn(
            co="jaccard" if c.use_coint else None,
            social=c.use_social,
            topk=c.topk,
            threshold=c.threshold,
        ).fit(dataset, graph, enc)
        meta = {
            "graph": dict(graph.meta),
            "isolated_users": int(graph.isolated.sum()),
            "graph_loss": enc.loss_history_,
        }
        return _block(user_ids, z, graph.isolated & no_input, meta)

    def transform(
        self,
        users: Dataset | OneUserEvents,
        features: UserFeatures | None = None,
        user_ids: Any = None,
    ) -> UserFeatures:
        """Graph vectors of the users of ``features`` (else ``user_ids``, else ``users``'),
        folded in from their own rows in ``users`` (interactions and named friends)."""
        if not hasattr(self, "foldin_"):
            raise UsageError("this GraphEmbedder is not fitted; call fit_transform first")
        ids = (
            features.user_ids
            if features is not None
            else pd.Index(
                user_ids if user_ids is not None else users.user_ids, dtype="object", name="user_id"
            )
        )
        if self.fuser_ is not None:
            if features is None:
                raise UsageError("this GraphEmbedder was fitted on features; pass features")
            x, no_input = self.fuser_.transform(features), self.fuser_.missing_all(features)
        else:
            assert self.svd_ is not None
            x, no_input = self.svd_.transform(as_dataset(users), ids)
        z, isolated = self.foldin_.transform(users, ids, x)
        return _block(ids, z, isolated & no_input, {"fold_in": True})

    def to_state(self) -> State:
        meta: dict[str, Any] = {"config": self.config.model_dump()}
        fmeta, arrays = self.foldin_.to_state()
        meta["foldin"], arrays = fmeta, nest("foldin", arrays)
        for name, part in (("fuser", self.fuser_), ("svd", self.svd_)):
            if part is not None:
                pm, pa = part.to_state()
                meta[name] = pm
                arrays.update(nest(name, pa))
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> GraphEmbedder:
        self = cls(GraphEmbedderConfig(**meta["config"]))
        self.foldin_ = GraphFoldIn.from_state(meta["foldin"], unnest("foldin", arrays))
        self.fuser_, self.svd_ = inputs_from_state(meta, arrays)
        return self


def _block(user_ids: pd.Index, z: np.ndarray, missing: np.ndarray, meta: dict) -> UserFeatures:
    return UserFeatures(
        user_ids,
        {"graph": z.astype(np.float32)},
        {"graph": missing},
        {"graph": [f"graph_{j}" for j in range(z.shape[1])]},
        meta,
    )


def graph_embeddings(
    dataset: Dataset,
    features: UserFeatures | None = None,
    *,
    dim: Annotated[int, Field(ge=1)] = 64,
    epochs: Annotated[int, Field(ge=0)] = 20,
    random_state: int = 0,
    use_social: bool = True,
    use_coint: bool = True,
    topk: Annotated[int, Field(ge=1)] = 20,
    threshold: Annotated[float, Field(ge=0.0)] = 0.05,
) -> UserFeatures:
    """GCN user vectors (block ``"graph"``) over the user graph of ``dataset``.

    ``dataset`` is the training-period dataset the graph is built from; ``features`` (all
    blocks fused) are the GCN's input node features, or, when ``None``, an SVD of the
    user-item matrix. Users are those of ``features`` (else ``dataset.user_ids``). A user with
    neither edges nor input is marked missing in the returned block. To embed users later
    (fold-in), keep a :class:`GraphEmbedder` instead.

        >>> uf = graph_embeddings(train_ds, features, dim=32)  # doctest: +SKIP
        >>> fused = features.with_block("graph", uf.block("graph"), uf.missing["graph"])  # doctest: +SKIP
    """
    return GraphEmbedder(
        dim=dim,
        epochs=epochs,
        random_state=random_state,
        use_social=use_social,
        use_coint=use_coint,
        topk=topk,
        threshold=threshold,
    ).fit_transform(dataset, features)
