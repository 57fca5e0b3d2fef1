"""The outbox never lets one refused message hold back the rest (issue 15, items 1 and 6).

Against the Slack stand-in, on SQLite and PostgreSQL: errors Slack answers as HTTP 200
``ok: false`` that go away are retried.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, enqueue_posts, sender_for, statuses


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable",
                                   "request_timeout", "ratelimited"])
def test_transient_ok_false_errors_are_retried_with_backoff(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    error: str,
) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["first", "second"])
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    # internal_error and fatal_error may have acted: here Slack did post the first one.
    slack_standin.error_next("chat.postMessage", error,
                             side_effect=error in ("internal_error", "fatal_error"))
    report = sender.flush()
    assert report.failed == 0 and report.sent == 0
    assert statuses(sessions) == ["pending", "pending"]  # the second waits behind the first
    assert sender.flush().sent == 0  # not before the backoff
    clock.now += timedelta(seconds=10)
    sender.flush()
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["first", "second"]
    assert statuses(sessions) == ["sent", "sent"]


