"""Multi-workspace install: the OAuth flow stores the workspace's bot token, requests
from that workspace work, and Vigie posts there with that workspace's own token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import select

from bot.app import build_app
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.services import workspace_settings
from bot.services.actors import CLI
from bot.services.outbox import KIND_POST, do_enqueue
from bot.web import build_wsgi_app
from storage.db import transaction
from storage.models import AuditEvent, Workspace
from tests.e2e.conftest import VigieApp
from tests.harness.app_server import serve_wsgi
from tests.harness.constants import SIGNING_SECRET
from tests.harness.slack_requests import SlackSender
from tests.harness.slack_standin import SlackStandIn

NEW_TEAM = "T07NEWTEAM"
NEW_TOKEN = "xoxb-new-team-token"


@pytest.fixture
def vigie_oauth(sqlite_url: str) -> Iterator[VigieApp]:
    """Vigie in several-workspace (OAuth) mode on SQLite, nothing installed yet."""
    yield from start_oauth_vigie(sqlite_url)


def start_oauth_vigie(database_url: str, *, enterprise_id: str | None = None,
                      org_wide: bool = False) -> Iterator[VigieApp]:
    """Build and serve Vigie in several-workspace (OAuth) mode as `vigie web` does, with a
    Slack stand-in whose OAuth exchange installs ``NEW_TEAM`` with ``NEW_TOKEN``: in a
    workspace of the Enterprise Grid org ``enterprise_id`` if given, or in that whole org
    (``org_wide``: no team, ``is_enterprise_install`` true, as Slack answers,
    https://api.slack.com/enterprise/apps/reference)."""
    with SlackStandIn(valid_tokens=None) as standin:
        def access(args: dict[str, Any]) -> dict[str, Any]:
            assert args.get("code") == "the-code"
            enterprise = {"id": enterprise_id, "name": "Grid"} if enterprise_id else None
            team = None if org_wide else {"id": NEW_TEAM, "name": "New"}
            return {"ok": True, "app_id": "A07VIGIE01", "token_type": "bot",
                    "access_token": NEW_TOKEN, "scope": "commands,chat:write",
                    "bot_user_id": "U07NEWBOT", "team": team,
                    "enterprise": enterprise, "is_enterprise_install": org_wide,
                    "authed_user": {"id": "U07INSTALL"}}

        standin.on("oauth.v2.access", access)
        standin.on("auth.test", lambda args: {
            "ok": True, "team_id": None if org_wide else NEW_TEAM, "user_id": "U07NEWBOT",
            "bot_id": "B07NEW", "team": "New", "user": "vigie", "url": "https://new.slack.com/",
            "enterprise_id": enterprise_id, "is_enterprise_install": org_wide})
        settings = load_settings(slack_client_id="111.222", slack_client_secret="s3cr3t-value",
                                 slack_signing_secret=SIGNING_SECRET,
                                 slack_api_url=standin.base_url, database_url=database_url)
        runtime = build_runtime(settings)
        app = build_app(settings, runtime)
        with serve_wsgi(build_wsgi_app(runtime, app)) as url:
            yield VigieApp(url, runtime, standin, SlackSender(url, standin=standin,
                                                              team_id=NEW_TEAM))
        runtime.close()


def install(vigie: VigieApp) -> str:
    """Go through /slack/install and /slack/oauth_redirect as the installer's browser; the
    page the installer ends on."""
    with httpx.Client(base_url=vigie.url, follow_redirects=False) as browser:
        page = browser.get("/slack/install")
        link = next(part for part in page.text.split('"') if "oauth/v2/authorize" in part)
        query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
        cookie = page.headers["set-cookie"].split(";")[0]
        done = browser.get("/slack/oauth_redirect", headers={"Cookie": cookie},
                           params={"code": "the-code", "state": query["state"][0]})
        assert done.status_code == 200, done.text
        return done.text


def channel_language(vigie: VigieApp) -> tuple[str, list[tuple[str, dict[str, Any] | None]]]:
    workspace = vigie.runtime.workspaces.ensure(NEW_TEAM)
    with vigie.runtime.sessions() as session:
        events = [(e.actor, e.detail) for e in session.scalars(select(AuditEvent).where(
            AuditEvent.workspace_id == workspace.id, AuditEvent.action == "settings.changed"))]
        return session.get_one(Workspace, workspace.id).locale, events


def test_the_installers_slack_locale_sets_the_channel_language(vigie_oauth: VigieApp) -> None:
    """A French installer gets French cards and digests from the start; an admin's later
    choice survives a reinstall (new scopes), and `/cm settings` shows the language."""
    vigie = vigie_oauth
    vigie.standin.set_user("U07INSTALL", locale="fr-FR")
    install(vigie)
    assert channel_language(vigie) == ("fr", [
        ("install", {"setting": "language", "before": "en", "after": "fr"})])
    workspace = vigie.runtime.workspaces.ensure(NEW_TEAM)
    workspace_settings.do_set_setting(vigie.runtime.sessions, workspace.id, CLI, "language", "en")
    install(vigie)
    assert channel_language(vigie)[0] == "en"


def test_an_installer_locale_vigie_does_not_speak_keeps_english(vigie_oauth: VigieApp) -> None:
    vigie = vigie_oauth
    vigie.standin.set_user("U07INSTALL", locale="de-DE")
    install(vigie)
    assert channel_language(vigie) == ("en", [])


def test_install_then_use_in_the_new_workspace(vigie_oauth: VigieApp) -> None:
    vigie = vigie_oauth
    with httpx.Client(base_url=vigie.url, follow_redirects=False) as browser:
        page = browser.get("/slack/install")
        assert page.status_code == 200
        link = next(part for part in page.text.split('"') if "oauth/v2/authorize" in part)
        query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
        assert query["client_id"] == ["111.222"] and "commands" in query["scope"][0]
        # The state cookie is Secure (https only): send it back as a browser on https would.
        cookie = page.headers["set-cookie"].split(";")[0]
        done = browser.get("/slack/oauth_redirect", headers={"Cookie": cookie},
                           params={"code": "the-code", "state": query["state"][0]})
        assert done.status_code == 200, done.text
        forged = browser.get("/slack/oauth_redirect", params={"code": "x", "state": "forged"})
        assert forged.status_code >= 400
    assert "/cm help" in vigie.slack.command_answer("help")["text"]
    workspace = vigie.runtime.workspaces.ensure(NEW_TEAM)
    with transaction(vigie.runtime.sessions) as session:
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_POST, channel="C07NEWCHAN",
                   payload={"text": "hello new team"})
    assert vigie.runtime.outbox.flush(wait=True).sent == 1
    post = vigie.standin.last("chat.postMessage")
    assert post.headers.get("authorization") == f"Bearer {NEW_TOKEN}"


def test_a_team_without_an_installation_is_told_in_its_language(vigie_oauth: VigieApp) -> None:
    """Bolt answers a request from a team it has no installation for with one fixed English
    text; Vigie answers it first, in the workspace's language when it knows the workspace
    (removed, then used again), in English otherwise; once installed, the team is served."""
    vigie = vigie_oauth
    reply = vigie.slack.slash_command("help")
    assert reply.status_code == 200
    assert "Slack no longer accepts its installation" in reply.text
    assert "A workspace admin can reinstall Vigie" in reply.text
    assert vigie.standin.calls("chat.postEphemeral") == []
    with transaction(vigie.runtime.sessions) as session:
        session.add(Workspace(team_id=NEW_TEAM, locale="fr"))
    reply = vigie.slack.slash_command("help")
    assert "Slack n'accepte plus son installation" in reply.text
    install(vigie)
    assert "/cm help" in vigie.slack.command_answer("help")["text"]
