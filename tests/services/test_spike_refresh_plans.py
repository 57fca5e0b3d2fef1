"""The hourly refresh of a spike alert checks that its examples are still stored by reading
an index, never the workspace's mentions: its statements are captured and EXPLAINed over
20,000 other mentions, on SQLite and PostgreSQL (statistics gathered). An alert stored by
an older version (examples without their mention ids) is checked within its hour, through
the (workspace_id, published_at) index, and still loses a post purged since."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import KIND_UPDATE_POST
from bot.services.spikes import run_spike_checks
from storage.db import transaction
from storage.models import Author, Mention, OutboxMessage
from storage.models_spikes import SpikeEvent
from tests.harness.generated_rows import insert_generated
from tests.harness.query_plans import captured_statements, explain, gather_statistics
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for
from tests.services.test_spike_events import H0, HOUR, burst, link, setup

ROWS = 20_000
COLUMNS = ("workspace_id, network, external_id, url, text, published_at, status, "
           "sentiment_label, priority, engagement, intent_flags, alerted, version, "
           "created_at, updated_at")
# Other posts of the workspace, one a minute until the calm fortnight begins.
VALUES = (":ws, 'rss', 'g' || i, 'https://example.org/' || i, 'mention ' || i, {ts}, "
          "'new', 'neutral', 10, 0, '[]', {false}, 1, {ts}, {ts}")
READS_MENTIONS = re.compile(r"\bFROM mentions\b")


def _load(sessions: sessionmaker[Session], workspace_id: int) -> list[int]:
    ids = setup(sessions, workspace_id)
    with transaction(sessions) as session:
        insert_generated(session, "mentions", COLUMNS, VALUES, H0 - timedelta(days=15),
                         {"ws": workspace_id, "n": ROWS})
    gather_statistics(sessions.kw["bind"])
    return ids


def _voices(sessions: sessionmaker[Session], workspace_id: int, watch_ids: list[int]) -> None:
    """Two more authors in the first hour of the spike: three examples, one each."""
    with transaction(sessions) as session:
        for n, handle in enumerate(("critic", "skeptic")):
            author = Author(workspace_id=workspace_id, network="x", handle=handle,
                            followers=5_000)
            session.add(author)
            session.flush()
            session.execute(insert(Mention), [
                {"workspace_id": workspace_id, "watch_id": watch_ids[0],
                 "author_id": author.id, "network": "x", "external_id": f"v{n}-{i}",
                 "url": f"https://x.com/{handle}/{i}", "priority": 10, "status": "new",
                 "text": f"{handle} says the acme kettle leaks {i}",
                 "published_at": H0 + timedelta(minutes=10, seconds=i),
                 "sentiment_label": "negative"} for i in range(5)])
        link(session, workspace_id, watch_ids, "v")


def _mention_plans(engine: Engine, seen: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """The plans of the captured statements that read mentions."""
    return [(statement, explain(engine, statement, parameters))
            for statement, parameters in seen if READS_MENTIONS.search(statement)]


def _reads_an_index(plan: str) -> bool:
    """Mentions are read by id or within a range of time, not all the workspace's (a
    scan, or an index searched by workspace alone)."""
    if plan.startswith("["):
        nodes: list[dict[str, Any]] = []

        def walk(node: dict[str, Any]) -> None:
            if node.get("Relation Name") == "mentions" or str(
                    node.get("Index Name", "")).startswith(("ix_mentions", "pk_mentions")):
                nodes.append(node)
            for child in node.get("Plans", []):
                walk(child)

        walk(json.loads(plan)[0]["Plan"])
        return bool(nodes) and all(
            node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
            and re.search(r"\((mentions\.)?(id|published_at) ", node.get("Index Cond", ""))
            for node in nodes if node["Node Type"] != "Bitmap Heap Scan")
    steps = [line for line in plan.splitlines() if re.search(r"\bmentions\b", line)]
    return bool(steps) and all(
        re.search(r"PRIMARY KEY|[ (]id=\?|published_at>\?", step) for step in steps)


def test_the_refresh_reads_its_examples_by_index(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    ids = _load(sessions, workspace_id)
    engine: Engine = sessions.kw["bind"]
    sender = sender_for(sessions, slack_standin, Clock())
    burst(sessions, workspace_id, ids, 300, H0, "a")
    _voices(sessions, workspace_id, ids)
    run_spike_checks(sessions, H0 + timedelta(minutes=15))
    sender.flush()
    burst(sessions, workspace_id, ids, 340, H0 + HOUR, "b")
    with captured_statements(engine) as seen:
        run_spike_checks(sessions, H0 + timedelta(minutes=65))
    plans = _mention_plans(engine, seen)
    assert plans
    for statement, plan in plans:
        assert _reads_an_index(plan), (statement, plan)
    with sessions() as session:
        refreshed = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_UPDATE_POST)).one()
    assert len(refreshed.payload["spike"]["samples"]) == 3

    # The alert as an older version stored it (no mention ids), one of its examples
    # purged since: checked within its hour, by index, and the purged post left out.
    with transaction(sessions) as session:
        event = session.scalars(select(SpikeEvent)).one()
        alert = session.get(OutboxMessage, event.alert_outbox_id)
        assert alert is not None
        stored = {key: value for key, value in alert.payload["spike"].items()
                  if key != "sample_ids"}
        alert.payload = {**alert.payload, "spike": stored}
        purged = stored["samples"][0][2]
        session.execute(delete(Mention).where(Mention.url == purged))
    burst(sessions, workspace_id, ids, 380, H0 + 2 * HOUR, "c")
    with captured_statements(engine) as seen:
        run_spike_checks(sessions, H0 + timedelta(minutes=125))
    plans = _mention_plans(engine, seen)
    assert plans
    for statement, plan in plans:
        assert _reads_an_index(plan), (statement, plan)
    with sessions() as session:
        latest = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_UPDATE_POST).order_by(OutboxMessage.id.desc())).first()
    assert latest is not None and latest.id != refreshed.id
    shown = [sample[2] for sample in latest.payload["spike"]["samples"]]
    assert len(shown) == 2 and purged not in shown


AUTHOR_COLUMNS = ("workspace_id, network, handle, handle_key, followers, verified, "
                  "mention_count, first_seen_at, last_seen_at")
AUTHOR_VALUES = (":ws, 'mastodon', 'fan' || i || '@mastodon.social', 'fan' || i, i, {false}, "
                 "0, {ts}, {ts}")


def test_the_refresh_finds_its_loudest_authors_by_handle_key(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """The refresh checks that the alert's loudest authors are still stored through the
    (workspace_id, handle_key) index, not by ``lower(handle)`` over all the workspace's
    20,000 authors; an author forgotten since is left out, the others kept whatever the
    case of their handle."""
    ids = _load(sessions, workspace_id)
    with transaction(sessions) as session:
        insert_generated(session, "authors", AUTHOR_COLUMNS, AUTHOR_VALUES, H0,
                         {"ws": workspace_id, "n": ROWS})
    gather_statistics(sessions.kw["bind"])
    engine: Engine = sessions.kw["bind"]
    sender = sender_for(sessions, slack_standin, Clock())
    burst(sessions, workspace_id, ids, 300, H0, "a")
    _voices(sessions, workspace_id, ids)
    run_spike_checks(sessions, H0 + timedelta(minutes=15))
    sender.flush()
    with transaction(sessions) as session:  # "skeptic" is gone; "critic" is now "Critic"
        session.execute(update(Author).where(Author.handle == "critic").values(
            handle="Critic"))
        session.execute(delete(Mention).where(Mention.url.startswith("https://x.com/skeptic")))
        session.execute(delete(Author).where(Author.handle == "skeptic"))
        event = session.scalars(select(SpikeEvent)).one()
        alert = session.get(OutboxMessage, event.alert_outbox_id)
        assert alert is not None
        shown = {handle for handle, _ in alert.payload["spike"]["authors"]}
        assert {"critic", "skeptic"} <= shown
    burst(sessions, workspace_id, ids, 340, H0 + HOUR, "b")
    with captured_statements(engine) as seen:
        run_spike_checks(sessions, H0 + timedelta(minutes=65))
    authors = [(s, explain(engine, s, p)) for s, p in seen
               if re.search(r"\bFROM authors\b", s) and not READS_MENTIONS.search(s)]
    assert authors
    for statement, plan in authors:
        assert "ix_authors_workspace_id_handle_key" in plan, (statement, plan)
        assert "SCAN authors\n" not in plan + "\n", plan
        assert "Seq Scan" not in plan, plan
    with sessions() as session:
        refreshed = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_UPDATE_POST)).one()
    kept = {handle for handle, _ in refreshed.payload["spike"]["authors"]}
    assert kept == shown - {"skeptic"}
