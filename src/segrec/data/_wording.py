"""Words for what users did, from the dataset's events.

Reasons and segment names speak of what users did with items. On a shop that is buying
("similar to X you bought", "Budget guitar lapsed buyers"); on Last.fm tag events it is tagging,
on MovieLens rating, on Yelp reviewing. Saying "bought" of a film someone rated is wrong, so
the words come from the events of the data at hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from segrec.data._dataset import Dataset

__all__ = ["SHOP", "Wording", "text_noun", "wording"]


@dataclass(frozen=True)
class Wording:
    """``verb``: past tense of the action ("bought"); ``people``: those who do it, as a group
    ("shoppers"); ``actor``: one who did it to an item ("buyer"); ``gerund``: the action going
    on ("buying")."""

    verb: str
    people: str
    actor: str
    gerund: str

    def actors(self, n: int) -> str:
        """'1 buyer', '3 buyers'."""
        return f"{n} {self.actor}{'' if n == 1 else 's'}"


SHOP = Wording("bought", "shoppers", "buyer", "buying")
#: event name prefixes -> wording, first match wins; a log with any purchase-like event is a shop
_BY_EVENT = (
    (("purchase", "order", "cart", "checkout", "buy", "transaction"), SHOP),
    (("review",), Wording("reviewed", "reviewers", "reviewer", "reviewing")),
    (("rating", "rate", "rated"), Wording("rated", "raters", "rater", "rating")),
    (("play", "listen", "scrobble"), Wording("played", "listeners", "listener", "playing")),
    (("tag",), Wording("tagged", "taggers", "tagger", "tagging")),
    (("view", "click", "visit"), Wording("viewed", "visitors", "viewer", "viewing")),
)
_ANY = Wording("chose", "users", "user", "choosing")


def _match(event: str) -> Wording | None:
    e = event.strip().lower()
    for prefixes, w in _BY_EVENT:
        if e.startswith(prefixes):
            return w
    return None


def wording(ds: Dataset) -> Wording:
    """The wording of ``ds``: a shop's when any interaction is purchase-like, else that of its
    most frequent event ("review", "rating", "play", "tag", "view", ...), else neutral
    ("chose", "users"). A dataset without an event column is taken for a shop.

    ``ds.meta["event_types"]``, where a derived dataset records them, lists the event types
    of the data it came from: deduplicating (user, item) pairs keeps a shop's views and
    drops its purchases, and that is still a shop."""
    if any(_match(str(e)) is SHOP for e in ds.meta.get("event_types", ())):
        return SHOP
    it = ds.interactions
    if "event" not in it or not len(it):
        return SHOP
    counts = it["event"].astype("string").fillna("").value_counts()
    if any(_match(str(e)) is SHOP for e in counts.index):
        return SHOP
    return _match(str(counts.index[0])) or _ANY


_TEXT_PLURAL = {"review": "reviews", "summary": "summaries", "tag": "tags", "comment": "comments"}


def text_noun(ds: Dataset) -> str:
    """What the dataset's texts are, in the plural, by their most frequent ``kind``: "reviews"
    (Amazon), "tags" (Last.fm, MovieLens), "comments"; "texts" when the kind says nothing."""
    t = ds.texts
    if "kind" not in t or not len(t):
        return "texts"
    kinds = t["kind"].astype("string").dropna()
    if not len(kinds):
        return "texts"
    return _TEXT_PLURAL.get(str(kinds.value_counts().index[0]).strip().lower(), "texts")
