"""Outbox rows carry specs as data and are rendered when sent; rows written by an older
version (rendered text and blocks in the payload) still go out exactly as stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.messages.notes import Date, Note, Text
from bot.messages.spikes import SpikeAlertSpec, SpikeSample
from bot.messages.stored import spec_payload
from bot.services.outbox import KIND_POST, do_enqueue
from bot.slack.notes import render_note
from bot.slack.spike_blocks import build_spike_alert
from storage.db import transaction
from storage.models import OutboxMessage
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import SLACK_PACE, Clock, sender_for

WHEN = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_old_rows_and_spec_rows_are_sent_in_order(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    old_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*stored* &lt;x&gt;"}}]
    note = Note.of("en", "sla.breach", id="#7", due=Date(WHEN)).then(
        "workflow.note_reason", reason=Text("<!channel> please"))
    spike = SpikeAlertSpec(
        language="en", watch="acme", kind="volume", total=40, baseline=2.0,
        negative_share=0.5, baseline_negative_share=0.1, terms=(("refund", 12),),
        samples=(SpikeSample("@loud", "where is my <refund>", "https://example.com/p"),))
    payloads = [{"text": "stored text &amp; kept"},
                {"text": "stored card", "blocks": old_blocks},
                spec_payload(note), spec_payload(spike)]
    with transaction(sessions) as session:
        for payload in payloads:
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=CHANNEL_ID,
                       payload=payload)
    report = sender_for(sessions, slack_standin, Clock(),
                        per_channel_interval=SLACK_PACE).flush(wait=True)
    assert report.sent == 4 and report.failed == 0
    sent = slack_standin.messages_in(CHANNEL_ID)
    assert [m["text"] for m in sent] == [
        "stored text &amp; kept", "stored card", render_note(note), build_spike_alert(spike)[0]]
    assert _as_sent(sent[1]["blocks"]) == old_blocks
    assert "&lt;!channel&gt; please" in sent[2]["text"] and not sent[2].get("blocks")
    assert _as_sent(sent[3]["blocks"]) == build_spike_alert(spike)[1]


def _as_sent(blocks: list[dict[str, object]]) -> list[dict[str, object]]:
    """The blocks without the block_id Slack adds to those sent without one."""
    return [{k: v for k, v in block.items() if k != "block_id"} for block in blocks]


def test_a_row_that_cannot_be_rendered_fails_and_the_others_go_out(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """A stored spec that cannot be read (a field an earlier version did not write) fails
    for good with its reason; it neither stops the flush nor holds other rows."""
    good = Note.of("en", "sla.breach", id="#8", due=Date(WHEN))
    with transaction(sessions) as session:
        bad_shape = do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                               channel="C0BADSHAPE", payload={"note": {"phrases": "?"}})
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=CHANNEL_ID,
                   payload=spec_payload(good))
    report = sender_for(sessions, slack_standin, Clock()).flush()
    assert (report.sent, report.failed) == (1, 1)
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == [render_note(good)]
    with sessions() as session:
        row = session.get_one(OutboxMessage, bad_shape.id)
        assert row.status == "failed" and "could not be rendered" in (row.last_error or "")


def test_a_note_a_newer_release_queued_waits_for_it_and_fails_only_after_a_day(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """During a rolling deploy an older process reads notes a newer one queued: a phrase
    key its catalogue lacks, an argument of a form it does not know, a phrase whose
    arguments changed. Not its to send: each stays pending, no attempt spent, and is
    looked at again later (a newer process sends it meanwhile); the channel goes on. Only
    a day after it was queued does it fail for good, saying why."""
    after = Note.of("en", "sla.breach", id="#8", due=Date(WHEN))
    newer = {
        "new_key": {"language": "en", "phrases": [
            {"key": "outbox.some_key_added_in_next_release", "args": {}}]},
        "new_arg_form": {"language": "en", "phrases": [
            {"key": "sla.breach", "args": {"id": "#9", "due": {"moment_v2": "09:00"}}}]},
        # Known key and argument forms; the string needs ``due``, which it no longer gives.
        "changed_args": {"language": "en", "phrases": [
            {"key": "sla.breach", "args": {"id": "#10"}}]},
    }
    with transaction(sessions) as session:
        rows = {name: do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                                 channel=CHANNEL_ID, payload={"note": note}).id
                for name, note in newer.items()}
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=CHANNEL_ID,
                   payload=spec_payload(after))
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)

    def states() -> dict[str, tuple[str, int, str | None]]:
        with sessions() as session:
            return {name: (row.status, row.attempts, row.last_error) for name, row_id
                    in rows.items() for row in [session.get_one(OutboxMessage, row_id)]}

    report = sender.flush()
    assert (report.sent, report.failed, report.deferred) == (1, 0, 3)
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == [render_note(after)]
    assert states() == dict.fromkeys(rows, ("pending", 0, None))
    # Looked at again later (still not this version's): still pending, no attempt spent.
    clock.sleep(600)
    report = sender.flush()
    assert (report.sent, report.failed, report.deferred) == (0, 0, 3)
    assert states() == dict.fromkeys(rows, ("pending", 0, None))
    # A day after they were queued, no newer process sent them: they fail, saying why.
    clock.sleep(24 * 3600)
    report = sender.flush()
    assert (report.sent, report.failed) == (0, 3)
    final = states()
    assert {status for status, _attempts, _error in final.values()} == {"failed"}
    for _status, attempts, error in final.values():
        assert attempts == 0
        assert (error or "").startswith("written by a newer version of Vigie: ")
        assert "within a day" in (error or "")
    assert "outbox.some_key_added_in_next_release" in (final["new_key"][2] or "")
    assert "does not know" in (final["new_arg_form"][2] or "")
    assert "'due'" in (final["changed_args"][2] or "")
    assert len(slack_standin.messages_in(CHANNEL_ID)) == 1
