"""Issue 19 items 4 and 5, through the HTTP app and the Slack stand-in: a click or a command
approves the draft the approver saw or nothing; four eyes look at whose words are in the
draft, not at who saved it last."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Approval
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import APPROVER, card, grant, seed, settle, status
from tests.harness.blockkit_limits import validate_blocks

GOOD = "Sorry Ana, we are on it."
SAVED = f"@ana@mastodon.social {GOOD}"
"""GOOD as saved: a Mastodon reply mentions the customer it answers."""
PHISH = "Sorry Ana, claim your refund here: https://acme-refunds.example/login"


def approve_button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    [button] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "vigie.approve"]
    return button


def next_response(vigie: VigieApp, count: int) -> dict[str, Any]:
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > count)
    return vigie.standin.responses()[count]


def approvals(vigie: VigieApp) -> list[tuple[int | None, str, str]]:
    with vigie.runtime.sessions() as session:
        return [(a.draft_version, a.approver_user_id, a.decision)
                for a in session.scalars(select(Approval))]


def test_a_click_on_a_replaced_draft_approves_nothing(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    grant(vigie, APPROVER, "approver")
    vigie.slack.command_answer(f"draft {mention_id} {GOOD}")
    settle(vigie)
    seen = card(vigie, mention_id)  # the approver reads draft v1 on this card...
    assert approve_button(seen["blocks"])["value"].startswith(f"{mention_id}:v1:")
    reply = vigie.slack.command_answer(f"draft {mention_id} {PHISH}")
    assert "Draft v2 saved" in reply["text"]  # ...and one second before the click, v2
    sent = len(vigie.standin.responses())
    vigie.slack.block_action("vigie.approve", message=seen, user_id=APPROVER)
    stale = next_response(vigie, sent)
    assert stale["response_type"] == "ephemeral" and stale["replace_original"] is False
    assert "Nothing was approved" in stale["text"] and "you saw v1" in stale["text"]
    assert "acme-refunds.example/login" in str(stale["blocks"])  # the current text, to read
    assert validate_blocks(stale["blocks"], "message") == []
    assert status(vigie, mention_id) == "awaiting_approval" and approvals(vigie) == []

    # The answer's own button approves the text it shows: v2, read this time.
    vigie.slack.block_action("vigie.approve", user_id=APPROVER, is_ephemeral=True,
                             message={"ts": "1700000000.000100", "blocks": stale["blocks"]})
    vigie.standin.wait_until(lambda _: status(vigie, mention_id) == "approved")
    assert approvals(vigie) == [(2, APPROVER, "approved")]


def test_a_card_posted_before_the_upgrade_asks_to_read_the_draft(vigie_sqlite: VigieApp
                                                                 ) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    grant(vigie, APPROVER, "approver")
    vigie.slack.command_answer(f"draft {mention_id} {GOOD}")
    settle(vigie)
    old = card(vigie, mention_id)
    approve_button(old["blocks"])["value"] = str(mention_id)  # what older cards carry
    sent = len(vigie.standin.responses())
    vigie.slack.block_action("vigie.approve", message=old, user_id=APPROVER)
    shown = next_response(vigie, sent)
    assert shown["text"].startswith("Nothing approved yet") and GOOD in shown["text"]
    assert approvals(vigie) == []


def test_the_command_approves_only_the_version_it_names(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    grant(vigie, APPROVER, "approver")
    vigie.slack.command_answer(f"draft {mention_id} {GOOD}")
    vigie.slack.command_answer(f"draft {mention_id} {PHISH}")
    stale = vigie.slack.command_answer(f"approve {mention_id} v1", user_id=APPROVER)
    assert "you saw v1" in stale["text"] and "acme-refunds" in str(stale["blocks"])
    bad = vigie.slack.command_answer(f"approve {mention_id} v²", user_id=APPROVER)
    assert "is not a draft version" in bad["text"]
    shown = vigie.slack.command_answer(f"approve {mention_id} looks fine",
                                       user_id=APPROVER)
    assert f"/cm approve {mention_id} v2" in shown["text"]
    assert approvals(vigie) == []
    # v2's risk check warned (a link): as the button's dialog does, the command asks the
    # approver to confirm, with the draft, its warnings and a button that asks again.
    ask = vigie.slack.command_answer(f"approve {mention_id} v2", user_id=APPROVER)
    assert ask["text"].startswith("Nothing approved yet: the risk check of draft v2")
    assert f"`/cm approve {mention_id} v2 confirm`" in ask["text"]
    assert validate_blocks(ask["blocks"], "message") == []
    assert approve_button(ask["blocks"])["confirm"]["title"]["text"] == (
        "Approve a draft with warnings?")
    assert approvals(vigie) == [] and status(vigie, mention_id) == "awaiting_approval"
    ok = vigie.slack.command_answer(f"approve {mention_id} v2 confirm", user_id=APPROVER)
    assert ok["text"] == (f"Mention #{mention_id} approved. Vigie cannot post on Mastodon: "
                          "copy the draft, post it there, then press Mark replied.")
    assert approvals(vigie) == [(2, APPROVER, "approved")]
    with vigie.runtime.sessions() as session:  # "confirm" is not an override reason
        assert session.scalars(select(Approval.reason)).all() == [None]


def test_an_agent_resaving_the_approvers_draft_does_not_let_them_approve_it(
        vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    grant(vigie, APPROVER, "approver")
    vigie.slack.command_answer(f"draft {mention_id} {GOOD}", user_id=APPROVER)
    settle(vigie)
    # An agent opens the editor (pre-filled with the approver's v1) and submits it as is.
    vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    assert opened.args["view"]["blocks"][1]["element"]["initial_value"] == SAVED
    # Untouched, the input submits what it shows (Slack sends the initial value).
    sent = vigie.slack.view_submission(view_id=opened.response["view"]["id"])
    assert sent.status_code == 200 and not sent.content
    settle(vigie)
    updated = card(vigie, mention_id)
    assert approve_button(updated["blocks"])["value"].startswith(f"{mention_id}:v2:")

    sent = len(vigie.standin.responses())
    vigie.slack.block_action("vigie.approve", message=updated, user_id=APPROVER)
    refused = next_response(vigie, sent)
    assert "someone else must approve" in refused["text"]
    denied = vigie.slack.command_answer(f"approve {mention_id} v2", user_id=APPROVER)
    assert "someone else must approve" in denied["text"]
    assert status(vigie, mention_id) == "awaiting_approval" and approvals(vigie) == []
    ok = vigie.slack.command_answer(f"approve {mention_id} v2", user_id=ADMIN_ID)
    assert ok["text"] == (f"Mention #{mention_id} approved. Vigie cannot post on Mastodon: "
                          "copy the draft, post it there, then press Mark replied.")


def test_approve_anyway_approves_the_version_the_button_showed(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    grant(vigie, APPROVER, "approver")
    risky = "We will refund you, call +33 6 12 34 56 78. Card 4111 1111 1111 1111"
    vigie.slack.command_answer(f"draft {mention_id} {risky}")
    settle(vigie)
    vigie.slack.block_action("vigie.approve", message=card(vigie, mention_id), user_id=APPROVER)
    opened = vigie.standin.wait_for("views.open")[-1]
    assert opened.args["view"]["callback_id"] == "vigie.modal.override"
    # While the approver writes the reason, the draft is replaced.
    vigie.slack.command_answer(f"draft {mention_id} {PHISH}")
    refused = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                          user_id=APPROVER,
                                          values={"reason": {"text": "legal checked"}}).json()
    assert refused["response_action"] == "errors"
    assert "you saw v1" in refused["errors"]["reason"]
    assert "acme-refunds.example" in refused["errors"]["reason"]
    assert status(vigie, mention_id) == "awaiting_approval" and approvals(vigie) == []


def test_a_draft_the_card_cuts_is_shown_whole_before_it_is_approved(vigie_sqlite: VigieApp
                                                                    ) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie, network="rss")
    grant(vigie, APPROVER, "approver")
    long = "Dear Ana, " + "we are checking your order & <shipment> again. " * 40 + "Bye!"
    vigie.slack.command_answer(f"draft {mention_id} {long}")
    settle(vigie)
    shown_on_card = card(vigie, mention_id)
    assert "Bye!" not in str(shown_on_card["blocks"])  # the card cuts it...
    assert approve_button(shown_on_card["blocks"])["value"] == str(mention_id)  # ...so no bind
    sent = len(vigie.standin.responses())
    vigie.slack.block_action("vigie.approve", message=shown_on_card, user_id=APPROVER)
    whole = next_response(vigie, sent)
    assert whole["text"].startswith("Nothing approved yet") and "Bye!" in str(whole["blocks"])
    assert approvals(vigie) == []
    vigie.slack.block_action("vigie.approve", user_id=APPROVER, is_ephemeral=True,
                             message={"ts": "1700000000.000100", "blocks": whole["blocks"]})
    vigie.standin.wait_until(lambda _: status(vigie, mention_id) != "awaiting_approval")
    assert approvals(vigie) == [(1, APPROVER, "approved")]
