"""Enterprise Grid: Vigie installed in one workspace of an org (the usual install) serves
that workspace only, with one bot token or several (OAuth); an org-wide install is not
a workspace install.

Slack's words relied on: a workspace of a Grid org has a ``T…`` id and its org an ``E…``
id, which requests carry as ``enterprise_id`` (https://docs.slack.dev/reference/
interaction-payloads/block_suggestion-payload); ``oauth.v2.access`` and ``auth.test``
answer ``is_enterprise_install`` false for a workspace install, true for an org-wide one,
which Slack "is not added to any workspaces" by (https://api.slack.com/enterprise/apps/
changes-install, https://api.slack.com/enterprise/apps/reference)."""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot.i18n import t
from bot.services.outbox import KIND_POST, do_enqueue
from storage import repositories as repo
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Watch, Workspace
from storage.secret_box import SecretBox
from tests.e2e.conftest import VigieApp, eventually, start_vigie
from tests.e2e.test_oauth import NEW_TEAM, NEW_TOKEN, install, start_oauth_vigie
from tests.e2e.test_uninstall import _audit, _stored_tokens
from tests.harness.constants import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    USER_ID,
)
from tests.harness.slack_requests import (
    JSON_CONTENT_TYPE,
    app_home_opened_event,
    event_envelope,
    post,
)
from tests.harness.slack_standin import SlackStandIn

ORG = "E07GRIDORG"
OTHER_WORKSPACE = "T07OTHERWS"
"""Another workspace of the same org, where Vigie is not installed."""


def _token_of(standin: SlackStandIn, *, org_wide: bool) -> None:
    """SLACK_BOT_TOKEN is of TEAM_ID, a workspace of the Grid org ORG: installed in that
    workspace, or org-wide."""
    standin.on("auth.test", lambda args: {
        "ok": True, "url": "https://vigie-grid.enterprise.slack.com/", "team": "Vigie Grid",
        "user": "vigie", "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
        "enterprise_id": ORG, "is_enterprise_install": org_wide})


def _console_watch(db_url: str) -> None:
    """A watch set up before Slack was connected (`vigie watch add` in console mode)."""
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine, SecretBox([]))) as session:
        console = repo.create_workspace(session, "T0CONSOLE", timezone="UTC")
        session.flush()
        session.add(Watch(workspace_id=console.id, name="acme", channel_id="C07SOCIAL1"))
    engine.dispose()


