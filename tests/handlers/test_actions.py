"""The button listeners: each action id of ours, clicked as Slack sends it. Each click is
acknowledged at once; the work runs after (a Bolt lazy listener), and a refusal
(ServiceError) comes back to the clicker alone."""

from __future__ import annotations

import json

import pytest

from bot.slack.influencer_blocks import TRACK_ACTION
from bot.slack.mention_views import MORE_ACTION
from tests.e2e.conftest import VigieApp
from tests.e2e.test_workflow import card, seed, settle, status
from tests.handlers.conftest import nth_response


def _click(vigie: VigieApp, action_id: str, value: str) -> None:
    """A click on a one-button message carrying ``value`` (as an older card would)."""
    response = vigie.slack.block_action(action_id, value=value)
    assert response.status_code == 200
    assert response.content in (b"", b"{}") or not response.json().get("text")


def _refusal(vigie: VigieApp, sent: int = 0) -> str:
    answer = nth_response(vigie, sent + 1)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "something went wrong" not in answer["text"].lower()
    return str(answer["text"])


@pytest.mark.parametrize("name", ["assign", "reject"])
def test_card_button_opens_a_modal(vigie: VigieApp, name: str) -> None:
    mention_id = seed(vigie)
    if name == "reject":
        vigie.slack.command_answer(f"draft {mention_id} Sorry Ana, we are on it.")
    sent = len(vigie.standin.responses())
    _click(vigie, f"vigie.{name}", str(mention_id))
    if name == "reject":  # only an approver rejects: the clicker is told why
        assert "approver" in _refusal(vigie, sent)
        return
    (opened,) = vigie.standin.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "vigie.modal.assign"


def test_draft_button_opens_the_editor(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    _click(vigie, "vigie.draft", str(mention_id))
    (opened,) = vigie.standin.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "vigie.modal.draft"
    assert "never arrived" in json.dumps(opened.args["view"])


def test_draft_button_on_an_unknown_mention_is_refused(vigie: VigieApp) -> None:
    _click(vigie, "vigie.draft", "999")
    assert "#999" in _refusal(vigie) or "999" in _refusal(vigie)
    assert vigie.standin.calls("views.open") == []


def test_approve_button_without_a_draft_is_refused(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    _click(vigie, "vigie.approve", f"{mention_id}:v1:{'0' * 16}")
    assert _refusal(vigie)
    assert status(vigie, mention_id) == "new"


@pytest.mark.parametrize(("name", "after"), [("replied", "replied"), ("ignore", "ignored")])
def test_card_button_changes_the_mention(vigie: VigieApp, name: str, after: str) -> None:
    mention_id = seed(vigie)
    ts = card(vigie, mention_id)["ts"]
    vigie.slack.block_action(f"vigie.{name}", message_ts=ts)
    vigie.standin.wait_until(lambda _: status(vigie, mention_id) == after, timeout=15)
    settle(vigie)
    vigie.standin.wait_for("views.publish", timeout=15)  # the clicker's App Home


def test_reopen_button(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    vigie.slack.slash_command(f"ignore {mention_id}")
    _click(vigie, "vigie.reopen", str(mention_id))
    vigie.standin.wait_until(lambda _: status(vigie, mention_id) != "ignored", timeout=15)


@pytest.mark.parametrize("name", ["close", "retry"])
def test_card_button_that_does_not_apply_is_refused(vigie: VigieApp, name: str) -> None:
    mention_id = seed(vigie)
    _click(vigie, f"vigie.{name}", str(mention_id))
    assert _refusal(vigie)
    assert status(vigie, mention_id) == "new"


@pytest.mark.parametrize("verb", ["take", "contacted", "dismiss", "reopen"])
def test_opportunity_button_on_an_unknown_opportunity(vigie: VigieApp, verb: str) -> None:
    _click(vigie, f"vigie.opp_{verb}", "999")
    assert "999" in _refusal(vigie)


def test_more_button_replaces_the_listing(vigie: VigieApp) -> None:
    seed(vigie)
    _click(vigie, MORE_ACTION, json.dumps({"status": "new", "before_id": 10**6}))
    answer = nth_response(vigie, 1)
    assert answer["replace_original"] is True
    assert "never arrived" in json.dumps(answer)


def test_track_button_on_an_unknown_author(vigie: VigieApp) -> None:
    _click(vigie, TRACK_ACTION, "999")
    assert _refusal(vigie)


@pytest.mark.parametrize("action_id", ["vigie.not_urgent", "vigie.should_alert.{id}"])
def test_feedback_buttons(vigie: VigieApp, action_id: str) -> None:
    mention_id = seed(vigie)
    _click(vigie, action_id.format(id=mention_id), str(mention_id))
    answer = nth_response(vigie, 1)
    assert answer["response_type"] == "ephemeral" and f"#{mention_id}" in answer["text"]


@pytest.mark.parametrize("action_id", ["vigie.open_reply", "vigie.nothing_of_ours"])
def test_link_and_unknown_buttons_are_only_acknowledged(vigie: VigieApp,
                                                        action_id: str) -> None:
    _click(vigie, action_id, "1")
    assert vigie.standin.responses() == []
