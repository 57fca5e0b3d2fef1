"""Approved replies are posted back (Mastodon stand-in), once, even across a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.messages.notes import NetworkName, Note
from bot.messages.stored import payload_spec
from bot.services.actors import CLI
from bot.services.http_clients import http_factory
from bot.services.ingest import do_ingest
from bot.services.outbox import KIND_CARD, KIND_THREAD, do_enqueue
from bot.services.replies import flush_replies
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Author, Draft, Mention, OutboxMessage, Watch
from storage.models_replies import ReplyPost
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_workflow import buttons, card, grant, settle, status, thread_notes
from tests.harness.constants import CHANNEL_ID, OTHER_USER_ID, TEAM_ID
from tests.publishers.fakes import Failure, FakeMastodon, FakeX, with_field


def mastodon_setup(vigie: VigieApp, httpserver: HTTPServer, shared_data: Path
                   ) -> tuple[FakeMastodon, int]:
    fake = FakeMastodon(httpserver, lambda name: json.loads(
        (shared_data / "api" / name).read_text(encoding="utf-8")))
    # Written by alice, a local account of the instance (her acct has no domain).
    parent = fake.add_status(text="Is @brand down again? My order never arrived",
                             account=fake.template["account"] | {
                                 "id": "77", "username": "alice", "acct": "alice"})
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    sessions = vigie.runtime.sessions
    do_add_watch(sessions, workspace.id, CLI, name="acme", query="", channel_id=CHANNEL_ID)
    source = do_add_source(sessions, workspace.id, CLI, kind="mastodon", watch_name="acme",
                           values={"base_url": fake.base, "mode": "search", "query": "brand",
                                   "access_token": FakeMastodon.TOKEN})
    with transaction(sessions) as session:
        author = Author(workspace_id=workspace.id, network="mastodon", handle="alice")
        session.add(author)
        session.flush()
        mention = Mention(workspace_id=workspace.id, watch_id=1, source_id=source.id,
                          author_id=author.id, network="mastodon", external_id=parent["uri"],
                          url=parent["url"], text="Is @brand down again?", language="en",
                          published_at=datetime(2026, 11, 21, 8, tzinfo=UTC), priority=70)
        session.add(mention)
        session.flush()
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention.id)
        mention_id = mention.id
    vigie.runtime.outbox.flush(wait=True)
    return fake, mention_id


def reply_status(vigie: VigieApp) -> str | None:
    with vigie.runtime.sessions() as session:
        row = session.scalars(select(ReplyPost)).first()
        return row.status if row else None


def _error_recorded(vigie: VigieApp) -> bool:
    with vigie.runtime.sessions() as session:
        row = session.scalars(select(ReplyPost)).first()
        return row is not None and row.error is not None


def _rate_limited_calls(vigie: VigieApp) -> int:
    with vigie.runtime.sessions() as session:
        row = session.scalars(select(ReplyPost)).first()
        return row.rate_limited_calls if row else 0


def approve(vigie: VigieApp, mention_id: int, *, text: str = "Sorry @alice, we're on it!",
            version: int = 1) -> None:
    """Draft ``text`` as version ``version`` and have another member approve it."""
    drafted = vigie.slack.command_answer(f"draft {mention_id} {text}")
    assert "saved" in drafted["text"], drafted
    grant(vigie, OTHER_USER_ID, "approver")
    # The default draft tags @alice, who is not in the conversation: its warning is confirmed.
    reply = vigie.slack.command_answer(f"approve {mention_id} v{version} confirm",
                                       user_id=OTHER_USER_ID)
    assert "being posted" in reply["text"], reply


def test_approved_reply_is_posted_once_and_recorded(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    approve(vigie, mention_id)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    assert len(fake.created) == 1
    posted = fake.statuses[fake.created[0]]
    assert posted["in_reply_to_id"] is not None
    settle(vigie)
    with vigie.runtime.sessions() as session:
        row = session.scalars(select(ReplyPost)).one()
        mention = session.get(Mention, mention_id)
        assert row.status == "posted" and mention is not None
        assert mention.reply_url == row.url and mention.first_response_at is not None
    assert any("Reply posted" in note for note in thread_notes(vigie))
    assert flush_replies(vigie.runtime.sessions, http_factory(vigie.runtime.settings)) == []
    assert len(fake.created) == 1


def test_a_reply_answered_without_a_valid_link_is_recorded_without_one(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    # The instance answered uri and url "x": the thread said "Reply posted: x" and the
    # mention's reply link (exports, App Home) was "x".
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    httpserver.expect_oneshot_request("/api/v1/statuses", method="POST").respond_with_handler(
        with_field(with_field(fake._post, ("uri",), "x"), ("url",), "x"))
    approve(vigie, mention_id)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    settle(vigie)
    with vigie.runtime.sessions() as session:
        row = session.scalars(select(ReplyPost)).one()
        mention = session.get(Mention, mention_id)
        assert row.status == "posted" and row.url is None
        assert mention is not None and mention.reply_url is None
    (note,) = [n for n in thread_notes(vigie) if "Reply posted" in n]
    assert note == (":white_check_mark: Reply posted (Mastodon gave no valid link to it: "
                    "find it on the brand account).")
    # The note carries the network itself, named when sent in the reader's language.
    with vigie.runtime.sessions() as session:
        notes = [payload_spec(payload) for payload in session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == KIND_THREAD))]
    (posted,) = [phrase for spec in notes if isinstance(spec, Note)
                 for phrase in spec.phrases if phrase.key == "replies.note_posted_no_link"]
    assert dict(posted.args)["network"] == NetworkName("mastodon")
    assert "Our reply" not in str(card(vigie, mention_id)["blocks"])
    assert len(fake.created) == 1


def test_crash_after_the_post_never_posts_twice(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    # The network stores the post but the answer is lost, as in a crash mid-call.
    fake.failure = Failure(500, after_write=True)
    approve(vigie, mention_id)
    eventually(lambda: len(fake.created) == 1 and _error_recorded(vigie), timeout=15)
    with transaction(vigie.runtime.sessions) as session:
        row = session.scalars(select(ReplyPost)).one()
        assert row.status == "pending" and row.attempts == 1
        row.next_attempt_at = datetime.now(UTC)
    outcomes = flush_replies(vigie.runtime.sessions, http_factory(vigie.runtime.settings))
    assert [o.status for o in outcomes] == ["posted"]
    assert len(fake.created) == 1  # reconciled, not posted again
    assert status(vigie, mention_id) == "replied"


def test_failure_shows_on_the_card_with_retry(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    fake.failure = Failure(422, {"error": "Validation failed: Text character limit exceeded"})
    approve(vigie, mention_id)
    eventually(lambda: reply_status(vigie) == "failed", timeout=15)
    settle(vigie)
    assert any("could not be posted" in note for note in thread_notes(vigie))
    updated = card(vigie, mention_id)
    assert buttons(updated)[0] == "vigie.retry" and "Posting failed" in str(updated["blocks"])
    vigie.slack.block_action("vigie.retry", message_ts=updated["ts"], user_id=ADMIN_ID)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    assert len(fake.created) == 1


def test_mark_replied_is_refused_while_the_post_is_in_flight(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    # Rate limited for ten minutes: the reply stays queued, nothing is posted meanwhile.
    fake.failure = Failure(429, {"error": "Too many requests"}, {"Retry-After": "600"})
    approve(vigie, mention_id)
    eventually(lambda: fake.failure is None and _rate_limited_calls(vigie) == 1)
    assert reply_status(vigie) == "pending" and fake.created == []
    refused = vigie.slack.command_answer(f"replied {mention_id}")["text"]
    assert "is being posted" in refused
    assert status(vigie, mention_id) == "approved"


def x_setup(vigie: VigieApp, httpserver: HTTPServer, tweet: str) -> tuple[FakeX, int]:
    """An X source replying through the X stand-in, and a card for alice's ``tweet``."""
    fake = FakeX(httpserver)
    fake.authors[tweet] = "alice"
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    sessions = vigie.runtime.sessions
    do_add_watch(sessions, workspace.id, CLI, name="acme", query="", channel_id=CHANNEL_ID)
    source = do_add_source(sessions, workspace.id, CLI, kind="x", watch_name="acme",
                           values={"base_url": fake.base, "query": "acme",
                                   "bearer_token": "app-bearer", "reply_token": fake.TOKEN})
    with transaction(sessions) as session:
        author = Author(workspace_id=workspace.id, network="x", handle="alice")
        session.add(author)
        session.flush()
        mention = Mention(workspace_id=workspace.id, watch_id=1, source_id=source.id,
                          author_id=author.id, network="x", external_id=tweet,
                          url=f"https://x.com/alice/status/{tweet}",
                          text="@acme my order never arrived", language="en",
                          published_at=datetime(2026, 11, 21, 8, tzinfo=UTC), priority=70)
        session.add(mention)
        session.flush()
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention.id)
        mention_id = mention.id
    vigie.runtime.outbox.flush(wait=True)
    return fake, mention_id


