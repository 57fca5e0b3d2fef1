"""Full-text search bookkeeping shared by both engines.

The index itself is engine-specific and lives outside the ORM metadata (migration 0023):
SQLite keeps an FTS5 table ``mention_search_fts`` (rowid = mention id, columns ``title``
and ``body``); PostgreSQL a table ``mention_search`` (mention id, ``doc tsvector``) with a
GIN index. Both hold the query language's own tokens (``bot.matching.search_terms``).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base

SEARCH_INDEX_TABLES = ("mention_search_fts", "mention_search")
"""Engine-specific index tables, made by migration 0023 outside the ORM metadata."""


def is_search_index_table(name: str) -> bool:
    """Whether ``name`` is an index table or one of the FTS5 shadow tables (``..._data``)."""
    return name in SEARCH_INDEX_TABLES or name.startswith("mention_search_fts_")


class MentionSearchPending(Base):
    """A mention whose text is not (or no longer) in the full-text index.

    Database triggers add a row when a mention is inserted or its text or title change,
    so no writer can forget; ``storage.search_index.index_pending`` indexes the text and
    removes the row. Searches treat pending mentions as candidates, so they are found
    before they are indexed.
    """

    __tablename__ = "mention_search_pending"

    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
