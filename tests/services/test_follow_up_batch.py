"""A batch of many follow-ups leaves the state the per-follow-up path left, on SQLite and
PostgreSQL.

tests/data/cases/follow_up_batch_state.json is the whole resulting state (mentions, their
watch links, cases, case posts, audit events, outbox rows, SLA notices, in id order; ids
named by the posts' external ids) as the per-follow-up path (each follow-up read its
case's posts, updated its status, its case's count and read its case's first mention with
statements of its own: the origin commit in tests/data/cases/INDEX.tsv) wrote it for this
scenario. Set ``VIGIE_WRITE_FOLLOW_UP_STATE=1`` to write it again (only when the scenario
changes, on the code of that commit). follow_up_batch_state_posted.json is the same for the
scenario whose cards a second watch also alerts in its channel, posted by the Slack
stand-in before the follow-ups come (notes to posted cards, to a card on its way in
another channel).

The statuses are the real mastodon.social status of
tests/data/api/mastodon/mastodonpy_status_plain.json (as in test_mastodon_cases.py), given
the ids, accounts and texts of several customers' conversations with the brand seen
through one instance.
"""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.ingest import IngestReport, do_ingest
from bot.services.outbox import OutboxSender
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.services.workflow import do_simple
from bot.sources.base import FetchedMention
from bot.sources.mastodon import status_to_mention
from storage.db import transaction
from storage.models import AuditEvent, Author, Mention, OutboxMessage
from storage.models_cases import Case, CasePost, QuietMention
from storage.models_sla import SlaNotice
from storage.models_watches import MentionWatch
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for
from tests.services.test_streams_exact import RECALL_CHANNEL

INSTANCE = "https://mastodon.social"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
STATE = Path(__file__).resolve().parents[1] / "data" / "cases" / "follow_up_batch_state.json"
STATE_POSTED = STATE.with_name("follow_up_batch_state_posted.json")
ACME = {"id": "7", "username": "acme", "acct": "acme", "url": "https://mastodon.social/@acme",
        "uri": "https://mastodon.social/users/acme"}
CUSTOMERS = ("ana", "bob", "cyd", "dee", "eve", "fox")


def _account(name: str) -> dict[str, Any]:
    return {"id": f"5{CUSTOMERS.index(name)}", "username": name, "acct": f"{name}@other.social",
            "url": f"https://other.social/@{name}", "uri": f"https://other.social/users/{name}"}


