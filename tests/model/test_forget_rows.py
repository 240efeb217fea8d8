"""Forgetting a user clears their own rows from every fitted part (recommenders nested in the
hybrid, the reason index, the GCN fold-in), and every other user is answered as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from segrec.data import load_dataset
from segrec.diagnostics import UsageError
from segrec.evaluate import EvalConfig
from segrec.model import Choice, SegrecModel, load_model
from segrec.model._fit import fit_chosen, serving_dataset
from segrec.model._forget import residual_user_state, scrub_user
from segrec.model._scrub import TOMBSTONE

CFG = {
    "features": {"embedder": {"backend": "tfidf-svd", "tfidf_dim": 16, "use_cache": False}},
    "graph": {"dim": 8, "epochs": 3},
}
#: every component the hybrid has, each with per-user rows: LightGCN (factors and layer 0), ALS
#: as the cold base, segment, content, social and text neighbours; the cold blend does not
#: weight the text neighbours (forgetting a writer moves their votes: tested on its own below)
COLD = {"personal": 1, "cold_base": 1, "segment": 0.5, "text": 0.5, "social": 1, "peers": 0}
HYBRID = {
    "base": "lightgcn",
    "base_params": {"dim": 8, "layers": 2, "epochs": 3},
    "cold_base": "als",
    "cold_base_params": {"factors": 8, "iterations": 3},
    "cold_weights": COLD,
    "w_social": 0.5,
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ds, _ = load_dataset("synthetic:users=200,seed=11")
    cfg = EvalConfig(**CFG)
    m = fit_chosen(serving_dataset(ds, cfg), cfg, Choice("fused", {"k": 4}, HYBRID))
    return Path(m.save(tmp_path_factory.mktemp("forget") / "model"))


def _social_user(m: SegrecModel) -> str:
    """A fitted user with history, texts and the most ties (the most state to clear)."""
    ties = pd.concat([m.store.ties.src, m.store.ties.dst]).astype(str).value_counts()
    wrote = set(m.store.texts.user_id.astype(str))
    return next(u for u in ties.index if u in wrote and u in m.store.fitted)


def test_forget_clears_their_rows_and_keeps_everyone_elses_answers(
    folder: Path, tmp_path: Path
) -> None:
    m = load_model(folder)
    u = _social_user(m)
    others = [v for v in m.user_ids if v != u]
    before = m.recommend_users(others, k=10).frame()
    segments = {v: m.segment_of(v) for v in others}
    p = int(m.recommender.user_codes([u])[0])
    foldin = m.featurizer.graph_.foldin_
    adj = foldin.adjacency_.tocsc()
    far = [v for v in others if v in m.store.fitted][:40]
    far = [v for v in far if adj[foldin.user_ids_.get_loc(v), foldin.user_ids_.get_loc(u)] == 0]
    far_ds = m.store.user_dataset(far[:8])  # and the users their ties name

    def fold_in_far() -> tuple[list[int], list[list[float]]]:
        a = m.assign_dataset(far_ds).set_index("user_id").loc[far[:8]]
        rows = foldin.neighbours(serving_dataset(far_ds, EvalConfig(**CFG)), pd.Index(far[:8]))
        weights = [sorted(rows[i].data.tolist()) for i in range(rows.shape[0])]
        return a.segment_id.tolist(), weights

    folded = fold_in_far()

    out = m.forget(u)

    # (1) gone: not known, the documented unknown-user error
    assert u not in m.user_ids
    with pytest.raises(UsageError, match=f"unknown user_id '{u}'"):
        m.recommend(u)
    for path in (
        "recommender.user_ids_",
        "recommender.matrix_",
        "recommender.personal_.user_factors_",
        "recommender.personal_.emb0_",
        "recommender.cold_model_.user_factors_",
        "recommender.reasons_.data.csc",
        "recommender.social_.friends_",
        "recommender.peers_.vectors_",
        "featurizer.graph_.foldin_.user_ids_",
        "featurizer.graph_.foldin_.states_.1",
    ):
        assert path in out["scrubbed"], path
    # (2) every other user: the same items, scores and segments; reasons that counted the
    # forgotten user (friends, co-consumption) may say one fewer
    after = m.recommend_users(others, k=10).frame()
    pd.testing.assert_frame_equal(after.drop(columns="reason"), before.drop(columns="reason"))
    changed = after.reason != before.reason
    assert changed.mean() < 0.02
    kinds = ("friends", "similar to", "write like you", "popular")
    assert all(any(k in r for k in kinds) for r in before.reason[changed])
    assert all(m.segment_of(v) == segments[v] for v in others)
    # users the graph did not link to them fold in with the same neighbour weights (where two
    # users tie at the top-k cut either may win) and land in the same segments
    assert fold_in_far() == folded

    # (3) the saved folder loads, names them nowhere, and their rows are empty
    m.save(tmp_path / "m")
    assert residual_user_state(tmp_path / "m", u) == []
    again = load_model(tmp_path / "m")
    rec = again.recommender
    assert rec.user_ids_[p].startswith(TOMBSTONE)
    assert rec.matrix_[p].nnz == 0 and rec.n_history_[p] == -1
    assert not rec.personal_.user_factors_[p].any() and not rec.personal_.emb0_[p].any()
    assert not rec.cold_model_.user_factors_[p].any()
    assert rec.social_.friends_[p].nnz == 0 and rec.social_.friends_[:, p].nnz == 0
    assert not rec.peers_.vectors_[p].any() and not rec.peers_.has_text_[p]
    assert rec.peers_.voter_items_[np.flatnonzero(rec.peers_.voters_ == p)].nnz == 0
    content, seg = rec.content_, rec.segment_
    t = int(np.flatnonzero(content.text_users_.str.startswith(TOMBSTONE))[0])
    assert not content.text_vectors_[t].any() and not content.history_mean_[p].any()
    assert seg.labels_[seg.members_.str.startswith(TOMBSTONE)].tolist() == [-1]
    assert rec.reasons_.data.csc[p].nnz == 0 and rec.reasons_.data.user_terms[p].nnz == 0
    fi = again.featurizer.graph_.foldin_
    q = int(np.flatnonzero(fi.user_ids_.str.startswith(TOMBSTONE))[0])
    assert all(not s[q].any() for s in fi.states_) and fi.adjacency_[:, q].nnz == 0
    pd.testing.assert_frame_equal(again.recommend_users(others, k=10).frame(), after)


def test_a_forgotten_writer_leaves_the_text_neighbours_votes(folder: Path) -> None:
    """Clearing a voter's row is removing the voter: every voter is a neighbour here (200 users,
    200 neighbours), so each other user's votes lose exactly that user's similarity-weighted
    items."""
    m = load_model(folder)
    peers = m.recommender.peers_
    u = _social_user(m)
    p = int(peers.user_codes([u])[0])
    others = [v for v in m.user_ids if v != u]
    codes = peers.user_codes(others)
    assert peers.config.neighbours >= len(peers.voters_) and p in peers.voters_
    sim = np.clip(peers.vectors_[codes] @ peers.vectors_[p], 0.0, None)
    sim[~peers.has_text_[codes]] = 0.0
    row = peers.voter_items_[int(np.flatnonzero(peers.voters_ == p)[0])].toarray().ravel()
    expected = peers.votes(others) - sim[:, None] * row[None, :]
    m.forget(u)
    np.testing.assert_allclose(peers.votes(others), expected, atol=1e-5)


def test_forget_after_an_update_and_of_an_updated_only_user(folder: Path, tmp_path: Path) -> None:
    m = load_model(folder)
    u = m.user_ids[5]
    item = str(m.item_index[0])
    m.update(u, events=[{"item_id": item}])
    m.update("new-user-1", events=[{"item_id": item}], texts=["only mine, nobody else's"])
    out = m.forget("new-user-1")
    assert out["scrubbed"] == [] and out["remains_until_refit"] == []
    m.forget(u)
    m.save(tmp_path / "m")
    hist = pd.read_parquet(tmp_path / "m" / "assignments.parquet")
    assert not hist.user_id.isin([u, "new-user-1"]).any(), "a pending update came back"
    assert residual_user_state(tmp_path / "m", u) == []


def test_forget_takes_their_review_out_of_the_profiles(folder: Path, tmp_path: Path) -> None:
    m = load_model(folder)
    texts = m.store.texts.assign(user_id=m.store.texts.user_id.astype(str))
    counts = texts.text.value_counts()
    author, review = None, None
    for p in m.profiles.profiles:
        for r in p.get("representative_reviews") or []:
            core = str(r).removesuffix(" ...")
            hit = texts[texts.text.astype(str).str.startswith(core)]
            if hit.user_id.nunique() == 1 and counts[hit.text.iloc[0]] == 1:
                author, review = hit.user_id.iloc[0], r
                break
        if author:
            break
    assert author is not None, "the fixture publishes reviews"
    n_before = sum(len(p.get("representative_reviews") or []) for p in m.profiles.profiles)
    assert m.forget(author)["removed"]["published_reviews"] == 1
    m.save(tmp_path / "m")
    saved = json.loads((tmp_path / "m" / "profiles.json").read_text())
    published = [r for p in saved["segments"] for r in p.get("representative_reviews") or []]
    assert review not in published and len(published) == n_before - 1


def test_forget_from_the_command_line_says_what_was_scrubbed(folder: Path, tmp_path: Path) -> None:
    import shutil

    import segrec.cli._commands  # noqa: F401  (registers the commands)
    from segrec.cli import app

    shutil.copytree(folder, tmp_path / "m")
    u = load_model(tmp_path / "m").user_ids[7]
    r = CliRunner().invoke(app, ["forget", "--model", str(tmp_path / "m"), "--user", u])
    assert r.exit_code == 0, r.output
    assert "scrubbed their rows and id from the fitted parts: featurizer (" in r.output
    assert "recommender (" in r.output and "still names them" not in r.output
    assert residual_user_state(tmp_path / "m", u) == []


class _Part:
    """A fitted part as the walker sees one: learned attributes ending in ``_``."""

    def __init__(self, **attrs: object) -> None:
        self.__dict__.update(attrs)


def test_scrub_keeps_every_other_entry_in_its_order() -> None:
    friends = sp.csr_matrix(np.array([[0, 2, 3], [4, 0, 6], [7, 8, 0]], np.float32))
    history = sp.csr_matrix(
        (np.array([1, 2, 3, 4, 5], np.float32), np.array([0, 3, 3, 2, 0]), np.array([0, 1, 3, 5])),
        shape=(3, 4),
    )  # row 2's entries unsorted (columns 2, 0): they stay in that order
    part = _Part(
        user_ids_=np.array(["a", "bb", "c"]),
        item_ids_=pd.Index(["i1", "i2", "i3", "i4"], dtype="object"),
        friends_=friends,
        history_=history,
        counts_=history.tocsc(),
        factors_=np.arange(6.0).reshape(3, 2),
        n_=np.array([1, 2, 3]),
        item_factors_=np.ones((4, 2)),
        by_user_={"bb": 1, "c": 2},
        terms_=sp.csr_matrix(np.ones((3, 3))),  # square, but users x terms: columns stay
    )
    out = scrub_user(part, "bb")
    assert part.user_ids_.tolist() == ["a", f"{TOMBSTONE}1", "c"]  # not cut to 2 characters
    assert part.friends_.toarray().tolist() == [[0, 0, 3], [0, 0, 0], [7, 0, 0]]
    h = part.history_
    assert h.format == "csr" and h.indices.tolist() == [0, 2, 0] and h.data.tolist() == [1, 4, 5]
    assert part.counts_.format == "csc" and part.counts_.toarray()[1].sum() == 0
    assert part.counts_.toarray()[[0, 2]].tolist() == history.toarray()[[0, 2]].tolist()
    assert part.factors_.tolist() == [[0, 1], [0, 0], [4, 5]]
    assert part.n_.tolist() == [1, -1, 3] and part.item_factors_.sum() == 8
    assert part.by_user_ == {"c": 2}
    assert part.terms_.toarray().tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 1]]
    assert out.unsure == [] and "m.friends_" in out.paths


def test_scrub_leaves_rows_it_cannot_tell_from_items_and_says_so() -> None:
    part = _Part(
        user_ids_=pd.Index(["a", "b"], dtype="object"),
        item_ids_=pd.Index(["i1", "i2"], dtype="object"),
        weights_=np.ones((2, 2)),
        item_vectors_=np.ones((2, 3)),
    )
    out = scrub_user(part, "a")
    assert out.unsure == ["m.weights_"] and part.weights_.sum() == 4
    assert part.item_vectors_.sum() == 6 and part.user_ids_[0].startswith(TOMBSTONE)
