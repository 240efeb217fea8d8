"""End-to-end evaluation on a small planted dataset with fast settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from evalkit import PlainPop, pop_factories

from segrec.diagnostics import UsageError
from segrec.evaluate import (
    EvalConfig,
    EvalResult,
    dedupe_interactions,
    run_evaluation,
)

FAST = {
    "n_bootstrap": 200,
    "features": {"embedder": {"backend": "tfidf-svd", "tfidf_dim": 32}},
    "graph": None,
    "segmentations": ["random", "rfm", "behavior", "text", "fused", "demographic"],
    "segmentation_params": {"behavior": {"k": 4}, "text": {"k": 4}, "fused": {"k": 4}},
}

M_KEYS = {
    "ndcg@10",
    "recall@10",
    "precision@10",
    "hr@10",
    "map@10",
    "coverage@10",
    "ndcg@10_cold",
    "ndcg@10_warm",
    "ndcg@10_ci",
    "params",
    "ndcg@20",
    "recall@20",
    "n_users",
    "n_cold",
    "n_warm",
}

# end-to-end runs of the whole pipeline take 10-30 s on two busy cores
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result(planted) -> EvalResult:
    factories = pop_factories()
    cfg = EvalConfig(
        methods=["pop", "hybrid"],
        grids={"pop": [{"damp": 0.0}, {"damp": 5.0}], "segment_pop": [{}], "hybrid": [{}]},
        **FAST,
    )
    return run_evaluation(planted, cfg, recommenders=factories)


def test_json_schema_has_the_issue_keys(result: EvalResult, tmp_path) -> None:
    path = result.save(tmp_path / "results.json")
    data = json.loads(path.read_text())
    assert set(data) == {"dataset", "protocol", "methods", "segmentations", "significance"}
    assert data["protocol"]["name"] == "v1"
    assert {"n_test_users", "n_cold_users"} <= set(data["dataset"])
    for name in ("pop", "hybrid", "segment_pop:behavior", "segment_pop:random"):
        assert set(data["methods"][name]) >= M_KEYS, name
        ci = data["methods"][name]["ndcg@10_ci"]
        assert len(ci) == 2 and ci[0] <= data["methods"][name]["ndcg@10"] <= ci[1]
    for seg in ("random", "rfm", "behavior", "text", "demographic"):
        row = data["segmentations"][seg]
        assert {"k", "silhouette", "stability", "segment_pop", "hybrid"} <= set(row)
        assert {"gap", "ratio"} <= set(row["segment_pop"]["fairness"])


def test_counts_are_consistent(result: EvalResult) -> None:
    d = result.dataset
    assert d["n_cold_users"] + d["n_warm_users"] == d["n_test_users"]
    m = result.methods["pop"]
    assert m["n_users"] == d["n_test_users"] and m["n_cold"] == d["n_cold_users"]
    # the planted data leaves fewer than 100 test users: the result must say so
    assert any("test users" in w for w in result.warnings)
    assert any("cold" in w for w in result.warnings)


def test_tuning_uses_validation_and_records_params(result: EvalResult) -> None:
    m = result.methods["pop"]
    assert len(m["tuning"]) == 2 and m["val_ndcg@10"] is not None
    assert m["params"]["damp"] in (0.0, 5.0)


def test_planted_segments_beat_random_and_rfm(result: EvalResult) -> None:
    # users were planted in groups with their own items: segments from behaviour or text must
    # give segment popularity a clear lift over random segments and over global popularity
    meth = result.methods
    for good in ("segment_pop:behavior", "segment_pop:text"):
        assert meth[good]["ndcg@10"] > 1.5 * meth["segment_pop:random"]["ndcg@10"]
        assert meth[good]["ndcg@10"] > meth["segment_pop:rfm"]["ndcg@10"]
        assert meth[good]["ndcg@10"] > meth["pop"]["ndcg@10"]
    sig = result.significance
    assert sig["best_baseline"] == "pop"
    assert sig["segment_pop:text_vs_segment_pop:random"]["mean_diff"] > 0
    # every comparison carries its p-value adjusted for the others (Holm): never smaller
    tests = [v for v in sig.values() if isinstance(v, dict)]
    assert len(tests) >= 4
    assert all(t["p_bootstrap"] <= t["p_bootstrap_holm"] <= 1 for t in tests)


def test_stability_says_which_segments_survive_a_refresh(result: EvalResult) -> None:
    # the same method on the tuning period and on the whole training period: the planted
    # groups come back; rules on fixed attributes or on the user id alone do not move at all
    segs = result.segmentations
    for name in ("random", "rfm", "behavior", "text", "demographic"):
        q = segs[name]["quality"]
        assert segs[name]["stability"] == q["stability_refresh"], name
        assert 0 < q["stability_refresh_users"] <= result.dataset["n_train_users"]
    assert segs["behavior"]["stability"] > 0.5
    assert segs["demographic"]["stability"] == pytest.approx(1.0)
    assert segs["random"]["stability"] == pytest.approx(1.0)


def test_segment_fairness_is_max_minus_min(result: EvalResult) -> None:
    row = result.segmentations["behavior"]["segment_pop"]
    vals = [p["ndcg@10"] for p in row["per_segment"] if p["segment"] >= 0]
    assert row["fairness"]["gap"] == pytest.approx(max(vals) - min(vals))
    assert row["fairness"]["ratio"] == pytest.approx(min(vals) / max(vals))
    # each segment's mean carries its own bootstrap interval (segments are small)
    cis = [p["ndcg@10_ci"] for p in row["per_segment"]]
    assert all(
        lo <= p["ndcg@10"] <= hi for p, (lo, hi) in zip(row["per_segment"], cis, strict=True)
    )
    assert any(hi > lo for lo, hi in cis)
    # every method also carries its gap over the hybrid's segments (big enough ones only)
    floor = result.config.min_segment_users if result.config else 1
    for name, m in result.methods.items():
        ps = m["per_segment"]
        vals = [p["ndcg@10"] for p in ps["segments"] if p["segment"] >= 0 and p["n"] >= floor]
        assert len(vals) >= 2, name
        assert ps["fairness"]["gap"] == pytest.approx(max(vals) - min(vals)), name


def test_features_come_from_training_period_only(result: EvalResult) -> None:
    art = result.artifacts
    assert art is not None
    # the features were built on the train dataset: its interactions end before the test rows
    ds = art.dataset
    assert len(ds.interactions) == result.dataset["n_train"]
    assert art.features is not None
    assert set(art.features.user_ids) <= set(ds.user_ids)


def test_fit_model_serves_every_user_with_what_validation_chose(planted) -> None:
    from segrec.model import fit_model

    # five users who arrive after the training period: the evaluation never sees them
    late = planted.interactions.user_id.isin([f"u{u:03d}" for u in range(5)])
    shift = np.where(late, 10_000, 0)
    texts_late = planted.texts.user_id.isin([f"u{u:03d}" for u in range(5)])
    ds = planted.replace(
        interactions=planted.interactions.assign(timestamp=planted.interactions.timestamp + shift),
        texts=planted.texts.assign(
            timestamp=planted.texts.timestamp + np.where(texts_late, 10_000, 0)
        ),
    )
    cfg = EvalConfig(methods=["pop", "itemknn", "hybrid"], budget=1, cold_windows=0, **FAST)
    result = run_evaluation(ds, cfg)
    model = fit_model(ds, result=result)
    evaluated = result.runs["hybrid"].model
    chosen = model.info["chosen"]
    assert chosen["segmentation"] == result.protocol["hybrid_segmentation"] is not None
    assert chosen["hybrid"] == evaluated.config.model_dump(mode="json")
    # the whole (deduplicated) dataset, test period and its texts included
    pairs = dedupe_interactions(ds.interactions)
    assert model.info["dataset"]["n_interactions"] == len(pairs) > result.dataset["n_train"]
    assert model.info["dataset"]["n_texts"] == len(ds.texts)
    # the late users get a segment; the segment count is the one chosen for the evaluation
    assert chosen["n_segments"] == 4
    assert result.artifacts is not None
    newcomers = set(pairs.user_id) - set(result.artifacts.dataset.interactions.user_id)
    assert len(newcomers) == 5 and newcomers <= set(model.segments.index)
    # nothing a user has interacted with, in any period, is recommended back to them; the
    # evaluated model (training period only) does recommend some test-period items back
    history = pairs.groupby("user_id").item_id.agg(set)
    users = sorted(newcomers) + list(result.runs["hybrid"].per_user.index)
    served = model.recommend_users(users, 10)
    for u, items in zip(served.user_ids, served.items, strict=True):
        assert len(items) > 0 and not set(items) & history[u]
    old = evaluated.recommend(users, 10)
    assert any(set(i) & history[u] for u, i in zip(old.user_ids, old.items, strict=True))
    # the new segments come described and named, and reasons use the names
    assert set(model.profiles.names) <= set(model.segments.segment_id)
    reasons = [r for rs in served.reasons for r in rs if r.startswith("popular with ")]
    assert not any("segment " in r for r in reasons)


def test_reasons_use_the_names_they_are_given() -> None:
    from segrec.recommend import get_recommender
    from segrec.testing._recommenders import tiny_context

    ctx = tiny_context(n_users=60, seed=2)
    model = get_recommender("segment_pop").fit(ctx)
    user = str(ctx.train.user_ids[0])
    before = model.recommend([user], 2).reasons[0]
    assert before[0].startswith("popular with ") and "Budget tone chasers" not in before[0]
    model.set_segment_names({s: "Budget tone chasers" for s in range(3)})
    assert model.recommend([user], 2).reasons[0] == ["popular with Budget tone chasers"] * 2


def test_llo_protocol_runs(planted) -> None:
    res = run_evaluation(
        planted,
        EvalConfig(protocol="llo", methods=["pop"], segmentations=[], n_bootstrap=50, graph=None),
        recommenders={"pop": lambda **p: PlainPop(**p)},
    )
    assert res.protocol["name"] == "llo"
    n_users_3plus = int((planted.interactions.user_id.value_counts() >= 3).sum())
    assert 0 < res.dataset["n_test_users"] <= n_users_3plus
    # with leave-last-out only users with exactly three (distinct) interactions can be cold
    pairs = planted.interactions.drop_duplicates(["user_id", "item_id"])
    n_exactly_3 = int((pairs.user_id.value_counts() == 3).sum())
    assert 0 < res.dataset["n_cold_users"] <= n_exactly_3
    assert np.isfinite(res.methods["pop"]["ndcg@10"])


def test_rows_a_dataset_cannot_support_are_skipped_quietly(planted, caplog) -> None:
    # the planted shop has no user-user ties: 'social' is skipped with its reason, no warning;
    # it has user text, so 'textknn' runs
    assert len(planted.social) == 0
    cfg = EvalConfig(methods=["social", "textknn"], segmentations=[], n_bootstrap=50, graph=None)
    with caplog.at_level("WARNING", logger="segrec.evaluate._run"):
        res = run_evaluation(planted, cfg)
    assert "no social ties" in res.protocol["skipped"]["social"]
    assert not [r for r in caplog.records if "social" in r.getMessage()]
    assert np.isfinite(res.methods["textknn"]["ndcg@10"])


def test_unknown_event_filter_is_a_usage_error(planted) -> None:
    with pytest.raises(UsageError, match="events"):
        run_evaluation(planted, EvalConfig(events=["nope"], methods=[]))


def test_config_from_toml(tmp_path) -> None:
    p = tmp_path / "eval.toml"
    p.write_text('protocol = "llo"\nk = 5\n[grids]\nease = [{l2 = 10.0}]\n')
    cfg = EvalConfig.from_toml(p, k=20)
    assert cfg.protocol == "llo" and cfg.k == 20 and cfg.grid("ease") == [{"l2": 10.0}]
    p.write_text("nonsense = 1\n")
    with pytest.raises(UsageError, match="nonsense"):
        EvalConfig.from_toml(p)
    with pytest.raises(UsageError, match="no such file"):
        EvalConfig.from_toml(tmp_path / "missing.toml")


def test_hybrid_cold_weights_use_earlier_windows(planted) -> None:
    cfg = EvalConfig(
        methods=["pop", "hybrid"],
        segmentations=["behavior"],
        segmentation_params={"behavior": {"k": 4}},
        grids={"hybrid": [{"base": "pop"}]},
        cold_windows=2,
        n_bootstrap=50,
        graph=None,
        features={"embedder": {"backend": "tfidf-svd", "tfidf_dim": 16}},
    )
    res = run_evaluation(planted, cfg)
    wins = res.protocol["cold_windows"]
    assert len(wins) == 2
    assert wins[0]["n_before"] > wins[1]["n_before"] > 0
    assert all(0 <= w["n_cold_users"] <= w["n_users"] for w in wins)
    assert res.methods["hybrid"]["params"]["base"] == "pop"
    # a stand-in hybrid without windows support gets none built
    plain = run_evaluation(
        planted,
        cfg.model_copy(update={"grids": {"pop": [{}], "segment_pop": [{}], "hybrid": [{}]}}),
        recommenders=pop_factories(),
    )
    assert plain.protocol["cold_windows"] == []


def test_item_vectors_puts_content_in_the_encoders_space(planted) -> None:
    from segrec.evaluate._run import _build_phase, _context
    from segrec.features import item_review_vectors
    from segrec.recommend import get_recommender

    cfg = EvalConfig(**FAST, item_vectors=True)
    art = _build_phase(planted, cfg, [], "test")
    assert art.features is not None and art.item_vectors is not None
    text = art.features.block("text")  # items and users in the space of the text features
    assert art.item_vectors.shape[1] == text.shape[1]
    assert art.user_text is not None and set(art.user_text.index) <= set(planted.user_ids)
    rec = get_recommender("content").fit(_context(art, None, cfg))
    assert rec.params()["vectors"] == "context"
    # the default keeps the TF-IDF space every published figure was computed in
    off = _build_phase(planted, EvalConfig(**FAST), [], "test")
    assert off.item_vectors is None
    assert get_recommender("content").fit(_context(off, None, cfg)).params()["vectors"] == (
        "tfidf-svd"
    )
    # an item's vector is the mean of the vectors of what was written about it
    v = np.arange(12, dtype=np.float32).reshape(6, 2)
    two = planted.replace(
        texts=planted.texts.iloc[:6].assign(item_id=["a", "a", "b", "b", "b", None])
    )
    means = item_review_vectors(two, v)
    assert list(means.index) == ["a", "b"]
    assert np.allclose(means.loc["a"], v[:2].mean(0)) and np.allclose(
        means.loc["b"], v[2:5].mean(0)
    )


@pytest.mark.parametrize(
    ("protocol", "advice"), [("v1", "try --protocol llo"), ("llo", "at least 3")]
)
def test_no_test_users_says_what_would_help_for_that_protocol(protocol: str, advice: str) -> None:
    import pandas as pd

    from segrec.data import Dataset

    inter = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(20)],  # one interaction each: nobody to test
            "item_id": [f"i{i % 5}" for i in range(20)],
            "timestamp": np.arange(20),
        }
    )
    with pytest.raises(UsageError, match="leaves no test users") as exc:
        run_evaluation(Dataset(interactions=inter, name="thin"), EvalConfig(protocol=protocol))
    assert advice in str(exc.value)
    if protocol == "llo":
        assert "--protocol llo" not in str(exc.value)
