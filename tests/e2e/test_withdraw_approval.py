"""An approval can be withdrawn before the reply goes out, and an approved mention can be
redrafted, sent back or ignored; reopening a mention marked replied by hand undoes the mark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.services import workflow
from bot.services.actors import Actor
from bot.services.http_clients import http_factory
from bot.services.replies import flush_replies
from storage.db import transaction
from storage.models import Approval, AuditEvent, Mention, Workspace
from storage.models_replies import ReplyPost
from tests.e2e.conftest import VigieApp, eventually
from tests.e2e.test_posting import approve, mastodon_setup, reply_status
from tests.e2e.test_workflow import buttons, card, grant, seed, settle, status, thread_notes
from tests.harness.constants import OTHER_USER_ID, TEAM_ID, USER_ID
from tests.publishers.fakes import Failure

APPROVER = OTHER_USER_ID


def _approved(vigie: VigieApp, mention_id: int) -> None:
    """Drafted by USER_ID, approved by APPROVER; Vigie cannot post on this network."""
    drafted = vigie.slack.command_answer(f"draft {mention_id} Sorry Ana, we are on it",
                                         user_id=USER_ID)
    assert "v1" in drafted["text"], drafted
    grant(vigie, APPROVER, "approver")
    vigie.slack.command_answer(f"approve {mention_id} v1", user_id=APPROVER)
    settle(vigie)
    assert status(vigie, mention_id) == "approved"


def _decisions(vigie: VigieApp, mention_id: int) -> list[str]:
    with vigie.runtime.sessions() as session:
        return list(session.scalars(select(Approval.decision).where(
            Approval.mention_id == mention_id).order_by(Approval.id)))


def _answered_at(vigie: VigieApp, mention_id: int) -> tuple[object, object]:
    with vigie.runtime.sessions() as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        return mention.first_response_at, mention.replied_at


def test_an_approver_withdraws_an_approval_from_the_card(vigie: VigieApp) -> None:
    # Reported: on a network Vigie cannot post to, an approved reply with a typo could not
    # be edited, sent back or ignored ("Mention #1 is *Approved*, so ... is not possible").
    mention_id = seed(vigie)
    _approved(vigie, mention_id)
    approved = card(vigie, mention_id)
    assert "vigie.withdraw" in buttons(approved) and "vigie.reject" not in buttons(approved)
    assert "Withdraw approval" in json.dumps(approved["blocks"])
    denied = vigie.slack.command_answer(f"withdraw {mention_id}", user_id=USER_ID)
    assert "Only an *approver*" in denied["text"], denied
    assert status(vigie, mention_id) == "approved"

    vigie.slack.block_action("vigie.withdraw", message_ts=approved["ts"], user_id=APPROVER)
    vigie.standin.wait_until(lambda _: status(vigie, mention_id) == "drafting", timeout=15)
    settle(vigie)
    updated = card(vigie, mention_id)
    assert "Sorry Ana, we are on it" in json.dumps(updated["blocks"])  # the draft is kept
    assert "vigie.draft" in buttons(updated) and "vigie.withdraw" not in buttons(updated)
    assert f"<@{APPROVER}> withdrew the approval of draft v1" in thread_notes(vigie)[-1]
    assert _decisions(vigie, mention_id) == ["withdrawn"]
    with vigie.runtime.sessions() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "mention.withdraw")).one()
        assert (event.actor, event.from_status, event.to_status) == (
            APPROVER, "approved", "drafting")
        assert event.detail["approval_withdrawn"] == 1

    # The typo is fixed and approved again: the four-eyes rule still holds.
    fixed = vigie.slack.command_answer(f"draft {mention_id} Sorry Ana, we are on it!",
                                       user_id=USER_ID)
    assert "Draft v2 saved" in fixed["text"], fixed
    again = vigie.slack.command_answer(f"approve {mention_id} v2", user_id=APPROVER)
    assert "approved" in again["text"] and status(vigie, mention_id) == "approved"


def test_the_withdraw_button_speaks_french(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    _approved(vigie, mention_id)
    with transaction(vigie.runtime.sessions) as session:
        workspace = session.scalar(select(Workspace).where(Workspace.team_id == TEAM_ID))
        assert workspace is not None
        workspace.locale = "fr"
    vigie.slack.command_answer(f"assign {mention_id} <@{USER_ID}|alice>", user_id=APPROVER)
    settle(vigie)
    assert "Retirer la validation" in json.dumps(card(vigie, mention_id)["blocks"])
    vigie.slack.command_answer("lang fr", user_id=APPROVER)
    answer = vigie.slack.command_answer(f"withdraw {mention_id} coquille",
                                        user_id=APPROVER)
    assert answer["text"] == (f"Validation du brouillon v1 de la mention n°{mention_id} retirée "
                              ": le brouillon est gardé, à modifier et soumettre de nouveau, "
                              "ou la mention à ignorer."), answer


@pytest.mark.parametrize(("command", "user", "after"), [
    ("draft {id} Sorry Ana, we are on it!", USER_ID, "awaiting_approval"),
    ("ignore {id} the customer deleted the post", USER_ID, "ignored"),
    ("reject {id} typo in the order number", APPROVER, "drafting"),
])
def test_an_approved_mention_is_redrafted_ignored_or_sent_back(
    vigie: VigieApp, command: str, user: str, after: str
) -> None:
    mention_id = seed(vigie)
    _approved(vigie, mention_id)
    answer = vigie.slack.command_answer(command.format(id=mention_id), user_id=user)
    assert "not possible" not in answer["text"], answer
    assert status(vigie, mention_id) == after
    # The approval no longer stands, nothing was counted as answered.
    assert _decisions(vigie, mention_id) == ["withdrawn"]
    assert _answered_at(vigie, mention_id) == (None, None)


def test_reopening_a_mention_marked_replied_by_mistake_undoes_the_mark(
    vigie: VigieApp
) -> None:
    # Reported: Mark replied then reopen then ignore left first_response_at and
    # replied_at set: the digest and the monthly report counted a reply never sent.
    mention_id = seed(vigie)
    _approved(vigie, mention_id)
    vigie.slack.command_answer(f"replied {mention_id}", user_id=USER_ID)
    assert all(_answered_at(vigie, mention_id))
    reopened = vigie.slack.command_answer(f"reopen {mention_id}", user_id=USER_ID)
    assert "that mark is undone" in reopened["text"], reopened
    assert _answered_at(vigie, mention_id) == (None, None)
    settle(vigie)
    assert "no longer count this mention as answered" in thread_notes(vigie)[-1]
    vigie.slack.command_answer(f"ignore {mention_id} deleted", user_id=USER_ID)
    assert status(vigie, mention_id) == "ignored"
    assert _answered_at(vigie, mention_id) == (None, None)


def test_a_reply_vigie_posted_stays_counted_when_reopened(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    vigie = vigie_sqlite
    _, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    _mastodon_approve(vigie, mention_id)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    posted = _answered_at(vigie, mention_id)
    reopened = vigie.slack.command_answer(f"reopen {mention_id}", user_id=USER_ID)
    assert reopened["text"] == f"Mention #{mention_id} reopened."
    assert _answered_at(vigie, mention_id) == posted and all(posted)


def _mastodon_approve(vigie: VigieApp, mention_id: int, version: int = 1) -> None:
    approve(vigie, mention_id, text=f"Sorry, we're on it (v{version})", version=version)


def test_a_queued_post_not_started_is_called_off(
    vigie: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    drafted = vigie.slack.command_answer(f"draft {mention_id} Sorry, we're on it")
    assert "saved" in drafted["text"], drafted
    grant(vigie, APPROVER, "approver")
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    # Approved through the service: no sender runs before the approver changes their mind.
    workflow.do_approve(vigie.runtime.sessions, workspace.id,
                        Actor(APPROVER, "slash_command"), mention_id, version=1)
    assert reply_status(vigie) == "pending"
    answer = vigie.slack.command_answer(f"withdraw {mention_id}", user_id=APPROVER)
    assert "withdrawn" in answer["text"], answer
    assert reply_status(vigie) == "cancelled" and status(vigie, mention_id) == "drafting"
    assert flush_replies(vigie.runtime.sessions, http_factory(vigie.runtime.settings)) == []
    assert fake.created == []


def test_a_post_under_way_is_not_withdrawn(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    # Rate limited after a first attempt: the post is on its way and may come out.
    fake.failure = Failure(429, {"error": "Too many requests"}, {"Retry-After": "600"})
    _mastodon_approve(vigie, mention_id)
    eventually(lambda: fake.failure is None and _calls(vigie) == (0, 1))
    for command, user in ((f"withdraw {mention_id}", APPROVER),
                          (f"draft {mention_id} Another text", USER_ID),
                          (f"ignore {mention_id}", USER_ID)):
        refused = vigie.slack.command_answer(command, user_id=user)["text"]
        assert "already being posted on Mastodon" in refused, (command, refused)
    assert status(vigie, mention_id) == "approved" and reply_status(vigie) == "pending"
    assert _decisions(vigie, mention_id) == ["approved"]


def test_a_failed_post_is_withdrawn_edited_and_posted_once(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    fake.failure = Failure(422, {"error": "Validation failed: Text character limit exceeded"})
    _mastodon_approve(vigie, mention_id)
    eventually(lambda: reply_status(vigie) == "failed", timeout=15)
    settle(vigie)
    failed = card(vigie, mention_id)
    assert "vigie.withdraw" in buttons(failed)
    vigie.slack.block_action("vigie.withdraw", message_ts=failed["ts"], user_id=APPROVER)
    vigie.standin.wait_until(lambda _: status(vigie, mention_id) == "drafting", timeout=15)
    settle(vigie)
    assert reply_status(vigie) == "cancelled"
    assert "Posting failed" not in json.dumps(card(vigie, mention_id)["blocks"])
    fake.failure = None
    _mastodon_approve(vigie, mention_id, version=2)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    assert len(fake.created) == 1
    assert "(v2)" in json.dumps(fake.statuses[fake.created[0]])


def _calls(vigie: VigieApp) -> tuple[int, int]:
    """The first reply's attempts and rate-limited calls."""
    with vigie.runtime.sessions() as session:
        row = session.scalars(select(ReplyPost).order_by(ReplyPost.id)).first()
        return (row.attempts, row.rate_limited_calls) if row else (0, 0)
