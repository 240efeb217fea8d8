"""The evaluation configuration, loadable from a TOML file."""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from segrec.diagnostics import UsageError, explain_invalid, validated
from segrec.evaluate._assigners import FEATURE_SEGMENTATIONS, SEGMENTATIONS

__all__ = ["DEFAULT_GRIDS", "DEFAULT_METHODS", "SEGMENTATIONS", "EvalConfig"]

# SEGMENTATIONS (every segmentation the evaluation can build) and FEATURE_SEGMENTATIONS (built
# from the user features by a segmenter of segrec.segment; the others take no options except
# behavior's k) come from the one catalogue, segrec.evaluate._assigners.ASSIGNERS
_FEATURE_SEGMENTATIONS = FEATURE_SEGMENTATIONS

BASELINES = ("pop", "itemknn", "als", "bpr", "ease", "lightgcn")
#: ``pop:trending`` (popularity with recency weights, the hybrid's ``recent`` component on its
#: own) is reported as an ablation next to the baselines, not counted among them: the issue fixes
#: the baseline set, and this row shows how much of the hybrid's cold lift is recency alone.
#: ``social`` (what the user's friends chose; datasets with user-user ties only) likewise shows
#: how much of the hybrid's cold lift the friends' component carries on its own, and
#: ``textknn`` (what the users who write most like the user chose) the text neighbours' part.
DEFAULT_METHODS = (
    *BASELINES,
    "pop:trending",
    "social",
    "textknn",
    "content",
    "segment_strategy",
    "hybrid",
)
#: default rows that need what a dataset may lack (user-user ties, user or item text): where it is
#: missing they are skipped without a warning, the reason kept in ``protocol.skipped``
DATA_DEPENDENT = ("social", "textknn", "content")

#: candidate configurations tried on validation, per method (the first ``budget`` are used, so
#: every method gets the same number of tries; a method with fewer candidates tries all)
DEFAULT_GRIDS: dict[str, list[dict[str, Any]]] = {
    "pop": [{}],
    "pop:trending": [{"half_life": 0.05}],
    "social": [{}],
    "textknn": [{"neighbours": 200}, {"neighbours": 50}, {"neighbours": 20}],
    "itemknn": [{"neighbours": 50}, {"neighbours": 200}, {"neighbours": 100, "shrink": 10.0}],
    "ease": [{"l2": 50.0}, {"l2": 200.0}, {"l2": 800.0}],
    "als": [
        {"factors": 64, "regularization": 0.05},
        {"factors": 128, "regularization": 0.5},
        {"factors": 32, "regularization": 0.01},
    ],
    "bpr": [
        {"factors": 64, "learning_rate": 0.05},
        {"factors": 128, "learning_rate": 0.01},
        {"factors": 32, "learning_rate": 0.1},
    ],
    "lightgcn": [{}],
    "content": [{"history_weight": 0.5}, {"history_weight": 0.2}, {"history_weight": 0.8}],
    "segment_pop": [{"shrinkage": 50.0}, {"shrinkage": 10.0}, {"shrinkage": 200.0}],
    # hybrid and segment_strategy: by default built from the best `budget` baselines by
    # validation NDCG (see run_evaluation)
    "hybrid": [{}],
    "segment_strategy": [{}],
}


_SEGMENT_K: list[int | Literal["auto"]] = ["auto", 8, 16]


