"""The digest's open work by request topic, and its mention lines naming their topics."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.topics import topic_mask
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.schedule import channel_config
from bot.slack.digest_blocks import build_digest_blocks
from storage.db import transaction
from storage.models import Mention
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.slack_standin import sdk_block_errors
from tests.reporting.dataset import CHANNEL, DIGEST_END, Dataset


def test_digest_counts_open_work_by_topic(sessions: sessionmaker[Session],
                                          dataset: Dataset) -> None:
    topics = {"m3": ("billing",), "m4": ("billing", "outage"), "m14": ("delivery",),
              "m9": ("churn",), "m2": ("billing",)}  # m2 waited: not open work
    with transaction(sessions) as session:
        for name, names in topics.items():
            mention = session.get(Mention, dataset.mentions[name])
            assert mention is not None
            mention.topics = [{"name": n, "terms": [n]} for n in names]
            mention.topic_mask = topic_mask(names)
    with sessions() as session:
        config = channel_config(session, dataset.workspace_id, CHANNEL)
        report = build_digest_report(session, config, end=DIGEST_END, now=DIGEST_END)
    assert report.open_by_topic == [("billing", 2), ("delivery", 1), ("outage", 1),
                                    ("churn", 1)]
    _, blocks = build_digest_blocks(report, "en")
    assert validate_blocks(blocks, "message") == [] and sdk_block_errors(blocks) == []
    rendered = str(blocks)
    assert "By topic: billing 2 · delivery 1 · outage 1 · churn 1" in rendered
    # The top-priority line names its topics.
    assert "[90] _billing, outage_ RSS/Atom feeds" in rendered
    _, french = build_digest_blocks(report, "fr")
    assert "Par thème : facturation 2 · livraison 1 · panne 1 · résiliation 1" in str(french)
