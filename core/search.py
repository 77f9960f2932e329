"""Full-text search over items (number, text, address) — the index is made by migration 0003.

SQLite: the FTS5 table ``items_fts`` (kept by triggers), each word matched as a prefix.
PostgreSQL: a GIN index on ``PG_DOCUMENT``; the query uses the very same expression so the
planner can use the index.
"""
from __future__ import annotations

import re

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.sql import literal_column

from db.models import Item

PG_DOCUMENT = (
    "to_tsvector('russian', coalesce(items.number, '') || ' ' || coalesce(items.text, '') || ' ' || "
    "coalesce(items.address, ''))"
)
_WORD = re.compile(r"[\w-]+", re.UNICODE)
_NUMBER = re.compile(r"^\d{4}-\d{6}$")
MAX_WORDS = 8


def search_words(query: str) -> list[str]:
    """The words of a typed query, at most MAX_WORDS; punctuation and FTS syntax are dropped."""
    return [w.strip("-") for w in _WORD.findall(query.lower()) if w.strip("-")][:MAX_WORDS]


def item_matches(query: str, dialect: str) -> ColumnElement[bool] | None:
    """A WHERE clause for items matching every word of ``query``; None for an empty query."""
    if _NUMBER.match(query.strip()):
        return Item.number == query.strip()  # a full item number: the unique index
    words = search_words(query)
    if not words:
        return None
    if dialect == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in (re.sub(r"[^\w]", "", w) for w in words) if w)
        if not tsquery:
            return None
        return literal_column(PG_DOCUMENT).op("@@")(
            text("to_tsquery('russian', :search_q)").bindparams(search_q=tsquery)
        )
    # FTS5: each word quoted (no operators from the user) and matched as a prefix.
    match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    fts = select(literal_column("rowid")).select_from(text("items_fts")).where(
        text("items_fts MATCH :search_q").bindparams(search_q=match)
    )
    return Item.id.in_(fts)
