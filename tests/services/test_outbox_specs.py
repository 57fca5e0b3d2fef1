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
    """A stored spec that cannot be rendered (a phrase key a later version renamed, a field
    an earlier version did not write) fails for good with its reason; it neither stops the
    flush nor holds other rows."""
    good = Note.of("en", "sla.breach", id="#8", due=Date(WHEN))
    with transaction(sessions) as session:
        bad_key = do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                             channel="C0BADKEY01", payload={"note": {
                                 "language": "en",
                                 "phrases": [{"key": "no.such.key", "args": {}}]}})
        bad_shape = do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                               channel="C0BADSHAPE", payload={"note": {"phrases": "?"}})
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=CHANNEL_ID,
                   payload=spec_payload(good))
    report = sender_for(sessions, slack_standin, Clock()).flush()
    assert (report.sent, report.failed) == (1, 2)
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == [render_note(good)]
    with sessions() as session:
        for row_id in (bad_key.id, bad_shape.id):
            row = session.get_one(OutboxMessage, row_id)
            assert row.status == "failed" and "could not be rendered" in (row.last_error or "")
