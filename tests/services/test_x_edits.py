"""An X post edited between two polls: X gives each edit a new id and search returns the
latest version, with ``edit_history_tweet_ids`` naming every version, the original first
(https://docs.x.com/x-api/fundamentals/edit-posts). Vigie keeps one mention, with the
edited words, not a second mention (nor its author "writing again")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.net.http import HttpClient, HttpLimits
from bot.services.ingest import IngestReport, do_ingest
from bot.services.watches import get_watch_by_name
from bot.sources.x import XConfig, XSource
from storage.db import transaction
from storage.models import Mention, OutboxMessage
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for
from tests.sources.paging_stand_ins import x_id


def _post(post_id: str, text: str, history: list[str]) -> dict[str, Any]:
    created = history[0]
    when = datetime.fromtimestamp(((int(created) >> 22) + 1288834974657) / 1000, UTC)
    return {"id": post_id, "text": text, "author_id": "42", "lang": "en",
            "edit_history_tweet_ids": history,
            "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


def _poll_versions(sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
                   httpserver: HTTPServer, versions: list[tuple[str, str, list[str]]],
                   between: Callable[[], object] = lambda: None) -> list[IngestReport]:
    """Each version as X's search returns it, fetched and stored in turn, ``between``
    called after each; what each ingest reported."""
    users = {"users": [{"id": "42", "username": "ana", "name": "Ana"}]}
    http = HttpClient(limits=HttpLimits(read_timeout=5, total_timeout=10),
                      sleep=lambda _s: None)
    config = XConfig(query="acme", bearer_token="t",
                     base_url=httpserver.url_for("").rstrip("/"))
    cursor: dict[str, Any] = {}
    reports = []
    for post_id, text, history in versions:
        httpserver.clear()
        httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
            {"data": [_post(post_id, text, history)], "includes": users,
             "meta": {"newest_id": post_id, "oldest_id": post_id, "result_count": 1}})
        result = XSource().fetch(http, config, cursor)
        cursor = result.cursor
        with transaction(sessions) as session:
            watch = get_watch_by_name(session, workspace_id, watch_name)
            reports.append(
                do_ingest(session, watch, None, result.mentions, now=datetime.now(UTC)))
        between()
    return reports


def test_an_edited_post_stays_one_mention_with_its_edited_words(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        httpserver: HTTPServer) -> None:
    now = datetime.now(UTC)
    first, second, third = (x_id(now - timedelta(minutes=m)) for m in (20, 10, 5))
    versions = [(first, "@acme app crashes", [first]),
                (second, "@acme app crashes on login", [first, second]),
                (third, "@acme app crashes on login since 2.3", [first, second, third])]
    reports = _poll_versions(sessions, workspace_id, watch_name, httpserver, versions)
    assert [(r.stored, r.duplicates) for r in reports] == [(1, 0), (0, 1), (0, 1)]
    with sessions() as session:
        mentions = session.scalars(select(Mention)).all()
        assert [(m.external_id, m.text) for m in mentions] == [
            (first, "@acme app crashes on login since 2.3")]
        assert len(session.scalars(select(OutboxMessage)).all()) == 1  # one card


def test_an_edit_of_a_posted_card_updates_the_card_with_the_edited_words(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        httpserver: HTTPServer, slack_standin: SlackStandIn) -> None:
    now = datetime.now(UTC)
    first, second = (x_id(now - timedelta(minutes=m)) for m in (20, 10))
    sender = sender_for(sessions, slack_standin, Clock())
    _poll_versions(sessions, workspace_id, watch_name, httpserver,
                   [(first, "@acme app crashes", [first]),
                    (second, "@acme app crashes on login", [first, second])],
                   sender.flush)
    (posted,) = slack_standin.calls("chat.postMessage", ok=True)
    assert "@acme app crashes" in str(posted.args["blocks"])
    (updated,) = slack_standin.calls("chat.update", ok=True)
    assert updated.args["channel"] == posted.args["channel"] == CHANNEL_ID
    assert updated.args["ts"] == posted.response["ts"]  # the same message, edited
    assert "@acme app crashes on login" in str(updated.args["blocks"])


def test_an_edit_before_its_card_is_posted_is_in_the_card(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        httpserver: HTTPServer, slack_standin: SlackStandIn) -> None:
    now = datetime.now(UTC)
    first, second = (x_id(now - timedelta(minutes=m)) for m in (20, 10))
    _poll_versions(sessions, workspace_id, watch_name, httpserver,
                   [(first, "@acme app crashes", [first]),
                    (second, "@acme app crashes on login", [first, second])])
    sender_for(sessions, slack_standin, Clock()).flush()
    (posted,) = slack_standin.calls("chat.postMessage", ok=True)
    assert "@acme app crashes on login" in str(posted.args["blocks"])
    assert slack_standin.calls("chat.update") == []
    with sessions() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 1  # the card alone


def test_an_edit_seen_again_does_not_update_the_card_again(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        httpserver: HTTPServer, slack_standin: SlackStandIn) -> None:
    """One edit fetched again (a second X source of the workspace, a backlog read again)
    sent another chat.update with the same words each time it was seen."""
    now = datetime.now(UTC)
    first, second = (x_id(now - timedelta(minutes=m)) for m in (20, 10))
    sender = sender_for(sessions, slack_standin, Clock())
    edited = (second, "@acme app crashes on login", [first, second])
    _poll_versions(sessions, workspace_id, watch_name, httpserver,
                   [(first, "@acme app crashes", [first]), edited], sender.flush)
    for _ in range(2):  # each call starts with no cursor: the same edit seen again
        _poll_versions(sessions, workspace_id, watch_name, httpserver, [edited], sender.flush)
    (updated,) = slack_standin.calls("chat.update", ok=True)
    assert "@acme app crashes on login" in str(updated.args["blocks"])
    with sessions() as session:
        (mention,) = session.scalars(select(Mention)).all()
        assert mention.text == "@acme app crashes on login"
