"""Segmentation + Dataset -> :class:`SegmentProfiles` (stats, keywords, names, rules, privacy).

What is published is private by construction: segments under ``min_size`` users are merged or
suppressed; a keyword, a top item or a signature item is named only when at least
``min_users`` distinct members used it; representative texts are PII-scrubbed. With
``dp_epsilon`` set, every count and mean goes through OpenDP (:mod:`._dpstats`), clipped to
declared bounds, representative texts and rules are off, and ``meta["privacy"]`` holds the
ledger. ``meta["privacy"]["protections"]`` says which protections were on.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from segrec.data import item_labels, text_noun, wording
from segrec.describe._artifact import SegmentProfiles
from segrec.describe._behavior import interpretable_table
from segrec.describe._dpstats import DPRelease, release_private
from segrec.describe._keywords import top_keywords
from segrec.describe._llm import LLMConfig, LLMNamer
from segrec.describe._names import deterministic_name, unique_names
from segrec.describe._pieces import (
    categories,
    item_entry,
    product_vocabulary,
    rating_block,
    representative_texts,
    sentence,
    signature_item,
    top_items,
)
from segrec.describe._privacy import enforce_min_size
from segrec.describe._rules import RulesConfig, SegmentRules

__all__ = ["DescribeConfig", "SegmentDescriber", "describe_segments"]

_log = logging.getLogger(__name__)
_MEANS = ("recency_days", "frequency", "monetary", "rating_mean", "price_level")


class DescribeConfig(BaseModel):
    n_keywords: int = Field(8, ge=1)
    n_categories: int = Field(3, ge=0)
    n_items: int = Field(5, ge=0)
    n_reviews: int = Field(3, ge=0)
    review_chars: int = Field(280, ge=40)
    min_size: int = Field(10, ge=1)
    small_segments: Literal["merge", "suppress"] = "merge"
    min_users: int = Field(
        10, ge=1, description="distinct members who must have used a keyword or item to name it"
    )
    dp_epsilon: float | None = Field(None, gt=0)
    dp_mechanism: Literal["laplace", "gaussian"] = "laplace"
    dp_delta: float = Field(1e-5, gt=0, lt=1)
    # declared domains: the clipping bounds under DP (never read from the data)
    dp_rating_range: tuple[float, float] = (1.0, 5.0)
    dp_amount_cap: float = Field(1000.0, gt=0, description="largest spend one user counts for")
    dp_frequency_cap: float = Field(200.0, gt=0)
    dp_recency_cap_days: float = Field(730.0, gt=0)
    dp_max_keys_per_user: int = Field(5, ge=1, description="keywords/items one user adds to")
    llm: bool = False
    llm_config: LLMConfig | None = None
    rules: RulesConfig = Field(default_factory=lambda: RulesConfig())
    random_state: int = 0


class SegmentDescriber:
    """Describe segments in words: ``SegmentDescriber().describe(ds, segmentation, features)``."""

    def __init__(self, config: DescribeConfig | None = None, **kwargs: Any) -> None:
        self.config = config if config is not None else DescribeConfig(**kwargs)

    def describe(self, dataset: Any, segmentation: Any, features: Any = None) -> SegmentProfiles:
        cfg = self.config
        uids = pd.Index(segmentation.user_ids.astype(str), name="user_id")
        labels, privacy = enforce_min_size(
            segmentation.labels, segmentation.centers, cfg.min_size, cfg.small_segments
        )
        lab = pd.Series(labels, index=uids)
        pub = lab[lab >= 0]
        table = interpretable_table(dataset, uids)
        self.table_, self.labels_ = table, pub
        seg_ids = sorted(int(s) for s in pub.unique())
        texts = dataset.texts.assign(user_id=dataset.texts["user_id"].astype(str))
        texts = texts[texts["user_id"].isin(pub.index) & texts["text"].notna()]
        self.texts_ = texts
        dp: DPRelease | None = None
        if cfg.dp_epsilon:
            dp = release_private(cfg, dataset, table, pub, texts)
            sizes, means = dp.sizes, dp.means
            self.keywords_ = {s: [k for k, _ in kws] for s, kws in dp.keywords.items()}
            self.rules_ = None  # a tree's thresholds sit on single users' values
            pop = _pooled(means, sizes, seg_ids)
            price_cut = _catalogue_cuts(dataset)
        else:
            sizes = pub.value_counts().reindex(seg_ids).to_numpy().astype(float)
            means = {
                c: table.loc[pub.index, c].groupby(pub).mean().to_dict()
                for c in _MEANS
                if c in table
            }
            self.keywords_ = (
                top_keywords(
                    texts["text"],
                    texts["user_id"].map(pub),
                    cfg.n_keywords,
                    users=texts["user_id"],
                    min_users=cfg.min_users,
                )
                if len(texts)
                else {}
            )
            self.rules_ = (
                SegmentRules(cfg.rules).fit(table.loc[pub.index], pub) if len(seg_ids) > 1 else None
            )
            pop = {c: float(table[c].median()) for c in _MEANS if c in table}
            price_cut = (
                table["price_level"].quantile([1 / 3, 2 / 3]).to_numpy()
                if "price_level" in table and table["price_level"].notna().any()
                else None
            )
        profiles = self._profiles(
            dataset, segmentation, features, pub, seg_ids, sizes, means, pop, price_cut, dp
        )
        privacy["protections"] = _protections(cfg, dp)
        if dp is not None:
            privacy["dp"] = dp.accountant.report()
            privacy["dp"]["clipping_bounds"] = dp.bounds
        meta = {
            "dataset": getattr(dataset, "name", "dataset"),
            "method": segmentation.method,
            "n_users": len(uids),
            "k": len(seg_ids),
            "quality": {
                k: v for k, v in segmentation.quality.items() if not isinstance(v, list | dict)
            },
            "privacy": privacy,
            "explanations": {
                "fidelity": self.rules_.fidelity_ if self.rules_ else None,
                "surrogate": "decision tree on interpretable features"
                if dp is None
                else "off under differential privacy",
                "features": list(table.columns),
            },
        }
        if "k_sweep" in segmentation.quality:
            meta["k_sweep"] = segmentation.quality["k_sweep"]
        return SegmentProfiles(profiles, meta)

    def _profiles(
        self,
        ds: Any,
        segmentation: Any,
        features: Any,
        pub: pd.Series,
        seg_ids: list[int],
        sizes: np.ndarray,
        means: dict[str, dict[int, float]],
        pop: dict[str, float],
        price_cut: np.ndarray | None,
        dp: DPRelease | None,
    ) -> list[dict[str, Any]]:
        cfg = self.config
        vocab = product_vocabulary(ds)
        words = wording(ds)
        texts_are = text_noun(ds)
        labels = item_labels(ds)
        pairs = ds.interactions[["user_id", "item_id"]].astype(str).drop_duplicates()
        item_share = pairs["item_id"].value_counts() / pairs["user_id"].nunique()
        profiles = []
        for j, s in enumerate(seg_ids):
            members = pub.index[pub.to_numpy() == s]
            p: dict[str, Any] = {
                "segment_id": s,
                "size": int(sizes[j]),
                "share": float(sizes[j] / max(sizes.sum(), 1)),
            }
            p["rfm"] = {
                c: means[c].get(s) for c in ("recency_days", "frequency", "monetary") if c in means
            }
            p["rating"] = rating_block(
                ds, members, means.get("rating_mean", {}).get(s), dp=dp is not None
            )
            pl = means.get("price_level", {}).get(s)
            p["price_level"] = pl
            p["price_tier"] = (
                None
                if price_cut is None or pl is None or pl != pl
                else ["budget", "mid", "premium"][int(np.searchsorted(price_cut, pl))]
            )
            p["keywords"] = self.keywords_.get(s, [])
            p["representative_kind"] = texts_are  # "reviews", "tags", ...
            if dp is None:
                p["top_categories"] = categories(ds, members, cfg.n_categories)
                p["top_items"] = top_items(ds, members, labels, cfg.n_items, cfg.min_users)
                p["representative_reviews"] = representative_texts(
                    self.texts_,
                    members,
                    segmentation,
                    features,
                    p["keywords"],
                    cfg.n_reviews,
                    cfg.review_chars,
                )
                p["rules"] = self.rules_.rules_.get(s, {}) if self.rules_ else {}
                p["signature_item"] = signature_item(
                    pairs, item_share, members, labels, cfg.min_users
                )
            else:
                p["top_categories"] = dp.categories.get(s, [])
                p["top_items"] = [item_entry(ds, i, labels, c) for i, c in dp.items.get(s, [])]
                p["keyword_counts"] = dict(dp.keywords.get(s, []))
                p["representative_reviews"] = []
                p["rules"] = {}
                p["signature_item"] = None
            top_cat = p["top_categories"][0]["category"] if p["top_categories"] else None
            top_lift = p["top_categories"][0]["lift"] if p["top_categories"] else 0.0
            p["name"] = segmentation.names.get(s) or deterministic_name(
                p["keywords"],
                p["price_tier"],
                p["rfm"],
                pop,
                top_cat,
                vocab,
                top_lift,
                words,
                signature=p["signature_item"],
            )
            p["name_source"] = "previous" if s in segmentation.names else "deterministic"
            profiles.append(p)
        unique_names(profiles)
        for p in profiles:
            p["description"] = sentence(p, words)
        if cfg.llm:
            namer = LLMNamer(cfg.llm_config)
            for p in profiles:
                name, desc, used = namer.describe(p)
                if used:
                    p["name"], p["name_source"] = name, "llm"
                    p["description"] = desc or p["description"]
        return profiles

    def explain_user(self, user_id: str) -> dict[str, Any]:
        """Why this user is in their segment: the surrogate's rule, the features that stand
        out in the segment's direction and the segment keywords in the user's own texts."""
        from segrec.diagnostics import UsageError

        uid = str(user_id)
        if not hasattr(self, "labels_") or uid not in self.labels_.index:
            raise UsageError(f"unknown or unpublished user_id '{uid}'; describe() first")
        s = int(self.labels_[uid])
        out = (
            self.rules_.explain(pd.Series(self.table_.loc[uid]), s)
            if self.rules_
            else {"segment_id": s, "features": []}
        )
        own = " ".join(self.texts_.loc[self.texts_["user_id"] == uid, "text"].astype(str)).lower()
        out["keywords"] = [k for k in self.keywords_.get(s, []) if k in own]
        return out


def _pooled(
    means: dict[str, dict[int, float]], sizes: np.ndarray, seg_ids: list[int]
) -> dict[str, float]:
    """Population figures for names from the noisy segment means (post-processing only)."""
    out = {}
    w = np.maximum(np.asarray(sizes, float), 0.0)
    for c, m in means.items():
        v = np.array([m.get(s, np.nan) for s in seg_ids], float)
        ok = np.isfinite(v) & (w > 0)
        out[c] = float(np.average(v[ok], weights=w[ok])) if ok.any() else float("nan")
    return out


def _catalogue_cuts(ds: Any) -> np.ndarray | None:
    """Price tier cuts from the catalogue's prices (public), not from users' choices."""
    if not len(ds.items) or ds.items["price"].isna().all():
        return None
    return pd.to_numeric(ds.items["price"], errors="coerce").quantile([1 / 3, 2 / 3]).to_numpy()


def _protections(cfg: DescribeConfig, dp: DPRelease | None) -> dict[str, Any]:
    """Which protections were on, in words a reader of ``profiles.json`` can check."""
    out: dict[str, Any] = {
        "min_segment_size": cfg.min_size,
        "small_segments": cfg.small_segments,
        "min_users_to_name": cfg.min_users,
        "thresholded": ["keywords", "top_items", "signature_item"],
        "differential_privacy": dp is not None,
        "epsilon_spent": 0.0 if dp is None else dp.accountant.spent,
        "delta_spent": 0.0 if dp is None else dp.accountant.delta_spent,
    }
    if dp is None:
        out["pii_scrubbed"] = ["representative_reviews"]
        out["not_noised"] = ["sizes", "means", "top_categories", "keywords", "top_items", "rules"]
    else:
        out["noised"] = [
            "sizes",
            "means (rfm, rating, price_level)",
            "keyword counts",
            "top_items",
            "top_categories",
        ]
        out["off"] = ["representative_reviews", "rules", "signature_item", "rating counts"]
        out["thresholded"] = ["keywords", "top_items", "top_categories"]
    return out


def describe_segments(
    dataset: Any, segmentation: Any, features: Any = None, **config: Any
) -> SegmentProfiles:
    """One-call :class:`SegmentDescriber` ``(**config).describe(...)``."""
    return SegmentDescriber(**config).describe(dataset, segmentation, features)
