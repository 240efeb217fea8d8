"""LightGCN (He et al. 2020) on the user-item graph: a graph encoder and a recommender baseline.

Hand-written sparse propagation: E(t+1) = A_hat E(t) over the symmetric-normalised bipartite
adjacency [[0, R], [R^T, 0]], final embeddings are the mean of E(0..L); trained with BPR and one
uniformly sampled negative item per positive. This is the one LightGCN in segrec: the
``lightgcn`` recommender (:mod:`segrec.recommend`) wraps it.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field

from segrec._progress import progress
from segrec.diagnostics import UsageError
from segrec.graph._build import normalize_adjacency
from segrec.graph._gcn import SparseOp, _torch, deterministic

__all__ = ["LightGCN", "LightGCNConfig"]


class LightGCNConfig(BaseModel):
    """Options of :class:`LightGCN`."""

    model_config = ConfigDict(extra="forbid")

    dim: int = Field(64, ge=1)
    n_layers: int = Field(2, ge=0, le=4)
    epochs: int = Field(20, ge=0)
    lr: float = Field(0.01, gt=0)
    reg: float = Field(1e-4, ge=0, description="L2 on the batch's layer-0 embeddings")
    batch_size: int = Field(4096, ge=1, description="positive interactions per step")
    max_steps_per_epoch: int | None = Field(
        None,
        ge=1,
        description="every step propagates the whole graph; on large data cap the steps: the "
        "batch grows to ceil(pairs / cap) and lr is scaled by sqrt(batch / batch_size)",
    )
    random_state: int = 0


class LightGCN:
    """LightGCN with ``fit(matrix, random_state)`` and ``score(user_codes)``.

    >>> import scipy.sparse as sp
    >>> m = sp.random(20, 15, density=0.2, format="csr", random_state=0)
    >>> LightGCN(epochs=2, dim=8).fit(m, random_state=0).score([0, 1]).shape
    (2, 15)
    """

    def __init__(self, config: LightGCNConfig | None = None, **kwargs: object) -> None:
        base = config.model_dump() if config is not None else {}
        self.config = LightGCNConfig(**{**base, **kwargs})

    def _propagate(self, a, e0):  # type: ignore[no-untyped-def]
        torch = _torch()
        layers = [e0]
        for _ in range(self.config.n_layers):
            layers.append(a(layers[-1]))
        return torch.stack(layers).mean(0)

    def fit(
        self,
        matrix: sp.spmatrix,
        random_state: int | None = None,
        *,
        negatives: np.ndarray | None = None,
        init: np.ndarray | None = None,
        epochs: int | None = None,
    ) -> LightGCN:
        """Train on a users x items interaction matrix (any positive entry is a positive).

        ``negatives``: item codes negatives are drawn from (default: every item);
        ``init``: (users + items) x dim layer-0 embeddings to start from (a warm refit), with
        ``epochs`` then overriding the configured number.
        """
        torch = _torch()
        cfg = self.config
        seed = cfg.random_state if random_state is None else random_state
        r = sp.csr_matrix(matrix)
        if r.nnz == 0:
            raise UsageError("matrix has no interactions; LightGCN needs at least one")
        nu, ni = r.shape
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        binary = r.copy()
        binary.data[:] = 1.0
        adj = sp.bmat([[None, binary], [binary.T, None]], format="csr")
        a = SparseOp(normalize_adjacency(adj, self_loops=False))
        start = torch.randn(nu + ni, cfg.dim) * 0.1
        if init is not None:
            start = torch.from_numpy(np.asarray(init, dtype=np.float32).copy())
        emb = torch.nn.Parameter(start)
        coo = binary.tocoo()
        users, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
        neg_pool = np.arange(ni) if negatives is None else np.asarray(negatives, dtype=np.int64)
        bs, lr = cfg.batch_size, cfg.lr
        cap = cfg.max_steps_per_epoch
        if cap is not None and len(users) > bs * cap:
            bs = math.ceil(len(users) / cap)
            lr *= math.sqrt(bs / cfg.batch_size)
        n_epochs = cfg.epochs if epochs is None else epochs
        steps = max(1, math.ceil(len(users) / bs))
        self.schedule_ = {
            "batch_size": bs,
            "learning_rate": lr,
            "epochs": n_epochs,
            "steps": n_epochs * steps,
        }
        opt = torch.optim.Adam([emb], lr=lr)
        self.loss_history_: list[float] = []
        with progress("LightGCN", n_epochs, "epochs") as p, deterministic():
            for _ in range(n_epochs):
                order = rng.permutation(len(users))
                total = 0.0
                for s in range(steps):
                    b = order[s * bs : (s + 1) * bs]
                    u = torch.from_numpy(users[b])
                    i = torch.from_numpy(items[b] + nu)
                    j = torch.from_numpy(neg_pool[rng.integers(0, len(neg_pool), len(b))] + nu)
                    e = self._propagate(a, emb)
                    pos = (e[u] * e[i]).sum(1)
                    neg = (e[u] * e[j]).sum(1)
                    reg = (emb[u] ** 2 + emb[i] ** 2 + emb[j] ** 2).sum(1).mean()
                    loss = torch.nn.functional.softplus(neg - pos).mean() + cfg.reg * reg
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach())
                self.loss_history_.append(total / steps)
                p.update(1)
        with torch.no_grad():
            e = self._propagate(a, emb).numpy()
        self.layer0_ = emb.detach().numpy().copy()
        self.user_embeddings_ = e[:nu].astype(np.float32)
        self.item_embeddings_ = e[nu:].astype(np.float32)
        return self

    def score(self, user_codes: np.ndarray | list[int]) -> np.ndarray:
        """Scores (users x items) for the given user row codes of the training matrix."""
        if not hasattr(self, "user_embeddings_"):
            raise UsageError("this LightGCN is not fitted; call fit(matrix, random_state) first")
        codes = np.asarray(user_codes, dtype=np.int64)
        if codes.size and (codes.min() < 0 or codes.max() >= len(self.user_embeddings_)):
            raise UsageError(
                f"user_codes must be in [0, {len(self.user_embeddings_)}); got "
                f"[{codes.min()}, {codes.max()}]"
            )
        return self.user_embeddings_[codes] @ self.item_embeddings_.T
