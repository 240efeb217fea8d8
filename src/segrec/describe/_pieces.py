"""The parts of one segment's profile computed without differential privacy: categories, top
items and the signature item (both only with enough distinct members), representative texts
(PII-scrubbed), the rating block, and the sentence that sums a profile up."""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np
import pandas as pd

from segrec.data import SHOP, Wording
from segrec.describe._behavior import item_categories

__all__ = [
    "categories",
    "product_vocabulary",
    "rating_block",
    "representative_texts",
    "sentence",
    "signature_item",
    "top_items",
]


def scrub(texts: list[str]) -> list[str]:
    """``texts`` with emails, phone numbers, URLs and card numbers replaced by placeholders."""
    from segrec.data._pii import scrub_pii

    return list(scrub_pii(texts)[0])


def product_vocabulary(ds: Any) -> set[str]:
    """Lower-case words of item titles and categories: what counts as a product word."""
    items = ds.items
    if not len(items):
        return set()
    text = " ".join(
        items["title"].dropna().astype(str).tolist()
        + items["categories"].dropna().astype(str).str.replace("|", " ").tolist()
    )
    return set(re.findall(r"[a-z][a-z\-]{2,}", text.lower()))


def rating_block(ds: Any, members: pd.Index, mean: Any, dp: bool) -> dict[str, Any]:
    """The segment's mean rating; without DP also how many ratings and the share of 4+."""
    r = ds.interactions
    r = r[r["user_id"].astype(str).isin(members) & r["rating"].notna()]["rating"]
    out: dict[str, Any] = {"mean": mean, "n": None if dp else len(r)}
    if len(r) and not dp:
        out["positive_share"] = float((r >= 4).mean())
    return out


def categories(ds: Any, members: pd.Index, n: int) -> list[dict[str, Any]]:
    """The ``n`` categories the segment chooses most, weighted by their lift over everyone."""
    cats = item_categories(ds, "leaf")
    if not len(cats) or not n:
        return []
    c_all = ds.interactions["item_id"].astype(str).map(cats)
    mine = ds.interactions["user_id"].astype(str).isin(members)
    glob = c_all.value_counts(normalize=True)
    seg = c_all[mine].value_counts(normalize=True)
    lift = (seg / glob.reindex(seg.index)).fillna(0.0)
    top = (seg * np.sqrt(lift)).sort_values(ascending=False).index[:n]
    return [{"category": str(c), "share": float(seg[c]), "lift": float(lift[c])} for c in top]


def item_entry(ds: Any, item_id: str, labels: pd.Series, users: int) -> dict[str, Any]:
    """One published item: id, title (or None), a readable label, how many members chose it."""
    titles = ds.items.set_index(ds.items["item_id"].astype(str))["title"]
    title = titles.get(item_id)
    return {
        "item_id": item_id,
        "title": None if title is None or pd.isna(title) else str(title),
        "label": str(labels.get(item_id, item_id)),
        "users": int(users),
    }


def top_items(
    ds: Any, members: pd.Index, labels: pd.Series, n: int, min_users: int
) -> list[dict[str, Any]]:
    """The segment's most chosen items that at least ``min_users`` distinct members chose."""
    if not n:
        return []
    inter = ds.interactions
    mine = inter[inter["user_id"].astype(str).isin(members)]
    ids = mine["item_id"].astype(str)
    counts = ids.value_counts()
    users = mine.assign(_i=ids).groupby("_i")["user_id"].nunique()
    counts = counts[users.reindex(counts.index).fillna(0) >= min_users].head(n)
    return [item_entry(ds, i, labels, int(users[i])) for i in counts.index]


def signature_item(
    pairs: pd.DataFrame,
    item_share: pd.Series,
    members: pd.Index,
    labels: pd.Series,
    min_users: int = 3,
) -> str | None:
    """The label of the item that sets the segment apart most: the highest lift (share of
    members who chose it over share of all users who did) among items at least 10% of the
    members (and ``min_users`` of them, at least 3) chose; None when no item has that much
    support. ``pairs``: distinct (user_id, item_id) strings of the whole dataset;
    ``item_share``: the share of all users who chose each item."""
    mine = pairs["user_id"].isin(members)
    n_mine = int(pairs.loc[mine, "user_id"].nunique())
    if not n_mine:
        return None
    here = pairs.loc[mine, "item_id"].value_counts()
    here = here[here >= max(3, min_users, 0.1 * n_mine)]
    if not len(here):
        return None
    lift = (here / n_mine) / item_share.reindex(here.index)
    order = pd.DataFrame({"lift": lift, "n": here, "id": here.index}).sort_values(
        ["lift", "n", "id"], ascending=[False, False, True]
    )
    label = str(labels.get(order.index[0], order.index[0]))
    return label if len(label) <= 40 else label[:39].rstrip() + "…"


def representative_texts(
    texts: pd.DataFrame,
    members: pd.Index,
    seg: Any,
    features: Any,
    keywords: list[str],
    n: int,
    max_chars: int,
) -> list[str]:
    """Up to ``n`` texts of the members closest to the segment's centre (one per author, each
    shown once, the one using most keywords), cut at ``max_chars`` and PII-scrubbed."""
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
            best if len(best) <= max_chars else best[:max_chars].rsplit(" ", 1)[0] + " ..."
        )
        if len(picked) == n:
            break
    return scrub(picked)


def sentence(p: dict[str, Any], words: Wording = SHOP) -> str:
    """One sentence: size, what the segment mostly chooses, writes about, how active it is."""
    bits = [f"{p['size']:,} users ({p['share']:.0%} of the published total)"]
    if p["top_categories"]:
        bits.append(
            f"{words.gerund} mostly " + ", ".join(c["category"] for c in p["top_categories"])
        )
    if p["keywords"]:
        bits.append("writing about " + ", ".join(p["keywords"][:4]))
    rfm = p["rfm"]
    freq, rec = rfm.get("frequency"), rfm.get("recency_days")
    if freq is not None and rec is not None and freq == freq and rec == rec:  # NaN != NaN
        bits.append(
            f"{freq:.1f} interactions on average, last one {rec:.0f} days before the data ends"
        )
    return "; ".join(bits) + "."
