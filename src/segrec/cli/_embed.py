"""``segrec embed``: per-text and per-user embeddings to Parquet, with texts/s."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segrec.cli._app import DatasetOpt, ModelOpt, app


@app.command("embed")
def embed(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    backend: Annotated[
        str,
        typer.Option(
            "--backend", help="auto, sentence-transformers, hf, onnx-int8, bf16, tfidf-svd"
        ),
    ] = "auto",
    model: ModelOpt = None,
    pooling: Annotated[
        str, typer.Option("--pooling", help="User pooling: mean, recency, rating.")
    ] = "mean",
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Embedding cache folder.")
    ] = None,
) -> None:
    """Embed every text of a dataset and pool the vectors per user.

    Writes text_embeddings.parquet and user_embeddings.parquet to --out, and prints where the
    time went (start-up and imports, load, tokenise, gate, encode, write).
    """
    import time

    t_cmd = time.perf_counter()
    import numpy as np
    import pandas as pd

    from segrec.data import load_dataset
    from segrec.diagnostics import UsageError
    from segrec.features import BACKENDS, TextEmbedder, user_text_profiles

    if backend not in BACKENDS:
        raise UsageError(f"--backend '{backend}' is unknown; choose one of {', '.join(BACKENDS)}")
    if pooling not in ("mean", "recency", "rating"):
        raise UsageError(f"--pooling '{pooling}' is unknown; choose mean, recency or rating")
    t_load = time.perf_counter()
    ds, _ = load_dataset(dataset)
    t_loaded = time.perf_counter()
    if len(ds.texts) == 0:
        raise UsageError(
            f"--dataset {dataset}: it has no texts to embed; pick one with reviews/tags"
        )
    emb = TextEmbedder(
        backend=backend, model=model, cache_dir=str(cache_dir) if cache_dir else None
    )
    vecs = emb.encode(ds.texts["text"].fillna("").tolist())
    st = emb.stats_
    t_write = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    t = ds.texts
    pd.DataFrame(
        {
            "text_row": np.arange(len(t)),
            "user_id": t["user_id"].astype(str).to_numpy(),
            "item_id": t["item_id"].astype(object).where(t["item_id"].notna(), None).to_numpy(),
            "vector": list(vecs),
        }
    ).to_parquet(out / "text_embeddings.parquet", index=False)
    prof = user_text_profiles(ds, vecs, pooling)  # type: ignore[arg-type]
    pd.DataFrame(
        {
            "user_id": ds.user_ids.astype(str),
            "vector": list(prof.vectors),
            "has_text": prof.has_text,
        }
    ).to_parquet(out / "user_embeddings.parquet", index=False)
    t_end = time.perf_counter()
    typer.echo(
        f"{st['n_texts']:,} texts ({st['n_unique']:,} unique, {st['n_cached']:,} cached, "
        f"{st['n_embedded']:,} embedded, {st['n_truncated']:,} truncated at "
        f"{st['max_tokens']} tokens) with {emb.backend_} in {st['seconds']:.1f}s: "
        f"{st['texts_per_s']:,.1f} texts/s"
    )
    typer.echo(
        "time: start-up and imports "
        f"{_since_start() - (t_end - t_cmd) + (t_load - t_cmd):.1f}s, load and scrub "
        f"{t_loaded - t_load:.1f}s, model {st.get('load_s', 0.0):.1f}s, tokenise "
        f"{st.get('tokenise_s', 0.0):.1f}s, gate {st.get('gate_s', 0.0):.1f}s, encode "
        f"{st.get('encode_s', 0.0):.1f}s, write {t_end - t_write:.1f}s"
    )
    gate = st.get("gate")
    if gate:
        typer.echo(
            f"accuracy gate: {gate['backend']} vs fp32 on {gate['sample']}: mean cosine "
            f"{gate['mean_cos']:.4f}, min {gate['min_cos']:.4f}"
        )
    if emb.fallback_reason_:
        typer.echo(f"fallback: {emb.fallback_reason_}")
    typer.echo(f"wrote {out / 'text_embeddings.parquet'} and {out / 'user_embeddings.parquet'}")


def _since_start() -> float:
    """Seconds since this process started (interpreter start-up included)."""
    import time

    try:
        import psutil

        return time.time() - psutil.Process().create_time()
    except Exception:  # pragma: no cover - no psutil or no /proc: count from the command
        return 0.0
