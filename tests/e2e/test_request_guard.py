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
    assert "ignored" not in str(vigie_sqlite.slack.command_answer(f"show {mention_id}"))


def test_only_an_explicit_none_is_the_local_operator() -> None:
    assert CLI.trusted and Actor("U07CMALICE", "slash_command").trusted is False
    with pytest.raises(ValueError, match="user id"):
        Actor("", "slash_command")


def test_a_request_while_slack_refuses_the_bot_token_is_answered_in_the_workspaces_language(
        vigie: VigieApp) -> None:
    """With one bot token that Slack refuses now (the outbox paused on it), a person's
    request is not served as if all were well (its Slack calls would fail), nor given
    Bolt's fixed English "reinstall" text (as at a start with a refused token): Vigie tells
    them in the workspace's language; once Slack accepts the token again, they are served."""
    from sqlalchemy import update

    from bot.services.outbox import KIND_POST, do_enqueue
    from bot.slack.token_state import SlackTokenState
    from storage.db import transaction
    from storage.models import Workspace
    from tests.harness.constants import BOT_TOKEN, CHANNEL_ID

    token = SlackTokenState()
    vigie.runtime.outbox.token_watch = token
    workspace = vigie.runtime.workspaces.ensure(vigie.slack.team_id)
    with transaction(vigie.runtime.sessions) as session:
        session.execute(update(Workspace).where(Workspace.id == workspace.id)
                        .values(locale="fr"))
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_POST, channel=CHANNEL_ID,
                   payload={"text": "held"})
    vigie.standin.revoke_token(BOT_TOKEN, "token_revoked")
    vigie.runtime.outbox.flush()
    assert token.current() == "token_revoked"
    reply = vigie.slack.slash_command("help")
    assert reply.status_code == 200
    assert reply.text.startswith(":warning: Vigie ne peut pas répondre depuis cet espace")
    assert "réinstaller Vigie" in reply.text
    vigie.standin.restore_token(BOT_TOKEN)
    token.accepted()
    assert "/cm" in vigie.slack.command_answer("help")["text"]
