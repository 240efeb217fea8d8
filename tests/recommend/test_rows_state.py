"""Fitted recommenders that live on: scored from rows, saved and loaded without pickle, and
folding in users the fit never saw (issue 19)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
import pytest

from segrec.data import Dataset
from segrec.diagnostics import UsageError
from segrec.recommend import (
    FitContext,
    RecLists,
    ScoringRecommender,
    UserRows,
    available_recommenders,
    get_recommender,
    recommender_from_state,
    recommender_to_state,
)

#: (case id, registry name, params): every registered model, the hybrid twice
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("pop", "pop", {}),
    ("trending", "pop", {"half_life": 0.1}),
    ("itemknn", "itemknn", {"neighbours": 50}),
    ("als", "als", {"factors": 16, "iterations": 10}),
    ("bpr", "bpr", {"factors": 16, "iterations": 50}),
    ("ease", "ease", {"l2": 50.0}),
    ("lightgcn", "lightgcn", {"dim": 16, "epochs": 20}),
    ("content", "content", {}),
    ("social", "social", {}),
    ("textknn", "textknn", {"neighbours": 50}),
    ("segment_pop", "segment_pop", {}),
    (
        "segment_strategy",
        "segment_strategy",
        {"segments": {1: {"model": "itemknn", "price_tier": "premium"}}},
    ),
    ("hybrid", "hybrid", {"base": "ease", "w_social": 0.5, "w_recent": 0.5}),
    (
        "hybrid_cold",
        "hybrid",
        {
            "base": "als",
            "base_params": {"factors": 16, "iterations": 10},
            "cold_base": "itemknn",
            "cold_weights": {"personal": 1.0, "cold_base": 1.0, "peers": 1.0, "social": 1.0},
            "cold_max": 3,
        },
    ),
]
IDS = [c[0] for c in CASES]
#: a fitted user presented as new gets exactly the same top 10
EXACT = [
    "pop",
    "trending",
    "itemknn",
    "ease",
    "content",
    "social",
    "textknn",
    "segment_pop",
    "segment_strategy",
    "hybrid",
]
#: ... and where the fold-in approximates learned user factors, the measured mean top-10
#: overlap on this shop (ALS 0.96, BPR 0.75, LightGCN 0.91, the hybrid on ALS 0.95), less a margin
OVERLAP = {"als": 0.9, "bpr": 0.65, "lightgcn": 0.8, "hybrid_cold": 0.85}


@pytest.fixture(scope="module")
def ctx() -> FitContext:
    from segrec.data import load_dataset
    from segrec.features import TextEmbedder, build_user_features
    from segrec.segment import get_segmenter

    ds, _ = load_dataset("synthetic:users=400,seed=1")
    feats = build_user_features(ds, TextEmbedder(backend="tfidf-svd"))
    seg = get_segmenter("kmeans", k=4, random_state=0).fit(feats, ds)
    return FitContext(train=ds, features=feats, segmentation=seg, segment_names=dict(seg.names))


@pytest.fixture(scope="module")
def fitted(ctx: FitContext) -> dict[str, ScoringRecommender]:
    return {}


def _model(case: str, ctx: FitContext, cache: dict[str, ScoringRecommender]) -> Any:
    if case not in cache:
        _, name, params = next(c for c in CASES if c[0] == case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cache[case] = get_recommender(name, **params).fit(ctx)
    return cache[case]


def _users(ctx: FitContext) -> list[str]:
    return [str(u) for u in ctx.train.user_ids]


def _texts(ctx: FitContext) -> dict[str, list[str]]:
    t = ctx.train.texts.dropna(subset=["text"])
    t = t[t.user_id.notna()]
    return t.groupby(t.user_id.astype(str), observed=True).text.agg(list).to_dict()


def _as_new(rows: UserRows, texts: dict[str, list[str]]) -> UserRows:
    """The same users with the same history, segment, texts and friends, but not fitted."""
    return UserRows(
        user_ids=rows.user_ids,
        history=rows.history,
        fitted=np.zeros(len(rows), bool),
        segments=rows.segments,
        text_vectors=rows.text_vectors,
        has_text=rows.has_text,
        texts=[texts.get(u, []) for u in rows.user_ids],
        friends=rows.friends,
    )


def _same(a: RecLists, b: RecLists, reasons: bool = True) -> None:
    assert list(a.user_ids) == list(b.user_ids)
    for x, y in zip(a.items, b.items, strict=True):
        assert x.tolist() == y.tolist()
    for x, y in zip(a.scores, b.scores, strict=True):
        np.testing.assert_array_equal(x, y)
    if reasons:
        assert a.reasons == b.reasons


def _round_trip(model: ScoringRecommender, tmp_path: Path) -> ScoringRecommender:
    meta, arrays = recommender_to_state(model)
    (tmp_path / "model.json").write_text(json.dumps(meta))
    np.savez(tmp_path / "arrays.npz", **arrays)
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as z:
        loaded = {k: z[k] for k in z.files}
    return recommender_from_state(json.loads((tmp_path / "model.json").read_text()), loaded)


def test_every_registered_model_is_covered() -> None:
    assert {c[1] for c in CASES} == set(available_recommenders())


@pytest.mark.parametrize("case", IDS)
def test_state_round_trip_gives_identical_lists_scores_and_reasons(
    case: str, ctx: FitContext, fitted: dict[str, ScoringRecommender], tmp_path: Path
) -> None:
    model = _model(case, ctx, fitted)
    users = _users(ctx)
    loaded = _round_trip(model, tmp_path)
    _same(model.recommend(users, 10), loaded.recommend(users, 10))
    np.testing.assert_array_equal(model.score(users[:50]), loaded.score(users[:50]))
    rows = UserRows.known(loaded, users)
    _same(model.recommend(users, 10), loaded.recommend_rows(rows, 10))


@pytest.mark.parametrize("case", IDS)
def test_known_rows_recommend_as_recommend(
    case: str, ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    model = _model(case, ctx, fitted)
    users = [*_users(ctx), "never-seen"]
    rows = UserRows.known(model, users)
    assert rows.fitted.all()
    _same(model.recommend(users, 10), model.recommend_rows(rows, 10))


@pytest.mark.parametrize("case", EXACT)
def test_fitted_user_as_new_user_gets_the_same_top10(
    case: str, ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    model = _model(case, ctx, fitted)
    users = _users(ctx)
    new = _as_new(UserRows.known(model, users), _texts(ctx))
    before, after = model.recommend(users, 10), model.recommend_rows(new, 10)
    for x, y in zip(before.items, after.items, strict=True):
        assert x.tolist() == y.tolist()


@pytest.mark.parametrize("case", sorted(OVERLAP))
def test_fitted_user_as_new_user_folds_in_close_to_the_learned_user(
    case: str, ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    model = _model(case, ctx, fitted)
    users = _users(ctx)
    new = _as_new(UserRows.known(model, users), _texts(ctx))
    before, after = model.recommend(users, 10), model.recommend_rows(new, 10)
    overlap = np.mean(
        [len(set(x) & set(y)) / 10 for x, y in zip(before.items, after.items, strict=True)]
    )
    assert overlap >= OVERLAP[case]


@pytest.mark.parametrize("case", IDS)
def test_nothing_in_the_history_is_recommended(
    case: str, ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    model = _model(case, ctx, fitted)
    rng = np.random.default_rng(0)
    items = [str(i) for i in model.item_ids_]
    events = [list(rng.choice(items, size=int(n), replace=False)) for n in [0, 1, 3, 20, 60]]
    rows = UserRows.new(model, [f"new{i}" for i in range(5)], events, segments=[0, 1, -1, 2, 3])
    lists = model.recommend_rows(rows, 10)
    for r, its in enumerate(lists.items):
        assert len(its) == 10
        assert not set(its.tolist()) & {str(e) for e in events[r]}
    assert lists.reasons is not None and all(len(w) == 10 for w in lists.reasons)


@pytest.mark.parametrize("case", [c for c in IDS if not c.startswith("hybrid")])
def test_a_new_user_with_nothing_gets_popularity(
    case: str, ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    model = _model(case, ctx, fitted)
    pop = _model("trending" if case == "trending" else "pop", ctx, fitted)
    rows = UserRows.new(model, ["nobody"], [[]])
    assert (
        model.recommend_rows(rows, 10).items[0].tolist()
        == pop.recommend(["x"], 10).items[0].tolist()
    )


def _holds(obj: Any, seen: set[int] | None = None, depth: int = 0) -> list[str]:
    """Attribute paths under ``obj`` that hold a Dataset or a FitContext."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth > 8:
        return []
    seen.add(id(obj))
    if isinstance(obj, Dataset | FitContext):
        return [type(obj).__name__]
    children: dict[str, Any] = {}
    if isinstance(obj, dict):
        children = {str(k): v for k, v in obj.items()}
    elif isinstance(obj, list | tuple):
        children = {str(i): v for i, v in enumerate(obj)}
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("segrec"):
        children = vars(obj)
    return [f"{k}.{p}" for k, v in children.items() for p in _holds(v, seen, depth + 1)]


