"""Dataset (+ features) -> user graphs, GCN/LightGCN embeddings and GNN segments."""

from segrec.graph._build import (
    EVENT_WEIGHTS,
    BipartiteGraph,
    UserGraph,
    build_user_graph,
    build_user_item_graph,
    modularity,
    normalize_adjacency,
    social_adjacency,
)
from segrec.graph._embed import GraphEmbedder, GraphEmbedderConfig, graph_embeddings
from segrec.graph._foldin import GraphFoldIn
from segrec.graph._gcn import GCNConfig, GCNEncoder
from segrec.graph._inputs import InputFuser, InteractionSVD
from segrec.graph._lightgcn import LightGCN, LightGCNConfig
from segrec.graph._segmenter import (
    GNNSegmenter,
    GNNSegmenterConfig,
    soft_assign,
    target_distribution,
)

__all__ = [
    "EVENT_WEIGHTS",
    "BipartiteGraph",
    "GCNConfig",
    "GCNEncoder",
    "GNNSegmenter",
    "GNNSegmenterConfig",
    "GraphEmbedder",
    "GraphEmbedderConfig",
    "GraphFoldIn",
    "InputFuser",
    "InteractionSVD",
    "LightGCN",
    "LightGCNConfig",
    "UserGraph",
    "build_user_graph",
    "build_user_item_graph",
    "graph_embeddings",
    "modularity",
    "normalize_adjacency",
    "social_adjacency",
    "soft_assign",
    "target_distribution",
]
