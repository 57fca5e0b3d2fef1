"""The digest goes through the outbox as data (``DigestSpec`` JSON) and is rendered when
sent: what Slack receives is what ``build_digest_blocks`` makes of the report itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.stored import payload_spec, spec_payload
from bot.services.reporting.digest import digest_spec
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.schedule import channel_config
from bot.slack.digest_blocks import build_digest_blocks
from bot.slack.render import render_payload
from storage.db import transaction
from tests.reporting.dataset import CHANNEL, DIGEST_END, Dataset, spike_row, utc


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_stored_digest_renders_as_the_report_does(
        sessions: sessionmaker[Session], dataset: Dataset, language: str) -> None:
    with transaction(sessions) as session:
        session.add(spike_row(dataset, "acme", utc(10, 24, 12)))
    with sessions() as session:
        config = channel_config(session, dataset.workspace_id, CHANNEL)
        report = build_digest_report(session, config, end=DIGEST_END, now=DIGEST_END)
        empty = build_digest_report(session, config, end=DIGEST_END + timedelta(days=30),
                                    now=DIGEST_END + timedelta(days=30))
    for one in (report, empty):
        payload = spec_payload(digest_spec(one, language))
        assert payload_spec(payload) == digest_spec(one, language)
        assert render_payload(payload) == build_digest_blocks(one, language)
    assert not report.empty and empty.empty
    assert len(report.spikes) == 1 and not empty.spikes


def test_a_digest_queued_before_its_watches_were_kept_names_the_mention_alone(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """A digest row queued before each waited section kept its watch still sends: its
    "Should have alerted" buttons carry the mention id alone (judged as before); a new one
    names the section's watch."""
    with sessions() as session:
        config = channel_config(session, dataset.workspace_id, CHANNEL)
        report = build_digest_report(session, config, end=DIGEST_END, now=DIGEST_END)
    payload = spec_payload(digest_spec(report, "en"))
    assert {group.pop("watch_id") for group in payload["digest"]["report"]["waited"]} == {
        dataset.watches["acme"], dataset.watches["beta"]}
    _text, blocks = render_payload(payload)
    flags = [element["value"] for block in blocks if block["type"] == "actions"
             for element in block["elements"]]
    assert flags and all(value.isdigit() for value in flags)
