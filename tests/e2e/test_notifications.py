"""People are told about their work: DMs reach the Slack stand-in when a mention is assigned
to them, when drafts wait for their approval (batched), when their draft is decided or
posted, when a mention of theirs reopens; `/cm notify off` stops them; App Homes refresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

from bot.services.members import do_set_language
from bot.services.outbox import EVENT_TYPE_MESSAGE
from storage.models import utcnow
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_posting import mastodon_setup
from tests.e2e.test_workflow import grant, seed, settle, status
from tests.harness.constants import OTHER_USER_ID, TEAM_ID, USER_ID

BOB = OTHER_USER_ID
ALICE = USER_ID


def dms(vigie: VigieApp, user: str) -> list[dict[str, Any]]:
    """The messages in the user's DM with the app, oldest first."""
    return list(vigie.standin.messages_in(user))


def delivered(vigie: VigieApp) -> None:
    """Run what the background nudge runs (digests due, outbox, Homes), to the end."""
    vigie.runtime.deliver()
    settle(vigie)


def delivered_until(vigie: VigieApp, predicate: Callable[[], bool]) -> None:
    """Deliver (the scheduler's tick sends what the 1 message/s per channel held back)
    until ``predicate`` holds: a reply is posted in the background."""
    eventually(lambda: delivered(vigie) or predicate())


def command(vigie: VigieApp, text: str, user: str = ALICE) -> str:
    return str(vigie.slack.command_answer(text, user_id=user)["text"])


def test_assignment_dm_reaches_the_assignee_and_their_home(vigie: VigieApp) -> None:
    mention_id = seed(vigie, text="Refund <!channel> please")
    answer = command(vigie, f"assign {mention_id} <@{BOB}|bob>")
    assert "assigned" in answer
    eventually(lambda: len(dms(vigie, BOB)) == 1)
    [dm] = dms(vigie, BOB)
    assert f"<@{ALICE}>" in dm["text"] and f"#{mention_id}>" in dm["text"]
    assert "archives/" in dm["text"]  # links to the card
    assert "&lt;!channel&gt;" in dm["text"] and "<!channel>" not in dm["text"]
    assert dm["metadata"]["event_type"] == EVENT_TYPE_MESSAGE
    # Bob's App Home now lists it, though only Alice acted.
    eventually(lambda: f"#{mention_id}" in str((vigie.standin.home_view(BOB) or {})
                                                .get("blocks")))
    # Taking it yourself tells nobody.
    command(vigie, f"assign {mention_id} <@{ALICE}|alice>")
    delivered(vigie)
    assert dms(vigie, ALICE) == [] and len(dms(vigie, BOB)) == 1


def test_approvers_get_one_digest_per_window(vigie: VigieApp) -> None:
    grant(vigie, BOB, "approver")
    first = seed(vigie, text="first complaint")
    second = seed(vigie, text="second one", handle="@bea@mastodon.social")
    assert "saved" in command(vigie, f"draft {first} Sorry, we are on it.")
    eventually(lambda: len(dms(vigie, BOB)) == 1 and len(dms(vigie, ADMIN_ID)) == 1)
    [digest] = dms(vigie, BOB)
    assert f"#{first}>" in digest["text"] and f"#{second}>" not in digest["text"]
    assert "(1)" in digest["text"]
    assert "saved" in command(vigie, f"draft {second} We will check.")
    delivered(vigie)
    assert len(dms(vigie, BOB)) == 1  # inside the window: no second DM
    assert dms(vigie, ALICE) == []  # the drafter is not told about their own draft
    later = utcnow() + timedelta(minutes=vigie.runtime.settings.notify_digest_minutes + 1)
    vigie.runtime.clock = lambda: later
    delivered(vigie)
    assert len(dms(vigie, BOB)) == 2
    latest = dms(vigie, BOB)[-1]["text"]
    assert f"#{first}>" in latest and f"#{second}>" in latest and "(2)" in latest
    # The approvers' Homes list the drafts.
    home = str((vigie.standin.home_view(BOB) or {}).get("blocks"))
    assert f"#{first}" in home and f"#{second}" in home


