"""Topics on stored mentions (SQLite and PostgreSQL): ingest stores them, listings filter
on them, routes send a watch's alerts about a topic to another channel, the migration's
backfill fills mentions stored before it."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import topic_channels, topic_routes
from bot.services.actors import CLI, Actor
from bot.services.errors import ServiceError
from bot.services.ingest import do_ingest
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage import migrations
from storage.db import make_engine, transaction
from storage.models import Mention, OutboxMessage
from storage.models_watches import MentionWatch
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
PRODUCT = "C07PRODUCT1"


def _fetched(external_id: str, text: str) -> FetchedMention:
    return FetchedMention(network="mastodon", external_id=external_id,
                          url=f"https://m.example/{external_id}", text=text,
                          author=FetchedAuthor(handle="@ana"), published_at=NOW)


def _ingest(sessions: sessionmaker[Session], workspace_id: int, *items: FetchedMention) -> None:
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        do_ingest(session, watch, None, list(items), now=NOW)


def test_ingest_stores_topics_and_listings_filter_on_them(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    _ingest(sessions, workspace_id,
            _fetched("1", "Acme charged me twice, refund please"),
            _fetched("2", "Acme app keeps crashing after the update"),
            _fetched("3", "Acme is lovely"))
    with sessions() as session:
        stored = {m.external_id: m for m in session.scalars(select(Mention))}
    assert stored["1"].topics[0]["name"] == "billing" and stored["1"].topic_mask == 1
    assert "charged" in stored["1"].topics[0]["terms"]
    assert stored["3"].topics == [] and stored["3"].topic_mask == 0
    billing = search_mentions(sessions, workspace_id, MentionFilter(topic="billing"), now=NOW)
    assert [row.external_id for row in billing] == ["1"]
    assert billing[0].topics == ("billing",) and billing[0].as_json()["topics"] == ["billing"]
    outage = search_mentions(sessions, workspace_id, MentionFilter(topic="outage"), now=NOW)
    assert [row.external_id for row in outage] == ["2"]
    with pytest.raises(ServiceError) as err:
        search_mentions(sessions, workspace_id, MentionFilter(topic="weather"), now=NOW)
    assert "not a topic" in err.value.message("en")


def test_routed_alert_goes_to_the_route_channel_instead_of_the_watch(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    topic_routes.do_add_route(sessions, workspace_id, CLI, watch_name="acme", topic="bug",
                              channel_id=PRODUCT)
    _ingest(sessions, workspace_id,
            _fetched("1", "Acme app keeps crashing after the update"),
            _fetched("2", "Acme charged me twice"))
    with sessions() as session:
        cards = {m.external_id: row.channel for row, m in session.execute(
            select(OutboxMessage, Mention).join(Mention, Mention.id == OutboxMessage.mention_id)
            .where(OutboxMessage.kind == "card"))}
    assert cards == {"1": PRODUCT, "2": CHANNEL_ID}


def test_a_watch_linking_a_stored_post_routes_its_own_card_and_the_card_names_it(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    # alpha stores the post; bravo, whose outage alerts go to the product channel, links it.
    do_add_watch(sessions, workspace_id, CLI, name="alpha", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="bravo", query="crashing",
                 channel_id="C07SUPPORT1", alert_threshold=0)
    topic_routes.do_add_route(sessions, workspace_id, CLI, watch_name="bravo",
                              topic="outage", channel_id=PRODUCT)
    post = [_fetched("1", "Acme app keeps crashing after the update")]
    for name in ("alpha", "bravo"):
        with transaction(sessions) as session:
            do_ingest(session, get_watch_by_name(session, workspace_id, name), None, post,
                      now=NOW)
    sender_for(sessions, slack_standin, Clock()).flush()
    posted = {call.args["channel"]: str(call.args["blocks"])
              for call in slack_standin.calls("chat.postMessage", ok=True)}
    assert set(posted) == {CHANNEL_ID, PRODUCT}
    assert "bravo" in posted[PRODUCT] and "alpha" not in posted[PRODUCT]
    assert "alpha" in posted[CHANNEL_ID] and "bravo" not in posted[CHANNEL_ID]
    with sessions() as session:
        links = dict(session.execute(
            select(MentionWatch.watch_id, MentionWatch.slack_channel)
            .where(MentionWatch.alerted.is_(True))).tuples().all())
        ids = {name: get_watch_by_name(session, workspace_id, name).id
               for name in ("alpha", "bravo")}
    assert links == {ids["alpha"]: CHANNEL_ID, ids["bravo"]: PRODUCT}


def test_routes_are_listed_replaced_and_removed(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    topic_routes.do_add_route(sessions, workspace_id, CLI, watch_name="acme",
                              topic="outage", channel_id=PRODUCT)
    topic_routes.do_add_route(sessions, workspace_id, CLI, watch_name="ACME",
                              topic="billing", channel_id="C07BILLING")
    topic_routes.do_add_route(sessions, workspace_id, CLI, watch_name="acme",
                              topic="outage", channel_id="G07PRIVATE1")
    routes = topic_routes.list_routes(sessions, workspace_id, "acme")
    assert [(r.topic, r.channel_id) for r in routes] == [
        ("outage", "G07PRIVATE1"), ("billing", "C07BILLING")]
    removed = topic_routes.do_remove_route(sessions, workspace_id, CLI, watch_name="acme",
                                           topic="outage")
    assert removed.channel_id == "G07PRIVATE1"
    assert [r.topic for r in topic_routes.list_routes(sessions, workspace_id)] == ["billing"]


def test_bad_route_inputs_are_refused(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    def refused(**kwargs: str) -> str:
        values = {"watch_name": "acme", "topic": "outage", "channel_id": PRODUCT, **kwargs}
        with pytest.raises(ServiceError) as err:
            topic_routes.do_add_route(sessions, workspace_id, CLI, **values)
        return err.value.message("en")

    assert "not a topic" in refused(topic="weather")
    assert "is not a channel" in refused(channel_id="#product-bugs")
    assert "is not a channel" in refused(channel_id="U07CMALICE")
    assert "no watch called" in refused(watch_name="nope")
    with pytest.raises(ServiceError) as err:
        topic_routes.do_remove_route(sessions, workspace_id, CLI, watch_name="acme",
                                     topic="billing")
    assert "no route for topic `billing`" in err.value.message("en")
    with pytest.raises(ServiceError) as err:
        topic_routes.do_add_route(sessions, workspace_id, Actor("U07CMBOBBY", "slash_command"),
                                  watch_name="acme", topic="outage", channel_id=PRODUCT)
    assert "admin" in err.value.message("en")
    assert topic_routes.list_routes(sessions, workspace_id) == []


def test_alert_channels_is_pure_and_ordered() -> None:
    routes = [("outage", "C1AAAA"), ("billing", "C2BBBB"), ("churn", "C1AAAA")]
    assert topic_channels.alert_channels("C0WATCH", routes, set()) == ["C0WATCH"]
    assert topic_channels.alert_channels("C0WATCH", routes, {"quality"}) == ["C0WATCH"]
    assert topic_channels.alert_channels("C0WATCH", routes, {"billing", "outage"}) == [
        "C1AAAA", "C2BBBB"]
    assert topic_channels.alert_channels("C0WATCH", routes, {"churn", "outage"}) == ["C1AAAA"]


def test_backfill_fills_mentions_stored_before_the_migration(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    migration = _load_migration()
    texts = ["Where is parcel {n}?? still not delivered", "nice weather on day {n}",
             "Impossible de me connecter à mon compte {n}"] * 400
    _ingest(sessions, workspace_id,
            *[_fetched(str(n), text.format(n=n)) for n, text in enumerate(texts)])
    with transaction(sessions) as session:  # as they were before 0018
        session.execute(sa.update(Mention).values(topics=[], topic_mask=0))
    with transaction(sessions) as session:
        found = migration.backfill(session.connection())
    assert found == 800
    with sessions() as session:
        masks = sorted({m for m in session.scalars(select(Mention.topic_mask))})
        sample = session.scalar(select(Mention).where(Mention.external_id == "2"))
    assert masks == [0, 1 << 1, 1 << 2]
    assert sample is not None and sample.topics[0]["name"] == "account"


def test_downgrade_keeps_the_triggers_on_mentions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    migrations.upgrade(url, "0018")  # later revisions add triggers of their own
    engine = make_engine(url)

    def triggers() -> list[str]:
        with engine.connect() as conn:
            return sorted(conn.scalars(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'mentions'")))
    try:
        before = triggers()
        migrations.downgrade(url, "0016")
        assert before and triggers() == before
        assert "topics" not in {c["name"] for c in sa.inspect(engine).get_columns("mentions")}
    finally:
        engine.dispose()


def _load_migration() -> ModuleType:
    """The 0018 revision module (its file name is no importable module name)."""
    path = Path(__file__).resolve().parents[2] / "alembic" / "versions" / "0018_mention_topics.py"
    spec = importlib.util.spec_from_file_location("migration_0018", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_routing_a_topic_to_the_watchs_own_channel_is_refused_truthfully(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    def refused(language: str = "en", **kwargs: bool) -> str:
        with pytest.raises(ServiceError) as err:
            topic_routes.do_add_route(sessions, workspace_id, CLI, watch_name="acme",
                                      topic="outage", channel_id=CHANNEL_ID)
        return err.value.message(language, **kwargs)

    # Unrouted, its alerts go there already: nothing to do, and nothing stored.
    assert "already go to <#" + CHANNEL_ID + ">, the watch's own channel" in refused()
    assert "sur *panne* vont déjà dans" in refused("fr")
    assert topic_routes.list_routes(sessions, workspace_id) == []
    # Routed elsewhere: the way back there is to remove the route, which the answer names.
    topic_routes.do_add_route(sessions, workspace_id, CLI, watch_name="acme",
                              topic="outage", channel_id=PRODUCT)
    answer = refused()
    assert f"they now go to <#{PRODUCT}>" in answer
    assert "`/cm watch unroute acme topic:outage`" in answer
    assert "vigie watch unroute acme --topic outage" in refused(plain=True)
    assert [(r.topic, r.channel_id) for r in topic_routes.list_routes(
        sessions, workspace_id)] == [("outage", PRODUCT)]


def test_a_competitors_watch_has_no_alerts_to_route(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="rival", query="rival",
                 channel_id=CHANNEL_ID, kind="competitor")

    def refused(language: str = "en", **kwargs: bool) -> str:
        with pytest.raises(ServiceError) as err:
            topic_routes.do_add_route(sessions, workspace_id, CLI, watch_name="RIVAL",
                                      topic="outage", channel_id=PRODUCT)
        return err.value.message(language, **kwargs)

    assert refused().startswith(
        "*rival* is a competitor's watch: competitor watches never alert, so it has no"
        f" alerts about *outage* to send to <#{PRODUCT}>. Nothing was routed.")
    assert "`/cm watch kind rival brand`" in refused()
    assert "une veille de concurrent n'alerte jamais" in refused("fr")
    assert "*panne*" in refused("fr")
    assert "vigie watch kind rival brand" in refused(plain=True)
    assert topic_routes.list_routes(sessions, workspace_id) == []
