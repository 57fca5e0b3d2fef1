"""A wave of rows whose posts may have gone through (Slack answering 5xx to every post for
a while) is looked up within a budget of conversations.history calls: Tier 3, about 50 a
minute per workspace. A row whose look-up finds the budget spent waits; it is never posted
without its look-up, so nothing is posted twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.messages.delivery import LOOKUP_BURST, LOOKUP_CALLS_PER_MINUTE, LookupBudget
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, enqueue_posts, sender_for, statuses

ROWS = 30


def test_a_wave_of_uncertain_rows_stays_within_the_look_up_budget(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    channels = [f"C07WAVE{n:04d}" for n in range(ROWS)]
    for channel in channels:
        enqueue_posts(sessions, workspace_id, channel, [f"alert in {channel}"])
    clock = Clock()
    # Slack's 5xx wave: half the posts went through all the same, half did not.
    for n in range(ROWS):
        slack_standin.fail_next("chat.postMessage", status=500, side_effect=n % 2 == 0)
    sender = sender_for(sessions, slack_standin, clock)  # its budget on the clock
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=2)
    report = sender.flush()
    looked = len(slack_standin.calls("conversations.history"))
    assert looked <= LOOKUP_BURST
    assert 0 < report.sent < ROWS
    # The rows left waiting did not post again without looking.
    for channel in channels:
        assert len(slack_standin.messages_in(channel)) <= 1
    started = clock.seconds()
    for _ in range(60):
        if set(statuses(sessions)) == {"sent"}:
            break
        clock.now += timedelta(seconds=10)
        sender.flush()
        elapsed_minutes = (clock.seconds() - started) / 60
        assert (
            len(slack_standin.calls("conversations.history")) - looked
            <= LOOKUP_BURST + LOOKUP_CALLS_PER_MINUTE * elapsed_minutes
        )
    assert set(statuses(sessions)) == {"sent"}
    for channel in channels:
        assert [m["text"] for m in slack_standin.messages_in(channel)] == [f"alert in {channel}"]


def test_a_budget_refills_at_its_rate_per_workspace() -> None:
    now = [0.0]
    budget = LookupBudget(per_minute=60, burst=2, clock=lambda: now[0])
    assert [budget.take("T1"), budget.take("T1")] == [0.0, 0.0]
    assert budget.take("T1") == 1.0  # a call a second: one more in a second
    assert budget.take("T2") == 0.0  # another workspace has its own
    now[0] += 1.0
    assert budget.take("T1") == 0.0
    assert budget.take("T1") > 0
