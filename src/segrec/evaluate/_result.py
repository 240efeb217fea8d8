"""The :class:`EvalResult` artifact and its JSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from segrec._json import json_safe

if TYPE_CHECKING:
    from segrec.evaluate._config import EvalConfig
    from segrec.evaluate._protocol import EvalSplit
    from segrec.evaluate._segmentations import PhaseArtifacts
    from segrec.recommend import RecLists, Recommender

__all__ = ["EvalResult", "MethodRun"]


@dataclass
class MethodRun:
    """One method's test-period run: summary ``M``, per-user metrics, lists and fitted model."""

    name: str
    summary: dict[str, Any]
    per_user: pd.DataFrame
    lists: RecLists
    model: Recommender


@dataclass
class EvalResult:
    """Everything :func:`run_evaluation` measured.

    ``to_json()`` gives the results file: ``dataset`` (counts after the split), ``protocol``
    (name, settings, warnings, timings, skipped components), ``methods`` (name -> ``M``),
    ``segmentations`` (name -> k, quality, segment_pop / hybrid results, fairness) and
    ``significance``. ``runs`` and ``artifacts`` keep the in-memory detail the report uses.
    """

    dataset: dict[str, Any]
    protocol: dict[str, Any]
    methods: dict[str, dict[str, Any]]
    segmentations: dict[str, dict[str, Any]]
    significance: dict[str, Any]
    runs: dict[str, MethodRun] = field(default_factory=dict, repr=False)
    artifacts: PhaseArtifacts | None = field(default=None, repr=False)
    #: the split and the settings the test period was scored with (segment counts chosen on
    #: validation filled in): what :func:`segrec.model.fit_model` repeats on the whole dataset
    split: EvalSplit | None = field(default=None, repr=False)
    config: EvalConfig | None = field(default=None, repr=False)

    @property
    def warnings(self) -> list[str]:
        return list(self.protocol.get("warnings", []))

    @property
    def encoder_line(self) -> str | None:
        """'all-mpnet-base-v2@<revision> (bf16)' for the report (saying so when the vectors come
        from item descriptions alone), or None without text vectors."""
        enc = self.protocol.get("text_encoder")
        if not enc:
            return None
        line = f"{enc.get('model')} ({enc.get('backend')})"
        if enc.get("source") == "items":
            line += " on item titles and categories only (no user wrote any text)"
        return line

    @property
    def encoder_fallback(self) -> str | None:
        """Why a faster text backend was not used (None when none was passed over)."""
        return (self.protocol.get("text_encoder") or {}).get("fallback")

    @classmethod
    def assemble(
        cls,
        split: EvalSplit,
        cfg: EvalConfig,
        counts: dict[str, Any],
        runs: dict[str, MethodRun],
        seg_table: dict[str, dict[str, Any]],
        sig: dict[str, Any],
        skipped: dict[str, str],
        timings: dict[str, float],
        final: PhaseArtifacts,
        hybrid_seg: str | None,
    ) -> EvalResult:
        ds = split.dataset
        dataset = {"name": ds.name, **{k: v for k, v in counts.items() if k != "protocol"}}
        dataset["n_users_total"] = ds.n_users
        dataset["n_items_total"] = ds.n_items
        dataset["n_texts_train"] = len(final.dataset.texts)
        warns = _warnings(counts, cfg.min_users_warning)
        protocol = {
            "name": cfg.protocol,
            "k": cfg.k,
            "cutoffs": cfg.cutoffs,
            "test_frac": split.meta.get("test_frac"),
            "val_frac": split.meta.get("val_frac"),
            "dedupe": "keep earliest (timestamp, file order) per (user, item)",
            "cold_max_train_interactions": 2,
            "candidates": "all train items except the user's train history",
            "tuning": f"<= {cfg.budget} configurations per method, fit on fit, NDCG@{cfg.k} on val",
            "budget": cfg.budget,
            "n_bootstrap": cfg.n_bootstrap,
            "random_state": cfg.random_state,
            "hybrid_segmentation": hybrid_seg,
            "features": cfg.features,
            "text_encoder": text_encoder(final),
            "warnings": warns,
            "skipped": skipped,
            "timings_s": timings,
            # every setting, so `segrec fit --from-run` can repeat the run's choices exactly
            "config": cfg.model_dump(mode="json"),
        }
        return cls(
            dataset=dataset,
            protocol=protocol,
            methods={k: r.summary for k, r in runs.items()},
            segmentations=seg_table,
            significance=sig,
            runs=runs,
            artifacts=final,
            split=split,
            config=cfg,
        )

    def to_json(self) -> dict[str, Any]:
        """The results file as a JSON-ready dict (NaN becomes ``null``)."""
        return json_safe(
            {
                "dataset": self.dataset,
                "protocol": self.protocol,
                "methods": self.methods,
                "segmentations": self.segmentations,
                "significance": self.significance,
            }
        )

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_json(), indent=2))
        return p

    def table(self, k: int | None = None) -> pd.DataFrame:
        """Methods x headline metrics as a DataFrame (sorted by NDCG@k)."""
        k = k or int(self.protocol["k"])
        cols = [
            f"ndcg@{k}",
            f"recall@{k}",
            f"precision@{k}",
            f"hr@{k}",
            f"map@{k}",
            f"coverage@{k}",
            f"ndcg@{k}_cold",
            f"ndcg@{k}_warm",
            "n_users",
            "n_cold",
        ]
        rows = {m: {c: v.get(c) for c in cols} for m, v in self.methods.items()}
        return pd.DataFrame.from_dict(rows, orient="index").sort_values(
            f"ndcg@{k}", ascending=False
        )


def _warnings(counts: dict[str, Any], min_users: int) -> list[str]:
    out = []
    for what, who, n in (
        ("overall", "test users", counts["n_test_users"]),
        ("cold-user", "cold test users", counts["n_cold_users"]),
        ("warm-user", "warm test users", counts["n_warm_users"]),
    ):
        if n == 0:
            out.append(f"there are no {who}, so the {what} figures are n/a")
        elif n < min_users:
            out.append(f"{what} comparisons rest on only {n} {who} (< {min_users})")
    return out


def text_encoder(art: Any) -> dict[str, Any] | None:
    """Which sentence encoder and backend made the final phase's text vectors (from the
    embedder's stats), or None when the run used no transformer text vectors."""
    feats = getattr(art, "features", None)
    stats = feats.meta.get("text_embedding") if feats is not None else None
    if not stats:
        return None
    keys = (
        "model",
        "backend",
        "fallback",
        "n_texts",
        "n_embedded",
        "texts_per_s",
        "max_tokens",
        "source",  # "users": what users wrote; "items": item titles and categories only
    )
    return {k: stats.get(k) for k in keys}
