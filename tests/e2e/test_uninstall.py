"""Slack uninstalling Vigie (``app_uninstalled``, ``tokens_revoked``), told over HTTP to
the app `vigie web` serves: the installation's tokens are forgotten, the workspace stops
being polled and its outbox waits; a reinstall resumes it. With one bot token, /readyz
says the token is dead."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select, text

from bot.app import build_app
from bot.cli.core import _follow_token
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.services.outbox import KIND_POST, do_enqueue
from bot.services.polling import claim_due_sources, why_not_polled
from bot.slack.token_state import SlackTokenState
from bot.web import build_wsgi_app
from storage.db import transaction
from storage.models import AuditEvent, OutboxMessage, SourceRow, Watch, Workspace, utcnow
from storage.models_outbox import OutboxPause
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_oauth import NEW_TEAM, NEW_TOKEN, install, start_oauth_vigie
from tests.harness.app_server import serve_wsgi
from tests.harness.constants import BOT_TOKEN, BOT_USER_ID, SIGNING_SECRET, TEAM_ID
from tests.harness.slack_requests import SlackSender
from tests.harness.slack_standin import SlackStandIn

NEW_BOT_USER = "U07NEWBOT"


@pytest.fixture
def vigie_oauth_db(db_url: str) -> Iterator[VigieApp]:
    """Vigie in several-workspace (OAuth) mode, on SQLite and on PostgreSQL."""
    yield from start_oauth_vigie(db_url)


def _watch_with_a_source_and_a_queued_message(vigie: VigieApp, team_id: str) -> int:
    """A watch of ``team_id`` with an RSS source (due now) and a message waiting in the
    outbox; returns the source's id."""
    workspace = vigie.runtime.workspaces.ensure(team_id)
    with transaction(vigie.runtime.sessions) as session:
        watch = Watch(workspace_id=workspace.id, name="acme", channel_id="C07NEWCHAN")
        session.add(watch)
        session.flush()
        source = SourceRow(workspace_id=workspace.id, watch_id=watch.id, kind="rss",
                           config={"url": "https://news.example/feed.xml"})
        session.add(source)
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_POST, channel="C07NEWCHAN",
                   payload={"text": "a card for acme"})
        session.flush()
        return source.id


def _polled(vigie: VigieApp) -> list[int]:
    return [s.id for s in claim_due_sources(vigie.runtime.sessions, now=utcnow(),
                                            force=True, lease=False)]


def _audit(vigie: VigieApp, action: str) -> int:
    with vigie.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == action)) or 0)


def _stored_tokens(vigie: VigieApp) -> tuple[int, int]:
    with vigie.runtime.engine.connect() as conn:
        return (int(conn.execute(text("select count(*) from slack_bots")).scalar() or 0),
                int(conn.execute(text("select count(*) from slack_installations"))
                    .scalar() or 0))


def test_uninstalling_forgets_the_tokens_and_rests_the_workspace(
        vigie_oauth_db: VigieApp, caplog: pytest.LogCaptureFixture) -> None:
    """Slack's two events (in either order, each retried once) delete the installation's
    tokens, stop polling the workspace's sources, drop its queued messages and pause its
    outbox, with one WARNING line and one audit event; its data stays. Before, both events
    were 404 "unhandled" and the dead token was kept."""
    vigie = vigie_oauth_db
    install(vigie)
    source_id = _watch_with_a_source_and_a_queued_message(vigie, NEW_TEAM)
    assert _stored_tokens(vigie) == (1, 1) and source_id in _polled(vigie)

    caplog.set_level(logging.INFO)
    answers = vigie.standin.uninstall(vigie.url, SIGNING_SECRET, NEW_TOKEN, team_id=NEW_TEAM,
                                      bot_user_id=NEW_BOT_USER)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    for name in ("app_uninstalled", "tokens_revoked"):  # Slack's retries of each
        again = vigie.standin.uninstall(vigie.url, SIGNING_SECRET, NEW_TOKEN, team_id=NEW_TEAM,
                                        bot_user_id=NEW_BOT_USER, events=[name], retry_num=1)
        assert again[0].status_code == 200, again[0].text

    eventually(lambda: _audit(vigie, "workspace.uninstalled") == 1)  # acked, then handled
    eventually(lambda: _stored_tokens(vigie) == (0, 0))
    assert not vigie.runtime.workspaces.is_installed(NEW_TEAM)
    assert source_id not in _polled(vigie)
    assert why_not_polled(vigie.runtime.sessions, [source_id], due=False) == {
        source_id: "uninstalled"}
    with vigie.runtime.sessions() as session:
        workspace = session.scalars(select(Workspace).where(Workspace.team_id == NEW_TEAM)).one()
        assert workspace.uninstalled_at is not None
        rows = session.scalars(select(OutboxMessage)
                               .where(OutboxMessage.workspace_id == workspace.id)).all()
        assert [(r.status, r.last_error) for r in rows] == [("failed", "dropped: tokens_revoked")]
        assert session.get(OutboxPause, workspace.id) is not None
        assert session.scalar(select(func.count()).select_from(Watch)
                              .where(Watch.workspace_id == workspace.id)) == 1
    assert _audit(vigie, "workspace.uninstalled") == 1
    told = [r for r in caplog.records if "Vigie was uninstalled from workspace" in r.message]
    assert [(r.levelname, NEW_TEAM in r.message) for r in told] == [("WARNING", True)]
    assert NEW_TOKEN not in caplog.text

    # Nothing for the workspace reaches Slack any more: no call with the dead token.
    vigie.standin.clear()
    vigie.runtime.outbox.flush(wait=True)
    assert not [c for c in vigie.standin.calls()
                if c.headers.get("authorization") == f"Bearer {NEW_TOKEN}"]


