"""Save a :class:`SegrecModel` to a folder and load it back, safely.

Layout (format version :data:`~segrec.model._folder.FORMAT_VERSION`)::

    model.json            what a person reads: versions, config, what was chosen and why,
                          the dataset fingerprint, the encoder, created-at, the files below
    profiles.json         the published segment profiles
    segments.parquet      every fitted user's batch segment (as published), strength,
                          nearest alternative, distance to the centre
    encoder.json/.npz     the text encoder (name and weights hash, or the tfidf-svd space)
    featurizer.json/.npz  the fitted featurizers (behaviour, text pooling, fusion, graph)
    assigner.json/.npz    the fitted segmentation (centres, scalers, ...)
    recommender.json/.npz the fitted hybrid and its parts (weights, factors, reasons index)
    events/texts/ties.parquet, fitted_users.parquet, assignments.parquet, current.parquet:
                          each user's state, every assignment, the current ones after updates
    drift.json            the fit-time reference for drift
    map.parquet           anonymous 2-D points of fitted users by segment (the dashboard map;
                          ``model.json``'s ``map`` says which projection)

Loading reads JSON, Parquet and ``np.load(allow_pickle=False)`` only, and builds classes found
by name in segrec's registries: a folder cannot run code when it is loaded.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

from segrec.describe import SegmentProfiles
from segrec.diagnostics import UsageError
from segrec.model._folder import FORMAT_VERSION, read_json, read_state, write_json, write_state

__all__ = ["load_model", "save_model"]


def save_model(model: Any, folder: str | Path) -> Path:
    """Write ``model`` to ``folder`` (created; written into a temporary sibling first and
    swapped in, so a reader never sees half a model)."""
    from segrec.model._encoder import encoder_state
    from segrec.recommend import recommender_to_state

    out = Path(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{int(time.time() * 1000)}")
    tmp.mkdir()
    files: list[str] = []
    if model.encoder is not None:
        files += write_state(tmp, "encoder", encoder_state(model.encoder))
    if model.featurizer is not None:
        files += write_state(tmp, "featurizer", model.featurizer.to_state())
    files += write_state(tmp, "assigner", model.assigner.to_state())
    files += write_state(tmp, "recommender", recommender_to_state(model.recommender))
    (tmp / "profiles.json").write_text(model.profiles.to_json(), encoding="utf-8")
    model.segments.reset_index().to_parquet(tmp / "segments.parquet", index=False)
    items = pd.DataFrame(
        {"item_id": model.item_labels.index, "label": model.item_labels.to_numpy()}
    )
    items.to_parquet(tmp / "items.parquet", index=False)
    files += ["profiles.json", "segments.parquet", "items.parquet", *model.store.save(tmp)]
    model.current_frame().to_parquet(tmp / "current.parquet", index=False)
    files.append("current.parquet")
    if model.map_points is not None:
        model.map_points.to_parquet(tmp / "map.parquet", index=False)
        files.append("map.parquet")
    write_json(tmp / "drift.json", model.reference)
    files.append("drift.json")
    info = {
        "format_version": FORMAT_VERSION,
        **model.info,
        "encoder": _encoder_summary(tmp),
        "files": sorted([*files, "model.json"]),
    }
    write_json(tmp / "model.json", info)
    if out.exists():
        old = out.with_name(f".{out.name}.old-{int(time.time() * 1000)}")
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
    model.info = info
    return out


def _encoder_summary(folder: Path) -> dict[str, Any] | None:
    path = folder / "encoder.json"
    if not path.exists():
        return None
    meta = read_json(path)
    keep = ("kind", "name", "backend", "model_id", "weights_sha256", "revision", "dim")
    return {k: meta[k] for k in keep if k in meta}


def load_model(folder: str | Path) -> Any:
    """The :class:`SegrecModel` saved in ``folder``. A folder of a newer format, or whose text
    encoder is not installed here, fails with one line saying which and how to fix it.

        >>> # model = segrec.load_model("segrec-out/demo/model")
    """
    from segrec.features import UserFeaturizer
    from segrec.model._encoder import encoder_from_state
    from segrec.model._model import SegrecModel
    from segrec.model._store import UserStore
    from segrec.recommend import recommender_from_state

    src = Path(folder)
    if not src.is_dir():
        raise UsageError(
            f"model folder {src} does not exist; write one with `segrec fit --out {src}`"
        )
    info = read_json(src / "model.json")
    version = info.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise UsageError(
            f"model folder {src} has format version {version}, newer than this segrec "
            f"({FORMAT_VERSION}); upgrade segrec (pip install -U segrec) to load it"
        )
    encoder = None
    if (src / "encoder.json").exists():
        encoder = encoder_from_state(read_state(src, "encoder"), src)
    featurizer = None
    if (src / "featurizer.json").exists():
        featurizer = UserFeaturizer.from_state(*read_state(src, "featurizer"), embedder=encoder)
    from segrec.evaluate._assigners import load_assigner
    from segrec.model._none import NoSegments
    from segrec.model._refresh import Relabelled

    meta, arrays = read_state(src, "assigner")
    relabel = meta.pop("relabel", None)
    assigner = NoSegments() if meta.get("name") == "none" else load_assigner(meta, arrays)
    if relabel is not None:
        assigner = Relabelled(assigner, {int(a): int(b) for a, b in relabel.items()})
    profiles_raw = read_json(src / "profiles.json")
    model = SegrecModel(
        info=info,
        encoder=encoder,
        featurizer=featurizer,
        assigner=assigner,
        recommender=recommender_from_state(*read_state(src, "recommender")),
        profiles=SegmentProfiles(profiles_raw["segments"], profiles_raw.get("meta", {})),
        store=UserStore.load(src),
        segments=pd.read_parquet(src / "segments.parquet"),
        reference=read_json(src / "drift.json"),
        items=pd.read_parquet(src / "items.parquet"),
        map_points=pd.read_parquet(src / "map.parquet") if (src / "map.parquet").exists() else None,
    )
    if (src / "current.parquet").exists():
        model.restore_current(pd.read_parquet(src / "current.parquet"))
    return model
