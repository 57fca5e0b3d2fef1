"""Migration 0066: SQLite's full-text index is made again with a tokenizer that keeps each
stored term whole (a keycap's mark, a vowel sign), every mention indexed again; the
downgrade makes 0023's table again, indexed. PostgreSQL has nothing to change (each term
is a lexeme already): its upgrade and downgrade run in test_migrations' round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from storage import migrations, search_index
from storage.db import make_engine
from storage.models import Mention, Watch, Workspace

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TEXTS = ["Step 1\ufe0f\u20e3 done", "x \u093e y", "step 1 failed"]


def _seed(engine: Engine) -> list[int]:
    with Session(engine) as session:
        # Core inserts: the columns of that revision only (the models hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG66")
                                       .returning(Workspace.id)).scalar_one()
        watch_id = session.execute(insert(Watch).values(
            workspace_id=workspace_id, name="acme", channel_id="C0ACME001")
            .returning(Watch.id)).scalar_one()
        ids = [session.execute(insert(Mention).values(
            workspace_id=workspace_id, watch_id=watch_id, network="mastodon",
            external_id=str(n), url=f"https://toot.example/@a/{n}", text=body,
            published_at=NOW).returning(Mention.id)).scalar_one()
            for n, body in enumerate(TEXTS)]
        search_index.index_pending(session, aside=False)  # the schema of 0065, before 0069
        session.commit()
    return ids


def _hits(engine: Engine, match: str) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(text(
            "SELECT rowid FROM mention_search_fts WHERE mention_search_fts MATCH :q"),
            {"q": match}).scalars())


def _state(engine: Engine) -> tuple[str, int]:
    with engine.connect() as conn:
        sql = conn.execute(text("SELECT sql FROM sqlite_master "
                                "WHERE name = 'mention_search_fts'")).scalar_one()
        return sql, search_index.pending_count(conn)


def test_the_index_is_made_again_with_whole_terms_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm66.db'}"
    migrations.upgrade(url, "0065")
    engine = make_engine(url)
    try:
        keycap, sign, plain = _seed(engine)
        # 0023's tokenizer split the stored terms at their marks.
        assert _hits(engine, '"1"') == [keycap, plain]
        assert _hits(engine, '"x y"') == [sign]

        migrations.upgrade(url, "0066")
        sql, pending = _state(engine)
        assert "ascii" in sql and pending == 0
        assert _hits(engine, '"1"') == [plain]
        assert _hits(engine, '"1\u20e3"') == [keycap]
        assert _hits(engine, '"x y"') == []
        assert _hits(engine, '"\u093e"') == [sign]
        with Session(engine) as session:  # the delete trigger names the new table
            session.execute(text("DELETE FROM mentions WHERE id = :id"), {"id": plain})
            session.commit()
        assert _hits(engine, '"1"') == []

        migrations.downgrade(url, "0065")
        sql, pending = _state(engine)
        assert "unicode61" in sql and pending == 0
        assert _hits(engine, '"1"') == [keycap]
        assert _hits(engine, '"x y"') == [sign]
    finally:
        engine.dispose()
