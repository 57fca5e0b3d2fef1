"""A network's rate limit holds the account, not one reply: the account's other queued
replies wait until then without calling the network (so without an attempt), a long wait
(a daily cap) is honoured up to a day without failing the reply, and the card says until
when. Mastodon stand-in; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.publishers.bluesky import BlueskyCredentials
from bot.publishers.mastodon import MastodonCredentials
from bot.publishers.x import XCredentials
from bot.services import workflow
from bot.services.actors import CLI, Actor
from bot.services.cards import load_card_view
from bot.services.errors import ServiceError
from bot.services.http_clients import http_factory
from bot.services.replies import (
    MAX_ATTEMPTS,
    MAX_RATE_LIMIT_WAIT,
    account_key,
    flush_replies,
)
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from bot.slack.cards import build_card
from storage.db import transaction
from storage.models import Approval, Author, Mention, SourceRow
from storage.models_replies import ReplyPost
from tests.e2e.conftest import VigieApp
from tests.e2e.test_posting import mastodon_setup, x_setup
from tests.e2e.test_workflow import grant
from tests.harness.constants import OTHER_USER_ID, TEAM_ID
from tests.harness.replies import queue_approved_reply
from tests.publishers.fakes import Failure, FakeMastodon, wait_until_dropped_are_logged

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
            queue_approved_reply(session, mention, network="mastodon",
                                 key=f"rate-limit-{mention.id}",
                                 due=NOW - timedelta(minutes=1),
                                 text=f"Sorry, on it ({number})")
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
    # Replies are taken one at a time: the first asked, the other two wait, never taken.
    assert [outcome.status for outcome in outcomes] == ["pending"]
    assert _writes(httpserver) == 1
    rows = _rows(vigie)
    # No reply spent an attempt; the one that asked made a call (posting it has started).
    assert [row.attempts for row in rows] == [0, 0, 0]
    assert [row.rate_limited_calls for row in rows] == [1, 0, 0]
    assert {row.status for row in rows} == {"pending"}
    until = NOW + MAX_RATE_LIMIT_WAIT
    assert {row.next_attempt_at.replace(tzinfo=UTC) for row in rows} == {until}
    # A reply approved meanwhile waits with them, without a network call.
    (late,) = _queue_approved(vigie, fake, first, 1, with_first=False)
    assert flush_replies(sessions, factory, now=NOW + timedelta(hours=1)) == []
    assert _writes(httpserver) == 1
    assert [(row.attempts, row.rate_limited_calls) for row in _rows(vigie)] == [
        (0, 1), (0, 0), (0, 0), (0, 0)]
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


def test_rate_limits_spend_no_attempts_a_later_transient_error_is_retried(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    # Reported: each rate-limited call kept its attempt, so a reply held over several
    # daily caps was failed for good by its first transient error (MAX_ATTEMPTS).
    fake, first = mastodon_setup(vigie, httpserver, shared_data)
    _queue_approved(vigie, fake, first, 1)
    sessions, factory = vigie.runtime.sessions, http_factory(vigie.runtime.settings)
    moment = NOW
    for _ in range(MAX_ATTEMPTS + 2):
        fake.failure = Failure(429, {"error": "Too many requests"}, {"Retry-After": "60"})
        outcomes = flush_replies(sessions, factory, now=moment)
        assert [outcome.status for outcome in outcomes] == ["pending"]
        moment += timedelta(minutes=2)
    (row,) = _rows(vigie)
    assert (row.status, row.attempts, row.rate_limited_calls) == (
        "pending", 0, MAX_ATTEMPTS + 2)
    # A transient error afterwards is the reply's first real failure: it is retried.
    fake.failure = Failure(drop=True)  # the line drops: a transient network error
    outcomes = flush_replies(sessions, factory, now=moment)
    assert [outcome.status for outcome in outcomes] == ["pending"], outcomes
    (row,) = _rows(vigie)
    assert (row.status, row.attempts) == ("pending", 1)
    outcomes = flush_replies(sessions, factory,
                             now=row.next_attempt_at.replace(tzinfo=UTC) + timedelta(seconds=1))
    assert [outcome.status for outcome in outcomes] == ["posted"]
    assert len(fake.created) == 1
    wait_until_dropped_are_logged(httpserver)


def test_a_reply_held_without_a_call_can_be_withdrawn_the_limited_one_cannot(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    # A reply approved while its account waits makes no call: posting it has not started.
    fake, first = mastodon_setup(vigie, httpserver, shared_data)
    _queue_approved(vigie, fake, first, 1)
    sessions, factory = vigie.runtime.sessions, http_factory(vigie.runtime.settings)
    fake.failure = Failure(429, {"error": "Too many requests"}, {"Retry-After": "600"})
    assert [o.status for o in flush_replies(sessions, factory, now=NOW)] == ["pending"]
    (late,) = _queue_approved(vigie, fake, first, 1, with_first=False)
    assert flush_replies(sessions, factory, now=NOW + timedelta(minutes=1)) == []
    assert [(row.attempts, row.rate_limited_calls) for row in _rows(vigie)] == [(0, 1), (0, 0)]
    with transaction(sessions) as session:
        for row in session.scalars(select(ReplyPost)):
            session.add(Approval(draft_id=row.draft_id, mention_id=row.mention_id,
                                 approver_user_id=OTHER_USER_ID, decision="approved",
                                 draft_version=1))
    grant(vigie, OTHER_USER_ID, "approver")
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    approver = Actor(OTHER_USER_ID, "slash_command")
    workflow.do_withdraw(sessions, workspace_id, approver, late)
    with pytest.raises(ServiceError) as refused:
        workflow.do_withdraw(sessions, workspace_id, approver, first)
    assert refused.value.key == "workflow.posting_started"
    assert [row.status for row in _rows(vigie)] == ["pending", "cancelled"]


def test_a_rate_limit_holds_only_the_account_it_was_met_by(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    # Reported: accounts were named by their credentials as pydantic writes them, every
    # secret as the same stars, so all accounts of one instance (or of X's API) were one:
    # a daily cap met by brand A held brand B's replies for a day.
    fake, first = mastodon_setup(vigie, httpserver, shared_data)
    sessions, factory = vigie.runtime.sessions, http_factory(vigie.runtime.settings)
    with sessions() as session:
        workspace_id = session.get(Mention, first).workspace_id  # type: ignore[union-attr]
    fake.tokens.add("token-of-ANOTHER-brand-account")
    other = do_add_source(sessions, workspace_id, CLI, kind="mastodon", watch_name="acme",
                          values={"base_url": fake.base, "mode": "search", "query": "other",
                                  "access_token": "token-of-ANOTHER-brand-account"})
    _queue_approved(vigie, fake, first, 1)
    (second,) = _queue_approved(vigie, fake, first, 1, with_first=False)
    with transaction(sessions) as session:
        session.get(Mention, second).source_id = other.id  # type: ignore[union-attr]
    fake.failure = Failure(429, {"error": "Too many requests"}, {"Retry-After": "108000"})
    outcomes = flush_replies(sessions, factory, now=NOW)
    assert [outcome.status for outcome in outcomes] == ["pending", "posted"]
    assert _writes(httpserver) == 2 and len(fake.created) == 1
    limited, posted = _rows(vigie)
    assert limited.next_attempt_at.replace(tzinfo=UTC) == NOW + MAX_RATE_LIMIT_WAIT
    assert (posted.status, posted.error) == ("posted", None)


def test_account_keys_name_the_account_not_the_shape_of_its_credentials() -> None:
    # Same X API, other tokens: other accounts. Same token and instance, another reply
    # visibility: the same account.
    assert account_key(XCredentials(access_token="token-of-brand-A")) != \
        account_key(XCredentials(access_token="token-of-brand-B"))
    assert account_key(XCredentials(access_token="token-of-brand-A")) == \
        account_key(XCredentials(access_token="token-of-brand-A"))
    instance = "https://mastodon.example"
    assert account_key(MastodonCredentials(instance_url=instance, access_token="tokA")) != \
        account_key(MastodonCredentials(instance_url=instance, access_token="tokB"))
    assert account_key(MastodonCredentials(instance_url=instance, access_token="tokA")) == \
        account_key(MastodonCredentials(instance_url=instance, access_token="tokA",
                                        visibility="unlisted"))
    assert account_key(BlueskyCredentials(handle="a.bsky.social", app_password="pw-1")) != \
        account_key(BlueskyCredentials(handle="b.bsky.social", app_password="pw-1"))
    # The key never holds a secret.
    assert "tokA" not in account_key(MastodonCredentials(instance_url=instance,
                                                         access_token="tokA"))


def test_an_x_reply_over_the_daily_cap_waits_for_the_daily_reset(
        vigie: VigieApp, httpserver: HTTPServer) -> None:
    # Reported: X's 15-minute x-rate-limit-reset was taken for the wait, so a reply over
    # the 24-hour posting cap was tried every 15 minutes for a day, the card saying so.
    fake, mention_id = x_setup(vigie, httpserver, "1920000000000000001")
    with transaction(vigie.runtime.sessions) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        queue_approved_reply(session, mention, network="x", key="daily-cap",
                             due=NOW - timedelta(minutes=1))
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=20)
    fake.failure = Failure(429, {"title": "Too Many Requests", "status": 429}, {
        "x-rate-limit-remaining": "97",
        "x-rate-limit-reset": str(int((reset - timedelta(hours=19, minutes=50)).timestamp())),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(int(reset.timestamp()))})
    flush_replies(vigie.runtime.sessions, http_factory(vigie.runtime.settings), now=NOW)
    (row,) = _rows(vigie)
    assert (row.status, row.rate_limited_calls) == ("pending", 1)
    # Waiting from NOW for what X asked (the reset less the moment it answered).
    assert abs(row.next_attempt_at.replace(tzinfo=UTC) - (NOW + timedelta(hours=20))) \
        < timedelta(minutes=5)


def test_a_rate_limit_in_one_workspace_holds_no_other_workspaces_reply(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    # Holds are per workspace: another workspace's reply is never held (nor its card
    # told of) a rate limit met by this one, even through the same account.
    fake, first = mastodon_setup(vigie, httpserver, shared_data)
    sessions, factory = vigie.runtime.sessions, http_factory(vigie.runtime.settings)
    other_ws = vigie.runtime.workspaces.ensure("T0OTHERTEAM").id
    do_add_watch(sessions, other_ws, CLI, name="other", query="", channel_id="C0OTHER")
    source = do_add_source(sessions, other_ws, CLI, kind="mastodon", watch_name="other",
                           values={"base_url": fake.base, "mode": "search", "query": "x",
                                   "access_token": FakeMastodon.TOKEN})
    _queue_approved(vigie, fake, first, 1)
    parent = fake.add_status(text="Another team's customer")
    with transaction(sessions) as session:
        model = session.get(Mention, first)
        assert model is not None
        author = Author(workspace_id=other_ws, network="mastodon", handle="bob")
        session.add(author)
        session.flush()
        row = session.get(SourceRow, source.id)
        assert row is not None
        mention = Mention(workspace_id=other_ws, watch_id=row.watch_id, source_id=source.id,
                          author_id=author.id, network="mastodon", status="approved",
                          external_id=parent["uri"], url=parent["url"], text="help",
                          language="en", published_at=model.published_at, priority=70)
        session.add(mention)
        session.flush()
        queue_approved_reply(session, mention, network="mastodon", key="other-workspace",
                             due=NOW - timedelta(minutes=1), text="On it")
    fake.failure = Failure(429, {"error": "Too many requests"}, {"Retry-After": "108000"})
    outcomes = flush_replies(sessions, factory, now=NOW)
    assert [outcome.status for outcome in outcomes] == ["pending", "posted"]
    assert [row.workspace_id for row in _rows(vigie) if row.status == "posted"] == [other_ws]
