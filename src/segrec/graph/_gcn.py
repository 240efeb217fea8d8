"""GCN encoder: H(t+1) = sigma(W(t) A_hat H(t)) over the user graph, trained by BPR link prediction.

The propagation is written out with ``torch.sparse.mm``. ``A_hat X`` (the first propagation of
the fixed input features) is computed once; each training step then needs only the rows of the
later layers that its sampled users depend on (their (L-1)-hop neighbourhood), so a step costs
O(batch x degree) and not O(graph): exact mini-batching, no neighbour sampling.

Self-supervision is link prediction with BPR: for an edge (u, v) of the user graph and a random
user w, ``z_u . z_v`` should beat ``z_u . z_w``. Isolated users never appear in an edge; with
the self loop of :func:`normalize_adjacency` they keep their own features, projected by the
learned W without any propagation.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from segrec._progress import progress
from segrec._threads import REPRODUCIBLE_THREADS
from segrec.diagnostics import FallbackWarning, UsageError, require
from segrec.graph._build import normalize_adjacency

__all__ = ["GCNConfig", "GCNEncoder", "deterministic"]

_log = logging.getLogger(__name__)

#: extra loss hook: (node positions in the batch, their embeddings) -> scalar tensor
ExtraLoss = Callable[[np.ndarray, "torch.Tensor"], "torch.Tensor"]  # type: ignore[name-defined]  # noqa: F821


class GCNConfig(BaseModel):
    """Options of :class:`GCNEncoder`."""

    model_config = ConfigDict(extra="forbid")

    hidden_dim: int = Field(64, ge=1)
    out_dim: int = Field(32, ge=1)
    n_layers: int = Field(2, ge=1, le=4, description="propagation steps H(t) -> H(t+1)")
    epochs: int = Field(20, ge=0)
    lr: float = Field(0.01, gt=0)
    weight_decay: float = Field(1e-5, ge=0)
    batch_size: int = Field(1024, ge=1, description="edges per BPR step")
    #: at most this many BPR steps per epoch: above 65,536 edges an epoch visits that many
    #: edges, drawn afresh each epoch, so an epoch costs the same on any larger graph (the user
    #: graphs of the shared datasets, 18k-40k edges, train exactly as without a cap)
    max_steps_per_epoch: int | None = Field(64, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    random_state: int = 0


def _torch():  # type: ignore[no-untyped-def]
    torch = require("torch", "graph", "the GCN encoder")
    # A fixed count, not the load-dependent thread budget: the deterministic kernels still sum
    # in a thread-count-dependent order (embeddings 3e-7 apart at 1 vs 2 threads), and the
    # same seed must give the same segments on a busy machine as on a quiet one.
    torch.set_num_threads(REPRODUCIBLE_THREADS)
    return torch


@contextmanager
def deterministic() -> Iterator[None]:
    """Torch's deterministic kernels inside the block; the caller's setting is restored after.

    With two threads some backward kernels (gathers, sparse products) sum gradients in a
    thread-dependent order, so two fits with the same seed drifted apart (GCN embeddings up to
    0.07 apart after 5 epochs on 3,000 users) and moved a few users between segments. The
    deterministic kernels cost nothing measurable here (7.1 s vs 8.1 s for that fit).
    """
    torch = _torch()
    was, warn_only = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=warn_only)


def to_torch_sparse(m: sp.spmatrix):  # type: ignore[no-untyped-def]
    """scipy sparse -> float32 torch CSR tensor (no coalescing needed: CSR is already sorted)."""
    torch = _torch()
    c = sp.csr_matrix(m)
    c.sort_indices()
    with warnings.catch_warnings():  # "CSR support is in beta": local, not a global filter
        warnings.filterwarnings("ignore", "Sparse CSR tensor support", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(c.indptr.astype(np.int64)),
            torch.from_numpy(c.indices.astype(np.int64)),
            torch.from_numpy(c.data.astype(np.float32)),
            c.shape,
            check_invariants=False,
        )


class SparseOp:
    """A constant sparse matrix ``a``; ``op(h) = a @ h``, differentiable in the dense ``h``.

    The backward pass is ``a.T @ grad`` with ``a.T`` built once here: torch's generic sparse
    backward is several times slower on CPU.
    """

    def __init__(self, a: sp.spmatrix) -> None:
        torch = _torch()
        at, att = to_torch_sparse(a), to_torch_sparse(sp.csr_matrix(a).T)

        class _SpMM(torch.autograd.Function):  # type: ignore[name-defined]
            @staticmethod
            def forward(ctx, x):  # type: ignore[no-untyped-def]
                return torch.sparse.mm(at, x)

            @staticmethod
            def backward(ctx, grad):  # type: ignore[no-untyped-def]
                return torch.sparse.mm(att, grad)

        self._fn = _SpMM

    def __call__(self, h):  # type: ignore[no-untyped-def]
        return self._fn.apply(h)


def spmm(a: sp.spmatrix, h):  # type: ignore[no-untyped-def]
    """``a @ h`` for a one-off constant scipy matrix ``a`` (see :class:`SparseOp`)."""
    return SparseOp(a)(h)


class GCNEncoder:
    """Graph convolutional encoder of users; ``fit(x, adjacency)`` then ``transform``.

    ``x`` is the (fused) input feature matrix, one row per node; ``adjacency`` the raw user
    graph (:class:`~segrec.graph.UserGraph` ``.adjacency``); it is normalised here.

        >>> import numpy as np, scipy.sparse as sp
        >>> a = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=np.float32))
        >>> z = GCNEncoder(epochs=2, out_dim=4).fit(np.eye(3, dtype=np.float32), a).transform()
        >>> z.shape
        (3, 4)
    """

    def __init__(self, config: GCNConfig | None = None, **kwargs: object) -> None:
        base = config.model_dump() if config is not None else {}
        self.config = GCNConfig(**{**base, **kwargs})

    # -- set-up -----------------------------------------------------------------------------
    def _setup(self, x: np.ndarray, adjacency: sp.spmatrix) -> None:
        torch = _torch()
        cfg = self.config
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != adjacency.shape[0]:
            raise UsageError(
                f"x has shape {x.shape} but the graph has {adjacency.shape[0]} nodes; "
                "pass one feature row per graph node"
            )
        torch.manual_seed(cfg.random_state)
        self.rng_ = np.random.default_rng(cfg.random_state)
        self.a_hat_ = normalize_adjacency(adjacency)
        self.x_ = x  # layer 0 of the known users' states (fold-in of new users needs it)
        self.ax_ = np.asarray(self.a_hat_ @ x, dtype=np.float32)
        upper = sp.triu(sp.csr_matrix(adjacency), k=1).tocoo()
        self.edges_ = np.vstack([upper.row, upper.col]).T.astype(np.int64)
        dims = [x.shape[1]] + [cfg.hidden_dim] * (cfg.n_layers - 1) + [cfg.out_dim]
        self.module_ = torch.nn.ModuleList(
            torch.nn.Linear(dims[i], dims[i + 1]) for i in range(cfg.n_layers)
        )
        self.optimizer_ = torch.optim.Adam(
            self.module_.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
        )
        self.loss_history_: list[float] = []

    # -- forward ----------------------------------------------------------------------------
    def _act(self, h, last: bool):  # type: ignore[no-untyped-def]
        torch = _torch()
        if last:
            return h  # the output layer is linear: embeddings may take any sign
        h = torch.relu(h)
        if self.config.dropout and self.module_.training:
            h = torch.nn.functional.dropout(h, self.config.dropout)
        return h

    def _forward_batch(self, targets: np.ndarray):  # type: ignore[no-untyped-def]
        """Embeddings of ``targets`` (sorted unique node ids), computing only what they need."""
        torch = _torch()
        L = self.config.n_layers
        sets = [targets]
        subs: list[sp.csr_matrix] = []
        n = self.a_hat_.shape[0]
        for _ in range(L - 1):
            rows = self.a_hat_[sets[0]]
            seen = np.zeros(n, dtype=bool)  # sorted unique neighbours, in O(n + nnz)
            seen[rows.indices] = True
            need = np.flatnonzero(seen)
            pos = np.cumsum(seen) - 1  # node id -> its column among ``need``
            rows = sp.csr_matrix(
                (rows.data, pos[rows.indices], rows.indptr), shape=(len(sets[0]), len(need))
            )
            subs.insert(0, rows)
            sets.insert(0, need)
        h = torch.from_numpy(self.ax_[sets[0]])
        h = self._act(self.module_[0](h), last=L == 1)
        for layer in range(1, L):
            h = spmm(subs[layer - 1], h)
            h = self._act(self.module_[layer](h), last=layer == L - 1)
        return h

    def _forward_full(self, a_hat: sp.csr_matrix, ax: np.ndarray) -> np.ndarray:
        torch = _torch()
        L = self.config.n_layers
        self.module_.eval()
        with torch.no_grad():
            at = to_torch_sparse(a_hat) if L > 1 else None
            h = self._act(self.module_[0](torch.from_numpy(ax)), last=L == 1)
            for layer in range(1, L):
                h = self._act(self.module_[layer](torch.sparse.mm(at, h)), last=layer == L - 1)
        self.module_.train()
        return h.numpy().astype(np.float32)

    # -- training ---------------------------------------------------------------------------
    def _steps(self) -> int:
        cfg = self.config
        steps = max(1, math.ceil(len(self.edges_) / cfg.batch_size))
        return min(steps, cfg.max_steps_per_epoch) if cfg.max_steps_per_epoch else steps

    def _epoch(self, extra: ExtraLoss | None = None) -> float:
        """One pass over the edges (BPR) plus, when given, ``extra`` on a batch of all nodes."""
        torch = _torch()
        n, cfg, rng = self.ax_.shape[0], self.config, self.rng_
        steps = self._steps()
        order = rng.permutation(len(self.edges_))
        node_chunks = np.array_split(rng.permutation(n), steps) if extra else None
        total = 0.0
        with deterministic():
            for s in range(steps):
                eb = self.edges_[order[s * cfg.batch_size : (s + 1) * cfg.batch_size]]
                flip = rng.random(len(eb)) < 0.5  # edges are undirected: random orientation
                u = np.where(flip, eb[:, 1], eb[:, 0])
                v = np.where(flip, eb[:, 0], eb[:, 1])
                w = rng.integers(0, n, len(eb))
                nodes = node_chunks[s] if node_chunks is not None else np.zeros(0, np.int64)
                targets, inv = np.unique(np.concatenate([u, v, w, nodes]), return_inverse=True)
                z = self._forward_batch(targets)
                k = len(eb)
                loss = torch.zeros(())
                if k:
                    zu, zv, zw = z[inv[:k]], z[inv[k : 2 * k]], z[inv[2 * k : 3 * k]]
                    pos, neg = (zu * zv).sum(1), (zu * zw).sum(1)
                    loss = torch.nn.functional.softplus(neg - pos).mean()
                if extra is not None and len(nodes):
                    loss = loss + extra(nodes, z[inv[3 * k :]])
                self.optimizer_.zero_grad()
                loss.backward()
                self.optimizer_.step()
                total += float(loss.detach())
        return total / steps

    def fit(self, x: np.ndarray, adjacency: sp.spmatrix) -> GCNEncoder:
        """Train by BPR link prediction on the edges of ``adjacency``."""
        self._setup(x, adjacency)
        if len(self.edges_) == 0:
            warnings.warn(
                "the user graph has no edges, so the GCN cannot learn by link prediction; its "
                "output is a random projection of the input features",
                FallbackWarning,
                stacklevel=2,
            )
            return self
        with progress("GCN pretraining", self.config.epochs, "epochs") as p:
            for _ in range(self.config.epochs):
                self.loss_history_.append(self._epoch())
                p.update(1)
        return self

    def transform(
        self, x: np.ndarray | None = None, adjacency: sp.spmatrix | None = None
    ) -> np.ndarray:
        """Embeddings of every node; default: the training graph and features.

        Give ``x`` and ``adjacency`` to embed another graph (new users) with the learned W.
        """
        if not hasattr(self, "module_"):
            raise UsageError("this GCNEncoder is not fitted; call fit(x, adjacency) first")
        if x is None:
            return self._forward_full(self.a_hat_, self.ax_)
        if adjacency is None:
            adjacency = sp.csr_matrix((len(x), len(x)), dtype=np.float32)
        a_hat = normalize_adjacency(adjacency)
        return self._forward_full(a_hat, np.asarray(a_hat @ np.asarray(x, np.float32)))
