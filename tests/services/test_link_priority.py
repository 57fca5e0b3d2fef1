"""A post another watch already stored is linked with the priority a full analysis gives
for this watch (its weight, the time of the poll, whether it is addressed to the brand),
though ingest reads the stored language, sentiment and intent instead of running the
models again; a text that changed since is analysed again. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import cases
from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.ingest import IngestReport, _analysed, do_ingest, match_batch
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author, FetchedMention
from storage.db import transaction
from storage.models import Mention
from storage.models_watches import MentionWatch
from tests.analysis.test_pinned_outputs import sample
from tests.harness.constants import CHANNEL_ID

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=5)
EDITED = 7
"""Every EDITED-th post reaches the second watch with a changed text."""


def _items(edited: bool = False) -> list[FetchedMention]:
    out = []
    for n, (_, _, text) in enumerate(sample()[:400]):
        if n % 3 == 0:
            text = f"@AcmeCare {text}"  # addressed to the brand
        if edited and n % EDITED == 0:
            text = f"{text} still broken, nobody answers?"
        out.append(FetchedMention(
            network="x", external_id=str(n), url=f"https://x.example/{n}", text=text,
            author=Author(handle=f"user{n}", followers=(n * 977) % 120_000, verified=n % 11 == 0),
            published_at=NOW - timedelta(minutes=n), engagement=n % 40))
    return out


def _poll(sessions: sessionmaker[Session], workspace_id: int, name: str,
          items: list[FetchedMention], now: datetime) -> IngestReport:
    with transaction(sessions) as session:
        return do_ingest(session, get_watch_by_name(session, workspace_id, name), None, items,
                         now=now)


def test_linked_priority_is_the_full_analysis_one(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    for name in ("first", "second"):
        do_add_watch(sessions, workspace_id, CLI, name=name, query="", channel_id=CHANNEL_ID,
                     alert_threshold=100)
    with transaction(sessions) as session:
        get_watch_by_name(session, workspace_id, "second").weight = 2.5
    assert _poll(sessions, workspace_id, "first", _items(), NOW).stored == 400
    later = _items(edited=True)
    assert _poll(sessions, workspace_id, "second", later, LATER).linked == 400

    with sessions() as session:
        watch = get_watch_by_name(session, workspace_id, "second")
        ids = dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())
        linked = dict(session.execute(select(MentionWatch.mention_id, MentionWatch.priority)
                                      .where(MentionWatch.watch_id == watch.id)).tuples().all())
        # What ingest gave before reading stored analyses: the whole analysis again.
        _, handles, _ = cases.take_brand_posts(session, workspace_id, later)
        full = _analysed(session, watch, match_batch(watch, later, report=IngestReport()),
                         handles, {}, LATER)
    expected = {ids[c.fetched.external_id]: c.analysis.priority for c in full}
    assert linked == expected
    assert len(set(expected.values())) > 10  # the sample spreads over many priorities


HELP_REQUESTS = [
    "@AcmeCare buenos días, necesito ayuda con mi cuenta, no puedo entrar desde ayer. "
    "Muchas gracias",
    "@AcmeCare llevo tres semanas esperando el reembolso, es una vergüenza",
    "@AcmeCare Danke für die schnelle Lieferung, alles super angekommen!",
]


def test_a_linked_help_request_read_by_a_sentiment_model_still_waits(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # Read positive by the Spanish model, they wait for their request topic's terms
    # ("no puedo entrar"): ingest reads the stored topics, as a full analysis finds them.
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    for name in ("first", "second"):
        do_add_watch(sessions, workspace_id, CLI, name=name, query="", channel_id=CHANNEL_ID,
                     alert_threshold=100)
    items = [FetchedMention(network="x", external_id=str(n), url=f"https://x.example/{n}",
                            text=text, author=Author(handle=f"user{n}"),
                            published_at=NOW - timedelta(minutes=5))
             for n, text in enumerate(HELP_REQUESTS)]
    _poll(sessions, workspace_id, "first", items, NOW)
    assert _poll(sessions, workspace_id, "second", items, LATER).linked == len(items)
    with sessions() as session:
        watch = get_watch_by_name(session, workspace_id, "second")
        ids = dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())
        linked = dict(session.execute(select(MentionWatch.mention_id, MentionWatch.priority)
                                      .where(MentionWatch.watch_id == watch.id)).tuples().all())
        _, handles, _ = cases.take_brand_posts(session, workspace_id, items)
        full = _analysed(session, watch, match_batch(watch, items, report=IngestReport()),
                         handles, {}, LATER)
    assert {c.fetched.external_id: c.analysis.waiting for c in full} == {
        "0": True, "1": True, "2": False}
    assert linked == {ids[c.fetched.external_id]: c.analysis.priority for c in full}
