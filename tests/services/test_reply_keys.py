"""A reply's idempotency key is its own beyond this database, and a status Mastodon gives
back for a key another database used (in another thread) is never recorded as this reply.
Mastodon stand-in on loopback, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.net.http import HttpClient, HttpLimits
from bot.publishers.base import ReplyTarget
from bot.publishers.mastodon import MastodonCredentials, MastodonPublisher
from bot.services.actors import CLI
from bot.services.replies import flush_replies
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from bot.services.workflow import do_approve, do_save_draft
from storage.db import transaction
from storage.models import Author, Mention, Workspace
from storage.models_replies import ReplyPost
from tests.harness.constants import CHANNEL_ID
from tests.publishers.fakes import FakeMastodon

ALICE = {"id": "77", "username": "alice", "acct": "alice"}


def _client(_trusted: bool) -> HttpClient:
    return HttpClient(limits=HttpLimits(read_timeout=5, total_timeout=10))


def _approved(sessions: sessionmaker[Session], fake: FakeMastodon, parent: dict) -> int:
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T1", allow_self_approval=True)
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    watch = do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id=CHANNEL_ID)
    source = do_add_source(
        sessions,
        workspace_id,
        CLI,
        kind="mastodon",
        watch_name="acme",
        values={
            "base_url": fake.base,
            "mode": "search",
            "query": "brand",
            "access_token": FakeMastodon.TOKEN,
        },
    )
    with transaction(sessions) as session:
        author = Author(workspace_id=workspace_id, network="mastodon", handle="alice")
        session.add(author)
        session.flush()
        mention = Mention(
            workspace_id=workspace_id,
            watch_id=watch.id,
            source_id=source.id,
            author_id=author.id,
            network="mastodon",
            external_id=parent["uri"],
            url=parent["url"],
            text="Thread B: where is my order?",
            language="en",
            slack_channel=CHANNEL_ID,
            published_at=datetime(2026, 11, 21, 8, tzinfo=UTC),
            priority=70,
        )
        session.add(mention)
        session.flush()
        mention_id = mention.id
    do_save_draft(sessions, workspace_id, CLI, mention_id, "Here is the answer for thread B")
    do_approve(sessions, workspace_id, CLI, mention_id, warnings_confirmed=True)
    with transaction(sessions) as session:
        session.execute(update(ReplyPost).values(next_attempt_at=datetime.now(UTC)))
    return mention_id


def test_a_queued_reply_key_is_unique_beyond_the_database(
    sessions: sessionmaker[Session], httpserver: HTTPServer, shared_data: Path
) -> None:
    fake = FakeMastodon(
        httpserver,
        lambda name: json.loads((shared_data / "api" / name).read_text(encoding="utf-8")),
    )
    parent = fake.add_status(text="Thread B", account=fake.template["account"] | ALICE)
    _approved(sessions, fake, parent)
    with sessions() as session:
        row = session.scalars(select(ReplyPost)).one()
    # The ids alone ("vigie-1-1") repeat in a restored backup or a staging copy.
    assert re.fullmatch(
        rf"vigie-{row.workspace_id}-{row.draft_id}-[0-9a-f]{{16}}", row.idempotency_key
    )
    (outcome,) = flush_replies(sessions, _client)
    assert outcome.status == "posted"
    (request,) = [r for r, _ in httpserver.log if r.method == "POST"]
    assert request.headers["Idempotency-Key"] == row.idempotency_key


def test_a_key_another_database_used_in_another_thread_is_not_recorded_as_posted(
    sessions: sessionmaker[Session], httpserver: HTTPServer, shared_data: Path
) -> None:
    fake = FakeMastodon(
        httpserver,
        lambda name: json.loads((shared_data / "api" / name).read_text(encoding="utf-8")),
    )
    account = fake.template["account"] | ALICE
    thread_a = fake.add_status(text="Thread A", account=account)
    thread_b = fake.add_status(text="Thread B", account=account)
    mention_id = _approved(sessions, fake, thread_b)
    old_key = "vigie-1-1"  # a row queued by a release before random keys keeps its key
    with transaction(sessions) as session:
        session.execute(update(ReplyPost).values(idempotency_key=old_key))
    # A staging copy posting from the same account used that key in thread A lately.
    with _client(True) as http:
        MastodonPublisher().publish(
            http,
            MastodonCredentials(instance_url=fake.base, access_token=SecretStr(FakeMastodon.TOKEN)),
            ReplyTarget("mastodon", thread_a["uri"], url=thread_a["url"]),
            "Sorry, we're on it (thread A)",
            old_key,
        )

    (outcome,) = flush_replies(sessions, _client)

    assert outcome.status == "failed"
    assert outcome.error == "this reply's key already holds another Mastodon post"
    with sessions() as session:
        row = session.scalars(select(ReplyPost)).one()
        mention = session.get(Mention, mention_id)
        assert row.external_id is None and mention is not None
        assert mention.status == "approved"
    assert fake.created and len(fake.created) == 1