def test_drafter_is_told_of_reject_and_approve(vigie: VigieApp) -> None:
    grant(vigie, BOB, "approver")
    mention_id = seed(vigie)
    command(vigie, f"draft {mention_id} First try")
    answer = command(vigie, f"reject {mention_id} too formal, <!here> use her name", BOB)
    assert "sent back" in answer
    eventually(lambda: len(dms(vigie, ALICE)) == 1)
    rejected = dms(vigie, ALICE)[0]["text"]
    # The reason as Bob typed it (Slack sent his @here escaped): plain "@here" in a message
    # posted without link_names pings nobody; the special mention <!here> would.
    assert f"<@{BOB}>" in rejected and "too formal, @here use her name" in rejected
    assert "<!here>" not in rejected
    command(vigie, f"draft {mention_id} Second try")
    assert "approved" in command(vigie, f"approve {mention_id} v2", BOB)
    delivered(vigie)
    assert len(dms(vigie, ALICE)) == 2
    assert "approved" in dms(vigie, ALICE)[1]["text"]
    eventually(lambda: f"#{mention_id}" not in str(
        (vigie.standin.home_view(BOB) or {}).get("blocks")) and vigie.standin.home_view(BOB)
        is not None)


def test_drafter_is_told_when_the_reply_is_posted(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    command(vigie, f"draft {mention_id} Sorry @alice, we're on it!")
    grant(vigie, BOB, "approver")
    assert "being posted" in command(vigie, f"approve {mention_id} v1 confirm", BOB)
    eventually(lambda: status(vigie, mention_id) == "replied")
    delivered_until(vigie, lambda: len(dms(vigie, ALICE)) == 2)
    approved, posted = (m["text"] for m in dms(vigie, ALICE))
    assert "approved" in approved and "posted on Mastodon" in posted
    assert len(fake.created) == 1


def test_reopen_tells_the_assignee(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    command(vigie, f"assign {mention_id} <@{BOB}|bob>")
    command(vigie, f"ignore {mention_id} spam", BOB)
    assert "reopened" in command(vigie, f"reopen {mention_id}")
    delivered(vigie)
    assert len(dms(vigie, BOB)) == 2
    assert "reopened" in dms(vigie, BOB)[1]["text"]


def test_notify_off_stops_the_dms(vigie: VigieApp) -> None:
    first = seed(vigie, text="first complaint")
    second = seed(vigie, text="second one", handle="@bea@mastodon.social")
    assert "no DMs" in command(vigie, "notify off", BOB)
    assert "no DMs" in command(vigie, "notify status", BOB)
    command(vigie, f"assign {first} <@{BOB}|bob>")
    delivered(vigie)
    assert dms(vigie, BOB) == []
    assert "sends you DMs" in command(vigie, "notify on", BOB)
    command(vigie, f"assign {second} <@{BOB}|bob>")
    eventually(lambda: len(dms(vigie, BOB)) == 1)
    assert f"#{second}>" in dms(vigie, BOB)[0]["text"]
    usage = command(vigie, "notify <!channel>", BOB)
    assert "&lt;!channel&gt;" in usage and "/cm notify off" in usage
    assert "`/cm notify`" in command(vigie, "help")


def test_notify_speaks_the_users_language(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    # As `/cm lang fr` stores it (the command itself races Slack's locale look-up).
    do_set_language(vigie.runtime.sessions, vigie.runtime.workspaces.ensure(TEAM_ID).id, BOB,
                    "fr")
    assert "aucun message" in command(vigie, "notify off", BOB)
    command(vigie, "notify on", BOB)
    command(vigie, f"assign {mention_id} <@{BOB}|bob>")
    eventually(lambda: len(dms(vigie, BOB)) == 1)
    assert "vous a attribué" in dms(vigie, BOB)[0]["text"]
