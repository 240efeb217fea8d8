"""A few users' lists as they would see them: what they had, their segment, what comes next
and why. The report shows them so a reader can judge the reasons, not only the metrics."""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from segrec.data import Dataset, item_labels, wording
from segrec.evaluate._protocol import COLD_MAX

__all__ = ["example_lists", "examples_html"]


def example_lists(
    dataset: Dataset, recs: pd.DataFrame, n_cold: int = 2, n_warm: int = 2, n_items: int = 5
) -> list[dict[str, Any]]:
    """Up to ``n_cold`` users with at most two interactions and ``n_warm`` with more (more warm
    ones where there are fewer cold ones), each from a different segment where the lists
    carry segments (largest segments first), chosen by user id so the same run shows the same
    users. ``recs`` is the long list frame that ``segrec run`` publishes (user_id, rank,
    item_id, reason, and optionally item, segment)."""
    if recs.empty:
        return []
    recs = recs.assign(user_id=recs.user_id.astype(str))
    inter = dataset.interactions.sort_values(["timestamp", "seq"], kind="mergesort")
    inter = inter.drop_duplicates(["user_id", "item_id"])
    history = inter.groupby(inter.user_id.astype(str), sort=False, observed=True).item_id
    labels = item_labels(dataset)
    first = recs.drop_duplicates("user_id").set_index("user_id").sort_index()
    seg = first["segment"] if "segment" in first else pd.Series(None, first.index, "object")
    n_of = history.size().reindex(first.index).fillna(0).astype(int)
    order = [str(s) for s in seg.value_counts().index]  # largest segments first; none: empty
    chosen: list[str] = []
    for cold in (True, False):  # missing cold examples (a 5-core dataset) become warm ones
        want = n_cold if cold else n_cold + n_warm - len(chosen)
        pool = [u for u in first.index if (n_of[u] <= COLD_MAX) == cold]
        shown = {str(seg[u]) for u in chosen if pd.notna(seg[u])}  # warm ones: other segments
        ordered = [s for s in order if s not in shown] + [s for s in order if s in shown]
        chosen += _pick(pool, seg, ordered, want)
    words = wording(dataset)
    out = []
    by_user = recs.groupby("user_id", sort=False)
    for u in chosen:
        had = [str(i) for i in history.get_group(u)] if n_of[u] else []
        rows = by_user.get_group(u).sort_values("rank").head(n_items)
        out.append(
            {
                "user_id": u,
                "segment": None if pd.isna(seg[u]) else str(seg[u]),
                "n_history": len(had),
                "recent": [labels.get(i, i) for i in had[-3:][::-1]],  # latest first
                "verb": words.verb,
                "items": [
                    (
                        str(labels.get(str(r.item_id), r.item_id)),
                        str(getattr(r, "reason", "") or ""),
                    )
                    for r in rows.itertuples()
                ],
            }
        )
    return out


def _pick(pool: list[str], seg: pd.Series, order: list[str], want: int) -> list[str]:
    """``want`` users of ``pool`` (sorted ids), one per segment in ``order`` first."""
    picked: list[str] = []
    for s in order:
        u = next((u for u in pool if pd.notna(seg[u]) and str(seg[u]) == s), None)
        if u is not None and len(picked) < want:
            picked.append(u)
    return picked + [u for u in pool if u not in picked][: want - len(picked)]


def examples_html(examples: list[dict[str, Any]]) -> str:
    """One card per example user: their segment, their latest items, their list with reasons."""
    cards = []
    for e in examples:
        kind = "cold" if e["n_history"] <= COLD_MAX else "warm"
        had = ", ".join(escape(x) for x in e["recent"])
        more = e["n_history"] - len(e["recent"])
        had += f" and {more:,} more" if more > 0 else ""
        items = "".join(
            f"<li>{escape(label)} <span class='muted'>— {escape(reason)}</span></li>"
            for label, reason in e["items"]
        )
        seg = f" · {escape(e['segment'])}" if e.get("segment") else ""
        if e.get("served_segment"):
            seg += f" (served model: {escape(e['served_segment'])})"
        cards.append(
            f'<div class="card"><h3>user {escape(e["user_id"])}</h3>'
            f'<p class="muted">{kind} user{seg} · {e["verb"]} {e["n_history"]:,} '
            f"item{'s' if e['n_history'] != 1 else ''}, latest: {had or 'none'}</p>"
            f"<ol>{items}</ol></div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>' if cards else ""
