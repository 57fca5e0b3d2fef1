"""Ids past PostgreSQL's INTEGER (2**31 - 1), typed in `/cm` or carried by a button: the
same "no such #ID" answer as any unknown id, never an internal error (PostgreSQL refuses
to compare an INTEGER column with them; SQLite just finds nothing)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import DBAPIError

from bot.slack.influencer_blocks import TRACK_ACTION
from bot.slack.modals import ASSIGN, DRAFT, OVERRIDE, REJECT
from bot.slack.opportunity_blocks import DRAFT_ACTION as OPP_DRAFT_ACTION
from bot.slack.opportunity_blocks import DRAFT_BLOCK as OPP_DRAFT_BLOCK
from bot.slack.opportunity_blocks import DRAFT_CALLBACK as OPP_DRAFT
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_approval_binding import next_response

HUGE = [2**31, 99999999999]

COMMANDS = [
    ("show {id}", "There is no mention #{id}"),
    ("assign {id} <@U07ALICE01|alice>", "There is no mention #{id}"),
    ("assign {id},{id2} <@U07ALICE01|alice>", "There is no mention #{id}"),
    ("draft {id}", "There is no mention #{id}"),
    ("draft {id} Hello there", "There is no mention #{id}"),
    ("approve {id} v1", "There is no mention #{id}"),
    ("reject {id} off topic", "There is no mention #{id}"),
    ("withdraw {id}", "There is no mention #{id}"),
    ("replied {id}", "There is no mention #{id}"),
    ("ignore {id}", "There is no mention #{id}"),
    ("ignore {id},{id2} spam", "There is no mention #{id}"),
    ("reopen {id}", "There is no mention #{id}"),
    ("opp assign {id} <@U07ALICE01|alice>", "There is no opportunity {id}"),
    ("opp draft {id} Hi", "There is no opportunity {id}"),
    ("opp contacted {id}", "There is no opportunity {id}"),
    ("opp dismiss {id}", "There is no opportunity {id}"),
    ("opp reopen {id}", "There is no opportunity {id}"),
    ("source test {id}", "There is no source #{id}"),
    ("source pause {id}", "There is no source #{id}"),
    ("source resume {id}", "There is no source #{id}"),
    ("source remove {id}", "There is no source #{id}"),
]


@pytest.fixture
def quiet_errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR)
    return caplog


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize(("command", "expected"), COMMANDS)
def test_a_huge_id_is_not_found(vigie: VigieApp, command: str, expected: str, huge: int,
                                quiet_errors: pytest.LogCaptureFixture) -> None:
    reply = vigie.slack.slash_command(command.format(id=huge, id2=huge + 1), user_id=ADMIN_ID)
    assert reply.status_code == 200
    body = reply.json() if reply.content else next_response(vigie, 0)
    assert expected.format(id=huge) in body["text"], body
    assert errors_logged(quiet_errors) == []


@pytest.mark.parametrize(("command", "expected"), [
    ("show {id}", "Aucune mention n°{id}"), ("ignore {id},{id2}", "Aucune mention n°{id}"),
    ("opp dismiss {id}", "Aucune opportunité {id}"),
    ("source pause {id}", "Il n'y a pas de source n°{id}")])
def test_a_huge_id_is_not_found_in_french(vigie: VigieApp, command: str, expected: str,
                                          quiet_errors: pytest.LogCaptureFixture) -> None:
    vigie.slack.command_answer("lang fr", user_id=ADMIN_ID)
    count = len(vigie.standin.responses())
    reply = vigie.slack.slash_command(command.format(id=2**31, id2=2**31 + 1),
                                      user_id=ADMIN_ID)
    body = reply.json() if reply.content else next_response(vigie, count)
    assert expected.format(id=2**31) in body["text"], body
    assert errors_logged(quiet_errors) == []


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The database errors logged (an internal error's traceback); a background call to
    the stand-in of a test that ended may log a refused connection, which is no matter."""
    return [r.getMessage() for r in caplog.records
            if r.exc_info and isinstance(r.exc_info[1], DBAPIError)]


BUTTONS = [("vigie.ignore", "{id}"), ("vigie.assign", "{id}"), ("vigie.draft", "{id}"),
           ("vigie.approve", "{id}:v1:" + "a" * 16), ("vigie.reopen", "{id}"),
           ("vigie.opp_dismiss", "{id}"), ("vigie.opp_draft", "{id}"),
           (TRACK_ACTION, "{id}"), ("vigie.more", '{{"before_id": {id}}}')]


@pytest.mark.parametrize(("action_id", "value"), BUTTONS)
def test_a_button_with_a_huge_id_does_not_crash(vigie: VigieApp, action_id: str, value: str,
                                                quiet_errors: pytest.LogCaptureFixture
                                                ) -> None:
    value = value.format(id=99999999999)
    button = {"type": "button", "action_id": action_id, "value": value,
              "text": {"type": "plain_text", "text": "x"}}
    answer = vigie.slack.block_action(
        action_id, value=value, user_id=ADMIN_ID,
        message={"ts": "1.2", "blocks": [{"type": "actions", "elements": [button]}]})
    assert answer.status_code == 200
    # A click is acknowledged first and answered after: wait for the answer.
    vigie.standin.wait_until(lambda standin: bool(
        standin.responses() or standin.calls("chat.postEphemeral")))
    assert errors_logged(quiet_errors) == []
    assert all("went wrong" not in str(r) for r in vigie.standin.responses())


@pytest.mark.parametrize("callback", [ASSIGN, DRAFT, REJECT, OVERRIDE, OPP_DRAFT])
def test_a_modal_for_a_huge_id_does_not_crash(vigie: VigieApp, callback: str,
                                              quiet_errors: pytest.LogCaptureFixture) -> None:
    key = "opportunity_id" if callback == OPP_DRAFT else "mention_id"
    values = {"assignee": {"user": {"type": "users_select", "selected_user": "U07ALICE01"}},
              "draft": {"text": {"type": "plain_text_input", "value": "Hello"}},
              "reason": {"text": {"type": "plain_text_input", "value": "off topic"}},
              OPP_DRAFT_BLOCK: {OPP_DRAFT_ACTION: {"type": "plain_text_input",
                                                   "value": "Hello"}}}
    answer = vigie.slack.view_submission(
        callback, values, user_id=ADMIN_ID,
        private_metadata=json.dumps({key: 99999999999, "version": 1, "digest": "a" * 16}))
    assert answer.status_code == 200
    assert errors_logged(quiet_errors) == []
    assert "went wrong" not in answer.text