def test_a_reinstall_resumes_the_workspace(vigie_oauth_db: VigieApp,
                                          caplog: pytest.LogCaptureFixture) -> None:
    """Installing again through OAuth clears the mark: the sources are polled again and the
    outbox delivers at its next flush with the new token. Slack retrying the uninstall
    event after the reinstall (it retries for up to an hour) changes nothing."""
    vigie = vigie_oauth_db
    install(vigie)
    source_id = _watch_with_a_source_and_a_queued_message(vigie, NEW_TEAM)
    happened = int(time.time())
    vigie.standin.uninstall(vigie.url, SIGNING_SECRET, NEW_TOKEN, team_id=NEW_TEAM,
                            bot_user_id=NEW_BOT_USER, events=["app_uninstalled"],
                            event_id="Ev07UNINSTALL", event_time=happened)
    eventually(lambda: source_id not in _polled(vigie))  # Bolt acks events before handling

    while time.time() < happened + 1:  # Slack's event_time is in whole seconds
        time.sleep(0.05)
    vigie.standin.restore_token(NEW_TOKEN)  # the stand-in's OAuth gives the same token back
    install(vigie)
    assert _stored_tokens(vigie) == (1, 1)
    assert source_id in _polled(vigie)
    caplog.set_level(logging.INFO)
    for name in ("app_uninstalled", "tokens_revoked"):
        vigie.standin.uninstall(vigie.url, SIGNING_SECRET, "xoxb-unused", team_id=NEW_TEAM,
                                bot_user_id=NEW_BOT_USER, events=[name], retry_num=2,
                                event_id=f"Ev07{name.upper()}", event_time=happened)
    eventually(lambda: caplog.text.count("installed again since") == 2)
    assert _stored_tokens(vigie) == (1, 1)
    assert source_id in _polled(vigie)
    assert _audit(vigie, "workspace.reinstalled") == 1
    workspace = vigie.runtime.workspaces.ensure(NEW_TEAM)
    with transaction(vigie.runtime.sessions) as session:
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_POST, channel="C07NEWCHAN",
                   payload={"text": "after the reinstall"})
    assert vigie.runtime.outbox.flush(wait=True).sent == 1
    assert vigie.standin.last("chat.postMessage").headers.get(
        "authorization") == f"Bearer {NEW_TOKEN}"
    with vigie.runtime.sessions() as session:
        assert session.get(OutboxPause, workspace.id) is None


def test_only_revoked_user_tokens_leave_the_workspace_installed(
        vigie_oauth_db: VigieApp, caplog: pytest.LogCaptureFixture) -> None:
    """``tokens_revoked`` naming only people's tokens (``oauth``) leaves the bot working."""
    vigie = vigie_oauth_db
    install(vigie)
    caplog.set_level(logging.INFO)
    answer = vigie.slack.event({"type": "tokens_revoked", "tokens": {"oauth": ["U07OTHER"]}})
    assert answer.status_code == 200, answer.text
    eventually(lambda: "people's tokens" in caplog.text)
    assert _stored_tokens(vigie)[0] == 1
    assert vigie.runtime.workspaces.is_installed(NEW_TEAM)
    assert _audit(vigie, "workspace.uninstalled") == 0


def test_the_standin_refuses_an_uninstalled_token(slack_standin: SlackStandIn) -> None:
    """After :meth:`SlackStandIn.uninstall`, every call with the token answers
    ``token_revoked`` (what Slack answers a token of an uninstalled app)."""
    with serve_wsgi(lambda environ, start: (start("200 OK", []), [b""])[1]) as url:
        slack_standin.uninstall(url, SIGNING_SECRET, BOT_TOKEN)
    client = WebClient(token=BOT_TOKEN, base_url=slack_standin.base_url)
    for call in (client.auth_test, lambda: client.chat_postMessage(channel="C1", text="x")):
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response["error"] == "token_revoked"


