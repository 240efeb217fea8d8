"""The report's tables: methods (in the ranking's order), their settings in words, the paired
comparisons, and the data and run counts in words."""

from __future__ import annotations

from html import escape
from typing import Any

from segrec.evaluate import EvalResult
from segrec.report._rank import fmt, fmt_ci, fmt_p

__all__ = [
    "COMPARISON_HEADS",
    "comparison_cells",
    "cost_text",
    "data_table",
    "methods_table",
    "settings_table",
    "significance_table",
]

# words for the settings methods record (keys not listed read with spaces for underscores)
_WORDS = {
    "half_life": "popularity half-life",
    "neighbours": "neighbours per item",
    "shrink": "similarity shrinkage",
    "l2": "L2 regularisation",
    "max_items": "most items modelled",
    "dtype": "number type",
    "n_modelled_items": "items modelled",
    "shrinkage": "shrinkage toward overall popularity",
    "soft": "soft segment membership",
    "base": "personal model",
    "base_params": "personal model's settings",
    "base_model": "personal model as fitted",
    "w_segment": "weight of segment popularity",
    "w_text": "weight of text similarity",
    "w_pop": "weight of overall popularity",
    "w_recent": "weight of recent popularity",
    "w_social": "weight of friends' choices",
    "cold_shift": "cold-user shift",
    "cold_mix": "cold-user mix",
    "history_weight": "weight of the user's history",
    "cold_base": "model for cold users",
    "cold_base_params": "cold-user model's settings",
    "cold_weights": "cold-user blend",
    "cold_max": "most interactions of a cold user",
    "recent_half_life": "recent popularity half-life (share of the training period)",
    "tune_objective": "tuning objective",
    "min_cold_val": "fewest cold validation users to tune them apart",
    "tune_shortlist": "tuning shortlist per user",
    "factors": "latent factors",
    "iterations": "iterations",
    "regularization": "regularisation",
    "alpha": "confidence scale",
    "learning_rate": "learning rate",
    "epochs": "epochs",
    "dim": "dimensions",
    "k": "neighbours",
    "price_tier": "by price tier",
    "candidates": "candidate methods per segment",
    "chosen": "chosen per segment (-1: every segment without its own choice)",
    "default": "default method",
    "min_val_users": "fewest validation users for a segment's own choice",
    "min_gain": "smallest gain to pick another method",
    "segments": "segments with their own method",
    "num_threads": "threads",
    "random_state": "random seed",
    "reg": "regularisation",
    "layers": "graph layers",
}


def _value(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, dict) and "model" in v:  # a component: "ease (L2 regularisation 200)"
        rest = {**(v.get("params") or {}), **{a: b for a, b in v.items() if a not in _NESTED}}
        return f"{v['model']} {_value(rest)}" if rest else str(v["model"])
    if isinstance(v, dict):  # nested settings: "(L2 regularisation 200; ...)", no braces
        inner = "; ".join(f"{_word(a)} {_value(b)}" for a, b in v.items())
        return f"({inner})" if inner else "none"
    if isinstance(v, list | tuple):
        return "; ".join(_value(x) for x in v) or "none"
    return str(v)


_NESTED = ("model", "params")
# outcomes the methods record beside their settings: pointed to, not spelled out
_OUTCOMES = {"validation": "validation scores of each candidate: in results.json"}


def _word(key: str) -> str:
    return _WORDS.get(key, key.replace("_", " "))


def _settings(params: dict[str, Any], keys: Any) -> str:
    items = [
        f"<li>{escape(_word(a))}: <b>{escape(_value(b))}</b></li>"
        if a not in _OUTCOMES
        else f"<li>{escape(_OUTCOMES[a])}</li>"
        for a, b in params.items()
        if a in keys and a != "model"
    ]
    return f"<ul>{''.join(items)}</ul>" if items else '<span class="muted">none</span>'


def settings_table(res: EvalResult, order: list[str]) -> str:
    """Each ranked method's settings in words: those tuned on validation, then the rest."""
    rows = []
    for name in order:
        v = res.methods[name]
        params = dict(v.get("params") or {})
        if not params:
            continue
        tuned = set(v.get("tuned_params") or {})
        rows.append(
            f'<tr><td>{escape(name)}</td><td class="params">{_settings(params, tuned)}</td>'
            f'<td class="params muted">{_settings(params, set(params) - tuned)}</td></tr>'
        )
    if not rows:
        return ""
    return (
        "<details><summary>Settings of each method</summary>"
        '<div class="wide"><table class="settings"><tr><th>method</th>'
        "<th>chosen on validation</th><th>fixed</th></tr>"
        f"{''.join(rows)}</table></div></details>"
    )


def cost_text(v: dict[str, Any]) -> str:
    """What a method cost: its seconds (all phases) and the process's peak memory."""
    from segrec._progress import format_seconds

    c = v.get("cost") or {}
    if c.get("seconds") is None:
        return "n/a"
    peak = c.get("peak_mb")
    mem = (
        ""
        if peak is None
        else (f" · {peak / 1000:.1f} GB" if peak >= 1000 else f" · {peak:.0f} MB")
    )
    took = "<1s" if c["seconds"] < 1 else format_seconds(c["seconds"])
    return f"{took}{mem}"


