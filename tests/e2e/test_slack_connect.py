"""Slack Connect: a member of another organisation in a shared channel sees Vigie's cards
but may not act on them (buttons, forms), whatever the default role of members; their
form maps to the workspace Vigie is installed in and creates no workspace for theirs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from storage.db import transaction
from storage.models import Member, OutboxMessage, Workspace
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually, start_vigie
from tests.e2e.test_guests import press
from tests.e2e.test_opportunities_home_e2e import ALTERNATIVE
from tests.e2e.test_opportunities_home_e2e import _ingest as ingest_opportunities
from tests.e2e.test_opportunities_home_e2e import _setup as conquest_on
from tests.e2e.test_opportunities_home_e2e import _status as opportunity
from tests.e2e.test_workflow import card, seed, settle, status
from tests.harness.constants import BOT_ID, BOT_USER_ID, TEAM_ID, USER_ID
from tests.harness.slack_requests import SLACK_CONNECT
from tests.harness.slack_standin import SlackStandIn

PARTNER = "U07PARTNER"
OWN_ORG = "E07ORG0001"
"""The Enterprise Grid org of a host on Grid."""
OTHER_ORG = "E07OTHER01"
"""Another Grid org (a Slack Connect partner's)."""
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


def _grid_host(standin: SlackStandIn, enterprise_id: str) -> None:
    """Vigie's one bot token is a workspace-level install on a workspace of the Enterprise
    Grid org ``enterprise_id``: ``auth.test`` names the org and says it is not an org-wide
    install (``is_enterprise_install``, https://docs.slack.dev/reference/methods/auth.test)."""
    standin.on("auth.test", lambda args: {
        "ok": True, "url": "https://vigie-grid.enterprise.slack.com/", "team": "Vigie Grid",
        "user": "vigie", "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
        "enterprise_id": enterprise_id, "is_enterprise_install": False})


def test_a_member_of_another_enterprise_org_cannot_act(vigie: VigieApp) -> None:
    """On Enterprise Grid a click's ``user.team_id`` is the user's org's ``E…`` id (Slack:
    "The user.team_id will report an enterprise organization ID (which starts with an E)
    instead of team ID", https://docs.slack.dev/reference/interaction-payloads/block_suggestion-payload).
    Before, any ``E…`` id passed as a member of the host: a Slack Connect partner from
    another Grid org ignored the card of a host that is not on Grid at all."""
    mention_id = seed(vigie)
    refused = _external_click(vigie, "vigie.ignore", mention_id, user_team_id=OTHER_ORG)
    assert refused["text"] == REFUSAL
    assert status(vigie, mention_id) == "new"


@pytest.fixture
def grid_vigie(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie whose bot token is a workspace-level install on a Grid org's workspace."""
    _grid_host(slack_standin, OWN_ORG)
    yield from start_vigie(db_url, slack_standin)


def test_enterprise_grid_and_own_members_still_act(grid_vigie: VigieApp) -> None:
    """A host on Enterprise Grid: a member whose ``user.team_id`` is the host's own org id
    (the installation's ``enterprise_id``) acts, as does a payload naming the workspace;
    a partner of another Grid org (another ``E…`` id) is refused."""
    vigie = grid_vigie
    mention_id = seed(vigie)
    refused = _external_click(vigie, "vigie.ignore", mention_id, user_team_id=OTHER_ORG)
    assert refused["text"] == REFUSAL and status(vigie, mention_id) == "new"
    settle(vigie)
    vigie.slack.block_action("vigie.ignore", message_ts=card(vigie, mention_id)["ts"],
                             user_id=PARTNER, value=str(mention_id), user_team_id=OWN_ORG)
    eventually(lambda: status(vigie, mention_id) == "ignored")
    press(vigie, "vigie.reopen", mention_id, USER_ID)
    eventually(lambda: status(vigie, mention_id) == "new")
    press(vigie, "vigie.ignore", mention_id, USER_ID)
    eventually(lambda: status(vigie, mention_id) == "ignored")
    assert str(vigie.standin.responses()).count(REFUSAL) == 1


PARTNER_SAYS = ("They belong to another organisation (a Slack Connect partner in a shared "
                "channel)")


def _partner_in_shared_channel(standin: SlackStandIn) -> None:
    """``users.info`` on PARTNER, a Slack Connect partner in a channel Vigie sees: their own
    workspace's ``team_id``, and no ``is_stranger`` (Slack sets it only for a user "in any
    shared channels visible to your app" not, https://api.slack.com/types/user)."""
    standin.set_user(PARTNER, name="partner", team_id=SLACK_CONNECT)


def test_a_partner_of_another_organisation_is_given_no_work(vigie: VigieApp) -> None:
    """Before, `/cm assign` and the Assign modal gave the mention to a partner every click
    of whom is refused (perm.external), and DMed them this workspace's mention."""
    _partner_in_shared_channel(vigie.standin)
    mention_id = seed(vigie)
    answer = vigie.slack.command_answer(f"assign {mention_id} <@{PARTNER}|partner>")
    assert str(answer["text"]).startswith(PARTNER_SAYS)
    settle(vigie)
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    refused = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                          values={"assignee": {"user": PARTNER}}).json()
    assert refused["response_action"] == "errors"
    assert PARTNER_SAYS in refused["errors"]["assignee"]
    settle(vigie)
    assert status(vigie, mention_id) == "new"
    assert not [c for c in vigie.standin.calls("conversations.open")
                if PARTNER in str(c.args.get("users"))]


def test_a_partner_of_another_organisation_is_given_no_role(vigie: VigieApp) -> None:
    """Before, an admin could make a partner approver: the approval digests then listed
    this workspace's drafts to them, who could approve none. A stranger (``is_stranger``)
    is refused the same way; the French text is there."""
    _partner_in_shared_channel(vigie.standin)
    answer = vigie.slack.command_answer(f"role add <@{PARTNER}|p> approver", user_id=ADMIN_ID)
    assert "belongs to another organisation" in str(answer["text"])
    vigie.standin.set_user("U07STRANGE", name="stranger", is_stranger=True)
    vigie.slack.command_answer("lang fr", user_id=ADMIN_ID)
    answer = vigie.slack.command_answer("role add <@U07STRANGE|s> agent", user_id=ADMIN_ID)
    assert "appartient à une autre organisation" in str(answer["text"])
    with vigie.runtime.sessions() as session:
        assert not session.scalars(select(Member).where(
            Member.user_id.in_([PARTNER, "U07STRANGE"]))).all()


def test_a_partner_running_cm_is_refused_as_their_clicks_are(vigie: VigieApp) -> None:
    """A slash command's payload does not name the user's team; ``users.info``, asked for
    their guest check and language, does: a partner's `/cm ignore` is refused as their
    click would be (before, the default role let them ignore the mention)."""
    _partner_in_shared_channel(vigie.standin)
    mention_id = seed(vigie)
    answer = vigie.slack.command_answer(f"ignore {mention_id}", user_id=PARTNER)
    assert answer["text"] == REFUSAL
    settle(vigie)
    assert status(vigie, mention_id) == "new"


def test_a_grid_colleague_of_another_workspace_is_still_given_work(grid_vigie: VigieApp
                                                                   ) -> None:
    """On Enterprise Grid, a colleague whose home workspace is another of the same org
    (``enterprise_user.enterprise_id`` is the installation's) may be assigned."""
    vigie = grid_vigie
    vigie.standin.set_user(PARTNER, name="colleague", team_id="T07SIBLING",
                           enterprise_user={"id": PARTNER, "enterprise_id": OWN_ORG,
                                            "enterprise_name": "Vigie Grid",
                                            "teams": ["T07SIBLING"]})
    mention_id = seed(vigie)
    answer = vigie.slack.command_answer(f"assign {mention_id} <@{PARTNER}|c>")
    assert f"assigned to <@{PARTNER}>" in str(answer["text"])


def _grid_colleague(standin: SlackStandIn) -> None:
    """``users.info`` on PARTNER, here a colleague whose home is a sibling workspace of the
    installation's Grid org: their workspace's ``team_id``, the org in ``enterprise_user``."""
    standin.set_user(PARTNER, name="colleague", team_id="T07SIBLING",
                     enterprise_user={"id": PARTNER, "enterprise_id": OWN_ORG,
                                      "enterprise_name": "Vigie Grid", "teams": ["T07SIBLING"]})


def _click(vigie: VigieApp, action: str, message_ts: str, value: str,
           done: Callable[[], bool] | None = None) -> None:
    """PARTNER, of the host's Grid org (their click's ``user.team_id`` is the org's id),
    clicks ``action`` on the message ``message_ts``; returns once the click was answered,
    Slack was asked to open a modal, or ``done``."""
    answers = len(vigie.standin.responses())
    opens = len(vigie.standin.calls("views.open"))
    vigie.slack.block_action(action, message_ts=message_ts, user_id=PARTNER, value=value,
                             user_team_id=OWN_ORG)
    eventually(lambda: len(vigie.standin.calls("views.open")) > opens
               or len(vigie.standin.responses()) > answers or (done is not None and done()))


def _opportunity_card(vigie: VigieApp, opportunity_id: int) -> str:
    vigie.runtime.outbox.flush(wait=True)
    with vigie.runtime.sessions() as session:
        ts = session.scalar(select(OutboxMessage.result_ts).where(
            OutboxMessage.kind == "opportunity",
            OutboxMessage.payload["opportunity_id"].as_integer() == opportunity_id))
    return str(ts)


def test_a_grid_colleague_of_another_workspace_may_draft_a_reply(grid_vigie: VigieApp
                                                                 ) -> None:
    """Before, the card's Draft button and `/cm draft ID` asked Slack about them with the
    workspace alone (not the installation's org) and refused them as of another
    organisation, while `/cm assign` gave them the same mention."""
    vigie = grid_vigie
    _grid_colleague(vigie.standin)
    mention_id = seed(vigie)
    settle(vigie)
    _click(vigie, "vigie.draft", card(vigie, mention_id)["ts"], str(mention_id))
    assert "another organisation" not in str(vigie.standin.responses())
    (opened,) = vigie.standin.calls("views.open")
    assert opened.args["view"]["callback_id"] == "vigie.modal.draft"
    # `/cm draft ID` opens the same editor, after the same check.
    answer = vigie.slack.command_answer(f"draft {mention_id}", user_id=PARTNER)
    assert str(answer["text"]).startswith("Opening the draft editor"), answer
    vigie.standin.wait_for("views.open", count=2)


def test_a_grid_colleague_of_another_workspace_may_draft_and_take_opportunities(
        grid_vigie: VigieApp) -> None:
    """Before, the opportunity's Draft button, saving its editor and Take each asked Slack
    about them without the installation's org and refused them as of another
    organisation."""
    vigie = grid_vigie
    _grid_colleague(vigie.standin)
    conquest_on(vigie)
    second, first = ingest_opportunities(vigie, [ALTERNATIVE, ALTERNATIVE + " Help!"])
    _click(vigie, "vigie.opp_draft", _opportunity_card(vigie, first), str(first))
    assert "another organisation" not in str(vigie.standin.responses())
    (opened,) = vigie.standin.calls("views.open")
    (field,) = [b for b in opened.args["view"]["blocks"] if b["type"] == "input"]
    view_id = opened.response["view"]["id"]
    vigie.standin.type_into(view_id, field["block_id"], "text", "Hi! Acme imports it.")
    saved = vigie.slack.view_submission(view_id=view_id, user_id=PARTNER,
                                        user_team_id=OWN_ORG)
    assert saved.status_code == 200 and not saved.content, saved.text
    assert opportunity(vigie, first) == ("drafted", PARTNER, "Hi! Acme imports it.")
    _click(vigie, "vigie.opp_take", _opportunity_card(vigie, second), str(second),
           done=lambda: opportunity(vigie, second)[:2] == ("assigned", PARTNER))
    assert "another organisation" not in str(vigie.standin.responses())
    assert opportunity(vigie, second)[:2] == ("assigned", PARTNER)


YOU_SAY = "You belong to another organisation (a Slack Connect partner in a shared channel)"


def test_a_partner_taking_work_themselves_is_told_in_the_second_person(vigie: VigieApp
                                                                       ) -> None:
    """A partner an admin made agent before grants to partners were refused, with a stored
    language: Slack is not asked about them when they run `/cm` (the grant decides), so
    taking work themselves is where users.info says they are of another organisation.
    Before, the refusal spoke of them in the third person and told them to assign it to
    a member; now it addresses them (en and fr), and whom another assigns is still
    spoken of as 'they'."""
    _partner_in_shared_channel(vigie.standin)
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    with transaction(vigie.runtime.sessions) as session:
        session.add(Member(workspace_id=workspace.id, user_id=PARTNER, role="agent",
                           granted_by=ADMIN_ID, locale="en"))
    conquest_on(vigie)
    (opportunity_id,) = ingest_opportunities(vigie, [ALTERNATIVE])
    mention_id = seed(vigie)
    answer = vigie.slack.command_answer(f"opp assign {opportunity_id}", user_id=PARTNER)
    assert str(answer["text"]).startswith(YOU_SAY + ": "), answer
    answer = vigie.slack.command_answer(f"assign {mention_id} <@{PARTNER}|p>",
                                        user_id=PARTNER)
    assert str(answer["text"]).startswith(YOU_SAY + ": "), answer
    assert "Leave it to a member of this workspace." in str(answer["text"])
    answer = vigie.slack.command_answer(f"assign {mention_id} <@{PARTNER}|p>")
    assert str(answer["text"]).startswith(PARTNER_SAYS), answer
    vigie.slack.command_answer("lang fr", user_id=PARTNER)
    answer = vigie.slack.command_answer(f"opp assign {opportunity_id}", user_id=PARTNER)
    assert str(answer["text"]).startswith(
        "Vous appartenez à une autre organisation (partenaire Slack Connect"), answer
    assert opportunity(vigie, opportunity_id)[:2] == ("open", None)
    assert status(vigie, mention_id) == "new"