class Posts:
    """Statuses made from the real template, with local ids on one instance."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.next_id = 9000
        self.raw: dict[str, dict[str, Any]] = {}

    def __call__(self, name: str, who: str, text: str, minute: int,
                 reply_to: str | None = None) -> FetchedMention:
        self.next_id += 1
        local = str(self.next_id)
        account = ACME if who == "acme" else _account(who)
        uri = (f"{INSTANCE}/users/acme/statuses/{local}" if who == "acme"
               else f"https://other.social/users/{who}/statuses/{local}")
        body = copy.deepcopy(self.template)
        parent = self.raw[reply_to] if reply_to else None
        body.update(id=local, uri=uri, url=uri, content=f"<p>{text}</p>", language="en",
                    created_at=f"2026-12-05T{8 + minute // 60:02d}:{minute % 60:02d}:00.000Z",
                    edited_at=None, in_reply_to_id=parent["id"] if parent else None,
                    in_reply_to_account_id=parent["account"]["id"] if parent else None)
        body["account"] = {**body["account"], **account}
        self.raw[name] = body
        item = status_to_mention(body, INSTANCE)
        assert item is not None
        return item


def _ingest(sessions: sessionmaker[Session], workspace_id: int, items: list[FetchedMention],
            watch: str = "acme") -> IngestReport:
    with transaction(sessions) as session:
        return do_ingest(session, get_watch_by_name(session, workspace_id, watch), None,
                         items, now=NOW)


def _scenario(sessions: sessionmaker[Session], workspace_id: int,
              template: dict[str, Any], sender: OutboxSender | None = None
              ) -> list[IngestReport]:
    """The batches; with ``sender``, a second watch holds the first batch too, and the
    cards are posted (two per mention that alerted in both) before the follow-ups come."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id=CHANNEL_ID,
                 alert_threshold=60)
    if sender is not None:
        do_add_watch(sessions, workspace_id, CLI, name="recall", query="",
                     channel_id=RECALL_CHANNEL, alert_threshold=90)
    do_add_account(sessions, workspace_id, CLI, "mastodon", "@acme@mastodon.social")
    post = Posts(template)
    first = [
        post("ana1", "ana", "@acme my order 5512 never arrived, this is unacceptable", 0),
        post("bob1", "bob", "@acme the app crashes every time I open it, refund me now", 1),
        post("cyd1", "cyd", "just tried the acme thing", 2),
        post("dee1", "dee", "@acme is the shop open on sunday?", 3),
        post("eve1", "eve", "@acme my card was charged twice, terrible service", 4),
        post("fox1", "fox", "acme release notes are out", 5),
    ]
    first += [
        post("ana1r", "acme", "@ana@other.social so sorry, please DM us the order number", 10,
             "ana1"),
        post("dee1r", "acme", "@dee@other.social yes, 10 to 18", 11, "dee1"),
        post("eve1r", "acme", "@eve@other.social we refunded the second charge", 12, "eve1"),
    ]
    reports = [_ingest(sessions, workspace_id, first)]
    if sender is not None:
        _ingest(sessions, workspace_id, first, "recall")
    with sessions() as session:
        eve = session.scalar(select(Mention.id).where(
            Mention.external_id == post.raw["eve1"]["uri"]))
    assert eve is not None
    do_simple(sessions, workspace_id, CLI, eve, "close")
    if sender is not None:
        sender.flush()
    batch = [
        post("ana2", "ana", "sent it an hour ago, still nothing", 60, "ana1r"),
        post("ana3", "ana", "hello?? anyone there", 61, "ana2"),
        post("bob2", "bob", "still crashing after the update", 62, "bob1"),
        post("fox2", "fox", "unrelated: acme stickers are nice", 63),
        post("cyd2", "cyd", "it broke after one day, awful", 64, "cyd1"),
        post("dee2", "dee", "and on monday?", 65, "dee1r"),
        post("eve2", "eve", "the refund never came, this is a scam", 66, "eve1r"),
        post("bob3", "bob", "@acme 3rd time asking, please fix the crash", 67),
        post("eve3", "eve", "still waiting", 68, "eve2"),
        post("ana4", "ana", "I will tell everyone about this", 69, "ana3"),
        post("cyd3", "cyd", "really awful, want my money back", 70, "cyd2"),
        post("bob4", "bob", "@acme hello? the crash again", 71),
    ]
    reports.append(_ingest(sessions, workspace_id, batch))
    later = [
        post("dee3", "dee", "thanks, and on holidays?", 120, "dee2"),
        post("ana5", "ana", "ok got it, thanks", 121, "ana4"),
    ]
    reports.append(_ingest(sessions, workspace_id, later))
    return reports


_AS_FETCHED = ("text", "title", "context", "fingerprint", "intent_flags", "topics")


def _state(sessions: sessionmaker[Session], started: datetime) -> dict[str, Any]:
    """The resulting state, ids named by external ids, wall-clock times left out."""
    with sessions() as session:
        names = {m.id: f"m:{m.network}:{m.external_id}"
                 for m in session.scalars(select(Mention))}
        authors = {a.id: a.handle for a in session.scalars(select(Author))}
        cases = {c.id: names.get(c.root_mention_id, c.root_mention_id)
                 for c in session.scalars(select(Case))}

        def named(key: str, value: Any) -> Any:
            if isinstance(value, dict):
                return {k: named(k, v) for k, v in sorted(value.items())}
            if isinstance(value, list):
                return [named(key, v) for v in value]
            if key in ("mention_id", "root_mention_id", "case_mention", "follow_up", "id") \
                    and isinstance(value, int) and not isinstance(value, bool):
                return names.get(value, value)
            if key == "author_id":
                return authors.get(value, value)
            if key == "case_id":
                return cases.get(value, value)
            if isinstance(value, datetime):
                moment = value if value.tzinfo else value.replace(tzinfo=UTC)
                return "<wall>" if moment >= started else moment.isoformat()
            return value

        def rows(model: Any, order: Any, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
            out = []
            for row in session.scalars(select(model).order_by(*order)):
                values = {c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs
                          if c.key not in drop}
                out.append(named("", values))
            return out

        return _slack_ts_named({
            # (what a post says, as stored from the source: cases change none of it)
            "mentions": rows(Mention, (Mention.id,), _AS_FETCHED),
            "mention_watches": rows(MentionWatch, (MentionWatch.mention_id,
                                                   MentionWatch.watch_id)),
            "cases": rows(Case, (Case.id,), ("id",)),
            "case_posts": rows(CasePost, (CasePost.id,), ("id", "text")),
            "audit": rows(AuditEvent, (AuditEvent.id,), ("id",)),
            "outbox": rows(OutboxMessage, (OutboxMessage.id,), ("id",)),
            "sla_notices": rows(SlaNotice, (SlaNotice.mention_id, SlaNotice.kind), ("id",)),
            "quiet": rows(QuietMention, (QuietMention.mention_id,)),
        })


_TS = re.compile(r"^[0-9]{10}\.[0-9]{6}$")


def _slack_ts_named(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with the stand-in's message ts (from the wall clock) named by their order."""
    found: set[str] = set()
    order: dict[str, int] = {}

    def walk(value: Any, collect: bool) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, collect) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, collect) for v in value]
        if isinstance(value, str) and _TS.match(value):
            if collect:
                found.add(value)
                return value
            return f"ts{order[value]}"
        return value

    walk(state, True)
    order.update((ts, n) for n, ts in enumerate(sorted(found, key=float)))
    return dict(walk(state, False))