def methods_table(res: EvalResult, order: list[str], best: str | None) -> str:
    """One row per method of ``order`` (the ranking), ``best`` marked."""
    k = int(res.protocol["k"])
    m = f"ndcg@{k}"
    head = (
        f"<tr><th>#</th><th>method</th><th>NDCG@{k}</th><th>95% CI</th><th>cold</th>"
        f"<th>warm</th><th>Recall@{k}</th><th>Prec@{k}</th><th>HR@{k}</th><th>MAP@{k}</th>"
        f"<th>Cov@{k}</th><th>Novelty</th><th>Diversity</th><th>users (cold)</th>"
        '<th title="seconds of tuning, refit, scoring and metrics; peak memory of the process">'
        "cost</th></tr>"
    )
    body = []
    for i, name in enumerate(order, 1):
        v = res.methods[name]
        cls = ' class="best"' if name == best else ""
        body.append(
            f'<tr><td class="muted">{i}</td><td{cls}>{escape(name)}</td><td>{fmt(v.get(m))}</td>'
            f"<td>{fmt_ci(v.get(m + '_ci'))}</td><td>{fmt(v.get(m + '_cold'))}</td>"
            f"<td>{fmt(v.get(m + '_warm'))}</td>"
            f"<td>{fmt(v.get(f'recall@{k}'))}</td><td>{fmt(v.get(f'precision@{k}'))}</td>"
            f"<td>{fmt(v.get(f'hr@{k}'))}</td><td>{fmt(v.get(f'map@{k}'))}</td>"
            f"<td>{fmt(v.get(f'coverage@{k}'))}</td><td>{fmt(v.get(f'novelty@{k}'), 2)}</td>"
            f"<td>{fmt(v.get(f'diversity@{k}'), 3)}</td>"
            f"<td>{fmt(v.get('n_users'))} ({fmt(v.get('n_cold'))})</td>"
            f'<td class="muted">{escape(cost_text(v))}</td></tr>'
        )
    return f'<div class="wide"><table class="methods">{head}{"".join(body)}</table></div>'


COMPARISON_HEADS = [
    "users",
    "mean diff",
    "95% CI",
    "ratio [95% CI]",
    "p (bootstrap)",
    "p (Holm)",
    "p (Wilcoxon)",
]


def comparison_cells(sig: dict[str, Any]) -> list[str]:
    """A paired comparison's figures, in the order of :data:`COMPARISON_HEADS`."""
    from segrec.evaluate._stats import ratio_text

    return [
        fmt(sig["n_users"]),
        fmt(sig.get("mean_diff")),
        fmt_ci(sig.get("diff_ci")),
        ratio_text(sig) or "n/a",
        fmt_p(sig.get("p_bootstrap")),
        fmt_p(sig.get("p_bootstrap_holm")),
        fmt_p(sig.get("p_wilcoxon")),
    ]


def significance_table(res: EvalResult) -> str:
    items = []
    for key, v in res.significance.items():
        if not isinstance(v, dict):
            continue
        cells = "".join(f"<td>{escape(c)}</td>" for c in comparison_cells(v))
        items.append(
            f"<tr><td>{escape(v['a'])} vs {escape(v['b'])}</td>{cells}"
            f"<td>{'cold users' if key.endswith('_cold') else 'all'}</td></tr>"
        )
    if not items:
        return "<p class='muted'>No paired comparison could be made.</p>"
    return (
        '<div class="wide"><table><tr><th>comparison</th>'
        + "".join(f"<th>{h}</th>" for h in COMPARISON_HEADS)
        + "<th>slice</th></tr>"
        + "".join(items)
        + '</table></div><p class="muted">p (Holm): the bootstrap p-value adjusted for the '
        "comparisons in this table (Holm-Bonferroni), so that below 0.05 means significant "
        "with at most a 5% chance of any false positive among them. Ratio: the first "
        "method's mean over the second's, with its interval from the same paired resamples "
        "of users.</p>"
    )


#: (words, key of results.json's "dataset") for the data table, in reading order
_DATA_ROWS: tuple[tuple[str, str], ...] = (
    (
        "interactions loaded (every row, repeats included: what the command printed)",
        "n_rows_loaded",
    ),
    (
        "distinct user-item pairs the evaluation used (each pair's first interaction)",
        "n_interactions",
    ),
    ("… in the training period", "n_train"),
    ("… of which fitting (before validation)", "n_fit"),
    ("… validation (tuning), users and items seen before it", "n_val"),
    ("… test period, users and items seen in training", "n_test"),
    ("test interactions dropped: item unseen in training", "n_test_rows_dropped_unseen_item"),
    ("users in the dataset", "n_users_total"),
    ("items in the dataset", "n_items_total"),
    ("users in the training period", "n_train_users"),
    ("items in the training period", "n_train_items"),
    ("texts in the training period", "n_texts_train"),
    ("test users", "n_test_users"),
    ("… cold (at most two training interactions)", "n_cold_users"),
    ("… warm", "n_warm_users"),
    ("validation users", "n_val_users"),
    ("… cold", "n_val_cold_users"),
)


def data_table(res: EvalResult) -> str:
    """The data's counts in words: what was loaded, what the evaluation kept, each period."""
    d = res.dataset
    rows = [(label, d.get(key)) for label, key in _DATA_ROWS]
    body = "".join(
        f"<tr><td>{escape(a)}</td><td>{fmt(b)}</td></tr>" for a, b in rows if b is not None
    )
    return f'<table class="data">{body}</table>'
