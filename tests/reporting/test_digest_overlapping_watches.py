"""A post in two watches that alerted in one and waited in the other: each channel's digest
counts it as alerted (open, needed an answer) only where one of that channel's watches
alerted on it, and lists it under "Waited for the digest" only where none did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.services.reporting.digest_sections import DigestReport, build_digest_report
from bot.services.reporting.schedule import channel_config
from bot.slack.digest_blocks import build_digest_blocks
from storage.db import transaction
from storage.models import Mention
from storage.models_watches import MentionWatch
from tests.reporting.dataset import CHANNEL, DIGEST_END, OTHER_CHANNEL, Dataset, utc


def _report(sessions: sessionmaker[Session], data: Dataset, channel: str) -> DigestReport:
    with sessions() as session:
        config = channel_config(session, data.workspace_id, channel)
        return build_digest_report(session, config, end=DIGEST_END, now=DIGEST_END)


def _post(session: Session, data: Dataset, name: str, published: datetime, priority: int,
          links: dict[str, bool]) -> int:
    """A new post in ``links``' watches (the first one is its first watch), each with its
    own alert decision; the mention is alerted when one of them alerted."""
    first = next(iter(links))
    mention = Mention(workspace_id=data.workspace_id, watch_id=data.watches[first],
                      network="mastodon", external_id=name, url=f"https://m.example/{name}",
                      text=f"text of {name}", published_at=published, priority=priority,
                      status="new", alerted=any(links.values()), created_at=published,
                      updated_at=published)
    session.add(mention)
    session.flush()
    for watch, alerted in links.items():
        if watch == first:
            link = session.query(MentionWatch).filter_by(mention_id=mention.id).one()
            link.alerted = alerted
        else:
            session.add(MentionWatch(workspace_id=data.workspace_id, mention_id=mention.id,
                                     watch_id=data.watches[watch], network="mastodon",
                                     published_at=published, priority=priority,
                                     alerted=alerted))
    session.flush()
    return mention.id


def _waited(report: DigestReport) -> dict[str, tuple[int, list[int]]]:
    return {group.watch_name: (group.count, [line.id for line in group.examples])
            for group in report.waited}


def _consistent(report: DigestReport, alerted_here: set[int]) -> None:
    """No mention the digest counts as alerted is listed as having waited for it."""
    listed = {line.id for group in report.waited for line in group.examples}
    assert not listed & alerted_here, (listed, alerted_here)


def test_a_post_alerted_in_one_channel_only_counts_there_and_waited_in_the_other(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    m = dataset.mentions
    here_before = _report(sessions, dataset, CHANNEL)
    there_before = _report(sessions, dataset, OTHER_CHANNEL)
    with transaction(sessions) as session:
        # Watch other (C07OTHER001) alerted on x1; acme (threshold 50, C07DIGEST01) held it
        # at 41: its card is in the other channel only.
        x1 = _post(session, dataset, "x1", utc(10, 24, 16), 41, {"other": True, "acme": False})
        # acme alerted on x2 (60 >= 50) in C07DIGEST01; beta (threshold 70), in the same
        # channel, held it: its card is in this channel, it did not wait for this digest.
        x2 = _post(session, dataset, "x2", utc(10, 24, 17), 60, {"acme": True, "beta": False})
    here = _report(sessions, dataset, CHANNEL)
    there = _report(sessions, dataset, OTHER_CHANNEL)

    # C07DIGEST01: x2 is open work that needed an answer; x1 is not (no watch of this
    # channel alerted on it, nobody took it up), it waited for this digest in acme.
    assert here.open_by_status["new"] == here_before.open_by_status["new"] + 1
    assert here.responses.actionable == here_before.responses.actionable + 1
    assert here.responses.answered == here_before.responses.answered
    assert x1 not in [line.id for line in here.overdue]
    assert _waited(here) == {"acme": (4, [x1, m["m2"], m["m8"]]),
                             "beta": (2, [m["m7"], m["m5"]])}
    _consistent(here, {x2})

    # C07OTHER001's watch alerted on x1: open there, needed an answer, not waited.
    assert there.open_by_status["new"] == there_before.open_by_status["new"] + 1
    assert there.responses.actionable == there_before.responses.actionable + 1
    assert _waited(there) == _waited(there_before)
    _consistent(there, {x1})

    # The rendered digest of C07DIGEST01 offers "Should have alerted" for x1, never x2.
    _title, blocks = build_digest_blocks(here, "en")
    flagged = [element["value"] for block in blocks if block["type"] == "actions"
               for element in block["elements"]]
    assert f"{x1}:w{dataset.watches['acme']}" in flagged
    assert not [value for value in flagged if value.startswith(f"{x2}:")]


def test_a_post_taken_up_counts_in_every_channel_it_is_in(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """Taken up anywhere (assigned, drafted, replied) is work the team did: open work in
    each channel whose watches hold it, alerted there or not."""
    here_before = _report(sessions, dataset, CHANNEL)
    with transaction(sessions) as session:
        x1 = _post(session, dataset, "x1", utc(10, 24, 16), 41, {"other": True, "acme": False})
        session.get_one(Mention, x1).status = "assigned"
    here = _report(sessions, dataset, CHANNEL)
    assert here.open_by_status["assigned"] == here_before.open_by_status["assigned"] + 1
    assert here.responses.actionable == here_before.responses.actionable + 1