def _retry_now(vigie: VigieApp) -> None:
    sessions = vigie.runtime.sessions
    with transaction(sessions) as session:
        session.scalars(select(ReplyPost)).one().next_attempt_at = datetime.now(UTC)
    flush_replies(sessions, http_factory(vigie.runtime.settings))
    settle(vigie)


def test_an_x_reply_whose_answer_was_lost_is_found_not_failed(
        vigie_sqlite: VigieApp, httpserver: HTTPServer) -> None:
    """X stores the reply as "@alice ..." with its bare domain as t.co; the retry finds it."""
    vigie = vigie_sqlite
    fake, mention_id = x_setup(vigie, httpserver, "1920000000000000001")
    fake.failure = Failure(500, after_write=True)  # X stores the post, the answer is lost
    approve(vigie, mention_id, text="Sorry to hear that! Track it at acme.help/orders")

    eventually(lambda: _error_recorded(vigie), timeout=15)
    assert reply_status(vigie) == "pending"
    settle(vigie)
    assert any(":outbox_tray: Posting the reply on X…" in n for n in thread_notes(vigie))
    _retry_now(vigie)

    assert reply_status(vigie) == "posted"
    assert status(vigie, mention_id) == "replied"
    assert len(fake.tweets) == 1
    assert fake.tweets[0]["text"].startswith("@alice Sorry to hear that! Track it at https://t.co/")
    assert "Posting failed" not in str(card(vigie, mention_id)["blocks"])


