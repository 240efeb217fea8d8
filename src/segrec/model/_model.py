"""The fitted model: assign, recommend and update users one at a time, without the training
Dataset.

A :class:`SegrecModel` holds the fitted parts (text encoder, featurizer, segment assigner,
recommender), the published segment profiles and a :class:`~segrec.model._store.UserStore`.
A new or changed user goes through exactly the featurizer and assigner the batch went through
(``transform`` on a one-user Dataset, or for plain events alone on their arrays,
:class:`~segrec.data._one_user.OneUserEvents`, tested equal), so a training user fed their own
history lands in their batch segment (measured in ``tests/model``).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from segrec._ids import positions
from segrec.data._one_user import OneUserEvents, plain_events, plain_user_dataset
from segrec.describe import SegmentProfiles
from segrec.diagnostics import UsageError
from segrec.model._store import UserStore, events_frame, texts_frame

__all__ = ["Assignment", "SegrecModel"]

_log = logging.getLogger(__name__)
#: id of the throw-away user an anonymous ``assign``/``recommend`` is computed for
_ANON = "__segrec_new_user__"
#: answers about fit-time users kept by :meth:`SegrecModel.recommend` and
#: :meth:`SegrecModel.segment_of` (a list with reasons is about 2 KB)
CACHE_SIZE = 20_000


@dataclass(frozen=True)
class Assignment:
    """A user's segment: ``segment_id`` and its name ``segment``, ``strength`` (1 on the centre,
    0 half-way to the next segment), the nearest ``alternative`` segment (id and name), the
    ``explanation`` (the segment's rule and the keywords the user wrote, in words),
    ``distance`` to the segment centre (NaN for segmentations without centres), ``far`` (farther
    than 99% of the fit's users: the segmentation may not describe this user) and, after an
    update, the ``previous`` segment id."""

    user_id: str | None
    segment_id: int
    segment: str
    strength: float
    alternative: int
    alternative_name: str | None
    explanation: str
    distance: float = float("nan")
    far: bool = False
    previous: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SegrecModel:
    """A fitted segrec model (see :func:`segrec.model.fit_model` and :func:`segrec.load_model`).

    >>> # model = segrec.load_model("run/model")
    >>> # model.assign(texts=["warm tone, great strings"]).segment
    >>> # model.recommend("u0001", k=5).frame()
    """

    def __init__(
        self,
        *,
        info: dict[str, Any],
        encoder: Any,
        featurizer: Any,
        assigner: Any,
        recommender: Any,
        profiles: SegmentProfiles,
        store: UserStore,
        segments: pd.DataFrame,
        reference: dict[str, Any],
        items: pd.DataFrame,
        map_points: pd.DataFrame | None = None,
    ) -> None:
        self.info = info
        self.encoder = encoder
        self.featurizer = featurizer
        self.assigner = assigner
        self.recommender = recommender
        self.profiles = profiles
        self.store = store
        #: user_id -> the batch assignment (segment_id as published, strength, distance)
        self.segments = segments.set_index("user_id")
        self.reference = reference
        #: item_id -> readable label ("B0002M6CVC (strings, ernie)") for lists and reasons
        self.item_labels = pd.Series(
            items.label.astype(str).to_numpy(), index=pd.Index(items.item_id.astype(str))
        )
        #: anonymous 2-D points of fitted users by segment (x, y, segment_id) for the
        #: dashboard; what the axes are is in ``info["map"]``
        self.map_points = map_points
        self._current: dict[str, Assignment] = {}
        self._labels: dict[str, int] = {}  # source (segmentation) label of changed users
        #: answers about users still at their fit-time state (their segment; their list per
        #: k): functions of the fitted parts alone, which change only when a user is forgotten
        self._fitted_answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.cache_size = CACHE_SIZE

    # -- what the model knows ---------------------------------------------------------------
    @property
    def user_ids(self) -> list[str]:
        """Every user the model knows: fitted users and those added by :meth:`update`."""
        extra = [u for u in self._current if u not in self.segments.index]
        return [*self.segments.index.astype(str), *extra]

    @property
    def segment_names(self) -> dict[int, str]:
        return self.profiles.names

    def segment_of(self, user_id: str) -> Assignment:
        """The current assignment of a known user (``404``-style UsageError otherwise)."""
        uid = str(user_id)
        if uid in self._current:
            return self._current[uid]
        if uid not in self.segments.index:
            raise UsageError(f"unknown user_id '{uid}'")
        out: Assignment = self._fitted_answer(("segment", uid), lambda: self._batch_assignment(uid))
        return out

    def _batch_assignment(self, uid: str) -> Assignment:
        row = self.segments.loc[uid]
        sid = int(row.segment_id)
        alt = int(row.get("alternative", -1))
        texts = self.store.rows("texts", uid).text.astype(str).tolist()
        return Assignment(
            uid,
            sid,
            self._name(sid),
            float(row.strength),
            alt,
            self._name(alt, None),
            self._explain(sid, texts),
            float(row.get("distance", np.nan)),
            bool(row.get("distance", 0) > self.reference.get("far_distance", np.inf)),
        )

    # -- one user ---------------------------------------------------------------------------
    def assign(
        self,
        texts: Sequence[Any] | None = None,
        events: Sequence[dict[str, Any]] | None = None,
        friends: Sequence[str] | None = None,
    ) -> Assignment:
        """The segment of a user the model has never seen, from what they wrote (``texts``:
        strings or dicts with ``text``), what they did (``events``: dicts with the interactions
        table's columns, ``item_id`` required) and the known users they name as ``friends``."""
        if not texts and not events and not friends:
            raise UsageError("assign needs texts, events or friends (at least one)")
        ds = self._new_user(events, texts, friends)
        return self._assignment(ds, _ANON, None, *self._detail(ds, [_ANON]))

    def assign_and_recommend(
        self,
        texts: Sequence[Any] | None = None,
        events: Sequence[dict[str, Any]] | None = None,
        friends: Sequence[str] | None = None,
        k: int = 10,
        reasons: bool = True,
    ) -> tuple[Assignment, Any]:
        """:meth:`assign` and :meth:`recommend` of one new user at once (cold start): their
        rows are featurized once, not twice."""
        if k < 1:
            raise UsageError(f"k must be a positive integer; got {k}")
        if not texts and not events and not friends:
            raise UsageError("assign needs texts, events or friends (at least one)")
        ds = self._new_user(events, texts, friends)
        detail, feats = self._detail(ds, [_ANON])
        rows = self._rows_from(ds, [_ANON], np.asarray(detail.labels, np.int64), feats)
        lists = self.recommender.recommend_rows(rows, k, reasons=reasons)
        return self._assignment(ds, _ANON, None, detail, feats), _rename(lists, None)

    def update(
        self,
        user_id: str,
        events: Sequence[dict[str, Any]] | None = None,
        texts: Sequence[Any] | None = None,
        friends: Sequence[str] | None = None,
    ) -> Assignment:
        """Fold new activity into ``user_id``'s state (a user unknown so far is created) and
        return the new assignment; the old one is kept as ``previous`` and in the history."""
        uid = str(user_id)
        if uid == _ANON:
            raise UsageError(f"user_id '{uid}' is reserved")
        before = self._previous(uid)
        ev, tx = self._frames(uid, events, texts)
        self.store.add(uid, ev, tx, list(friends or []))
        ds = self.store.user_dataset([uid])
        a = self._assign_dataset(ds, uid, user_id=uid, previous=before)
        self._current[uid] = a
        self.store.record(uid, a.segment_id, a.strength, a.distance, "update")
        return a

    def forget(self, user_id: str) -> dict[str, Any]:
        """Remove ``user_id``'s events, texts, ties, assignments, cached text vectors, published
        reviews and their own rows in the fitted parts (``scrubbed``: known-user indexes,
        factors, text vectors, friends, GCN hidden states; other users keep their rows and
        segments, see ``docs/privacy.md``); says what they contributed to that remains until a
        refit (centres, learned weights)."""
        uid = str(user_id)
        if uid not in self.segments.index and uid not in self._current:
            raise UsageError(f"unknown user_id '{uid}'")
        from segrec.model._forget import forget_reviews, forget_text_embeddings, scrub_parts

        # the cache purge and the reviews read the user's texts: before the store drops them
        removed = {
            **forget_text_embeddings(self.store, uid, self.encoder),
            **forget_reviews(self.profiles, self.store, uid),
            **self.store.remove(uid),
        }
        parts = {
            "featurizer": self.featurizer,
            "assigner": self.assigner,
            "recommender": self.recommender,
        }
        scrub = scrub_parts(parts, uid, (self.encoder,))
        self._fitted_answers.clear()  # scrubbing changed fitted parts other users' lists read
        was_fitted = uid in self.segments.index
        self.segments = self.segments.drop(index=uid, errors="ignore")
        self._current.pop(uid, None)
        self._labels.pop(uid, None)
        remains = [
            "segment centres and the featurizers' scalers",
            "published profile statistics",
            "the recommender's learned weights (item-item weights, item factors, other "
            "users' friend counts and GCN states computed with them)",
            "the dashboard map (anonymous points, no user ids)",
        ]
        if scrub.unsure:
            remains.append("rows not told apart from per-item rows: " + ", ".join(scrub.unsure))
        return {
            "user_id": uid,
            "removed": removed,
            "scrubbed": scrub.paths,
            "remains_until_refit": remains if was_fitted else [],
        }

    def recommend(
        self,
        user_id: str | None = None,
        k: int = 10,
        *,
        events: Sequence[dict[str, Any]] | None = None,
        texts: Sequence[Any] | None = None,
        friends: Sequence[str] | None = None,
        reasons: bool = True,
    ) -> Any:
        """Top ``k`` items with a reason each (:class:`~segrec.recommend.RecLists`), never an
        item the user already has. A known ``user_id``; or ``events``/``texts``/``friends``
        of a user the model has never seen (``user_id`` None)."""
        if k < 1:
            raise UsageError(f"k must be a positive integer; got {k}")
        if user_id is None:
            if not texts and not events and not friends:
                raise UsageError("recommend needs a user_id, or events/texts of a new user")
            return self.assign_and_recommend(texts, events, friends, k, reasons)[1]
        uid = str(user_id)
        return self._fitted_answer(
            ("list", uid, int(k), bool(reasons)),
            lambda: self.recommend_users([uid], k, reasons=reasons),
        )

    def _fitted_answer(self, key: tuple[Any, ...], compute: Any) -> Any:
        """``compute()``, kept (least recently used out) while user ``key[1]`` is at their
        fit-time state. An update takes a user out of ``store.fitted``, so a kept answer
        is never served after it; a forget clears them all. Answers are shared: read only."""
        if key[1] not in self.store.fitted or self.cache_size < 1:
            return compute()
        out = self._fitted_answers.get(key)
        if out is None:
            out = self._fitted_answers[key] = compute()
            if len(self._fitted_answers) > self.cache_size:
                self._fitted_answers.popitem(last=False)
        else:
            self._fitted_answers.move_to_end(key)
        return out

    def recommend_users(self, user_ids: Sequence[str], k: int = 10, reasons: bool = True) -> Any:
        """Top ``k`` for many known users at once (what ``recommendations.parquet`` holds)."""
        ids = [str(u) for u in user_ids]
        unknown = [u for u in ids if u not in self.segments.index and u not in self._current]
        if unknown:
            raise UsageError(f"unknown user_id '{unknown[0]}'")
        from dataclasses import replace

        from segrec.recommend._scorer import batch_rows

        # in chunks a dense users x items block allows: lists with reasons for every user of a
        # 100,000-item catalogue took 14.5 GB at once (issue 24)
        step = batch_rows(len(self.item_index))
        parts = [
            self.recommender.recommend_rows(self._rows_known(ids[i : i + step]), k, reasons=reasons)
            for i in range(0, max(len(ids), 1), step)
        ]
        if len(parts) == 1:
            return parts[0]
        return replace(
            parts[0],
            user_ids=pd.Index(ids, dtype="object", name="user_id"),
            items=[x for p in parts for x in p.items],
            scores=[x for p in parts for x in p.scores],
            reasons=None if not reasons else [x for p in parts for x in p.reasons or []],
        )

    # -- the folder, refresh and drift ------------------------------------------------------
    def current_frame(self) -> pd.DataFrame:
        """The assignments made by :meth:`update` since the fit (what ``current.parquet``
        keeps, so a saved and loaded model goes on from them), with each segmentation label."""
        rows = [
            {**a.to_dict(), "source_id": self._labels.get(u, -1)} for u, a in self._current.items()
        ]
        cols = [*Assignment.__dataclass_fields__, "source_id"]
        return pd.DataFrame(rows, columns=cols).astype({"user_id": "string"})

    def restore_current(self, frame: pd.DataFrame) -> None:
        """Take back the assignments :meth:`current_frame` saved."""
        for row in frame.to_dict("records"):
            src = int(row.pop("source_id"))
            prev = row.get("previous")
            row["previous"] = None if prev is None or prev != prev else int(prev)
            row["alternative_name"] = row.get("alternative_name") or None
            a = Assignment(**row)
            self._current[str(a.user_id)] = a
            self._labels[str(a.user_id)] = src

    def save(self, folder: Any) -> Any:
        """Write the model folder (see :mod:`segrec.model._persist`); returns its path."""
        from segrec.model._persist import save_model

        return save_model(self, folder)

    def refresh(self, dataset: Any, config: Any = None) -> tuple[SegrecModel, Any]:
        """Refit the same choices on ``dataset`` (new data) keeping segment ids stable; returns
        the new model and a :class:`~segrec.model.RefreshReport` (users moved, segments split,
        merged, appeared or vanished)."""
        from segrec.evaluate import EvalConfig
        from segrec.model._fit import Choice, fit_chosen, serving_dataset
        from segrec.model._refresh import refresh_report

        cfg = config if config is not None else EvalConfig(**self.info["config"])
        c = self.info["chosen"]
        choice = Choice(c["segmentation"], c["segmentation_params"], c["hybrid"], c.get("why", {}))
        new = fit_chosen(serving_dataset(dataset, cfg), cfg, choice, previous=self)
        report = refresh_report(new.segments.segment_id, self.segments.segment_id)
        new.info["refreshed_from"] = {
            "dataset": self.info.get("dataset"),
            "created_at": self.info.get("created_at"),
            "report": report.to_dict(),
        }
        return new, report

    def assign_dataset(self, dataset: Any) -> pd.DataFrame:
        """The segment of every user of ``dataset`` from their rows alone (batch ``assign``):
        user_id, segment_id (published), strength, alternative, distance, new (unknown to the
        model). The dataset is prepared as the model's training data was (the same event
        types, each user-item pair once)."""
        from segrec.evaluate import EvalConfig
        from segrec.model._fit import serving_dataset

        dataset = serving_dataset(dataset, EvalConfig(**self.info["config"]))
        uids = [str(u) for u in dataset.user_ids]
        detail, _ = self._detail(dataset, uids)
        pub = np.array([self._published(int(v)) for v in detail.labels], dtype=np.int64)
        alt = np.array([self._published(int(v)) for v in detail.alternative], dtype=np.int64)
        return pd.DataFrame(
            {
                "user_id": uids,
                "segment_id": pub,
                "strength": np.asarray(detail.strength, float),
                "alternative": np.where(alt == pub, -1, alt),
                "distance": np.asarray(detail.distance, float),
                "new": ~pd.Index(uids).isin(self.segments.index),
            }
        )

    def drift(
        self,
        dataset: Any = None,
        since: float | None = None,
        thresholds: Any = None,
        window: pd.DataFrame | None = None,
    ) -> Any:
        """A :class:`~segrec.model.DriftReport` of recent activity against the fit-time
        reference: the users of ``dataset`` assigned from their rows; or ``window``, recent
        assignments kept elsewhere (user_id, None for an anonymous one; segment_id as
        published; distance; the service passes its stored ones); or else the assignments
        recorded by :meth:`update` since ``since`` (a Unix time; default all)."""
        from segrec.model._drift import drift_report

        before = self.segments.segment_id.copy()
        before.index = before.index.astype(str)
        if dataset is not None:
            window = self.assign_dataset(dataset)
        elif window is not None:
            known = window.user_id.notna() & window.user_id.astype(str).isin(before.index)
            window = window.assign(new=~known.to_numpy(bool))
            if "distance" not in window:
                window["distance"] = np.nan
        else:
            hist = self.store.history()
            recent = hist[(hist.source != "fit") & (hist["at"] >= (since or 0))]
            window = recent.drop_duplicates("user_id", keep="last").reset_index(drop=True)
            window["new"] = ~window.user_id.isin(self.segments.index)
        return drift_report(self.reference, window, before, thresholds)

    # -- internals --------------------------------------------------------------------------
    def _frames(self, uid: str, events: Any, texts: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        now = int(time.time())
        ev = events_frame(uid, list(events or []), now)
        # a set lookup per event: Series.isin over the catalogue cost 0.2 s a call at 35,000 items
        unknown = self.unknown_items(ev.item_id.astype(str).tolist())
        if unknown:
            raise UsageError(
                f"events: unknown item_id '{unknown[0]}' ({len(unknown)} of {len(ev)} events); "
                "the model knows the items it was fit on"
            )
        return ev, texts_frame(uid, list(texts or []), now)

    @property
    def item_index(self) -> pd.Index:
        return self.recommender.item_ids_

    def unknown_items(self, items: list[str]) -> list[str]:
        """Those of ``items`` that are not known items (a set kept per item index)."""
        idx = self.item_index
        kept = getattr(self, "_item_set", None)
        if kept is None or kept[0] is not idx:
            kept = self._item_set = (idx, frozenset(idx.astype(str)))
        return [i for i in items if i not in kept[1]]

    def _previous(self, uid: str) -> int | None:
        try:
            return self.segment_of(uid).segment_id
        except UsageError:
            return None

    def _new_user(self, events: Any, texts: Any, friends: Sequence[str] | None) -> Any:
        """The one-user Dataset of an anonymous user's events, texts and named friends."""
        from segrec.model._store import user_dataset

        now = int(time.time())
        if not friends and not texts:
            fast = plain_events(_ANON, events, now)
            if fast is not None and not self.unknown_items(fast.items):
                return fast
        elif not friends:
            plain = plain_user_dataset(_ANON, events, texts, now)
            if plain is not None and not self.unknown_items([str(i) for i in plain.item_ids]):
                return plain
        ev, tx = self._frames(_ANON, events, texts)
        named = [str(f) for f in friends or []]
        ties = pd.DataFrame({"src": [_ANON] * len(named), "dst": named}, dtype="string")
        return user_dataset(ev, tx, ties)

    def _assign_dataset(
        self, ds: Any, uid: str, user_id: str | None, previous: int | None = None
    ) -> Assignment:
        return self._assignment(ds, uid, user_id, *self._detail(ds, [uid]), previous=previous)

    def _assignment(
        self,
        ds: Any,
        uid: str,
        user_id: str | None,
        detail: Any,
        feats: Any,
        previous: int | None = None,
    ) -> Assignment:
        """The :class:`Assignment` of ``uid`` (row 0 of ``detail``) as published."""
        if user_id is not None:
            self._labels[user_id] = int(detail.labels[0])
        sid = self._published(int(detail.labels[0]))
        alt = self._published(int(detail.alternative[0]))
        alt = -1 if alt == sid else alt
        dist = float(detail.distance[0])
        texts = (
            []
            if isinstance(ds, OneUserEvents)
            else ds.texts.text[ds.texts.user_id.astype(str) == uid].astype(str).tolist()
        )
        return Assignment(
            user_id,
            sid,
            self._name(sid),
            float(detail.strength[0]),
            alt,
            self._name(alt, None),
            self._explain(sid, texts),
            dist,
            bool(np.isfinite(dist) and dist > self.reference.get("far_distance", np.inf)),
            previous,
        )

    def _detail(self, ds: Any, uids: list[str]) -> tuple[Any, Any]:
        """(SegmentAssignment, UserFeatures) of ``uids`` from their rows in ``ds``."""
        feats = self.featurizer.transform(ds, uids) if self.featurizer is not None else None
        return self.assigner.predict_detail(feats, ds), feats

    def _published(self, source_id: int) -> int:
        return -1 if source_id < 0 else self.profiles.published_id(source_id)

    def _name(self, sid: int, default: str | None = "no segment") -> Any:
        return self.profiles.names.get(int(sid), default)

    def _explain(self, sid: int, texts: list[str]) -> str:
        """The segment's best rule and the segment keywords in the user's own texts."""
        from segrec.describe._rule_words import rule_in_words

        try:
            p = self.profiles[sid]
        except KeyError:
            return "no published segment fits this user"
        parts = []
        rules = (p.get("rules") or {}).get("rules") or []
        if rules:
            r = rules[0]
            words = rule_in_words(str(r.get("if", "")))
            parts.append(f"{words} (true of {r.get('precision', 0):.0%} of members)")
        kws = [k if isinstance(k, str) else str(k.get("term", k)) for k in p.get("keywords") or []]
        own = " ".join(texts).lower()
        hits = [k for k in kws if k.lower() in own]
        if hits:
            parts.append("wrote about " + ", ".join(hits[:5]))
        elif kws and not rules:
            parts.append("segment known for " + ", ".join(kws[:5]))
        return "; ".join(parts) or str(p.get("description") or p.get("name"))

    def _rows_known(self, ids: list[str]) -> Any:
        """Scoring rows of known users: the fit-time state where nothing changed, else their
        stored rows (events, texts, friends) with their current segment."""
        from segrec.recommend import UserRows

        fitted = np.array([u in self.store.fitted for u in ids], dtype=bool)
        parts, order = [], []
        if fitted.any():
            sel = [u for u, f in zip(ids, fitted, strict=True) if f]
            parts.append(UserRows.known(self.recommender, sel))
            order += sel
        if (~fitted).any():
            sel = [u for u, f in zip(ids, fitted, strict=True) if not f]
            ds = self.store.user_dataset(sel)
            labels = np.array([self._source_label(u) for u in sel], dtype=np.int64)
            parts.append(self._rows_from(ds, sel, labels))
            order += sel
        rows = parts[0] if len(parts) == 1 else UserRows.concat(parts)
        pos = positions(pd.Index(order), ids)
        return rows.take(pos)

    def _source_label(self, uid: str) -> int:
        """The segmentation's own id of ``uid``'s segment (segment-aware scoring uses it)."""
        if uid in self._labels:
            return self._labels[uid]
        return int(self.segments.loc[uid].source_id) if uid in self.segments.index else -1

    def _rows_from(self, ds: Any, uids: list[str], labels: np.ndarray, feats: Any = None) -> Any:
        """Rows of ``uids`` from their rows in ``ds`` (not fit-time state)."""
        from segrec.recommend import UserRows

        if feats is None and self.featurizer is not None:
            feats = self.featurizer.transform(ds, uids)
        return UserRows.from_dataset(self.recommender, ds, uids, labels, feats)


def _rename(lists: Any, user_id: str | None) -> Any:
    """Lists of the throw-away anonymous user, relabelled."""
    from dataclasses import replace

    return replace(lists, user_ids=pd.Index([user_id], dtype="object", name="user_id"))
