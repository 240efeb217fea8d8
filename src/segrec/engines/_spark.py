"""The Spark engine: ingest, serving data, behaviour features, text embeddings, MLlib
segmentation and batch scoring in Spark, writing exactly the local engine's artifacts.

What runs where (see docs/spark.md): Spark reads the tables, counts the quarantine, builds the
serving data, computes behaviour/RFM aggregates, embeds the distinct texts, fits MLlib k-means and
scores every user. The driver holds the serving Dataset (the model folder keeps every user's
events, and the recommenders are fit from it), pools text profiles, fuses blocks, fits the
tfidf-svd space, the hybrid recommender and the segment profiles with the local code.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

from segrec._progress import stage
from segrec.diagnostics import UsageError
from segrec.engines._base import EngineConfig, ScoreResult, SegmentRun
from segrec.engines._spark_session import require_spark, spark_session

__all__ = ["SparkEngine"]

_log = logging.getLogger(__name__)
#: segmentations the Spark engine builds from user features with MLlib
_FEATURE_SEGMENTATIONS = ("text", "fused", "graph")


class SparkEngine:
    """The heavy steps on a Spark cluster (or ``local[*]``); see :mod:`segrec.engines`."""

    name = "spark"

    def __init__(self, config: EngineConfig | None = None) -> None:
        require_spark()  # one clear error naming the extra, before any data is read
        self.config = config if config is not None else EngineConfig(name="spark")
        self._spark: Any = None
        #: seconds per stage of the last call
        self.seconds: dict[str, float] = {}

    @property
    def spark(self) -> Any:
        if self._spark is None:
            self._spark = spark_session(self.config)
        return self._spark

    def _timed(self, label: str, t0: float) -> float:
        now = time.perf_counter()
        self.seconds[label] = round(now - t0, 3)
        return now

    # -- features ---------------------------------------------------------------------------
    def features(self, dataset: str, cfg: Any, graph: bool = False) -> tuple[Any, Any, Any]:
        """(serving Dataset on the driver, UserFeatures, fitted UserFeaturizer) of ``dataset``
        with behaviour aggregates and text embeddings computed in Spark."""
        from segrec.engines._spark_behavior import spark_behavior
        from segrec.engines._spark_ingest import read_tables, serving_tables, to_dataset

        t = time.perf_counter()
        raw = read_tables(self.spark, dataset)
        for table, c in raw.report.items():
            if c.get("rejected"):
                _log.warning(
                    "%s: %s of %s rows quarantined (%s)",
                    table,
                    f"{c['rejected']:,}",
                    f"{c['read']:,}",
                    c.get("reasons"),
                )
        tables = serving_tables(raw, cfg.events)
        tables.interactions = tables.interactions.cache()
        ds = to_dataset(tables)
        t = self._timed("ingest", t)
        opts = dict(cfg.features)
        emb = opts.pop("embedder", None)
        behavior = bool(opts.pop("behavior", True))
        n_cat = int(opts.get("n_categories", 10))
        fz, feats = self._text(ds, emb, opts, cfg)
        t = self._timed("text", t)
        if behavior and len(ds.interactions):
            with stage("behaviour features (spark)"):
                bf, frame, miss = spark_behavior(
                    self.spark, tables.interactions, ds.user_ids, ds.items, n_cat
                )
            fz.behavior_ = bf
            fz.config = fz.config.model_copy(update={"behavior": True})
            feats = feats.with_block(
                "behavior", frame.to_numpy(np.float32), miss, list(frame.columns)
            )
            feats.meta["monetary_basis"] = bf.basis_
        tables.interactions.unpersist()
        t = self._timed("behavior", t)
        if graph and cfg.graph is not None:  # the GCN block: driver-side, the local code
            fz.config = fz.config.model_copy(update={"graph": dict(cfg.graph)})
            feats = fz._fit_graph(ds, feats)
            t = self._timed("graph", t)
        return ds, feats, fz

    def _text(self, ds: Any, emb: Any, opts: dict[str, Any], cfg: Any) -> tuple[Any, Any]:
        from segrec.engines._spark_text import spark_encode
        from segrec.features import TextEmbedder, UserFeaturizer

        fz = UserFeaturizer(
            None,
            item_vectors=cfg.item_vectors,
            random_state=cfg.random_state,
            **{**opts, "behavior": False},
        )
        if not fz.config.text or not len(ds.texts):
            return fz, fz.fit_transform(ds)
        embedder = TextEmbedder(**emb) if isinstance(emb, dict) else (emb or TextEmbedder())
        texts = ds.texts["text"].fillna("").astype(str).tolist()
        embedder.fit(texts)  # tfidf-svd learns its space on the driver; others: no-op
        with stage("text embeddings (spark)"):
            vectors = spark_encode(self.spark, texts, embedder, self.config.partitions)
        fz.embedder = embedder
        return fz, fz.fit_transform(ds, text_vectors=vectors)

    # -- fit --------------------------------------------------------------------------------
    def fit_model(self, dataset: str, cfg: Any, *, from_run: Path | None = None) -> Any:
        """A SegrecModel fit with the choices of ``from_run`` (a finished run), else with the
        config's (``hybrid_segmentation``, default ``fused``; ``segmentation_params``; the
        hybrid's defaults): the Spark engine does not tune."""
        from segrec.evaluate import EvalConfig
        from segrec.evaluate._run import _text_space
        from segrec.evaluate._segmentations import PhaseArtifacts, build_segmentation
        from segrec.model._fit import Choice, choice_from_run, fit_chosen

        self.seconds = {}
        if from_run is not None:
            choice, raw = choice_from_run(from_run)
            cfg = cfg if cfg is not None else EvalConfig(**raw)
        else:
            cfg = cfg if cfg is not None else EvalConfig()
            name = cfg.hybrid_segmentation or "fused"
            choice = Choice(
                name,
                dict(cfg.segmentation_params.get(name) or {}),
                {},
                {
                    "engine": "spark: no tuning; segmentation and hybrid from the config "
                    "(tune with `segrec run` and pass --from-run to reuse its choices)"
                },
            )
        name = choice.segmentation
        ds, feats, fz = self.features(dataset, cfg, graph=name in ("graph", "fused"))
        t = time.perf_counter()
        art = PhaseArtifacts(ds, features=feats, featurizer=fz)
        if cfg.item_vectors:
            art.item_vectors, art.user_text = _text_space(feats)
        if name in _FEATURE_SEGMENTATIONS:
            params = dict(choice.segmentation_params)
            algo = params.pop("segmenter", "kmeans")
            algo = "kmeans" if algo == "minibatch" else algo
            blocks = {"text": ["text"], "graph": ["graph"]}.get(name)
            seg, assigner = self._mllib(feats, ds, name, algo, blocks, cfg.random_state, params)
            art.segmentations[name], art.assigners[name] = seg, assigner
        elif name is not None:  # rfm, behavior, demographic, random: the local code
            seg = build_segmentation(
                name, art, cfg.random_state, cfg.k_random, choice.segmentation_params
            )
            if seg is not None:
                art.segmentations[name] = seg
        t = self._timed("segment", t)
        model = fit_chosen(ds, cfg, choice, artifacts=art)
        model.info["engine"] = {
            "name": "spark",
            "master": self.config.resolved_master(),
            "seconds": dict(self.seconds),
        }
        self._timed("recommender_and_profiles", t)
        return model

    def _mllib(
        self,
        feats: Any,
        ds: Any,
        name: str,
        algo: str,
        blocks: list[str] | None,
        random_state: int,
        params: dict[str, Any],
    ) -> tuple[Any, Any]:
        from segrec.engines._spark_segment import SparkKMeansSegmenter
        from segrec.evaluate._assigners import FeatureAssigner

        missing = [b for b in blocks or [] if b not in feats.blocks]
        if missing:
            raise UsageError(f"segmentation '{name}': the user features have no {missing} block")
        kw = {"random_state": random_state, **params}
        if blocks is not None:
            kw["blocks"] = blocks
        segmenter = SparkKMeansSegmenter(self.spark, algo, **kw)
        with stage(f"{algo} (spark mllib)"):
            seg = segmenter.fit(feats, dataset=ds)
        segmenter.spark = None  # the fitted state never holds the session
        return seg, FeatureAssigner(name, segmenter)

    # -- segment ----------------------------------------------------------------------------
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
        from segrec.engines._spark_segment import MLLIB_METHODS
        from segrec.evaluate import EvalConfig

        if method not in MLLIB_METHODS:
            raise UsageError(
                f"--method {method!r}: the Spark engine segments with "
                f"{', '.join(MLLIB_METHODS)} (MLlib); use --engine local for {method}"
            )
        emb: dict[str, Any] = {"backend": backend, **({"model": model} if model else {})}
        cfg = EvalConfig(
            features={"embedder": emb, "text": "text" in blocks, "behavior": "behavior" in blocks},
            random_state=random_state,
        )
        self.seconds = {}
        ds, feats, _ = self.features(dataset, cfg, graph="graph" in blocks)
        gone = [b for b in blocks if b not in feats.blocks]
        if gone:
            raise UsageError(f"--features: the dataset gives no data for block(s) {gone}")
        t = time.perf_counter()
        from segrec.engines._spark_segment import SparkKMeansSegmenter

        segmenter = SparkKMeansSegmenter(
            self.spark, method, k=k, random_state=random_state, blocks=blocks
        )
        seg = segmenter.fit(feats, dataset=ds)
        self._timed("segment", t)
        return SegmentRun(ds, feats, seg)

    # -- score ------------------------------------------------------------------------------
    def score(
        self,
        model_dir: Path,
        dataset: str,
        out: Path,
        k: int = 10,
        reasons: bool = True,
        heldout: str | None = None,
    ) -> ScoreResult:
        from segrec.engines._local import write_scores
        from segrec.engines._spark_ingest import read_tables
        from segrec.engines._spark_score import spark_score
        from segrec.model import load_model

        folder = Path(model_dir).resolve()
        t0 = time.perf_counter()
        model = load_model(folder)  # a damaged or newer folder fails here, not in a worker
        tables = read_tables(self.spark, dataset)
        # read before scoring, so that a wrong --heldout fails before the long part
        held = read_tables(self.spark, heldout).interactions if heldout is not None else None
        n_users = tables.interactions.select("user_id").distinct().count()
        parts = self.config.partitions or max(
            self.spark.sparkContext.defaultParallelism, n_users // 20_000 + 1
        )
        t1 = time.perf_counter()
        keep = held is not None
        assign, recs, scored = spark_score(tables, str(folder), k, parts, reasons, keep=keep)
        seconds = {"load": t1 - t0, "score": time.perf_counter() - t1}
        res = write_scores(Path(out), assign, recs, seconds)
        if held is not None:
            from segrec.engines._spark_metrics import spark_list_metrics

            t2 = time.perf_counter()
            lists = scored.where("_t = 'r'").select("user_id", "rank", "item_id")
            res.metrics = spark_list_metrics(lists, held, model.item_index, k)
            scored.unpersist()
            res.seconds["metrics"] = time.perf_counter() - t2
        return res

    def stop(self) -> None:
        if self._spark is not None:
            self._spark.stop()
            self._spark = None
