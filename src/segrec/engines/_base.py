"""The engine contract, its settings and the one factory that picks local or Spark.

An engine runs the heavy steps (features, segmentation, batch scoring) and hands back the same
artifacts either way: a fitted :class:`~segrec.model.SegrecModel` that saves to the same model
folder, a :class:`~segrec.segment.Segmentation`, or scored Parquet files. The choice between
engines is made here and nowhere else (:func:`get_engine`); commands pass ``--engine`` and the
config's ``[engine]`` section through.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from segrec.diagnostics import UsageError, validated

__all__ = [
    "ENGINES",
    "Engine",
    "EngineConfig",
    "ScoreResult",
    "SegmentRun",
    "engine_config",
    "get_engine",
]

ENGINES: tuple[str, ...] = ("local", "spark")


class EngineConfig(BaseModel):
    """``[engine]`` of the TOML config: which engine, and for Spark the master URL (default:
    ``$SPARK_MASTER``, else ``local[*]``) and extra ``spark.*`` settings."""

    model_config = ConfigDict(extra="forbid")
    name: Literal["local", "spark"] = "local"
    master: str | None = Field(None, description="Spark master; default $SPARK_MASTER or local[*]")
    partitions: int | None = Field(None, ge=1, description="partitions for scoring (default: auto)")
    spark_conf: dict[str, str] = Field(default_factory=dict, description="extra spark.* settings")

    def resolved_master(self) -> str:
        return self.master or os.environ.get("SPARK_MASTER") or "local[*]"


def engine_config(config: str | Path | None = None, name: str | None = None) -> EngineConfig:
    """The ``[engine]`` section of ``config`` (a TOML file; absent: defaults) with ``name`` (the
    ``--engine`` flag) on top."""
    raw: dict[str, Any] = {}
    if config is not None:
        p = Path(config)
        if not p.is_file():
            raise UsageError(f"--config {p}: no such file; pass a TOML file")
        try:
            raw = dict(tomllib.loads(p.read_text()).get("engine") or {})
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"--config {p}: not valid TOML ({exc})") from exc
    if name is not None:
        if name not in ENGINES:
            raise UsageError(f"--engine {name!r}: expected one of {', '.join(ENGINES)}")
        raw["name"] = name
    return validated(EngineConfig, "[engine]: invalid engine settings", **raw)


@dataclass
class ScoreResult:
    """What :meth:`Engine.score` wrote: the files, counts and seconds per stage."""

    files: dict[str, Path]
    n_users: int
    n_new_users: int
    n_listed: int
    seconds: dict[str, float] = field(default_factory=dict)
    #: the lists' mean NDCG, Recall, Precision, HR and MAP at K against ``--heldout`` events
    metrics: dict[str, float] | None = None

    def lines(self) -> list[str]:
        out = [
            f"assigned {self.n_users:,} users ({self.n_new_users:,} unknown to the model); "
            f"top-K lists for {self.n_listed:,} known users -> {self.files['assignments'].parent}"
        ]
        if self.metrics is not None:
            figs = ", ".join(f"{n} {v:.4f}" for n, v in self.metrics.items() if n != "users")
            out.append(
                f"against the held-out events of {int(self.metrics['users']):,} users: {figs}"
            )
        return out


@dataclass
class SegmentRun:
    """What :meth:`Engine.segment` returns: the dataset, the user features, the segmentation."""

    dataset: Any
    features: Any
    segmentation: Any


@runtime_checkable
class Engine(Protocol):
    """Runs the heavy steps; every engine writes exactly the local formats."""

    name: str

    def fit_model(self, dataset: str, cfg: Any, *, from_run: Path | None = None) -> Any:
        """A fitted SegrecModel (what ``segrec fit`` saves)."""
        ...

    def segment(
        self,
        dataset: str,
        blocks: list[str],
        method: str,
        k: int | Literal["auto"],
        *,
        backend: str = "auto",
        model: str | None = None,
        random_state: int = 0,
        options: dict[str, Any] | None = None,
    ) -> SegmentRun:
        """Features and a segmentation of every user of ``dataset``; ``options``: the local
        segmenter's keyword options (the Spark engine takes ``k`` and ``random_state``)."""
        ...

    def score(
        self,
        model_dir: Path,
        dataset: str,
        out: Path,
        k: int = 10,
        reasons: bool = True,
        heldout: str | None = None,
    ) -> ScoreResult:
        """Batch assignment of every user of ``dataset`` and top-``k`` of every known user
        (``reasons``: each item's reason, the costliest part of a list); with ``heldout`` (a
        dataset spec of later events) the lists' ranking metrics against those events, computed
        by the engine (the same figures on both)."""
        ...


def get_engine(name: str | None = None, config: EngineConfig | None = None) -> Engine:
    """The engine ``name`` (else ``config.name``, else local): the one place the choice is
    made. Spark is imported lazily; without pyspark its construction names the ``spark`` extra.

        >>> get_engine("local").name
        'local'
    """
    cfg = config if config is not None else EngineConfig()
    if name is not None:
        if name not in ENGINES:
            raise UsageError(f"--engine {name!r}: expected one of {', '.join(ENGINES)}")
        cfg = cfg.model_copy(update={"name": name})
    if cfg.name == "spark":
        from segrec.engines._spark import SparkEngine

        return SparkEngine(cfg)
    from segrec.engines._local import LocalEngine

    return LocalEngine(cfg)
