"""Only the CLI's explicit local actor is trusted: a Slack request without a user id is
refused, never run as the local operator (no role checks, no four-eyes)."""

from __future__ import annotations

import pytest

from bot.services.actors import CLI, Actor
from bot.services.members import list_roles
from tests.e2e.conftest import VigieApp
from tests.e2e.test_workflow import seed
from tests.harness.constants import OTHER_USER_ID


@pytest.mark.parametrize("user_id", ["", " ", "U07CMALICE\n"])
def test_a_slash_command_without_user_id_is_refused(vigie_sqlite: VigieApp,
                                                     user_id: str) -> None:
    vigie = vigie_sqlite
    reply = vigie.slack.slash_command(f"role add <@{OTHER_USER_ID}|bob> admin", user_id=user_id)
    assert reply.status_code == 400
    workspace = vigie.runtime.workspaces.ensure(vigie.slack.team_id)
    roles = {r.user_id: r.role for r in list_roles(vigie.runtime.sessions, workspace.id)}
    assert roles.get(OTHER_USER_ID) != "admin"


def test_a_button_click_without_user_id_is_refused(vigie_sqlite: VigieApp) -> None:
    mention_id = seed(vigie_sqlite, text="Acme refund please")
    reply = vigie_sqlite.slack.block_action("vigie.ignore", value=str(mention_id), user_id="")
    assert reply.status_code == 400
    assert "ignored" not in str(vigie_sqlite.slack.slash_command(f"show {mention_id}").json())


def test_only_an_explicit_none_is_the_local_operator() -> None:
    assert CLI.trusted and Actor("U07CMALICE", "slash_command").trusted is False
    with pytest.raises(ValueError, match="user id"):
        Actor("", "slash_command")