@pytest.fixture
def workspace_token(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    _console_watch(db_url)
    _token_of(slack_standin, org_wide=False)
    yield from start_vigie(db_url, slack_standin)


@pytest.fixture
def org_wide_token(sqlite_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    _token_of(slack_standin, org_wide=True)
    yield from start_vigie(sqlite_url, slack_standin)


def _teams(vigie: VigieApp) -> list[str]:
    with vigie.runtime.sessions() as session:
        return list(session.scalars(select(Workspace.team_id).order_by(Workspace.id)))


def test_a_workspace_install_on_grid_refuses_the_orgs_other_workspaces(
        workspace_token: VigieApp) -> None:
    """Before, any request of the token's org passed: a command of another workspace of the
    org was served and, the first, took the console's workspace (its watches) as its own."""
    vigie = workspace_token
    refused = vigie.slack.slash_command("watch list", team_id=OTHER_WORKSPACE,
                                        enterprise_id=ORG)
    assert refused.status_code == 403, refused.text
    assert "acme" not in refused.text
    assert _teams(vigie) == ["T0CONSOLE"]
    ours = vigie.slack.command_answer("watch list", enterprise_id=ORG)
    assert "acme" in str(ours)
    assert _teams(vigie) == [TEAM_ID]


def test_an_org_wide_token_serves_the_orgs_workspaces(org_wide_token: VigieApp) -> None:
    vigie = org_wide_token
    served = vigie.slack.slash_command("help", team_id=OTHER_WORKSPACE, enterprise_id=ORG)
    assert served.status_code == 200, served.text
    refused = vigie.slack.slash_command("help", team_id="T07ELSEWHR", enterprise_id="E07OTHER1")
    assert refused.status_code == 403


@pytest.fixture
def oauth_on_grid(db_url: str) -> Iterator[VigieApp]:
    yield from start_oauth_vigie(db_url, enterprise_id=ORG)


@pytest.fixture
def oauth_org_wide(sqlite_url: str) -> Iterator[VigieApp]:
    yield from start_oauth_vigie(sqlite_url, enterprise_id=ORG, org_wide=True)


def test_a_workspace_install_on_grid_works_with_several_workspaces(
        oauth_on_grid: VigieApp) -> None:
    """Before, Vigie looked the workspace's bot up as one of no org (enterprise_id IS NULL):
    a workspace of a Grid org that installed Vigie got no workspace, and empty answers."""
    vigie = oauth_on_grid
    install(vigie)
    assert vigie.runtime.workspaces.is_installed(NEW_TEAM)
    assert "/cm help" in vigie.slack.command_answer("help", enterprise_id=ORG)["text"]
    workspace = vigie.runtime.workspaces.ensure(NEW_TEAM)
    with transaction(vigie.runtime.sessions) as session:
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_POST, channel="C07NEWCHAN",
                   payload={"text": "hello grid workspace"})
    assert vigie.runtime.outbox.flush(wait=True).sent == 1
    assert vigie.standin.last("chat.postMessage").headers.get("authorization") == \
        f"Bearer {NEW_TOKEN}"


def test_an_org_wide_install_is_told_it_is_not_supported(oauth_org_wide: VigieApp) -> None:
    """Vigie serves workspace installs only: the installer of an org-wide install, and a
    person of the org's workspaces, are told to install it in each workspace (before, the
    install page said it worked, and every request of the org failed)."""
    vigie = oauth_org_wide
    vigie.standin.set_user("U07INSTALL", locale="fr-FR")
    page = install(vigie)
    assert t("fr", "app.org_wide_installed") in html.unescape(page)
    reply = vigie.slack.slash_command("help", enterprise_id=ORG)
    assert reply.status_code == 200
    assert reply.text == t("en", "app.org_wide")
    assert _teams(vigie) == []


def _grid_home_opened(vigie: VigieApp, *, team_id: str | None, installed_team: str | None,
                      context_team: str) -> httpx.Response:
    """An app_home_opened event as Slack sends it on Enterprise Grid: the envelope's
    ``team_id`` may be the org's (or absent), ``authorizations[0]`` names the installation
    (its ``team_id`` None for an org-wide one), ``context_team_id`` the user's workspace."""
    envelope = event_envelope(app_home_opened_event(USER_ID))
    envelope.pop("team_id")
    if team_id is not None:
        envelope["team_id"] = team_id
    envelope["enterprise_id"] = ORG
    envelope["context_team_id"], envelope["context_enterprise_id"] = context_team, ORG
    envelope["authorizations"] = [{
        "enterprise_id": ORG, "team_id": installed_team, "user_id": "U07NEWBOT",
        "is_bot": True, "is_enterprise_install": installed_team is None}]
    return post(vigie.url, SIGNING_SECRET, json.dumps(envelope),
                content_type=JSON_CONTENT_TYPE)


@pytest.mark.parametrize("outer_team", [ORG, None])
def test_a_grid_event_reaches_the_installed_workspace(
        oauth_on_grid: VigieApp, outer_team: str | None,
        caplog: pytest.LogCaptureFixture) -> None:
    """Before, the workspace was read from the envelope's ``team_id``, the org's ``E…`` id
    on Grid (or none): UnknownWorkspace, logged as an unhandled error, and no Home."""
    vigie = oauth_on_grid
    install(vigie)
    with caplog.at_level(logging.DEBUG):
        answer = _grid_home_opened(vigie, team_id=outer_team, installed_team=NEW_TEAM,
                                   context_team=NEW_TEAM)
        assert answer.status_code == 200, answer.text
        assert vigie.standin.wait_for("views.publish", timeout=10)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert _teams(vigie) == [NEW_TEAM]


def test_an_event_of_an_org_wide_install_is_ignored_quietly(
        oauth_org_wide: VigieApp, caplog: pytest.LogCaptureFixture) -> None:
    """Vigie serves workspace installs only: an event that the org-wide install brings (a
    workspace of the org where Vigie is not installed) is ignored, at debug level."""
    vigie = oauth_org_wide
    install(vigie)
    with caplog.at_level(logging.DEBUG):
        answer = _grid_home_opened(vigie, team_id=OTHER_WORKSPACE, installed_team=None,
                                   context_team=OTHER_WORKSPACE)
        assert answer.status_code == 200, answer.text
        time.sleep(0.5)  # Bolt runs event listeners after the ack
    said = [(r.levelname, r.getMessage()) for r in caplog.records
            if r.levelno >= logging.WARNING and "org-wide install in" not in r.getMessage()]
    assert said == []
    assert any("not installed" in r.getMessage() for r in caplog.records
               if r.levelno == logging.DEBUG)
    assert vigie.standin.calls("views.publish") == []
    assert _teams(vigie) == []


def _uninstalled(vigie: VigieApp, team_id: str) -> bool:
    with vigie.runtime.sessions() as session:
        return session.scalar(select(Workspace.uninstalled_at)
                              .where(Workspace.team_id == team_id)) is not None


def test_uninstalling_a_grid_workspace_install_rests_that_workspace(
        oauth_on_grid: VigieApp) -> None:
    """Slack's app_uninstalled and tokens_revoked as on Grid: the envelope's team_id is the
    org's, the workspace in context_team_id, and no authorizations (as Slack's examples of
    these events show none). Before, the handlers took Bolt's context.team_id, the org's
    E… id: no workspace was marked ("Vigie had no data") and the workspace's tokens were
    kept (looked up under the org's id as a team)."""
    vigie = oauth_on_grid
    install(vigie)
    assert _stored_tokens(vigie) == (1, 1)
    answers = vigie.standin.uninstall(vigie.url, SIGNING_SECRET, NEW_TOKEN, team_id=NEW_TEAM,
                                      bot_user_id="U07NEWBOT", enterprise_id=ORG)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    eventually(lambda: _audit(vigie, "workspace.uninstalled") == 1)
    assert _uninstalled(vigie, NEW_TEAM)
    eventually(lambda: _stored_tokens(vigie) == (0, 0))
    assert _teams(vigie) == [NEW_TEAM]


def test_uninstalling_on_grid_with_one_bot_token(workspace_token: VigieApp) -> None:
    """One bot token, of a workspace of a Grid org: Slack's app_uninstalled (the envelope's
    team_id the org's, no authorizations) rests the token's workspace. Before, the org's
    E… id was taken for another team's ("SLACK_BOT_TOKEN belongs to T…") and ignored."""
    vigie = workspace_token
    vigie.slack.command_answer("help", enterprise_id=ORG)  # the workspace is known
    answers = vigie.standin.uninstall(vigie.url, SIGNING_SECRET, BOT_TOKEN, team_id=TEAM_ID,
                                      bot_user_id=BOT_USER_ID, enterprise_id=ORG,
                                      events=["app_uninstalled"])
    assert [a.status_code for a in answers] == [200], [a.text for a in answers]
    eventually(lambda: _audit(vigie, "workspace.uninstalled") == 1)
    assert _uninstalled(vigie, TEAM_ID)
