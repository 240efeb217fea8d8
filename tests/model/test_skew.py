"""No train/serve skew on the real chain: every training user, fed only their own history and
texts through ``assign``'s code path, lands in their batch segment (>= 99%), on the demo shop
and on Amazon Musical Instruments, with the default encoder and the segmentation validation
picked for each (``segrec run``: gnn on the demo shop, text with k=8 on Amazon MI, where the
light text backend keeps the test short; the embedding path is the demo shop's). The demo
model is also saved and loaded: the loaded model embeds a new review with the same encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from segrec.data import load_dataset
from segrec.evaluate import EvalConfig
from segrec.model import Choice
from segrec.model._fit import fit_chosen, serving_dataset

AMAZON = "amazon2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz"


def _fit(spec: str, segmentation: str, params: dict, **config):  # type: ignore[no-untyped-def]
    ds, _ = load_dataset(spec)
    cfg = EvalConfig(**config)
    model = fit_chosen(serving_dataset(ds, cfg), cfg, Choice(segmentation, params, {}))
    batch = model.segments.segment_id
    got = model.assign_dataset(ds).set_index("user_id").segment_id.reindex(batch.index)
    return model, float((got.to_numpy() == batch.to_numpy()).mean())


@pytest.mark.slow
@pytest.mark.model
def test_demo_shop_users_land_in_their_batch_segment(tmp_path: Path) -> None:
    from segrec.model import load_model

    model, agree = _fit("synthetic:users=2000,seed=7", "gnn", {})
    assert agree >= 0.99
    loaded = load_model(model.save(tmp_path / "model"))
    enc = loaded.info["encoder"]
    assert enc["kind"] == "transformer" and len(enc["weights_sha256"]) == 64
    text = "great warm tone, the strings stay in tune for weeks"
    assert loaded.assign(texts=[text]).segment_id == model.assign(texts=[text]).segment_id


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.shared
def test_amazon_users_land_in_their_batch_segment(shared_datasets) -> None:
    # the light text backend: the same code path, and under 2 minutes from an empty cache
    light = {"features": {"embedder": {"backend": "tfidf-svd"}}}
    _, agree = _fit(f"amazon:{shared_datasets / AMAZON}", "text", {"k": 8}, **light)
    assert agree >= 0.99
