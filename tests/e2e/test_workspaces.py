"""Every workspace sees only its own data, whatever the command; only installed
workspaces exist, and VIGIE_ADMINS are admins of the workspace they name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from bot.app import build_app
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.services.members import list_roles
from bot.services.workspaces import UnknownWorkspace
from bot.slack.oauth import installation_store
from bot.web import build_wsgi_app
from storage.models import Workspace
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import answer_after_ack, seed
from tests.harness.app_server import serve_wsgi
from tests.harness.constants import SIGNING_SECRET, TEAM_ID
from tests.harness.slack_requests import SlackSender
from tests.harness.slack_standin import SlackStandIn

OTHER_TEAM = "T07OTHERTM"
OTHER_ADMIN = "U07OTHERAD"


def _teams(vigie: VigieApp) -> set[str]:
    with vigie.runtime.sessions() as session:
        return set(session.scalars(select(Workspace.team_id)))


def _admins(vigie: VigieApp, team_id: str) -> set[str]:
    workspace = vigie.runtime.workspaces.ensure(team_id)
    return {r.user_id for r in list_roles(vigie.runtime.sessions, workspace.id)
            if r.role == "admin"}


def test_with_one_bot_token_another_workspace_is_refused(vigie: VigieApp) -> None:
    mention_id = seed(vigie, text="Our private complaint about the app")
    theirs = {"team_id": OTHER_TEAM}
    for command in ("mentions", f"show {mention_id}", f"ignore {mention_id}", "role list",
                    f"role add <@{OTHER_ADMIN}|x> admin"):
        reply = vigie.slack.slash_command(command, **theirs)
        assert reply.status_code == 403, (command, reply.text)
        assert "Our private complaint" not in reply.text
    assert OTHER_TEAM not in _teams(vigie)  # no workspace (with VIGIE_ADMINS) was made for it
    assert "Our private complaint" in str(vigie.slack.command_answer("mentions"))


@pytest.fixture
def vigie_two_teams(sqlite_url: str) -> Iterator[VigieApp]:
    """Several-workspace mode with two installed teams; VIGIE_ADMINS names one admin per
    team plus a plain id (which must be admin nowhere)."""
    with SlackStandIn(valid_tokens=None) as standin:
        settings = load_settings(
            slack_client_id="111.222", slack_client_secret="s3cr3t-value",
            slack_signing_secret=SIGNING_SECRET, slack_api_url=standin.base_url,
            database_url=sqlite_url,
            admins=[ADMIN_ID, f"{TEAM_ID}:{ADMIN_ID}", f"{OTHER_TEAM}:{OTHER_ADMIN}"])
        runtime = build_runtime(settings)
        store = installation_store(settings, runtime.engine)
        for team in (TEAM_ID, OTHER_TEAM):
            store.save(Installation(app_id="A07VIGIE01", team_id=team, user_id="U07INSTALL",
                                    bot_token=f"xoxb-{team.lower()}", bot_id=f"B{team[1:]}",
                                    bot_user_id=f"U{team[1:]}", bot_scopes=["commands"]))
        # users.info names each admin's own workspace, as Slack does: the user ids of
        # one workspace are not members of the other.
        standin.set_user(OTHER_ADMIN, team_id=OTHER_TEAM)
        app = build_app(settings, runtime)
        try:
            with serve_wsgi(build_wsgi_app(runtime, app)) as url:
                yield VigieApp(url, runtime, standin, SlackSender(url, standin=standin))
        finally:
            runtime.close()


def test_another_workspace_cannot_read_or_touch_our_data(vigie_two_teams: VigieApp) -> None:
    vigie = vigie_two_teams
    mention_id = seed(vigie, text="Our private complaint about the app")
    assert "secretwatch" in answer_after_ack(vigie, "watch add secretwatch secret", ADMIN_ID)
    theirs = {"team_id": OTHER_TEAM, "user_id": OTHER_ADMIN}
    listing = vigie.slack.command_answer("mentions", **theirs)
    assert "Our private complaint" not in str(listing)
    for command in (f"show {mention_id}", f"assign {mention_id} <@{OTHER_ADMIN}|a>",
                    f"ignore {mention_id}", f"draft {mention_id} hello"):
        reply = vigie.slack.command_answer(command, **theirs)["text"]
        assert f"no mention #{mention_id}" in reply, (command, reply)
    assert "secretwatch" not in vigie.slack.command_answer("watch list", **theirs)["text"]
    assert "secretwatch" in str(vigie.slack.command_answer("watch list"))
    mine = vigie.slack.command_answer("mentions")
    assert "Our private complaint" in str(mine)


def test_admins_are_per_workspace_with_several_workspaces(vigie_two_teams: VigieApp) -> None:
    vigie = vigie_two_teams
    assert _admins(vigie, TEAM_ID) == {ADMIN_ID}
    assert _admins(vigie, OTHER_TEAM) == {OTHER_ADMIN}  # the plain id is not admin there
    refused = vigie.slack.command_answer(f"role add <@{ADMIN_ID}|x> admin", team_id=OTHER_TEAM,
                                         user_id=ADMIN_ID)["text"]
    # Slack places ADMIN_ID in the first workspace: in the other, they are an outsider.
    assert "members of this workspace" in refused and ADMIN_ID not in _admins(vigie, OTHER_TEAM)


def test_an_uninstalled_team_gets_no_workspace(vigie_two_teams: VigieApp) -> None:
    vigie = vigie_two_teams
    reply = vigie.slack.slash_command("help", team_id="T07NOTHERE")
    assert "Our private" not in reply.text
    assert "T07NOTHERE" not in _teams(vigie)
    with pytest.raises(UnknownWorkspace):
        vigie.runtime.workspaces.ensure("T07NOTHERE")
