"""Issue 19 item 10 (handler part), through the HTTP app and the Slack stand-in: a forged
assignee, Unicode digits, odd action ids and oversized button values get an answer or are
ignored, never an unhandled error."""

from __future__ import annotations

import json
import logging

import pytest

from storage.models import Mention
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_approval_binding import next_response
from tests.e2e.test_workflow import card, seed, settle, status


@pytest.fixture
def quiet_errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR, logger="vigie.app")
    return caplog


def app_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "vigie.app"]


def test_a_forged_assignee_is_refused_in_the_modal(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    refused = vigie.slack.view_submission(
        view_id=opened.response["view"]["id"],
        values={"assignee": {"user": {"type": "users_select", "selected_user": "<!channel>"}}})
    answer = refused.json()
    assert answer["response_action"] == "errors"
    # Plain text, shown to the submitter only: the value as sent, neither mrkdwn-escaped
    # (&lt; would show as such) nor parsed (Slack reads no mention in a modal's error).
    assert answer["errors"]["assignee"] == (
        "<!channel> is not a Slack user: pick someone in the list or type @name.")
    settle(vigie)
    with vigie.runtime.sessions() as session:
        assert session.get(Mention, mention_id).assignee_user_id is None  # type: ignore[union-attr]
    assert all("<!channel>" not in str(c.args) for c in vigie.standin.calls("chat.update"))


@pytest.mark.parametrize("text", ["show ¹", "show ①", "show ١٢", "assign ¹ <@U07ALICE01|a>",
                                  "approve 1 v¹", "ignore ²", "source test ¹",
                                  "watch add acme threshold:¹ acme",
                                  "sla set acme urgent=¹"])
def test_unicode_digits_get_a_clear_answer(vigie_sqlite: VigieApp, text: str,
                                           quiet_errors: pytest.LogCaptureFixture) -> None:
    reply = vigie_sqlite.slack.slash_command(text, user_id=ADMIN_ID)
    assert reply.status_code == 200
    # Slow subcommands acknowledge empty and answer through the response URL.
    body = reply.json() if reply.content else next_response(vigie_sqlite, 0)
    assert "Error id" not in body["text"] and "went wrong" not in body["text"], body
    assert app_errors(quiet_errors) == [], text


def test_odd_buttons_are_ignored_without_a_crash(vigie_sqlite: VigieApp,
                                                 quiet_errors: pytest.LogCaptureFixture) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    more = json.dumps({"before_id": 10**30, "since": 10**20, "text": "x" * 5000})
    nested = "[" * 999 + "]" * 999  # under 2000 characters, deeper than json's recursion
    cases = [("vigie.ignore\n", str(mention_id)), ("vigie.ignore", f"{mention_id}\n"),
             ("vigie.ignore", "¹"), ("vigie.ignore", "9" * 3000),
             ("vigie.approve", f"{mention_id}:v1:{'a' * 3000}"),
             ("vigie.more", more), ("vigie.more", nested),
             ("vigie.more", json.dumps({"since": 10**15})),
             ("vigie.more", json.dumps({"before_id": 2**80}))]
    for action_id, value in cases:
        button = {"type": "button", "action_id": action_id, "value": value,
                  "text": {"type": "plain_text", "text": "x"}}
        answer = vigie.slack.block_action(
            action_id, value=value,
            message={"ts": "1.2", "blocks": [{"type": "actions", "elements": [button]}]})
        assert answer.status_code == 200, (action_id, value[:40])
    vigie.slack.slash_command("help")  # listeners run after the ack: let them finish
    settle(vigie)
    assert app_errors(quiet_errors) == []
    assert status(vigie, mention_id) == "new"  # the agent clicking could have ignored it
