"""fts whole terms: SQLite's full-text index keeps each stored term as one token

Revision ID: 0066
Revises: 0065
Create Date: 2026-12-07 17:40:00

The FTS5 table of 0023 stores the query language's terms (bot.matching.search_terms)
separated by spaces, but its unicode61 tokenizer split them again: it reads combining
marks (a keycap's U+20E3, U+20DD, Indic vowel signs) as separators, while the query
language keeps them inside words. "Step 1️⃣" stored the term "1⃣" and FTS5 indexed "1", so
the search "step 1" found it though watch matching does not (and, the query being plain
ASCII, listings and exports trusted that hit unconfirmed); a word made of vowel signs
alone was never found, and the phrase "x y" matched "x ा y".

The table is made again with the ascii tokenizer: every character outside ASCII is part of
a token whatever Unicode version SQLite's tables know, so only the spaces between terms
(and ASCII punctuation, which terms never hold besides '_+#-') separate tokens. Every
mention is indexed again. PostgreSQL stores each term as a lexeme already: nothing to do.
The downgrade makes the unicode61 table of 0023 again and indexes every mention into it.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0066'
down_revision: str | None = '0065'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHOLE_TERMS = "ascii tokenchars '_+#-'"
SPLIT_TERMS = "unicode61 remove_diacritics 0 tokenchars '_+#-'"
"""0023's tokenizer."""


def _rebuild(tokenizer: str) -> None:
    from storage.search_index import index_pending

    if op.get_bind().dialect.name != 'sqlite':
        return
    # The trigger names the table: dropped with it, made again for the new one.
    op.execute("DROP TRIGGER IF EXISTS mention_search_delete")
    op.execute("DROP TABLE IF EXISTS mention_search_fts")
    op.execute("CREATE VIRTUAL TABLE mention_search_fts USING fts5(title, body, "
               f"tokenize = \"{tokenizer}\")")
    op.execute("CREATE TRIGGER mention_search_delete AFTER DELETE ON mentions BEGIN "
               "DELETE FROM mention_search_fts WHERE rowid = old.id; END")
    op.execute("INSERT OR IGNORE INTO mention_search_pending (mention_id) "
               "SELECT id FROM mentions")
    index_pending(op.get_bind(), aside=False)  # before 0069


def upgrade() -> None:
    _rebuild(WHOLE_TERMS)


def downgrade() -> None:
    _rebuild(SPLIT_TERMS)
