"""One source of truth for "best": the ranking every chart, table and sentence of the report
uses, the winner sentence, and the number formats they share."""

from __future__ import annotations

from html import escape
from typing import Any

from segrec.evaluate import EvalResult

__all__ = ["fmt", "fmt_ci", "fmt_p", "ranking", "variants", "winner"]


def fmt(v: Any, nd: int = 4) -> str:
    """A figure for a table cell: floats to ``nd`` places, counts with thousands separators."""
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return "n/a" if v != v else f"{v:.{nd}f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"  # counts: 1,322 test users
    return escape(str(v))


def fmt_ci(ci: Any, nd: int = 4) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "n/a"
    return f"[{ci[0]:.{nd}f}, {ci[1]:.{nd}f}]"


def fmt_p(p: Any) -> str:
    """A p-value: three places, and "< 0.001" below that (never "0.000")."""
    if p is None or p != p:
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def ranking(res: EvalResult) -> list[str]:
    """The methods as tuned (segment methods on the segmentation chosen on validation), best
    test NDCG@k first, ties by name. The chart, the table, the winner sentence and the
    Markdown summary all rank these rows in this order."""
    m = f"ndcg@{int(res.protocol['k'])}"
    rows = [n for n in res.methods if ":" not in n]
    return sorted(rows, key=lambda n: (-(res.methods[n].get(m) or 0.0), n))


def variants(res: EvalResult) -> list[str]:
    """The segment methods on every other segmentation ("hybrid:random"): ablations for the
    segmentation section, ranked the same way."""
    m = f"ndcg@{int(res.protocol['k'])}"
    rows = [n for n in res.methods if ":" in n]
    return sorted(rows, key=lambda n: (-(res.methods[n].get(m) or 0.0), n))


def _paired(res: EvalResult, a: str, b: str) -> dict[str, Any] | None:
    """The paired test of ``a`` vs ``b`` on per-user NDCG: one the evaluation made, else one
    made here from the per-user scores it kept (same bootstrap settings)."""
    for t in res.significance.values():
        if isinstance(t, dict) and (t.get("a"), t.get("b")) == (a, b) and "diff_ci" in t:
            return t
    ra, rb = res.runs.get(a), res.runs.get(b)
    col = f"ndcg@{int(res.protocol['k'])}"
    if ra is None or rb is None or col not in ra.per_user or col not in rb.per_user:
        return None
    from segrec.evaluate._stats import paired_test

    y = rb.per_user[col].reindex(ra.per_user.index)
    ok = y.notna().to_numpy()
    cfg = res.config
    return paired_test(
        ra.per_user[col].to_numpy()[ok],
        y.to_numpy()[ok],
        cfg.n_bootstrap if cfg else 1000,
        random_state=cfg.random_state if cfg else 0,
    )


def winner(res: EvalResult) -> dict[str, Any] | None:
    """Who ranks first, by how much over the runner-up, and how sure: ``{"best", "runner_up",
    "value", "ci", "diff", "diff_ci", "p", "sentence"}`` (None without two ranked methods)."""
    order = ranking(res)
    if not order:
        return None
    k = int(res.protocol["k"])
    m = f"ndcg@{k}"
    best = order[0]
    v = res.methods[best]
    out: dict[str, Any] = {"best": best, "value": v.get(m), "ci": v.get(m + "_ci")}
    head = f"{best} ranks first on test NDCG@{k}: {fmt(v.get(m))} (95% CI {fmt_ci(out['ci'])})"
    if len(order) < 2:
        out["sentence"] = head + "."
        return out
    second = order[1]
    diff = (v.get(m) or 0.0) - (res.methods[second].get(m) or 0.0)
    t = _paired(res, best, second)
    out.update(runner_up=second, diff=diff, diff_ci=None, p=None)
    if t is not None and (t.get("diff_ci") or [None])[0] is not None:
        out.update(diff_ci=t["diff_ci"], p=t.get("p_bootstrap"))
        lo = t["diff_ci"][0]
        verdict = (
            "a real lead (the interval excludes zero)"
            if lo > 0
            else "within noise (the interval includes zero)"
        )
        how = (
            f"{fmt(diff)} above the runner-up {second} (paired difference 95% CI "
            f"{fmt_ci(t['diff_ci'])}, p {_p_words(t.get('p_bootstrap'))}): {verdict}"
        )
    else:
        ci2 = res.methods[second].get(m + "_ci")
        how = (
            f"{fmt(diff)} above the runner-up {second} ({fmt(res.methods[second].get(m))}, "
            f"95% CI {fmt_ci(ci2)}); no paired test of the two was kept"
        )
    out["sentence"] = f"{head}, {how}."
    return out


def _p_words(p: Any) -> str:
    s = fmt_p(p)
    return s if s.startswith("<") or s == "n/a" else f"= {s}"