@pytest.mark.parametrize("posted", [False, True], ids=["cards-queued", "cards-posted"])
def test_a_batch_of_follow_ups_leaves_the_per_follow_up_state(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path,
        slack_standin: SlackStandIn, posted: bool) -> None:
    template = json.loads((shared_data / "api/mastodon/mastodonpy_status_plain.json")
                          .read_text())
    started = datetime.now(UTC)
    sender = sender_for(sessions, slack_standin, Clock()) if posted else None
    reports = _scenario(sessions, workspace_id, template, sender)
    pinned = STATE_POSTED if posted else STATE
    state = {"reports": [[r.stored, r.brand_posts, r.follow_ups, r.reopened, r.alerts]
                         for r in reports], **_state(sessions, started)}
    # The scenario has what the batch path must get right: follow-ups in threads, to a
    # follow-up of the same batch, new posts of a customer with an open case, reopened
    # cases (answered, closed), and cases whose card a follow-up queues late.
    assert state["reports"][1][2] >= 8 and state["reports"][1][3] >= 2
    if os.environ.get("VIGIE_WRITE_FOLLOW_UP_STATE"):
        pinned.parent.mkdir(exist_ok=True)
        pinned.write_text("{\n" + ",\n".join(  # one row a line: a difference reads as one
            f"{json.dumps(key)}: [\n" + ",\n".join(
                json.dumps(row, sort_keys=True, default=str) for row in rows) + "\n]"
            for key, rows in sorted(state.items())) + "\n}\n")
        pytest.skip("state written")
    expected = json.loads(pinned.read_text())
    state = json.loads(json.dumps(state, default=str))
    for key in sorted(expected):  # table by table, row by row: the first difference
        assert len(state[key]) == len(expected[key]), key
        for got, wanted in zip(state[key], expected[key], strict=True):
            assert got == wanted, key


def test_a_batch_counts_its_follow_ups_in_one_statement(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    """Follow-ups join as a batch: their statuses, their cases' counts and their cases'
    first mentions take a statement each per batch, not per follow-up."""
    template = json.loads((shared_data / "api/mastodon/mastodonpy_status_plain.json")
                          .read_text())
    engine = sessions.kw["bind"]
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        reports = _scenario(sessions, workspace_id, template)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [r.follow_ups for r in reports] == [0, 11, 2]
    # The second batch's follow-ups join in two steps: the replies in their threads, then
    # the new posts of customers whose case is open (which the first step may have made
    # active); the third batch's in one. One statement per follow-up made 13 of each.
    assert len([s for s in seen if s.startswith("UPDATE cases SET follow_ups=")]) == 3
    assert len([s for s in seen if s.startswith("UPDATE mentions SET status=")
                and "mentions.status =" in s.partition(" WHERE ")[2]]) == 3
    # The follow-ups' notes (and the reopens') read their cases' cards once per step, and
    # rank their rows after a card on its way without a statement of their own each.
    ranked = [s for s in seen if s.startswith("SELECT max(outbox.send_rank)")]
    assert ranked == []
