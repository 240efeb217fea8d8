"""A GCN epoch visits at most 64 batches of edges: flat cost on large graphs, none on small."""

import numpy as np

from segrec.graph._gcn import GCNConfig, GCNEncoder
from segrec.graph._segmenter import GNNSegmenterConfig


def _steps(n_edges: int) -> int:
    enc = GCNEncoder()
    enc.edges_ = np.zeros((n_edges, 2), np.int64)
    return enc._steps()


def test_small_graphs_train_as_before_and_large_ones_are_capped() -> None:
    assert GCNConfig().max_steps_per_epoch == GNNSegmenterConfig().max_steps_per_epoch == 64
    # the shared datasets' user graphs (18k-40k edges): every edge every epoch, as before
    assert _steps(40_096) == 40
    assert _steps(64 * 1024) == 64
    assert _steps(150_000) == 64
