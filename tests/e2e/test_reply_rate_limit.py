"""A network's rate limit holds the account, not one reply: the account's other queued
replies wait until then without calling the network (so without an attempt), a long wait
(a daily cap) is honoured up to a day without failing the reply, and the card says until
when. Mastodon stand-in; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.services.cards import load_card_view
from bot.services.http_clients import http_factory
from bot.services.replies import MAX_RATE_LIMIT_WAIT, flush_replies
from bot.slack.cards import build_card
from storage.db import transaction
from storage.models import Draft, Mention
from storage.models_replies import ReplyPost
from tests.e2e.conftest import VigieApp
from tests.e2e.test_posting import mastodon_setup
from tests.publishers.fakes import Failure

NOW = datetime.now(UTC).replace(microsecond=0)


def _queue_approved(vigie: VigieApp, fake: object, first: int, count: int, *,
                    with_first: bool = True) -> list[int]:
    """``count`` approved mentions of the first one's source (``first`` itself among them
    when ``with_first``), each with its reply queued (as approval leaves them), due at
    ``NOW``."""
    ids = []
    with transaction(vigie.runtime.sessions) as session:
        model = session.get(Mention, first)
        assert model is not None
        for number in range(count):
            if number or not with_first:
                parent = fake.add_status(  # type: ignore[attr-defined]
                    text=f"Still waiting {number} {with_first}")
                mention = Mention(
                    workspace_id=model.workspace_id, watch_id=model.watch_id,
                    source_id=model.source_id, author_id=model.author_id,
                    network="mastodon", external_id=parent["uri"], url=parent["url"],
                    text=parent["content"], language="en",
                    published_at=model.published_at, priority=70)
                session.add(mention)
                session.flush()
            else:
                mention = model
            mention.status = "approved"
            draft = Draft(mention_id=mention.id, version=1, text=f"Sorry, on it ({number})")
            session.add(draft)
            session.flush()
            session.add(ReplyPost(workspace_id=mention.workspace_id, mention_id=mention.id,
                                  draft_id=draft.id, network="mastodon",
                                  idempotency_key=f"rate-limit-{mention.id}",
                                  next_attempt_at=NOW - timedelta(minutes=1)))
            ids.append(mention.id)
    return ids


def _rows(vigie: VigieApp) -> list[ReplyPost]:
    with vigie.runtime.sessions() as session:
        return list(session.scalars(select(ReplyPost).order_by(ReplyPost.id)))


def _writes(httpserver: HTTPServer) -> int:
    return sum(1 for request, _response in httpserver.log
               if request.method == "POST" and request.path == "/api/v1/statuses")


def test_a_rate_limit_holds_the_accounts_replies_without_spending_attempts(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    fake, first = mastodon_setup(vigie, httpserver, shared_data)
    mention_ids = _queue_approved(vigie, fake, first, 3)
    sessions, factory = vigie.runtime.sessions, http_factory(vigie.runtime.settings)
    # A daily cap: the network asks for 30 hours.
    fake.failure = Failure(429, {"error": "Too many requests"}, {"Retry-After": "108000"})
    outcomes = flush_replies(sessions, factory, now=NOW)
    assert [outcome.status for outcome in outcomes] == ["pending"] * 3
    assert _writes(httpserver) == 1  # the first reply asked; the other two waited
    rows = _rows(vigie)
    # The reply that asked made one call (posting it has started); the others made none.
    assert [row.attempts for row in rows] == [1, 0, 0]
    assert {row.status for row in rows} == {"pending"}
    until = NOW + MAX_RATE_LIMIT_WAIT
    assert {row.next_attempt_at.replace(tzinfo=UTC) for row in rows} == {until}
    # A reply approved meanwhile waits with them, without a network call.
    (late,) = _queue_approved(vigie, fake, first, 1, with_first=False)
    assert flush_replies(sessions, factory, now=NOW + timedelta(hours=1)) == []
    assert _writes(httpserver) == 1
    with sessions() as session:
        view = load_card_view(session, late)
        assert view is not None
        text = str(build_card(view, "en"))
        assert "Waiting for Mastodon's rate limit until" in text, text
        assert "limite de débit de Mastodon" in str(build_card(view, "fr"))
    # When the wait is over, every reply goes out, once.
    outcomes = flush_replies(sessions, factory, now=until + timedelta(seconds=1))
    assert sorted(outcome.status for outcome in outcomes) == ["posted"] * 4
    assert len(fake.created) == 4 and len(mention_ids) == 3
