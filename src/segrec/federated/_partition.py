"""Who holds what: users split over clients, each client's own folder of raw rows, and the
shared fitted state every client receives (featurizers, text encoder, fusion).

In a deployment each client (a shop, a region, an app install) already holds its users' rows;
this module creates that situation from one dataset for a run on one machine: every client's
folder is readable by its owner only, and a client process is given only its own folder and
the shared folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.diagnostics import UsageError

__all__ = ["assign_clients", "client_features", "write_partitions", "write_shared"]


def assign_clients(user_ids: pd.Index, n_clients: int, random_state: int = 0) -> pd.Series:
    """user_id -> client id: a seeded shuffle dealt round-robin (sizes differ by at most 1)."""
    if n_clients < 1:
        raise UsageError(f"--clients must be at least 1; got {n_clients}")
    if n_clients > len(user_ids):
        raise UsageError(
            f"--clients {n_clients} is more than the {len(user_ids)} users; lower --clients"
        )
    order = np.random.default_rng(random_state).permutation(len(user_ids))
    client = np.empty(len(user_ids), dtype=np.int64)
    client[order] = np.arange(len(user_ids)) % n_clients
    return pd.Series(client, index=pd.Index(user_ids.astype(str), name="user_id"))


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_partitions(ds: Dataset, clients: pd.Series, root: Path) -> list[Path]:
    """One folder per client under ``root`` with its users' interactions, texts, ties and
    attributes (and the public item catalogue); no ground truth. Returns the folders."""
    out = []
    inter_u = ds.interactions["user_id"].astype(str)
    text_u = ds.texts["user_id"].astype(str)
    tie_u = ds.social["src"].astype(str)
    user_u = ds.users["user_id"].astype(str) if len(ds.users) else pd.Series(dtype=str)
    for c in range(int(clients.max()) + 1):
        mine = set(clients.index[clients.to_numpy() == c])
        sub = ds.replace(
            interactions=ds.interactions[inter_u.isin(mine).to_numpy()],
            texts=ds.texts[text_u.isin(mine).to_numpy()],
            social=ds.social[tie_u.isin(mine).to_numpy()],
            users=ds.users[user_u.isin(mine).to_numpy()] if len(ds.users) else ds.users,
            truth=None,
        )
        folder = _private_dir(root / f"client-{c:03d}")
        sub.to_parquet(folder)
        (folder / "user_ids.json").write_text(json.dumps(sorted(mine)))
        for f in folder.iterdir():
            os.chmod(f, 0o600)
        out.append(folder)
    return out


def write_shared(
    folder: Path, featurizer: Any, fusion: Any, init_centers: np.ndarray, info: dict[str, Any]
) -> Path:
    """The state every client gets: fitted featurizers, text encoder, fusion, first centres."""
    from segrec.model._encoder import encoder_state
    from segrec.model._folder import write_json, write_state

    folder.mkdir(parents=True, exist_ok=True)
    write_state(folder, "featurizer", featurizer.to_state())
    encoder = getattr(featurizer, "embedder_", None)
    if encoder is not None:
        write_state(folder, "encoder", encoder_state(encoder))
    write_state(folder, "fusion", fusion.to_state())
    np.save(folder / "init_centers.npy", np.asarray(init_centers, dtype=np.float64))
    write_json(folder / "job.json", info)
    return folder


def client_features(data_dir: Path, shared: Path) -> np.ndarray:
    """Run on the client: its users' fused feature rows, computed from its own raw rows with
    the shared fitted featurizers (the same code a served model runs for one new user)."""
    from segrec.features import UserFeaturizer
    from segrec.model._encoder import encoder_from_state
    from segrec.model._folder import read_state
    from segrec.segment._fuse import FittedFusion

    encoder = None
    if (shared / "encoder.json").exists():
        encoder = encoder_from_state(read_state(shared, "encoder"), shared)
    featurizer = UserFeaturizer.from_state(*read_state(shared, "featurizer"), embedder=encoder)
    fusion = FittedFusion.from_state(*read_state(shared, "fusion"))
    ds = Dataset.from_parquet(data_dir)
    users = json.loads((data_dir / "user_ids.json").read_text())
    feats = featurizer.transform(ds, user_ids=users)
    return np.asarray(fusion.transform(feats), dtype=np.float64)
