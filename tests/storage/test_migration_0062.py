"""Migration 0062: a failed reply whose reason ``reply_posts.error`` held as a phrase (JSON)
gets its English words there again, which every release shows, and the phrase in
``error_phrase``, which this release words in the workspace's language; words stay as they
are; the downgrade keeps the words. More rows than a batch; SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.orm import Session

from bot.messages.notes import phrase_to_json
from bot.services.reply_queue import RATE_LIMITED, failure_reason
from bot.slack.phrases import render_phrase
from storage import migrations
from storage.db import make_engine
from storage.models import Draft, Mention, Watch, Workspace
from storage.models_replies import ReplyPost
from tests.publishers.test_error_phrases import _refused

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
REFUSED = _refused("too long <b>")
WORDS = "Mastodon refused the reply (toot.example answered HTTP 422: too long <b>)"
AS_JSON = json.dumps(phrase_to_json(REFUSED.phrase), ensure_ascii=False)
"""How the release before 0062 stored the reason (``error_to_column``)."""
NEWER = AS_JSON.replace('"publish.refused"', '"publish.from_the_future"', 1)
BATCH = 500
"""The migration's."""

# error as stored before 0062 -> (error, has a phrase) after it.
ROWS = {
    AS_JSON: (WORDS, True),
    RATE_LIMITED + AS_JSON: (RATE_LIMITED + WORDS, True),
    NEWER: (WORDS, True),
    WORDS: (WORDS, False),  # a release before phrases
    "mention is replied": ("mention is replied", False),
    None: (None, False),
}
MANY = 2 * BATCH + 1
"""Replies failed with the phrase in ``error`` besides ``ROWS``: more than two batches."""


def _seed(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        # Core inserts: the columns of that revision only (the models hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG62")
                                       .returning(Workspace.id)).scalar_one()
        watch_id = session.execute(insert(Watch).values(
            workspace_id=workspace_id, name="acme", channel_id="C0ACME001")
            .returning(Watch.id)).scalar_one()
        mention_id = session.execute(insert(Mention).values(
            workspace_id=workspace_id, watch_id=watch_id, network="mastodon",
            external_id="1", url="https://toot.example/@a/1", text="words",
            published_at=NOW).returning(Mention.id)).scalar_one()
        errors = [*ROWS, *[AS_JSON] * MANY]
        session.execute(insert(Draft), [
            {"mention_id": mention_id, "version": n + 1, "text": "Sorry!", "risk_flags": []}
            for n in range(len(errors))])
        draft_ids = session.scalars(select(Draft.id).order_by(Draft.id)).all()
        session.execute(insert(ReplyPost), [
            {"workspace_id": workspace_id, "mention_id": mention_id, "draft_id": draft_id,
             "network": "mastodon", "idempotency_key": f"key-{draft_id}", "status": "failed",
             "error": error} for draft_id, error in zip(draft_ids, errors, strict=True)])
        session.commit()
    engine.dispose()


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0061")
    _seed(url)

    migrations.upgrade(url, "0062")
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.scalars(select(ReplyPost).order_by(ReplyPost.id)).all()
        for row, (before, (error, has_phrase)) in zip(rows, ROWS.items(), strict=False):
            assert (row.error, row.error_phrase is not None) == (error, has_phrase), before
        moved = rows[len(ROWS):]
        assert len(moved) == MANY
        assert {(row.error, row.error_phrase) for row in moved} == {(WORDS, AS_JSON)}
        reasons = [failure_reason(row) for row in rows[:3]]
    engine.dispose()
    # This release words the phrase in the reader's language; a phrase it does not know
    # (a newer release's) is its English words.
    assert reasons[:2] == [REFUSED.phrase, REFUSED.phrase] and reasons[2] == WORDS
    assert render_phrase(REFUSED.phrase, "fr").startswith("Mastodon a refusé la réponse")

    migrations.downgrade(url, "0061")
    engine = make_engine(url)
    assert "error_phrase" not in {c["name"] for c in inspect(engine).get_columns("reply_posts")}
    with engine.connect() as conn:
        errors = conn.execute(text("SELECT error FROM reply_posts ORDER BY id")).scalars().all()
    engine.dispose()
    assert errors == [error for error, _ in ROWS.values()] + [WORDS] * MANY
    migrations.upgrade(url)


def test_sqlite_reply_errors_keep_their_words_beside_their_phrase(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm62.db'}")


@pytest.mark.postgres
def test_postgres_reply_errors_keep_their_words_beside_their_phrase(
        fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
