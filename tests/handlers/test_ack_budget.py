"""`/cm` answers Slack within its 3 seconds whatever Slack's own API makes it wait for: a
subcommand that checks a channel with Slack is acknowledged first, and any other one whose
look-ups run past the ack budget is acknowledged empty in time and answered through the
response URL (the stand-in's rule 14: a later answer is an error the user sees)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

import handlers.commands as commands
from bot.services import watches
from bot.services.actors import CLI
from handlers.commands import TimelyAck
from storage.models import Watch
from storage.models_topics import TopicRoute
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import seed, status
from tests.handlers.conftest import nth_response
from tests.harness.constants import CHANNEL_ID, TEAM_ID

SLOW_USERS_INFO = 1.5
"""Longer than Vigie's users.info timeout (1 s): each look-up waits that second out."""
SLOW_CHANNEL_CHECK = 2.5
"""Longer than Vigie's conversations.info timeout (2 s)."""


def _count(vigie: VigieApp, model: Any) -> int:
    with vigie.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _slack_is_slow(vigie: VigieApp) -> None:
    """users.info and conversations.info answer after Vigie's timeouts (the admin has no
    stored language yet, so the command first asks Slack about them)."""
    vigie.standin.set_channel("C07PUBLIC01", is_member=False)
    vigie.standin.delay("users.info", SLOW_USERS_INFO)
    vigie.standin.delay("conversations.info", SLOW_CHANNEL_CHECK)


def test_watch_add_is_acknowledged_before_slack_checks_the_channel(vigie: VigieApp) -> None:
    """The admin's look-up (1 s) and the channel check (2 s) took Slack's whole 3 seconds
    before the ack: the user saw Slack's timeout error while the watch was stored, and
    trying again said the watch exists."""
    _slack_is_slow(vigie)
    reply = vigie.slack.slash_command("watch add pub <#C07PUBLIC01|news> acme",
                                      user_id=ADMIN_ID)
    assert vigie.standin.timeouts() == []
    assert reply.status_code == 200
    assert not (reply.json() if reply.content else {}).get("text"), "nothing but the ack"
    answer = nth_response(vigie, 1)
    assert answer["text"].startswith("Watch *pub* created"), answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert _count(vigie, Watch) == 1


def test_watch_route_is_acknowledged_before_slack_checks_the_channel(vigie: VigieApp
                                                                     ) -> None:
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    watches.do_add_watch(vigie.runtime.sessions, workspace_id, CLI, name="acme",
                         query="acme", channel_id=CHANNEL_ID, notifier=None)
    _slack_is_slow(vigie)
    reply = vigie.slack.slash_command(
        "watch route acme topic:outage <#C07PUBLIC01|news>", user_id=ADMIN_ID)
    assert vigie.standin.timeouts() == []
    assert reply.status_code == 200
    assert not (reply.json() if reply.content else {}).get("text"), "nothing but the ack"
    assert "C07PUBLIC01" in nth_response(vigie, 1)["text"]
    assert _count(vigie, TopicRoute) == 1


def test_a_quick_subcommand_past_the_ack_budget_is_answered_through_the_response_url(
        vigie: VigieApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """`/cm assign 42 @ana` is answered in the ack, after Slack's word on Ana (up to a
    second; two with the caller's own look-up): past the budget (shortened here, so the
    test does not depend on the machine's speed), the ack goes out empty in time and the
    answer follows."""
    mention_id = seed(vigie)
    vigie.standin.set_user("U07ANA0001", name="ana")
    vigie.slack.slash_command(f"show {mention_id}")  # the caller's look-up is behind us
    monkeypatch.setattr(commands, "ACK_BUDGET_SECONDS", 0.5, raising=False)
    vigie.standin.delay("users.info", 0.8)  # Slack answers Ana's look-up, slowly
    started = time.monotonic()
    reply = vigie.slack.slash_command(f"assign {mention_id} <@U07ANA0001|ana>")
    took = time.monotonic() - started
    assert reply.status_code == 200
    assert not (reply.json() if reply.content else {}).get("text"), "nothing but the ack"
    assert took < 1.5, f"the ack took {took:.2f} s, past its budget"
    answer = nth_response(vigie, 1)
    assert "assigned" in answer["text"].lower(), answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert status(vigie, mention_id) == "assigned"
    assert len(vigie.standin.responses()) == 1


class FakeAck:
    """Bolt's ack as :class:`TimelyAck` uses it: every call recorded."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.called = threading.Event()

    def __call__(self, **answer: Any) -> None:
        self.calls.append(answer)
        self.called.set()


def test_an_answer_in_time_is_the_ack() -> None:
    ack = FakeAck()
    timely = TimelyAck(ack, 5.0)  # type: ignore[arg-type]
    timely(text="done", response_type="ephemeral")
    timely.close()
    assert ack.calls == [{"text": "done", "response_type": "ephemeral"}]
    assert timely.late() is None


def test_a_late_answer_is_kept_for_the_response_url_after_an_empty_ack() -> None:
    ack = FakeAck()
    timely = TimelyAck(ack, 0.05)  # type: ignore[arg-type]
    assert ack.called.wait(5), "the empty ack went out on time"
    timely(text="done", response_type="ephemeral")
    timely.close()
    assert ack.calls == [{}], "one ack, empty"
    assert timely.late() == {"text": "done", "response_type": "ephemeral"}


def test_a_late_empty_ack_leaves_nothing_to_send() -> None:
    ack = FakeAck()
    timely = TimelyAck(ack, 0.05)  # type: ignore[arg-type]
    assert ack.called.wait(5)
    timely()
    timely.close()
    assert ack.calls == [{}]
    assert timely.late() is None


def test_an_ack_function_done_sends_no_empty_ack_after_it() -> None:
    """An ack function that failed before acknowledging is Bolt's to answer: no empty ack
    goes out after :meth:`TimelyAck.close`."""
    ack = FakeAck()
    timely = TimelyAck(ack, 0.05)  # type: ignore[arg-type]
    timely.close()
    time.sleep(0.2)
    assert ack.calls == []
