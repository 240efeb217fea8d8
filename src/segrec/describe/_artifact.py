"""The :class:`SegmentProfiles` artifact: what a person reads about each segment."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segrec._json import json_safe
from segrec.describe._rule_words import rule_in_words

__all__ = ["SegmentProfiles", "privacy_statement"]


def _num(v: Any, fmt: str = "{:.1f}") -> str:
    try:
        return fmt.format(float(v)) if v is not None and v == v else "n/a"
    except (TypeError, ValueError):
        return str(v)


@dataclass(frozen=True)
class SegmentProfiles:
    """One readable profile per published segment, plus run-level quality and privacy.

    ``profiles`` is a list of dicts (``segment_id``, ``name``, ``size``, ``share``, ``rfm``,
    ``top_categories``, ``top_items``, ``rating``, ``price_tier``, ``keywords``,
    ``representative_reviews``, ``rules``, ``description``); ``meta`` holds ``method``,
    ``quality``, ``privacy`` and ``explanations`` (surrogate fidelity).
    """

    profiles: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.profiles)

    def __getitem__(self, segment_id: int) -> dict[str, Any]:
        for p in self.profiles:
            if p["segment_id"] == segment_id:
                return p
        raise KeyError(f"no published profile for segment {segment_id}")

    def rules_note(self, profile: dict[str, Any]) -> str | None:
        """What ``profile`` says instead of rules when the rule tree was fitted but no branch of
        it ends in the segment (the interpretable features do not single out its members);
        ``None`` when it has rules or no tree was fitted."""
        block = profile.get("rules") or {}
        if not block or block.get("rules"):
            return None
        fid = self.meta.get("explanations", {}).get("fidelity")
        known = fid is not None and fid == fid  # not NaN
        return (
            "none: no branch of the rule tree on interpretable features ends in this segment"
            + (
                f"; the tree agrees with the segments on {fid:.0%} of held-out users"
                if known
                else ""
            )
            + f". {_better(profile)} describe it better"
        )

    @property
    def names(self) -> dict[int, str]:
        return {int(p["segment_id"]): str(p["name"]) for p in self.profiles}

    def published_id(self, segment_id: int) -> int:
        """The id ``segment_id`` of the described segmentation is published under: itself, the
        segment a small one was merged into, or -1 where a small one was suppressed."""
        privacy = self.meta.get("privacy", {})
        if int(segment_id) in {int(s) for s in privacy.get("suppressed", [])}:
            return -1
        return int(privacy.get("merged", {}).get(str(int(segment_id)), segment_id))

    def names_by_source_id(self, segment_ids: Any) -> dict[int, str]:
        """Each of ``segment_ids`` (of the described segmentation) -> the name of the segment
        it is published under (a merged small segment takes its host's name; suppressed ones
        are left out)."""
        names = self.names
        out = {}
        for s in segment_ids:
            pub = self.published_id(int(s))
            if pub in names:
                out[int(s)] = names[pub]
        return out

    def frame(self, segmentation: Any) -> pd.DataFrame:
        """What ``segments.parquet`` holds for ``segmentation`` (the one described): user_id,
        segment_id as published (small segments merged or suppressed, -1), strength, and the
        segment's name (``segment``; empty for suppressed users)."""
        df = segmentation.frame()[["user_id", "segment_id", "strength"]]
        ids = {int(s): self.published_id(int(s)) for s in df.segment_id.unique()}
        df["segment_id"] = df.segment_id.map(ids).astype("int64")
        df["segment"] = df.segment_id.map(self.names).astype("string")
        return df

    def to_dict(self) -> dict[str, Any]:
        return {"meta": self.meta, "segments": self.profiles}

    def to_json(self, indent: int = 2) -> str:
        """The content of ``profiles.json``."""
        return json.dumps(json_safe(self.to_dict()), indent=indent, allow_nan=False)

    def to_markdown(self) -> str:
        """The content of ``segments.md``."""
        m = self.meta
        q = m.get("quality", {})
        lines = [
            f"# Segments of {m.get('dataset', 'the dataset')}",
            "",
            f"Method **{m.get('method', '?')}**, {len(self.profiles)} published segments, "
            f"{m.get('n_users', '?')} users.",
            "",
            "| quality | value |",
            "|---|---|",
        ]
        for key in ("silhouette", "davies_bouldin", "calinski_harabasz", "stability", "ari", "nmi"):
            if key in q and q[key] is not None:
                lines.append(f"| {key} | {_num(q[key], '{:.3f}')} |")
        fid = m.get("explanations", {}).get("fidelity")
        if fid is not None:
            lines.append(f"| rule fidelity (held-out) | {_num(fid, '{:.3f}')} |")
        lines += ["", privacy_statement(m.get("privacy", {}))]
        for p in self.profiles:
            lines += ["", *self._segment_md(p, self.rules_note(p))]
        return "\n".join(lines) + "\n"

    @staticmethod
    def _segment_md(p: dict[str, Any], rules_note: str | None = None) -> list[str]:
        rfm = p.get("rfm", {})
        out = [
            f"## {p['segment_id']}. {p['name']}",
            "",
            f"{p.get('description') or ''}".strip(),
            "",
            f"- size: {p['size']:,} users ({p['share']:.1%})",
        ]
        # what the data has: no "monetary n/a" for a log without amounts or prices
        activity = [
            f"recency {_num(rfm.get('recency_days'))} days",
            f"frequency {_num(rfm.get('frequency'))}",
        ]
        if _known(rfm.get("monetary")):
            activity.append(f"monetary {_num(rfm['monetary'], '{:.2f}')}")
        out.append(f"- {', '.join(activity)}")
        level = []
        if p.get("price_tier"):
            level.append(f"price tier: {p['price_tier']}")
        rating = (p.get("rating") or {}).get("mean")
        if _known(rating):
            level.append(f"rating {_num(rating, '{:.2f}')}")
        if level:
            out.append(f"- {'; '.join(level)}")
        if p.get("keywords"):
            out.append(f"- keywords: {', '.join(p['keywords'])}")
        if p.get("top_categories"):
            cats = ", ".join(
                f"{c['category']} ({c['share']:.0%}, x{c['lift']:.1f})" for c in p["top_categories"]
            )
            out.append(f"- top categories: {cats}")
        if p.get("top_items"):
            out.append(
                "- top items: "
                + "; ".join(
                    str(i.get("label") or i.get("title") or i["item_id"]) for i in p["top_items"]
                )
            )
        rules = p.get("rules", {}).get("rules", [])
        if rules:
            out.append("- rules:")
            out += [
                f"  - if {r['if']} (precision {r['precision']:.0%}, coverage {r['coverage']:.0%}):"
                f" {rule_in_words(r['if'])}"
                for r in rules
            ]
        elif rules_note:
            out.append(f"- rules: {rules_note}")
        if p.get("representative_reviews"):
            out.append(f"- representative {p.get('representative_kind') or 'reviews'}:")
            out += [f"  > {t}" for t in p["representative_reviews"]]
        return out

    def save(self, out_dir: str | Path) -> tuple[Path, Path]:
        """Write ``profiles.json`` and ``segments.md`` into ``out_dir``."""
        d = Path(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        (d / "profiles.json").write_text(self.to_json())
        (d / "segments.md").write_text(self.to_markdown())
        return d / "profiles.json", d / "segments.md"


def privacy_statement(priv: dict[str, Any]) -> str:
    """One paragraph saying which protections were on for these profiles and the epsilon
    spent (what ``segments.md`` and the report print)."""
    out = [
        f"Privacy: segments under {priv.get('min_size', '?')} users are "
        f"{priv.get('mode', 'merge')}d"
        + (
            " (" + ", ".join(f"{a} into {b}" for a, b in priv["merged"].items()) + ")"
            if priv.get("merged")
            else ""
        )
        + (
            " (" + ", ".join(str(s) for s in priv["suppressed"]) + ")"
            if priv.get("suppressed")
            else ""
        )
        + "."
    ]
    prot = priv.get("protections") or {}
    if prot.get("min_users_to_name"):
        out.append(
            f"A keyword or item is named only when at least {prot['min_users_to_name']} "
            "distinct members used it."
        )
    dp = priv.get("dp")
    if dp:
        out.append(
            f"Differential privacy ({dp.get('library', 'OpenDP')}, {dp['mechanism']} noise, "
            "bounds declared, not read from the data): sizes, means and keyword, item and "
            f"category counts are noised; epsilon spent {dp['epsilon_spent']:.3g} of "
            f"{dp['epsilon_budget']:.3g}, delta {dp.get('delta', 0.0):.2g}; representative "
            "texts and rules are not published."
        )
    else:
        out.append(
            "No differential privacy (epsilon not bounded): sizes and means are exact; "
            "representative texts are PII-scrubbed."
        )
    return " ".join(out)


def _better(profile: dict[str, Any]) -> str:
    """What else in ``profile`` says who is in the segment ("Its keywords and reviews")."""
    have = [
        name
        for name, key in (
            ("keywords", "keywords"),
            (profile.get("representative_kind") or "reviews", "representative_reviews"),
        )
        if profile.get(key)
    ]
    return "Its " + (" and ".join(have) if have else "top items")


def _known(v: Any) -> bool:
    """A figure the data has: not None, not NaN."""
    return v is not None and v == v
