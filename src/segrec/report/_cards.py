"""Per-segment material for the report: the 2-D user map and the segment cards.

Cards publish what :mod:`segrec.describe` lets through and nothing else: segments under the
minimum size are merged into their nearest large segment (the same
:func:`~segrec.describe.enforce_min_size` the profiles use), and keywords and top items come
from the privacy-thresholded profiles (at least ``min_users`` distinct members), never
recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from segrec.data import text_noun
from segrec.evaluate import EvalResult
from segrec.segment import Segmentation

__all__ = ["profile_fields", "published_labels", "rule_line", "segment_cards", "user_map"]

MIN_SIZE = 10  # DescribeConfig's default: the smallest segment a profile describes


def rule_line(rule: Mapping[str, Any]) -> str:
    """One rule for a team lead: in words first, the exact condition, then how well it picks
    the segment as shares of people."""
    from segrec.describe._rule_words import rule_in_words

    cond = str(rule.get("if", ""))
    return (
        f"{rule_in_words(cond)}: {cond} ({rule.get('precision', 0):.0%} of the users it picks "
        f"are members; it covers {rule.get('coverage', 0):.0%} of members)"
    )


def profile_fields(profiles: Any) -> dict[int, dict[str, Any]]:
    """segment id -> what a card shows, from a :class:`~segrec.describe.SegmentProfiles`."""
    out: dict[int, dict[str, Any]] = {}
    for p in profiles.profiles:
        out[int(p["segment_id"])] = {
            "name": p.get("name"),
            "size": p.get("size"),
            "keywords": p.get("keywords") or [],
            "reviews": p.get("representative_reviews") or [],
            "top_items": [f"{i['label']} ({i['users']})" for i in p.get("top_items") or []],
            "rules": [rule_line(r) for r in (p.get("rules") or {}).get("rules", [])],
            "rules_note": profiles.rules_note(p),
        }
    return out


def published_labels(seg: Segmentation, min_size: int = MIN_SIZE) -> pd.Series:
    """user -> the segment their profile publishes: segments under ``min_size`` users merged
    into the nearest large one, as :func:`segrec.describe.describe_segments` does."""
    from segrec.describe import enforce_min_size

    labels, _ = enforce_min_size(seg.labels, seg.centers, min_size, "merge")
    return pd.Series(labels, index=pd.Index(seg.user_ids.astype(str)))


def _fused(result: EvalResult) -> tuple[pd.Index, np.ndarray] | None:
    art = result.artifacts
    if art is None:
        return None
    if art.behavior_x is None:
        from segrec.evaluate import behavior_svd

        art.behavior_users, art.behavior_x = behavior_svd(art.dataset)
    assert art.behavior_users is not None
    return pd.Index(art.behavior_users.astype(str)), np.asarray(art.behavior_x, dtype=float)


def user_map(
    result: EvalResult,
    seg: Segmentation,
    max_points: int = 2000,
    random_state: int = 0,
    labels: pd.Series | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]] | None:
    """(xy, segment of each point, {"projection", "axes"}) for at most ``max_points`` users, or
    ``None``. The projection is the model folder's (:func:`segrec.model._map.segment_map`:
    the linear discriminant axes of the fused features, which draw segments that differ
    apart); without features, a PCA of the behaviour SVD. ``labels`` (user -> segment)
    defaults to :func:`published_labels`."""
    lab = published_labels(seg) if labels is None else labels
    art = result.artifacts
    if art is not None and art.features is not None and getattr(art.features, "blocks", None):
        from segrec.model._map import segment_map

        frame = pd.DataFrame({"user_id": lab.index, "segment_id": lab.to_numpy()})
        got = segment_map(art.features, frame, max_points, random_state)
        if got is not None:
            pts, about = got
            return pts[["x", "y"]].to_numpy(float), pts.segment_id.to_numpy(), about
    fused = _fused(result)
    if fused is None:
        return None
    from sklearn.decomposition import PCA

    users, x = fused
    s = lab.reindex(users)
    ok = (s.notna() & (s.fillna(-1) >= 0)).to_numpy()
    x, labels_ = x[ok], s[ok].astype(int).to_numpy()
    if len(x) < 3:
        return None
    if len(x) > max_points:
        idx = np.sort(np.random.default_rng(random_state).choice(len(x), max_points, False))
        x, labels_ = x[idx], labels_[idx]
    pca = PCA(2, random_state=random_state)
    xy = pca.fit_transform(x)
    axes = [
        f"component {i + 1} ({v:.0%} of variance)"
        for i, v in enumerate(pca.explained_variance_ratio_)
    ]
    return xy, labels_, {"projection": "PCA of the users' interaction history (SVD)", "axes": axes}


def segment_cards(
    result: EvalResult,
    seg: Segmentation,
    profiles: Mapping[int, Mapping[str, Any]] | None = None,
    min_size: int = MIN_SIZE,
) -> list[dict[str, Any]]:
    """One card per published segment, largest first: name, size, keywords, representative
    texts, rules, top items.

    ``profiles`` (segment id -> {"name", "keywords", "reviews", "top_items", "rules",
    "rules_note"}, e.g. :func:`profile_fields` of :func:`segrec.describe.describe_segments` on
    ``seg``) are what the cards show; without them the profiles are made here the same way.
    A segment under ``min_size`` users is merged into its nearest large one, as in the
    profiles; a segment no profile describes gets a card that says so and names nothing.
    """
    assert result.artifacts is not None
    art = result.artifacts
    if profiles is None:
        from segrec.describe import describe_segments

        described = describe_segments(art.dataset, seg, art.features, min_size=min_size)
        profiles = profile_fields(described)
    pub = published_labels(seg, min_size)
    sizes = pub[pub >= 0].value_counts()
    texts_are = text_noun(art.dataset)
    cards = []
    for s_raw, size in sizes.items():
        s = int(s_raw)  # type: ignore[call-overload]
        prof = dict(profiles.get(s, {}))
        card: dict[str, Any] = {
            "segment": s,
            "name": prof.get("name") or seg.names.get(s) or f"Segment {s}",
            "size": int(size),
            "reviews_are": texts_are,
            "keywords": list(prof.get("keywords") or []),
            "reviews": list(prof.get("reviews") or []),
            "rules": list(prof.get("rules") or []),
            "rules_note": prof.get("rules_note"),
            "top_items": list(prof.get("top_items") or []),
            "note": None,
        }
        if not prof:  # nothing privacy let through: say so rather than compute it here
            card.update(keywords=[], reviews=[], rules=[], top_items=[])
            card["note"] = "no profile describes this segment; nothing about it is published"
        cards.append(card)
    return cards