def test_a_retry_answers_the_post_its_first_attempt_did(
        vigie_sqlite: VigieApp, httpserver: HTTPServer) -> None:
    """The customer writes again between a lost answer and the retry: the retry looks for
    the reply under the post it was sent to, finds it, and posts nothing more."""
    vigie = vigie_sqlite
    tweet = "1920000000000000001"
    fake, mention_id = x_setup(vigie, httpserver, tweet)
    fake.failure = Failure(500, after_write=True)
    approve(vigie, mention_id, text="Sorry to hear that, we're on it.")
    eventually(lambda: _error_recorded(vigie), timeout=15)
    with transaction(vigie.runtime.sessions) as session:
        first = session.get(Mention, mention_id)
        assert first is not None
        watch = session.get(Watch, first.watch_id)
        assert watch is not None
        do_ingest(session, watch, None, [FetchedMention(
            network="x", external_id="1920000000000000009",
            url="https://x.com/alice/status/1920000000000000009",
            author=FetchedAuthor("alice"), text="@acme hello?? still nothing",
            published_at=datetime.now(UTC), parent_external_id=tweet)],
            now=datetime.now(UTC))

    _retry_now(vigie)

    assert reply_status(vigie) == "posted"
    assert len(fake.tweets) == 1
    assert fake.tweets[0]["referenced_tweets"] == [{"type": "replied_to", "id": tweet}]


def test_a_mastodon_reply_mentions_the_customer_as_approved_and_as_posted(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    """A reply to a direct post reaches only whom it mentions: the draft mentions the
    author (the approver sees it, it is counted), and that very text is posted."""
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    (parent,) = fake.statuses.values()
    parent["visibility"] = "direct"
    approve(vigie, mention_id, text="Hi Alice, we're sorry. Our team is looking into it.")
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    settle(vigie)

    (posted,) = [r.get_json() for r, _ in httpserver.log
                 if r.method == "POST" and r.path == "/api/v1/statuses"]
    assert posted["status"] == "@alice Hi Alice, we're sorry. Our team is looking into it."
    assert posted["visibility"] == "direct"
    assert any(posted["status"] in note for note in thread_notes(vigie))  # as approved
    with vigie.runtime.sessions() as session:
        (draft,) = session.scalars(select(Draft)).all()
        assert draft.text == posted["status"]