@pytest.mark.parametrize("case", ["hybrid", "hybrid_cold", "segment_strategy", "content"])
def test_fitted_and_loaded_models_hold_no_dataset(
    case: str, ctx: FitContext, fitted: dict[str, ScoringRecommender], tmp_path: Path
) -> None:
    model = _model(case, ctx, fitted)
    assert _holds(model) == []
    assert _holds(_round_trip(model, tmp_path)) == []


def test_segment_names_reach_every_index_and_travel(
    ctx: FitContext, fitted: dict[str, ScoringRecommender], tmp_path: Path
) -> None:
    model = _model("segment_pop", ctx, fitted)
    user = _users(ctx)[0]
    model.set_segment_names({s: "Budget tone chasers" for s in range(4)})
    try:
        assert model.recommend([user], 2).reasons == [["popular with Budget tone chasers"] * 2]
        loaded = _round_trip(model, tmp_path)
        assert loaded.recommend([user], 2).reasons == [["popular with Budget tone chasers"] * 2]
        loaded.set_segment_names({s: "Pedal fans" for s in range(4)})
        assert loaded.recommend([user], 1).reasons == [["popular with Pedal fans"]]
    finally:
        model.set_segment_names(dict(ctx.segmentation.names))  # type: ignore[union-attr]


def test_texts_alone_move_a_new_user_off_popularity(
    ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    texts = _texts(ctx)
    writer = max(texts, key=lambda u: len(texts[u]))
    for case in ("content", "hybrid"):
        model = _model(case, ctx, fitted)
        rows = UserRows.new(model, ["w"], [[]], texts=[texts[writer]])
        got = model.recommend_rows(rows, 10)
        assert (
            got.items[0].tolist()
            != _model("pop", ctx, fitted).recommend(["x"], 10).items[0].tolist()
        )
        assert got.reasons is not None


def test_events_as_mappings_and_unknown_items() -> None:
    from segrec.testing._recommenders import tiny_context

    model = get_recommender("itemknn").fit(tiny_context())
    rows = UserRows.new(model, ["a"], [[{"item_id": "i00"}, "i03", "not-an-item", "i00"]])
    assert rows.n_history.tolist() == [2]
    assert rows.history.data.tolist() == [1.0, 1.0]


def test_a_value_that_cannot_be_stored_is_named(
    ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    model = get_recommender("pop").fit(ctx)
    model.oddity_ = object()  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match="'pop' attribute oddity_"):
        recommender_to_state(model)


def test_rows_of_the_wrong_width_are_a_clear_error(
    ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    import scipy.sparse as sp

    model = _model("pop", ctx, fitted)
    with pytest.raises(UsageError, match="columns"):
        model.score_rows(UserRows(user_ids=["a"], history=sp.csr_matrix((1, 3))))


def test_rows_from_a_dataset_are_the_fit_time_users_folded_in(
    ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    model = _model("hybrid", ctx, fitted)
    users = _users(ctx)[:120]
    known = UserRows.known(model, users)
    rows = UserRows.from_dataset(model, ctx.train, users, known.segments, ctx.features)
    assert not rows.fitted.any()
    assert (rows.history != known.history).nnz == 0
    assert [sorted(f) for f in rows.friends] == [sorted(f) for f in known.friends]
    assert rows.texts == [_texts(ctx).get(u, []) for u in users]
    before, after = model.recommend(users, 10), model.recommend_rows(rows, 10)
    for x, y in zip(before.items, after.items, strict=True):
        assert x.tolist() == y.tolist()


def test_concat_keeps_each_row_as_it_was(
    ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    model = _model("hybrid_cold", ctx, fitted)
    users = _users(ctx)[:6]
    known = UserRows.known(model, users[:3])
    new = UserRows.new(model, ["n1", "n2"], [["i000"], []], texts=[["warm amp"], []])
    both = UserRows.concat([known, new, known.take([0])])
    assert len(both) == 6 and both.fitted.tolist() == [True] * 3 + [False] * 2 + [True]
    got = model.recommend_rows(both, 10)
    parts = [model.recommend_rows(known, 10), model.recommend_rows(new, 10)]
    expect = parts[0].items + parts[1].items + parts[0].items[:1]
    for x, y in zip(got.items, expect, strict=True):
        assert x.tolist() == y.tolist()


@pytest.mark.filterwarnings("ignore::segrec.diagnostics.FallbackWarning")
def test_tuned_models_travel_with_their_choices(tmp_path: Path) -> None:
    from segrec.testing._recommenders import tiny_context

    ctx = tiny_context(n_users=60, seed=4)
    val = ctx.train.interactions.groupby("user_id", observed=True).tail(1)[["user_id", "item_id"]]
    hybrid = get_recommender("hybrid", base="itemknn", min_cold_val=1)
    hybrid.tune(ctx, val, grid={"w_segment": [0.0, 0.5]}, cold_grid={"pop": [0.0, 1.0]})  # type: ignore[attr-defined]
    strategy = get_recommender(
        "segment_strategy",
        candidates=[{"model": "pop"}, {"model": "itemknn"}],
        min_val_users=1,
        min_gain=0.0,
    )
    strategy.tune(ctx, val)  # type: ignore[attr-defined]
    users = [str(u) for u in ctx.train.user_ids]
    for i, model in enumerate((hybrid, strategy)):
        (tmp_path / str(i)).mkdir()
        loaded = _round_trip(model, tmp_path / str(i))
        assert json.dumps(loaded.params(), default=str) == json.dumps(model.params(), default=str)
        _same(model.recommend(users, 5), loaded.recommend(users, 5))


def test_als_fold_in_is_implicits_recalculate_user(
    ctx: FitContext, fitted: dict[str, ScoringRecommender]
) -> None:
    pytest.importorskip("implicit")
    from implicit.cpu.als import AlternatingLeastSquares

    from segrec.recommend._foldin import als_fold_in

    model = _model("als", ctx, fitted)
    cfg = model.config
    ref = AlternatingLeastSquares(
        factors=cfg.factors,  # type: ignore[attr-defined]
        regularization=cfg.regularization,  # type: ignore[attr-defined]
        alpha=cfg.alpha,  # type: ignore[attr-defined]
        random_state=0,
    )
    ref.item_factors = model.item_factors_.copy()
    ref.user_factors = model.user_factors_.copy()
    rows = model.matrix_[:20]
    expect = ref.recalculate_user(np.arange(20), rows)
    got = als_fold_in(model.item_factors_, rows, cfg.alpha, cfg.regularization)  # type: ignore[attr-defined]
    np.testing.assert_allclose(got, expect, rtol=2e-3, atol=2e-4)


def test_fitted_history_is_the_product_it_replaces():
    """Known users' rows are built with numpy, entry for entry (order included: sums over a
    row follow it) what ``diags(known) @ m[codes]`` gave: unknown codes empty, stored zeros
    dropped, each row last entry first."""
    import scipy.sparse as sp

    from segrec.recommend._rows import fitted_history

    rng = np.random.default_rng(0)
    for trial in range(100):
        n, n_items = int(rng.integers(1, 30)), int(rng.integers(1, 40))
        m = sp.random(n, n_items, density=rng.random(), random_state=trial, format="csr")
        m = m.astype(np.float32)
        m.data[rng.random(m.nnz) < 0.2] = 0.0  # stored zeros
        if trial % 2:
            m.data = -m.data
        codes = rng.integers(-1, n, int(rng.integers(0, 8)))
        old = sp.csr_matrix(m[np.maximum(codes, 0)], dtype=np.float32)
        old = sp.csr_matrix(sp.diags((codes >= 0).astype(np.float32)) @ old)
        old.eliminate_zeros()
        new = fitted_history(m, codes)
        assert new.shape == old.shape and new.dtype == old.dtype
        for a in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(new, a), getattr(old, a)), (trial, a)


def test_one_users_items_and_texts_equal_the_group_by_path():
    """One user's items and texts (the online path: masks) are what the group-bys give, with
    missing texts and user ids skipped, in table order."""
    from segrec.data.synthetic import SyntheticConfig, generate
    from segrec.recommend._rows import _items_and_texts

    ds = generate(SyntheticConfig(users=40, seed=3))
    texts = ds.texts.copy()
    texts.loc[texts.index[:3], "text"] = pd.NA
    ds = type(ds)(interactions=ds.interactions, texts=texts, items=ds.items)
    every = list(ds.user_ids)
    items, wrote = _items_and_texts(ds, every)
    checked = 0
    for u in [*every[:15], "nobody"]:
        one_items, one_texts = _items_and_texts(ds, [u])
        assert one_items[u] == items.get(u, []) and one_texts[u] == wrote.get(u, [])
        checked += bool(one_texts[u])
    assert checked > 3
