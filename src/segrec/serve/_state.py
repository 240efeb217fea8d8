"""The served model and how stored events reach it.

The database is the source of truth; the loaded model is a cache of it. Each worker remembers,
per user, the generation (bumped by DELETE) and the last stored event it folded in with
``model.update``. Before answering about a user it folds whatever is newer, so a restarted
service, another worker, or a reloaded model answers from every acknowledged event. On SQLite
it first reads the database's write counter (``PRAGMA data_version``): when nothing was
committed anywhere since the user was last synced, there is nothing to ask.
"""

from __future__ import annotations

import gc
import logging
import threading
from pathlib import Path
from typing import Any

from segrec.diagnostics import UsageError
from segrec.serve._storage import Storage

__all__ = ["ModelHolder", "ReloadError"]

_log = logging.getLogger(__name__)


class ReloadError(Exception):
    """A model folder that could not be loaded (the old model keeps serving)."""


class ModelHolder:
    """The current model and its per-user fold-in marks; every model call goes through
    :meth:`locked` (the model's user store is not thread-safe)."""

    def __init__(self, model: Any, model_dir: Path, storage: Storage) -> None:
        self.model = model
        self.model_dir = model_dir
        self.storage = storage
        self.lock = threading.RLock()
        self._marks: dict[str, tuple[int, int]] = {}  # user -> (generation, last event id)
        #: user -> the database's write counter when they were last synced (SQLite)
        self._seen: dict[str, int] = {}

    @classmethod
    def load(cls, model_dir: Path, storage: Storage) -> ModelHolder:
        holder = cls(_load(model_dir), model_dir, storage)
        _settle()
        return holder

    def reload(self, model_dir: Path) -> dict[str, Any]:
        """Load ``model_dir`` fully, then swap it in; on failure the old model stays."""
        new = _load(model_dir)
        with self.lock:
            old_dir, old_model = self.model_dir, self.model
            self.model, self.model_dir = new, model_dir
            self._marks, self._seen = {}, {}  # the new model folds every stored event in again
        del old_model
        _settle()
        return {
            "model_dir": str(model_dir),
            "previous_model_dir": str(old_dir),
            "created_at": new.info.get("created_at"),
            "segments": len(new.segment_names),
        }

    def sync(self, user_id: str) -> Any | None:
        """Fold ``user_id``'s stored events the model has not seen; returns the assignment
        of that update, or None when there was nothing new. Call with :attr:`lock` held."""
        version = self.storage.version()  # read before the query: a later write changes it
        if version is not None and self._seen.get(user_id) == version:
            return None  # nothing was written anywhere since this user was last synced
        seen_gen, last = self._marks.get(user_id, (0, 0))
        gen, stored = self.storage.changes_of(user_id, after=last)
        if gen != seen_gen:
            self._forget(user_id)
            last = 0
            stored = self.storage.events_of(user_id)
        self._marks[user_id] = (gen, stored[-1].id if stored else last)
        if version is not None:
            self._seen[user_id] = version
        if not stored:
            return None
        evs = [e.payload for e in stored if e.kind == "event"]
        unknown = set(self.model.unknown_items([str(e.get("item_id")) for e in evs]))
        keep = [e for e in evs if str(e.get("item_id")) not in unknown]
        if len(keep) < len(evs):
            _log.warning(
                "%d stored events name items this model does not know; skipped",
                len(evs) - len(keep),
            )
        texts = [e.payload for e in stored if e.kind == "text"]
        friends = [str(e.payload["user_id"]) for e in stored if e.kind == "friend"]
        if not keep and not texts and not friends:
            return None
        return self.model.update(
            user_id, events=keep or None, texts=texts or None, friends=friends or None
        )

    def forget(self, user_id: str) -> bool:
        """Forget ``user_id`` in this worker's model (after the database deleted them)."""
        self._marks[user_id] = (self.storage.generation(user_id), 0)
        self._seen.pop(user_id, None)
        return self._forget(user_id)

    def _forget(self, user_id: str) -> bool:
        try:
            self.model.forget(user_id)
            return True
        except UsageError:
            return False


def _settle() -> None:
    """Collect, then move every object alive (the model's) out of the garbage collector's
    view: a full collection walked the demo model's 140,000 objects in about 85 ms, a pause
    that one request in a few thousand waited for (p99 260 ms at 200 requests/s). Objects
    made later are collected as usual; a reload thaws, collects the old model, and freezes
    again."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _load(model_dir: Path) -> Any:
    import segrec

    if not Path(model_dir).is_dir():
        raise ReloadError(f"model_dir '{model_dir}': no such folder")
    try:
        return segrec.load_model(model_dir)
    except Exception as exc:  # a corrupt folder can fail in many ways; the message says which
        raise ReloadError(f"model_dir '{model_dir}' failed to load: {exc}") from exc
