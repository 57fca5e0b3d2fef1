"""Slack Connect: a member of another organisation in a shared channel sees Vigie's cards
but may not act on them (buttons, forms), whatever the default role of members; their
form maps to the workspace Vigie is installed in and creates no workspace for theirs."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import transaction
from storage.models import Member, Workspace
from tests.e2e.conftest import VigieApp, eventually
from tests.e2e.test_guests import press
from tests.e2e.test_workflow import card, seed, settle, status
from tests.harness.constants import TEAM_ID, USER_ID
from tests.harness.slack_requests import SLACK_CONNECT

PARTNER = "U07PARTNER"
REFUSAL = ("Vigie's actions are for members of this workspace: as a member of another "
           "organisation in this shared channel, you can read its cards but not act on them.")


def _external_click(vigie: VigieApp, action: str, mention_id: int,
                    user_team_id: str = SLACK_CONNECT) -> dict[str, object]:
    """Click a card button as PARTNER of ``user_team_id``; the ephemeral answer."""
    settle(vigie)
    before = len(vigie.standin.responses())
    vigie.slack.block_action(action, message_ts=card(vigie, mention_id)["ts"],
                             user_id=PARTNER, value=str(mention_id), user_team_id=user_team_id)
    vigie.standin.wait_until(lambda s: len(s.responses()) > before)
    return vigie.standin.responses()[-1]


def _team_ids(vigie: VigieApp) -> list[str]:
    with vigie.runtime.sessions() as session:
        return list(session.scalars(select(Workspace.team_id).order_by(Workspace.id)))


def test_a_member_of_another_organisation_cannot_click_card_buttons(vigie: VigieApp) -> None:
    """Before, ungranted users defaulted to agent: a Slack Connect user ignored the card."""
    mention_id = seed(vigie)
    refused = _external_click(vigie, "vigie.ignore", mention_id)
    assert refused["text"] == REFUSAL and refused["response_type"] == "ephemeral"
    assert status(vigie, mention_id) == "new"
    _external_click(vigie, "vigie.assign", mention_id)
    assert vigie.standin.calls("views.open") == []
    with vigie.runtime.sessions() as session:  # nothing asked nor kept about them
        assert session.scalars(select(Member).where(Member.user_id == PARTNER)).all() == []
    assert not [c for c in vigie.standin.calls("users.info") if c.args.get("user") == PARTNER]


def test_their_modal_submission_is_refused_and_maps_to_the_host(vigie: VigieApp) -> None:
    """A form's ``team.id`` is the submitter's workspace: Vigie reads the view's
    ``app_installed_team_id`` (no workspace row for the partner's team) and refuses it."""
    mention_id = seed(vigie)
    settle(vigie)
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    answer = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                         values={"assignee": {"user": USER_ID}},
                                         user_id=PARTNER, user_team_id=SLACK_CONNECT)
    assert answer.status_code == 200, answer.text
    assert _team_ids(vigie) == [TEAM_ID]
    body = answer.json()
    assert body["response_action"] == "errors" and REFUSAL in str(body["errors"])
    assert status(vigie, mention_id) == "new"


def test_the_refusal_speaks_the_workspaces_language(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    with transaction(vigie.runtime.sessions) as session:
        workspace = session.scalars(select(Workspace).where(Workspace.team_id == TEAM_ID)).one()
        workspace.locale = "fr"
    refused = _external_click(vigie, "vigie.ignore", mention_id)
    assert str(refused["text"]).startswith("Les actions de Vigie sont réservées aux membres")


def test_enterprise_grid_and_own_members_still_act(vigie: VigieApp) -> None:
    """On Enterprise Grid ``user.team_id`` may be the org's ``E…`` id: not refused; nor is
    a payload whose user names no team, nor a member of the workspace."""
    mention_id = seed(vigie)
    settle(vigie)
    vigie.slack.block_action("vigie.ignore", message_ts=card(vigie, mention_id)["ts"],
                             user_id=PARTNER, value=str(mention_id), user_team_id="E07ORG0001")
    eventually(lambda: status(vigie, mention_id) == "ignored")
    press(vigie, "vigie.reopen", mention_id, USER_ID)
    eventually(lambda: status(vigie, mention_id) == "new")
    press(vigie, "vigie.ignore", mention_id, USER_ID)
    eventually(lambda: status(vigie, mention_id) == "ignored")
    assert REFUSAL not in str(vigie.standin.responses())
