"""A mention belongs to every watch it matches (issue 14): two watches on one feed both hold
the post, every figure is per watch and exact, a card goes once to each channel, an old
feed's first poll counts by published time, and concurrent ingests make one mention, one
link per watch and no duplicate card. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.export import export_mentions
from bot.services.ingest import IngestReport, do_ingest
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.outbox import KIND_CARD, KIND_UPDATE_CARD
from bot.services.reporting.queries import Scope, in_window
from bot.services.watches import do_add_watch, get_watch_by_name, list_watches
from bot.services.workflow import do_assign
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, OutboxMessage
from storage.models_watches import MentionWatch
from storage.reporting_counts import volume_by_bucket
from tests.harness.constants import CHANNEL_ID, USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
RECALL_CHANNEL = "C07RECALLS"
FEED = [  # one RSS feed both watches poll
    ("1", "Acme bikes recall: brakes fail on the 2026 models, my son got hurt. Refund now!"),
    ("2", "Acme bikes look great this spring"),
    ("3", "Toy maker announces a recall of its scooters"),
]


def _item(external_id: str, text: str, published: datetime) -> FetchedMention:
    return FetchedMention(network="rss", external_id=external_id,
                          url=f"https://news.example/{external_id}", text=text,
                          author=FetchedAuthor(handle=f"writer{external_id}", followers=90_000),
                          published_at=published)


def _feed(published: datetime = NOW - timedelta(hours=1)) -> list[FetchedMention]:
    return [_item(e, text, published - timedelta(minutes=int(e))) for e, text in FEED]


def _watches(sessions: sessionmaker[Session], workspace_id: int, *,
             recall_channel: str = RECALL_CHANNEL) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="recall", query="recall",
                 channel_id=recall_channel, alert_threshold=0)


def _poll(sessions: sessionmaker[Session], workspace_id: int, name: str,
          items: list[FetchedMention], now: datetime = NOW) -> IngestReport:
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, name)
        return do_ingest(session, watch, None, items, now=now)


def _cards(sessions: sessionmaker[Session]) -> list[tuple[int | None, str]]:
    with sessions() as session:
        return sorted((m, c) for m, c in session.execute(
            select(OutboxMessage.mention_id, OutboxMessage.channel)
            .where(OutboxMessage.kind == KIND_CARD)).tuples())


def test_two_watches_on_one_feed_both_hold_the_post(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _watches(sessions, workspace_id)
    first = _poll(sessions, workspace_id, "acme", _feed())
    second = _poll(sessions, workspace_id, "recall", _feed())
    assert (first.stored, first.linked, first.filtered) == (2, 0, 1)
    # "Acme bikes recall" was stored by acme: recall links it, stores only the new one.
    assert (second.stored, second.linked, second.filtered) == (1, 1, 1)
    again = _poll(sessions, workspace_id, "recall", _feed(), NOW + timedelta(minutes=5))
    assert (again.stored, again.linked, again.duplicates) == (0, 0, 2)

    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 3
        ids = {e: i for e, i in session.execute(select(Mention.external_id, Mention.id))}
        acme, recall = (get_watch_by_name(session, workspace_id, n).id
                        for n in ("acme", "recall"))
    counts = {w.name: w.mention_count for w in list_watches(sessions, workspace_id)}
    assert counts == {"acme": 2, "recall": 2}

    def listed(watch: str | None) -> set[str]:
        return {row.external_id for row in search_mentions(
            sessions, workspace_id, MentionFilter(watch=watch, since=timedelta(days=1)),
            now=NOW)}
    assert listed("acme") == {"1", "2"}
    assert listed("recall") == {"1", "3"}
    assert listed(None) == {"1", "2", "3"}

    window = [NOW - timedelta(hours=3), NOW]
    with sessions() as session:
        for watch_id, expected in ((acme, 2), (recall, 2)):
            (volume,) = volume_by_bucket(session, workspace_id, (watch_id,), window)
            assert sum(volume.values()) == expected
            scope = Scope(workspace_id, (watch_id,))
            assert session.scalar(select(func.count()).select_from(Mention).where(
                *scope.where(), *in_window(*window))) == expected
        (everything,) = volume_by_bucket(session, workspace_id, None, window)
        assert sum(everything.values()) == 3  # each post once, workspace-wide

    for watch, expected in (("acme", {"1", "2"}), ("recall", {"1", "3"})):
        out = io.StringIO()
        export_mentions(sessions, workspace_id, out, since="1d", fmt="jsonl", now=NOW,
                        watch=watch)
        rows = [json.loads(line) for line in out.getvalue().splitlines() if line]
        assert {row["watch"] for row in rows} == {watch}
        assert {row["url"].rsplit("/", 1)[1] for row in rows} == expected

    # One card per watch channel: the shared post goes to both channels.
    assert _cards(sessions) == sorted([(ids["1"], CHANNEL_ID), (ids["2"], CHANNEL_ID),
                                       (ids["1"], RECALL_CHANNEL), (ids["3"], RECALL_CHANNEL)])


def test_one_card_per_channel_names_both_watches_and_updates_reach_every_card(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="recall", query="recall",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="safety", query="brakes",
                 channel_id=RECALL_CHANNEL, alert_threshold=0)
    shared = [_feed()[0]]
    _poll(sessions, workspace_id, "acme", shared)
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    # recall links the post after acme's card is out in the same channel: it shares it.
    assert _poll(sessions, workspace_id, "recall", shared).linked == 1
    _poll(sessions, workspace_id, "safety", shared)
    sender.flush()
    posted = slack_standin.calls("chat.postMessage", ok=True)
    assert sorted(call.args["channel"] for call in posted) == sorted(
        [CHANNEL_ID, RECALL_CHANNEL])
    updated = slack_standin.calls("chat.update", ok=True)
    assert [call.args["channel"] for call in updated] == [CHANNEL_ID]
    assert "acme, recall" in str(updated[-1].args["blocks"])
    assert "safety" in str(posted[-1].args["blocks"])
    with sessions() as session:
        (mention_id,) = session.scalars(select(Mention.id))
        links = session.execute(select(MentionWatch.slack_channel, MentionWatch.alerted)
                                .where(MentionWatch.mention_id == mention_id)).all()
    assert sorted(links) == sorted([(CHANNEL_ID, True), (CHANNEL_ID, True),
                                    (RECALL_CHANNEL, True)])

    do_assign(sessions, workspace_id, CLI, mention_id, USER_ID)
    sender.flush()
    with sessions() as session:
        channels = list(session.scalars(select(OutboxMessage.channel).where(
            OutboxMessage.kind == KIND_UPDATE_CARD)))
    assert channels.count(RECALL_CHANNEL) == 1  # the assignment reached the second card
    last = {call.args["channel"]: call for call in slack_standin.calls("chat.update", ok=True)}
    assert set(last) == {CHANNEL_ID, RECALL_CHANNEL}
    assert all(USER_ID in str(call.args["blocks"]) for call in last.values())


def test_an_old_feed_first_poll_counts_by_published_time(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _watches(sessions, workspace_id)
    years_ago = NOW - timedelta(days=3229)
    future = NOW + timedelta(days=400)  # a wrong clock: counted when found
    items = [_item("1", "Acme bikes old review", years_ago),
             _item("2", "Acme bikes yesterday", NOW - timedelta(days=1, hours=2)),
             _item("3", "Acme bikes from the future", future)]
    assert _poll(sessions, workspace_id, "acme", items).stored == 3
    listed = {row.external_id for row in search_mentions(
        sessions, workspace_id, MentionFilter(watch="acme", since=timedelta(days=7)), now=NOW)}
    assert listed == {"2", "3"}
    with sessions() as session:
        stored = dict(session.execute(select(Mention.external_id, Mention.published_at))
                      .tuples().all())
        assert stored["1"] == years_ago and stored["3"] == NOW
        day = [NOW - timedelta(days=2), NOW - timedelta(days=1), NOW + timedelta(hours=1)]
        older, today = volume_by_bucket(session, workspace_id, None, day)
        assert (sum(older.values()), sum(today.values())) == (1, 1)
        (old,) = volume_by_bucket(session, workspace_id, None,
                                  [years_ago - timedelta(hours=1), years_ago + timedelta(hours=1)])
        assert sum(old.values()) == 1


def _concurrent(db_url: str, workspace_id: int, names: list[str]) -> list[IngestReport]:
    """Ingest the same feed for each of ``names`` at once, each on its own connection."""
    # SQLite serves one process and its writers queue on a lock (storage.db): there the
    # transactions run one after the other; on PostgreSQL they start together.
    together = not db_url.startswith("sqlite")
    barrier = threading.Barrier(len(names) if together else 1)
    reports: list[IngestReport] = []
    errors: list[Exception] = []

    def run(name: str) -> None:
        engine = make_engine(db_url)
        try:
            sessions = make_session_factory(engine)
            with transaction(sessions) as session:
                watch = get_watch_by_name(session, workspace_id, name)
                barrier.wait(timeout=30)
                reports.append(do_ingest(session, watch, None, _feed(), now=NOW))
        except Exception as err:  # noqa: BLE001  (reported below, in the test's thread)
            errors.append(err)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return reports


@pytest.mark.parametrize("same_watch", [False, True])
def test_concurrent_ingest_makes_one_mention_one_link_per_watch_no_duplicate_card(
        db_url: str, sessions: sessionmaker[Session], workspace_id: int,
        same_watch: bool) -> None:
    _watches(sessions, workspace_id)
    names = ["acme", "acme"] if same_watch else ["acme", "recall"]
    reports = _concurrent(db_url, workspace_id, names)
    assert len(reports) == 2
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == (
            2 if same_watch else 3)
        pairs = session.execute(select(MentionWatch.mention_id, MentionWatch.watch_id)).all()
        assert len(pairs) == len(set(pairs)) == (2 if same_watch else 4)
        cards = session.execute(select(OutboxMessage.mention_id, OutboxMessage.channel)
                                .where(OutboxMessage.kind == KIND_CARD)).all()
    assert len(cards) == len(set(cards)) == (2 if same_watch else 4)
    assert sum(r.alerts for r in reports) == len(cards)
    counts = {w.name: w.mention_count for w in list_watches(sessions, workspace_id)}
    assert counts == ({"acme": 2, "recall": 0} if same_watch else {"acme": 2, "recall": 2})


def test_digest_scope_of_one_watch_counts_its_linked_posts(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    from bot.services.reporting.digest_sections import build_digest_report
    from bot.services.reporting.schedule import DigestChannel

    _watches(sessions, workspace_id)
    _poll(sessions, workspace_id, "acme", _feed())
    _poll(sessions, workspace_id, "recall", _feed())
    with sessions() as session:
        for name, expected in (("acme", 2), ("recall", 2)):
            watch = get_watch_by_name(session, workspace_id, name)
            config = DigestChannel(workspace_id, watch.channel_id, NOW.time(), ZoneInfo("UTC"),
                                   False, True, Scope(workspace_id, (watch.id,)), "en", None)
            report = build_digest_report(session, config, end=NOW + timedelta(hours=1),
                                         now=NOW)
            assert report.total.current == expected, name


COMPETITOR_CHANNEL = "C07VEILLE1"
CHURN = ("Résiliation", "Je résilie mon abonnement Acme, plus jamais chez vous. "
         "Passage chez Rivalco, son service client répond au moins")


def _alerted(external_id: str) -> FetchedMention:
    """The churn post as a Google Alerts feed gives it: each alert feed its own entry id."""
    return FetchedMention(network="rss", external_id=f"tag:google.com,2013:alerts/{external_id}",
                          url="https://forum.example/t/9", title=CHURN[0], text=CHURN[1],
                          author=FetchedAuthor(handle="mallory", followers=500),
                          published_at=NOW - timedelta(minutes=30))


@pytest.mark.parametrize("brand_first", [True, False])
def test_a_post_two_sources_give_different_ids_belongs_to_both_watches(
        sessions: sessionmaker[Session], workspace_id: int, brand_first: bool) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="rivalco", query="rivalco",
                 channel_id=COMPETITOR_CHANNEL, kind="competitor")
    polls = [("acme", "111"), ("rivalco", "222")]
    first, second = polls if brand_first else polls[::-1]
    stored = _poll(sessions, workspace_id, first[0], [_alerted(first[1])])
    assert (stored.stored, stored.linked) == (1, 0)
    # The other alert feed's entry is the same post (same text): linked, not a duplicate.
    linked = _poll(sessions, workspace_id, second[0], [_alerted(second[1])])
    assert (linked.stored, linked.linked, linked.near_duplicates) == (0, 1, 0)
    assert linked.alerts == (0 if brand_first else 1)

    with sessions() as session:
        (mention_id,) = session.scalars(select(Mention.id))
        holders = set(session.scalars(select(MentionWatch.watch_id).where(
            MentionWatch.mention_id == mention_id)))
        assert holders == {get_watch_by_name(session, workspace_id, name).id
                           for name in ("acme", "rivalco")}
        acme_alerted = session.scalar(select(MentionWatch.alerted).where(
            MentionWatch.mention_id == mention_id,
            MentionWatch.watch_id == get_watch_by_name(session, workspace_id, "acme").id))
    assert acme_alerted  # the brand watch decided to alert, whichever polled first
    # The brand's channel gets the card; a competitor watch never alerts.
    assert _cards(sessions) == [(mention_id, CHANNEL_ID)]
    counts = {w.name: w.mention_count for w in list_watches(sessions, workspace_id)}
    assert counts == {"acme": 1, "rivalco": 1}

    # Each watch seeing the post again, under its own id or a third one, is a duplicate.
    for name, external_id in (*polls, ("acme", "333"), ("rivalco", "333")):
        again = _poll(sessions, workspace_id, name, [_alerted(external_id)],
                      NOW + timedelta(minutes=5))
        assert (again.stored, again.linked, again.alerts) == (0, 0, 0), (name, external_id)
        assert again.duplicates + again.near_duplicates == 1
    assert _cards(sessions) == [(mention_id, CHANNEL_ID)]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(MentionWatch)) == 2


def test_two_brand_watches_each_get_a_card_for_a_post_under_two_ids(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _watches(sessions, workspace_id)
    text = FEED[0][1]
    _poll(sessions, workspace_id, "recall", [_item("r-1", text, NOW - timedelta(hours=1))])
    # The same post syndicated by the acme watch's feed under its own guid, twice in one
    # batch (the second is a duplicate), with a new post.
    report = _poll(sessions, workspace_id, "acme", [
        _item("a-1", text, NOW - timedelta(hours=1)),
        _item("a-2", text, NOW - timedelta(hours=1)),
        _item("a-3", "Acme bikes open a shop in Lyon", NOW - timedelta(hours=1))])
    assert (report.stored, report.linked, report.near_duplicates, report.alerts) == (1, 1, 1, 2)
    with sessions() as session:
        ids = dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())
    assert set(ids) == {"r-1", "a-3"}
    assert _cards(sessions) == sorted([(ids["r-1"], RECALL_CHANNEL), (ids["r-1"], CHANNEL_ID),
                                       (ids["a-3"], CHANNEL_ID)])
    counts = {w.name: w.mention_count for w in list_watches(sessions, workspace_id)}
    assert counts == {"acme": 2, "recall": 1}