class EvalConfig(BaseModel):
    """What :func:`~segrec.evaluate.run_evaluation` runs and how.

    ``grids`` maps a method to candidate parameter sets tuned on validation; ``budget`` caps the
    number of candidates per method so every method gets the same validation budget.
    ``segmentations`` are compared with ``segment_methods`` (``segment_pop`` and ``hybrid``);
    the ``hybrid`` row of the main table uses ``hybrid_segmentation``; when it is ``None``, the
    built segmentation (other than ``random``) whose ``segment_pop`` scored the best validation
    NDCG, or the first of ``segmentation_preference`` without validation scores.
    ``segment_k``: candidate numbers of segments (``"auto"``: the segmenter's own rule) for the
    segmentations in ``segment_k_for``; the first ``budget`` are tried and the one with the
    best validation NDCG of ``segment_pop`` is used (unless ``segmentation_params`` fixes k).
    ``events`` keeps only interactions of these event types before splitting (for example
    ``["tag"]`` on Last.fm, whose play counts carry no time). ``features`` are keyword options for :func:`segrec.features.build_user_features`, where
    ``embedder`` may be a dict of :class:`segrec.features.TextEmbedder` options (for example
    ``{"backend": "tfidf-svd"}``); ``graph`` are options for
    :func:`segrec.graph.graph_embeddings` (``None``: no graph block).
    ``cold_windows``: how many earlier validation windows (protocol v1, see
    :meth:`~segrec.evaluate.EvalSplit.earlier_windows`) add their cold users to the choice of
    the hybrid's cold-user weights; 0 keeps that choice on the validation period alone. Fewer
    are built once ``cold_users_enough`` cold users are gathered.
    """

    model_config = ConfigDict(extra="forbid")

    protocol: Literal["v1", "llo"] = "v1"
    events: list[str] | None = None
    k: int = Field(10, ge=1)
    extra_k: list[int] = Field(default_factory=lambda: [20])
    test_frac: float = Field(0.2, gt=0.0, lt=1.0)
    val_frac: float = Field(0.1, gt=0.0, lt=1.0)
    methods: list[str] = Field(default_factory=lambda: list(DEFAULT_METHODS))
    baselines: list[str] = Field(default_factory=lambda: list(BASELINES))
    grids: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    budget: int = Field(3, ge=1)
    segmentations: list[str] = Field(default_factory=lambda: list(SEGMENTATIONS))
    segment_methods: list[str] = Field(default_factory=lambda: ["segment_pop", "hybrid"])
    hybrid_segmentation: str | None = None
    segmentation_preference: list[str] = Field(
        default_factory=lambda: ["fused", "text", "behavior", "rfm"]
    )
    segmentation_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    k_random: int = Field(8, ge=2)
    segment_k: list[int | Literal["auto"]] = Field(default_factory=lambda: list(_SEGMENT_K))
    segment_k_for: list[str] = Field(default_factory=lambda: ["behavior", "text", "fused"])
    features: dict[str, Any] = Field(default_factory=dict)
    graph: dict[str, Any] | None = Field(default_factory=lambda: {"dim": 32, "epochs": 20})
    #: content and the hybrid's text component in the sentence encoder's space (true) or in a
    #: TF-IDF + SVD space of the training texts (false, the default: it scored higher on the
    #: validation periods of all three datasets; benchmarks/eval_results.md, session 9)
    item_vectors: bool = False
    cold_windows: int = Field(3, ge=0)
    #: earlier windows are added (latest first, up to ``cold_windows``) only while the cold
    #: users of the validation period and of the windows already added number fewer than this:
    #: a large shop has enough cold users in one window, and each window costs a rebuild of
    #: every feature and segmentation (0: always ``cold_windows``)
    cold_users_enough: int = Field(500, ge=0)
    n_bootstrap: int = Field(1000, ge=10)
    #: time budget per method in seconds (tuning, refit, scoring and metrics together): a method
    #: that runs past it, or whose tuning so far says it will, is stopped and reported as
    #: skipped with the reason; None (the default) lets every method finish, so the figures of
    #: a run do not depend on the speed of the machine
    method_seconds: float | None = Field(None, gt=0)
    min_users_warning: int = Field(100, ge=1)
    min_segment_users: int = Field(5, ge=1)
    random_state: int = 0

    def grid(self, method: str) -> list[dict[str, Any]]:
        """Candidates tried on validation for ``method`` (at most ``budget``)."""
        base = method.split(":", 1)[0]
        cands: list[dict[str, Any]] = next(
            (
                g
                for g in (
                    self.grids.get(method),
                    DEFAULT_GRIDS.get(method),
                    self.grids.get(base),
                    DEFAULT_GRIDS.get(base),
                )
                if g is not None
            ),
            [{}],
        )
        return [dict(c) for c in (cands or [{}])[: self.budget]]

    @property
    def cutoffs(self) -> list[int]:
        return sorted({self.k, *self.extra_k})

    @field_validator("graph", mode="before")
    @classmethod
    def _graph_off(cls, v: Any) -> Any:
        """``graph = false`` in a TOML file (which has no null) turns the graph block off."""
        return None if v is False else v

    def check(self, recommenders: Collection[str] = ()) -> EvalConfig:
        """``self``, once every name and option is known to be usable; otherwise a
        :class:`UsageError` naming the setting, the value and the fix. Cheap (nothing is fitted),
        so callers run it before any data is read. ``recommenders``: names of custom recommender
        factories, accepted as methods without a check of their options."""
        from segrec.features import TextEmbedderConfig, build_user_features
        from segrec.graph import graph_embeddings
        from segrec.recommend import available_recommenders, get_recommender
        from segrec.segment import get_segmenter

        known = set(available_recommenders()) | set(recommenders)
        for field in ("methods", "baselines", "segment_methods"):
            for m in getattr(self, field):
                if m.split(":", 1)[0] not in known:
                    raise UsageError(
                        f"{field}: unknown method {m!r}; expected one of {sorted(known)}"
                    )
        for field in ("segmentations", "segment_k_for", "segmentation_preference"):
            for s in getattr(self, field):
                if s not in SEGMENTATIONS:
                    raise UsageError(
                        f"{field}: unknown segmentation {s!r}; expected one of "
                        f"{list(SEGMENTATIONS)}"
                    )
        if self.hybrid_segmentation not in (None, *self.segmentations):
            raise UsageError(
                f"hybrid_segmentation={self.hybrid_segmentation!r} is not one of the "
                f"segmentations built ({self.segmentations}); add it there or leave it unset"
            )
        for method, cands in self.grids.items():
            base = method.split(":", 1)[0]
            for i, cand in enumerate([] if base in recommenders else cands):
                _built(f"grids.{method}[{i}]", get_recommender, method, **cand)
        for name, params in self.segmentation_params.items():
            where = f"segmentation_params.{name}"
            if name not in SEGMENTATIONS:
                raise UsageError(
                    f"{where}: unknown segmentation; expected one of {list(SEGMENTATIONS)}"
                )
            if name in _FEATURE_SEGMENTATIONS:
                p = dict(params)
                algo = "gnn" if name == "gnn" else p.pop("segmenter", "kmeans")
                _built(where, get_segmenter, algo, **p)
            elif set(params) - ({"k"} if name == "behavior" else set()):
                takes = "only k" if name == "behavior" else "no options"
                raise UsageError(f"{where}: {sorted(params)} given, but {name} takes {takes}")
        feats = dict(self.features)
        emb = feats.pop("embedder", None)
        if isinstance(emb, dict):
            _built("features.embedder", TextEmbedderConfig, **emb)
        # item_vectors is this config's own field, set for build_user_features by the evaluation
        internal = {"ds", "text_vectors", "blocks", "item_vectors"}
        _check_keywords("features", feats, build_user_features, internal)
        _check_keywords("graph", self.graph or {}, graph_embeddings, {"dataset", "features"})
        return self

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> EvalConfig:
        """Read ``path`` (a TOML file; keys as the fields, optionally under ``[evaluate]``)."""
        p = Path(path)
        if not p.is_file():
            raise UsageError(f"--config {p}: no such file; pass a TOML file with EvalConfig keys")
        try:
            raw = tomllib.loads(p.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"--config {p}: not valid TOML ({exc})") from exc
        raw.pop("engine", None)  # [engine] is read by segrec.engines.engine_config
        raw = raw.get("evaluate", raw)
        raw.update({k: v for k, v in overrides.items() if v is not None})
        cfg = validated(cls, f"--config {p}: invalid evaluation settings", **raw)
        try:
            return cfg.check()
        except UsageError as exc:
            raise UsageError(f"--config {p}: invalid evaluation settings: {exc}") from None


def _built(where: str, build: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call ``build`` (a constructor); its complaint becomes a UsageError naming ``where``."""
    try:
        build(*args, **kwargs)
    except ValidationError as exc:
        model = build if isinstance(build, type) else None
        raise UsageError(f"{where}: {explain_invalid(exc, model)}") from None
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _check_keywords(
    where: str, options: dict[str, Any], func: Callable[..., Any], internal: set[str]
) -> None:
    """Every key of ``options`` is a keyword of ``func`` (those in ``internal`` excepted) and
    every value fits that keyword's annotation (constraints in ``Annotated`` included)."""
    params = inspect.signature(func, eval_str=True).parameters
    takes = sorted(set(params) - internal - {"random_state"})
    unknown = sorted(set(options) - set(takes))
    if unknown:
        raise UsageError(f"{where}: unknown option(s) {unknown}; known: {', '.join(takes)}")
    for key, value in options.items():
        try:
            TypeAdapter(params[key].annotation).validate_python(value, strict=True)
        except ValidationError as exc:
            msg = explain_invalid(exc).split(": ", 1)[-1]
            raise UsageError(f"{where}.{key}={value!r}: {msg}") from None
