"""Column contracts of the five tables a :class:`~segrec.data.Dataset` holds.

Ids are strings outside (files, APIs, reports) and integer codes inside: every id column is a
pandas ``Categorical`` whose categories are the dataset's ``user_ids`` / ``item_ids`` index, so
``table.user_id.cat.codes`` is the integer code used by matrices and models.
"""

from __future__ import annotations

EVENT_TYPES = ("view", "click", "cart", "purchase", "rating", "play", "tag", "review", "checkin")
TEXT_KINDS = ("review", "summary", "tag", "comment")
SOCIAL_KINDS = ("friend", "trust", "follow")

#: table -> {column: pandas dtype}; extra columns are allowed in ``items`` (free attributes are
#: stored as JSON in ``attrs``) and in ``users`` (any attribute column).
SCHEMAS: dict[str, dict[str, str]] = {
    "interactions": {
        "user_id": "category",
        "item_id": "category",
        "timestamp": "int64",  # seconds since the Unix epoch, UTC
        "event": "category",
        "rating": "float64",  # NaN where the event carries no rating
        "weight": "float64",  # strength of the signal (play count, 1.0 for a click)
        "amount": "float64",  # money spent, NaN where unknown
        "seq": "int64",  # file order; ties on timestamp are broken by it
    },
    "texts": {
        "user_id": "category",
        "item_id": "category",  # may be missing (NaN) for texts about no item
        "timestamp": "Int64",  # nullable
        "text": "string",
        "kind": "category",
    },
    "items": {
        "item_id": "category",
        "title": "string",
        "categories": "string",  # '|'-separated, most general first
        "price": "float64",
        "brand": "string",
        "attrs": "string",  # JSON object of free attributes
    },
    "users": {"user_id": "category"},
    "social": {
        "src": "category",
        "dst": "category",
        "kind": "category",
        "weight": "float64",
    },
}

ID_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "interactions": (("user_id", "user"), ("item_id", "item")),
    "texts": (("user_id", "user"), ("item_id", "item")),
    "items": (("item_id", "item"),),
    "users": (("user_id", "user"),),
    "social": (("src", "user"), ("dst", "user")),
}

TABLES = tuple(SCHEMAS)