@pytest.fixture
def vigie_web(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie with one bot token, its /readyz following the token as `vigie web` does."""
    settings = load_settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                             slack_api_url=slack_standin.base_url, database_url=db_url,
                             admins=[ADMIN_ID])
    runtime = build_runtime(settings)
    token = SlackTokenState()
    bolt_app = build_app(settings, runtime)
    _follow_token(runtime, bolt_app, token)
    try:
        with serve_wsgi(build_wsgi_app(runtime, bolt_app, slack_refused=token.current)) as url:
            yield VigieApp(url, runtime, slack_standin, SlackSender(url, standin=slack_standin))
    finally:
        runtime.close()


def _readyz_slack(url: str) -> object:
    answer = httpx.get(f"{url}/readyz", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json().get("slack")


def test_with_one_bot_token_uninstalling_pauses_and_readyz_says_so(
        vigie_web: VigieApp, caplog: pytest.LogCaptureFixture) -> None:
    """With SLACK_BOT_TOKEN, ``app_uninstalled`` means the token is dead: the workspace
    rests as with several workspaces and /readyz's ``slack`` field names it at once (before,
    nothing was told until a delivery failed). A restart with a token Slack accepts (the
    app reinstalled) resumes the workspace."""
    vigie = vigie_web
    source_id = _watch_with_a_source_and_a_queued_message(vigie, TEAM_ID)
    assert _readyz_slack(vigie.url) is None

    happened = int(time.time())
    answers = vigie.standin.uninstall(vigie.url, SIGNING_SECRET, BOT_TOKEN,
                                      bot_user_id=BOT_USER_ID, event_time=happened)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    eventually(lambda: "Slack refuses SLACK_BOT_TOKEN (" in str(_readyz_slack(vigie.url)))
    assert source_id not in _polled(vigie)
    assert _audit(vigie, "workspace.uninstalled") == 1

    while time.time() < happened + 1:  # Slack's event_time is in whole seconds
        time.sleep(0.05)
    vigie.standin.restore_token(BOT_TOKEN)
    build_app(vigie.runtime.settings, vigie.runtime)  # a restart: auth.test accepts it
    assert source_id in _polled(vigie)
    caplog.set_level(logging.INFO)
    vigie.slack.event({"type": "app_uninstalled"}, retry_num=1, event_time=happened)
    eventually(lambda: "installed again since" in caplog.text)  # Slack's late retry
    assert source_id in _polled(vigie)
    eventually(lambda: _readyz_slack(vigie.url) is None, timeout=20)
    assert _audit(vigie, "workspace.uninstalled") == 1


def test_with_one_bot_token_a_late_retry_finds_the_token_working(
        vigie_web: VigieApp, caplog: pytest.LogCaptureFixture) -> None:
    """Vigie was down when the app was uninstalled (Slack's first delivery of
    app_uninstalled failed) and came back after a reinstall, with a token Slack accepts:
    Slack's retry of the event then changes nothing (``auth.test`` accepts the token), the
    workspace is polled and /readyz stays healthy."""
    vigie = vigie_web
    source_id = _watch_with_a_source_and_a_queued_message(vigie, TEAM_ID)
    happened = int(time.time())
    vigie.standin.revoke_token(BOT_TOKEN)  # uninstalled; the event never arrives
    vigie.standin.restore_token(BOT_TOKEN)  # installed again
    build_app(vigie.runtime.settings, vigie.runtime)  # a restart: auth.test accepts it
    caplog.set_level(logging.INFO)
    answer = vigie.slack.event({"type": "app_uninstalled"}, retry_num=1, event_time=happened)
    assert answer.status_code == 200, answer.text
    eventually(lambda: "Slack accepts the bot token" in caplog.text
               or _audit(vigie, "workspace.uninstalled") > 0)
    assert _audit(vigie, "workspace.uninstalled") == 0
    assert source_id in _polled(vigie)
    assert _readyz_slack(vigie.url) is None


def test_an_uninstall_of_another_team_leaves_the_bot_tokens_workspace(
        vigie_web: VigieApp, caplog: pytest.LogCaptureFixture) -> None:
    """With one bot token, Slack's word about another team (the same app installed there
    too) does not rest the token's workspace."""
    vigie = vigie_web
    source_id = _watch_with_a_source_and_a_queued_message(vigie, TEAM_ID)
    answer = vigie.slack.event({"type": "app_uninstalled"}, team_id="T07ELSEWHERE")
    assert answer.status_code in (200, 403), answer.text
    if answer.status_code == 200:
        eventually(lambda: "ignored app_uninstalled for T07ELSEWHERE" in caplog.text)
    assert source_id in _polled(vigie)
    assert _readyz_slack(vigie.url) is None
    assert _audit(vigie, "workspace.uninstalled") == 0



