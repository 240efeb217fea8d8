"""Segmentation + Dataset -> :class:`SegmentProfiles` (stats, keywords, names, rules, privacy)."""

from __future__ import annotations

import html
import logging
import re
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from segrec.data import SHOP, Wording, item_labels, text_noun, wording
from segrec.describe._artifact import SegmentProfiles
from segrec.describe._behavior import interpretable_table, item_categories
from segrec.describe._keywords import top_keywords
from segrec.describe._llm import LLMConfig, LLMNamer
from segrec.describe._names import deterministic_name, unique_names
from segrec.describe._privacy import PrivacyAccountant, enforce_min_size
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
    dp_epsilon: float | None = Field(None, gt=0)
    dp_mechanism: Literal["laplace", "gaussian"] = "laplace"
    dp_delta: float = Field(1e-5, gt=0, lt=1)
    llm: bool = False
    llm_config: LLMConfig | None = None
    rules: RulesConfig = Field(default_factory=lambda: RulesConfig())
    random_state: int = 0


def _scrub(texts: list[str]) -> list[str]:
    try:
        from segrec.data._pii import scrub_pii
    except ImportError:  # pragma: no cover - the data package ships it
        pat = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\+?\d[\d\s().-]{8,}\d")
        return [pat.sub("[PII]", t) for t in texts]
    return list(scrub_pii(texts)[0])


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
        sizes = pub.value_counts().reindex(seg_ids).to_numpy().astype(float)
        means = {
            c: table.loc[pub.index, c].groupby(pub).mean().to_dict() for c in _MEANS if c in table
        }
        acct = None
        if cfg.dp_epsilon:
            acct = PrivacyAccountant(
                cfg.dp_epsilon, cfg.dp_mechanism, cfg.dp_delta, cfg.random_state
            )
            eps = cfg.dp_epsilon / (1 + len(means))
            sizes = acct.noisy_counts(sizes, eps, "segment sizes")
            vals = table.loc[pub.index]
            means = {
                c: acct.noisy_means(vals[c].to_numpy(), pub.to_numpy(), seg_ids, eps, f"mean {c}")
                for c in means
            }
        pop = {c: float(table[c].median()) for c in _MEANS if c in table}
        texts = dataset.texts.assign(user_id=dataset.texts["user_id"].astype(str))
        texts = texts[texts["user_id"].isin(pub.index) & texts["text"].notna()]
        text_seg = texts["user_id"].map(pub)
        self.texts_ = texts
        self.keywords_ = top_keywords(texts["text"], text_seg, cfg.n_keywords) if len(texts) else {}
        self.rules_ = (
            SegmentRules(cfg.rules).fit(table.loc[pub.index], pub) if len(seg_ids) > 1 else None
        )
        price_cut = (
            table["price_level"].quantile([1 / 3, 2 / 3]).to_numpy()
            if "price_level" in table and table["price_level"].notna().any()
            else None
        )
        vocab = self._product_vocabulary(dataset)
        words = wording(dataset)
        texts_are = text_noun(dataset)
        labels = item_labels(dataset)
        pairs = dataset.interactions[["user_id", "item_id"]].astype(str).drop_duplicates()
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
            p["rating"] = self._rating(
                dataset, members, means.get("rating_mean", {}).get(s), dp=acct is not None
            )
            pl = means.get("price_level", {}).get(s)
            p["price_level"] = pl
            p["price_tier"] = (
                None
                if price_cut is None or pl is None or pl != pl
                else ["budget", "mid", "premium"][int(np.searchsorted(price_cut, pl))]
            )
            p["top_categories"] = self._categories(dataset, members)
            p["top_items"] = self._items(dataset, members, labels)
            p["keywords"] = self.keywords_.get(s, [])
            p["representative_kind"] = texts_are  # "reviews", "tags", ...
            p["representative_reviews"] = self._reviews(
                texts, members, segmentation, features, p["keywords"]
            )
            p["rules"] = self.rules_.rules_.get(s, {}) if self.rules_ else {}
            top_cat = p["top_categories"][0]["category"] if p["top_categories"] else None
            top_lift = p["top_categories"][0]["lift"] if p["top_categories"] else 0.0
            p["signature_item"] = self._signature(pairs, item_share, members, labels)
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
            p["description"] = self._sentence(p, words)
        if cfg.llm:
            namer = LLMNamer(cfg.llm_config)
            for p in profiles:
                name, desc, used = namer.describe(p)
                if used:
                    p["name"], p["name_source"] = name, "llm"
                    p["description"] = desc or p["description"]
        if acct is not None:
            privacy["dp"] = acct.report()
            privacy["dp"]["not_noised"] = [
                "top_categories",
                "top_items",
                "keywords",
                "representative_reviews",
                "rules",
            ]
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
                "surrogate": "decision tree on interpretable features",
                "features": list(table.columns),
            },
        }
        if "k_sweep" in segmentation.quality:
            meta["k_sweep"] = segmentation.quality["k_sweep"]
        return SegmentProfiles(profiles, meta)

    # -- pieces ---------------------------------------------------------------------------
    @staticmethod
    def _product_vocabulary(ds: Any) -> set[str]:
        """Lower-case words of item titles and categories: what counts as a product word."""
        items = ds.items
        if not len(items):
            return set()
        text = " ".join(
            items["title"].dropna().astype(str).tolist()
            + items["categories"].dropna().astype(str).str.replace("|", " ").tolist()
        )
        return set(re.findall(r"[a-z][a-z\-]{2,}", text.lower()))

    def _rating(self, ds: Any, members: pd.Index, mean: Any, dp: bool) -> dict[str, Any]:
        r = ds.interactions
        r = r[r["user_id"].astype(str).isin(members) & r["rating"].notna()]["rating"]
        out: dict[str, Any] = {"mean": mean, "n": None if dp else len(r)}
        if len(r) and not dp:
            out["positive_share"] = float((r >= 4).mean())
        return out

    def _categories(self, ds: Any, members: pd.Index) -> list[dict[str, Any]]:
        cats = item_categories(ds, "leaf")
        if not len(cats) or not self.config.n_categories:
            return []
        c_all = ds.interactions["item_id"].astype(str).map(cats)
        mine = ds.interactions["user_id"].astype(str).isin(members)
        glob = c_all.value_counts(normalize=True)
        seg = c_all[mine].value_counts(normalize=True)
        lift = (seg / glob.reindex(seg.index)).fillna(0.0)
        top = (seg * np.sqrt(lift)).sort_values(ascending=False).index[: self.config.n_categories]
        return [{"category": str(c), "share": float(seg[c]), "lift": float(lift[c])} for c in top]

    def _items(self, ds: Any, members: pd.Index, labels: pd.Series) -> list[dict[str, Any]]:
        """The segment's most chosen items: id, title (or None), a readable ``label`` (the
        title, else the id with words from its reviews) and how many members chose it."""
        inter = ds.interactions
        mine = inter[inter["user_id"].astype(str).isin(members)]
        counts = mine["item_id"].astype(str).value_counts().head(self.config.n_items)
        titles = pd.Series(ds.items["title"].to_numpy(), index=ds.items["item_id"].astype(str))
        return [
            {
                "item_id": i,
                "title": None if pd.isna(titles.get(i)) else str(titles.get(i)),
                "label": str(labels.get(i, i)),
                "users": int(mine.loc[mine["item_id"].astype(str) == i, "user_id"].nunique()),
            }
            for i in counts.index
        ]

    @staticmethod
    def _signature(
        pairs: pd.DataFrame, item_share: pd.Series, members: pd.Index, labels: pd.Series
    ) -> str | None:
        """The label of the item that sets the segment apart most: the highest lift (share of
        members who chose it over share of all users who did) among items at least 10% of
        the members (and 3 of them) chose; None when no item has that much support. ``pairs``:
        distinct (user_id, item_id) strings of the whole dataset; ``item_share``: the share of
        all users who chose each item."""
        mine = pairs["user_id"].isin(members)
        n_mine = int(pairs.loc[mine, "user_id"].nunique())
        if not n_mine:
            return None
        here = pairs.loc[mine, "item_id"].value_counts()
        here = here[here >= max(3, 0.1 * n_mine)]
        if not len(here):
            return None
        lift = (here / n_mine) / item_share.reindex(here.index)
        order = pd.DataFrame({"lift": lift, "n": here, "id": here.index}).sort_values(
            ["lift", "n", "id"], ascending=[False, False, True]
        )
        label = str(labels.get(order.index[0], order.index[0]))
        return label if len(label) <= 40 else label[:39].rstrip() + "…"

    def _reviews(
        self, texts: pd.DataFrame, members: pd.Index, seg: Any, features: Any, keywords: list[str]
    ) -> list[str]:
        n = self.config.n_reviews
        mine = texts[texts["user_id"].isin(members)]
        if not n or not len(mine):
            return []
        authors = pd.Index(mine["user_id"].unique())
        if features is not None and "text" in getattr(features, "blocks", {}):
            fid = pd.Index(features.user_ids.astype(str))
            idx = fid.get_indexer(authors)
            ok = idx >= 0
            miss = features.missing.get("text", np.zeros(len(fid), bool))
            ok[ok] &= ~miss[idx[ok]]
            authors, idx = authors[ok], idx[ok]
            vec = features.block("text")[idx].astype(float)
            centre = vec.mean(0)
            order = np.argsort(np.linalg.norm(vec - centre, axis=1), kind="stable")
        else:  # closest to the centre in the segmentation's own space = strongest members
            strength = pd.Series(seg.strength, index=seg.user_ids.astype(str)).reindex(authors)
            order = np.argsort(-strength.fillna(0).to_numpy(), kind="stable")
        picked: list[str] = []
        seen: set[str] = set()
        kw = [k.lower() for k in keywords]
        for a in authors[order]:
            cand = mine.loc[mine["user_id"] == a, "text"].astype(str)
            score = cand.str.lower().apply(lambda t: sum(k in t for k in kw))
            # sources such as Amazon's keep HTML entities (&#34;) in the text: show characters
            best = html.unescape(cand.iloc[int(np.argmax(score.to_numpy()))])
            if best.strip().lower() in seen:  # short texts (tags) repeat: show each once
                continue
            seen.add(best.strip().lower())
            picked.append(
                best
                if len(best) <= self.config.review_chars
                else best[: self.config.review_chars].rsplit(" ", 1)[0] + " ..."
            )
            if len(picked) == n:
                break
        return _scrub(picked)

    @staticmethod
    def _sentence(p: dict[str, Any], words: Wording = SHOP) -> str:
        bits = [f"{p['size']:,} users ({p['share']:.0%} of the published total)"]
        if p["top_categories"]:
            bits.append(
                f"{words.gerund} mostly " + ", ".join(c["category"] for c in p["top_categories"])
            )
        if p["keywords"]:
            bits.append("writing about " + ", ".join(p["keywords"][:4]))
        rfm = p["rfm"]
        if rfm.get("frequency") is not None and rfm.get("recency_days") is not None:
            bits.append(
                f"{rfm['frequency']:.1f} interactions on average, last one "
                f"{rfm['recency_days']:.0f} days before the data ends"
            )
        return "; ".join(bits) + "."

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


def describe_segments(
    dataset: Any, segmentation: Any, features: Any = None, **config: Any
) -> SegmentProfiles:
    """One-call :class:`SegmentDescriber` ``(**config).describe(...)``."""
    return SegmentDescriber(**config).describe(dataset, segmentation, features)
