"""The daily digest's spikes: the hours the spike detection alerted on, for the channel's
watches and the digest's day, worded in the reader's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.messages.stored import spec_payload
from bot.services.reporting.digest import digest_spec
from bot.services.reporting.digest_sections import MAX_SPIKES, build_digest_report
from bot.services.reporting.schedule import channel_config
from bot.slack.digest_blocks import blocks_as_text, build_digest_blocks
from bot.slack.render import render_payload
from storage.db import transaction
from storage.models_spikes import SpikeEvent
from tests.reporting.dataset import CHANNEL, DIGEST_END, Dataset, spike_row, utc


def _report(sessions: sessionmaker[Session], dataset: Dataset):  # type: ignore[no-untyped-def]
    with sessions() as session:
        config = channel_config(session, dataset.workspace_id, CHANNEL)
        return build_digest_report(session, config, end=DIGEST_END, now=DIGEST_END)


def _spikes_section(blocks: list[dict[str, Any]], head: str) -> str:
    """The mrkdwn of the digest's section that starts with ``head``."""
    found = [b["text"]["text"] for b in blocks
             if b["type"] == "section" and b["text"]["text"].startswith(head)]
    assert len(found) == 1
    return str(found[0])


def test_the_days_spikes_of_the_channels_watches_in_order(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    # The digest's day (Europe/Paris, 25 hours: clocks go back): 2026-10-24 07:00 UTC to
    # 2026-10-25 08:00 UTC.
    with transaction(sessions) as session:
        session.add_all([
            spike_row(dataset, "beta", utc(10, 25, 7), kind="negative_share", total=80,
                      baseline=60.0, negative_share=0.625, baseline_negative_share=0.2),
            spike_row(dataset, "acme", utc(10, 24, 12)),
            spike_row(dataset, "other", utc(10, 24, 13)),  # another channel's watch
            spike_row(dataset, "acme", utc(10, 24, 6)),  # the day before
            spike_row(dataset, "acme", utc(10, 25, 8)),  # the next day
        ])
    report = _report(sessions, dataset)
    assert [(s.watch, s.hour_start, s.kind) for s in report.spikes] == [
        ("acme", utc(10, 24, 12), "volume"), ("beta", utc(10, 25, 7), "negative_share")]

    english = _spikes_section(build_digest_blocks(report, "en")[1], "*Spikes*")
    assert english == ("*Spikes*\n"
            "• 24 Oct 14:00 · *acme* · volume: 1234 mentions in the hour vs 40.5 usual; "
            "50% negative vs 10% usual\n"
            "• 25 Oct 08:00 · *beta* · negative share: 80 mentions in the hour vs 60.0 usual; "
            "62% negative vs 20% usual")
    french = _spikes_section(build_digest_blocks(report, "fr")[1], "*Pics*")
    assert french.startswith("*Pics*\n"
            "• 24 oct. 14:00 · *acme* · volume : 1\u202f234 mentions dans l'heure contre 40,5 "
            "d'habitude ; 50\u202f% négatives contre 10\u202f% d'habitude\n"
            "• 25 oct. 08:00 · *beta* · part négative : 80 mentions")


def test_a_day_without_spike_has_no_section(sessions: sessionmaker[Session],
                                            dataset: Dataset) -> None:
    report = _report(sessions, dataset)
    assert report.spikes == []
    assert "Spikes" not in blocks_as_text(build_digest_blocks(report, "en")[1])


def test_the_largest_spikes_when_there_are_many(sessions: sessionmaker[Session],
                                                dataset: Dataset) -> None:
    with transaction(sessions) as session:
        session.add_all(spike_row(dataset, "acme", utc(10, 24, 8 + n), total=100 + n)
                        for n in range(MAX_SPIKES + 2))
    report = _report(sessions, dataset)
    assert [s.total for s in report.spikes] == [100 + n for n in range(2, MAX_SPIKES + 2)]


def test_the_queued_digest_renders_its_spikes(sessions: sessionmaker[Session],
                                              dataset: Dataset) -> None:
    with transaction(sessions) as session:
        session.add(spike_row(dataset, "acme", utc(10, 24, 12)))
    payload = spec_payload(digest_spec(_report(sessions, dataset), "fr"))
    rendered = _spikes_section(render_payload(payload)[1], "*Pics*")
    assert "• 24 oct. 14:00 · *acme* · volume : 1\u202f234 mentions dans l'heure" in rendered


def test_one_line_per_event(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """An event over two watches and three hours is one line: its largest hour, its watches."""
    with transaction(sessions) as session:
        event = SpikeEvent(workspace_id=dataset.workspace_id, channel_id=CHANNEL,
                           first_hour=utc(10, 24, 12), last_hour=utc(10, 24, 14))
        session.add(event)
        session.flush()
        rows = [spike_row(dataset, "acme", utc(10, 24, 12 + n), total=total)
                for n, total in enumerate((300, 900, 500))]
        rows += [spike_row(dataset, "beta", utc(10, 24, 12), total=280)]
        for row in rows:
            row.event_id = event.id
        session.add_all([*rows, spike_row(dataset, "beta", utc(10, 24, 20), total=50)])
    report = _report(sessions, dataset)
    assert [(s.watch, s.hour_start, s.total) for s in report.spikes] == [
        ("acme, beta", utc(10, 24, 13), 900), ("beta", utc(10, 24, 20), 50)]
