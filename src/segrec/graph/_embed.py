"""``graph_embeddings``: the "graph" feature block the fusion code adds to UserFeatures."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from segrec.data import Dataset
from segrec.features import UserFeatures
from segrec.graph._build import build_user_graph
from segrec.graph._gcn import GCNEncoder
from segrec.graph._inputs import InputFuser, InteractionSVD

__all__ = ["graph_embeddings"]


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
    neither edges nor input is marked missing in the returned block.

        >>> uf = graph_embeddings(train_ds, features, dim=32)  # doctest: +SKIP
        >>> fused = features.with_block("graph", uf.block("graph"), uf.missing["graph"])  # doctest: +SKIP
    """
    user_ids = features.user_ids if features is not None else dataset.user_ids
    graph = build_user_graph(
        dataset,
        co="jaccard" if use_coint else None,
        social=use_social,
        topk=topk,
        threshold=threshold,
        user_ids=user_ids,
    )
    if features is not None:
        fuser = InputFuser().fit(features)
        x, no_input = fuser.transform(features), fuser.missing_all(features)
    else:
        x, no_input = InteractionSVD(dim, random_state).fit_transform(dataset, user_ids)
    enc = GCNEncoder(
        hidden_dim=max(dim, 32), out_dim=dim, epochs=epochs, random_state=random_state
    ).fit(x, graph.adjacency)
    z = enc.transform()
    missing = graph.isolated & no_input
    meta = {
        "graph": dict(graph.meta),
        "isolated_users": int(graph.isolated.sum()),
        "graph_loss": enc.loss_history_,
    }
    return UserFeatures(
        user_ids,
        {"graph": z.astype(np.float32)},
        {"graph": missing},
        {"graph": [f"graph_{j}" for j in range(z.shape[1])]},
        meta,
    )
