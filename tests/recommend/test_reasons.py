"""A text model's pick is explained by what the user wrote, never by a taste it did not use."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segrec.data import Dataset
from segrec.recommend import FitContext
from segrec.recommend._reasons import reason_index


def _ctx() -> FitContext:
    # w0 wrote about a warm tube amp; nobody who chose 'amp' chose 'pedal' or 'strings'
    inter = pd.DataFrame(
        {
            "user_id": ["w0", "a1", "a2", "b1", "b2", "b3"],
            "item_id": ["amp", "amp", "amp", "pedal", "pedal", "strings"],
            "timestamp": np.arange(6),
            "event": "purchase",
        }
    )
    texts = pd.DataFrame(
        {
            "user_id": ["w0", "a1", "b1", "b2", "b3"],
            "item_id": ["amp", "amp", "pedal", "pedal", "strings"],
            "text": [
                "warm tube tone with fuzz",
                "the tube tone is warm",
                "great fuzz pedal",
                "a pedal for blues",
                "bright nickel strings",
            ],
        }
    )
    return FitContext(train=Dataset(interactions=inter, texts=texts))


def test_text_reasons_fall_back_to_writing_not_to_taste() -> None:
    idx = reason_index(_ctx())
    # a shared term names what the user wrote about
    assert idx.explain("w0", "pedal", "text").startswith("matches what you wrote about")
    # no shared term and no co-consumption: the pick came from what w0 wrote, so it says so
    assert idx.explain("w0", "strings", "text") == "close to what you wrote"
    # the same item from a collaborative model: nothing links it to w0's history either
    assert idx.explain("w0", "strings", "similar") == "chosen by people with tastes like yours"
    # a user who wrote nothing and an unknown user fall back to popularity
    assert idx.explain("a2", "strings", "text").startswith("popular with shoppers overall")
    assert idx.explain("zz", "strings", "text").startswith("popular with shoppers overall")


def test_prepared_similarities_give_the_same_reasons() -> None:
    from segrec.data.synthetic import SyntheticConfig, generate

    ds = generate(SyntheticConfig(users=150, seed=4))
    idx = reason_index(FitContext(train=ds))
    rng = np.random.default_rng(1)
    items = np.asarray(ds.item_ids)
    for user in rng.choice(np.asarray(ds.user_ids), 20, replace=False):
        picks = rng.choice(items, 10, replace=False)
        plain = [idx.explain(idx.asker(user), str(i), "similar") for i in picks]
        who = idx.asker(user)
        idx.prepare(who, picks)
        assert who.sims is not None and len(who.sims) == len(picks)
        assert [idx.explain(who, str(i), "similar") for i in picks] == plain
