"""Ingest's batch inserts (driver-level VALUES on SQLite, one JSON document on PostgreSQL)
store exactly what the ORM reads back: times in UTC, JSON flags, defaults, authors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from bot.services.ingest import do_ingest
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.watches import get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Author, Mention
from tests.services.watching import workspace_watching_all

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def test_batch_insert_round_trips_every_value(db_url: str) -> None:
    sessions, workspace_id = workspace_watching_all(db_url, "T0INGEST1", watch="acme",
                                                    channel_id="C0INGEST1")
    paris = timezone(timedelta(hours=1))
    fetched = [
        FetchedMention(network="mastodon", external_id="1", url="https://m.example/1",
                       text="Acme app keeps crashing, I want a refund!",
                       author=FetchedAuthor(handle="@ana", name="Ana", followers=1200),
                       published_at=datetime(2026, 11, 21, 8, 0)),  # naive: taken as UTC
        FetchedMention(network="rss", external_id="2", url="https://n.example/2",
                       text="Acme ships a new release", title="Release notes",
                       author=FetchedAuthor(handle="news"),
                       published_at=datetime(2026, 11, 21, 9, 0, tzinfo=paris)),
    ]
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        report = do_ingest(session, watch, None, fetched, now=NOW)
    assert report.stored == 2
    with sessions() as session:
        first, second = session.scalars(select(Mention).order_by(Mention.external_id)).all()
        ana = session.scalars(select(Author).where(Author.handle == "@ana")).one()
    assert first.published_at == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert second.published_at == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert first.created_at == second.created_at == NOW
    assert first.alerted is False and first.version == 1 and first.status == "new"
    assert isinstance(first.intent_flags, list) and first.intent_flags, first.intent_flags
    assert all(isinstance(flag["terms"], list) for flag in first.intent_flags)
    assert second.title == "Release notes" and isinstance(second.intent_flags, list)
    assert first.author_id == ana.id and ana.followers == 1200 and ana.mention_count == 1

    # The same batch again: nothing stored twice, the author's count unchanged.
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        again = do_ingest(session, watch, None, fetched, now=NOW + timedelta(minutes=5))
    assert again.stored == 0 and again.duplicates == 2
    with sessions() as session:
        assert session.scalar(select(Author.mention_count).where(Author.id == ana.id)) == 1


def test_period_time_is_the_published_time_unless_in_the_future() -> None:
    """The same instant in UTC, in another zone or naive (taken as UTC) gives one answer."""
    from bot.services.ingest import _published

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    paris = timezone(timedelta(hours=1))
    earlier = datetime(2026, 3, 1, 12, 30, tzinfo=paris)  # 11:30 UTC
    later = datetime(2026, 3, 1, 13, 30, tzinfo=paris)  # 12:30 UTC
    assert _published(now - timedelta(minutes=1), now) == now - timedelta(minutes=1)
    assert _published(now, now) == now
    assert _published(now + timedelta(seconds=1), now) is now
    assert _published(earlier, now) is earlier
    assert _published(later, now) is now
    assert _published(datetime(2026, 3, 1, 11, 59), now) == datetime(2026, 3, 1, 11, 59)
    assert _published(datetime(2026, 3, 1, 12, 1), now) is now
    assert _published(later, now.astimezone(paris)) == now.astimezone(paris)


def test_posts_sharing_a_link_join_the_watch_first_story_across_batches(db_url: str) -> None:
    sessions, workspace_id = workspace_watching_all(db_url, "T0STORY01", watch="acme",
                                                    channel_id="C0STORY01")

    def post(external_id: str, link: str, text: str) -> FetchedMention:
        # A post page (not content of its own): its story is the link it shares.
        return FetchedMention(network="mastodon", external_id=external_id,
                              url=f"https://mastodon.social/@u{external_id}/10{ord(external_id)}",
                              text=text,
                              author=FetchedAuthor(handle=f"user{external_id}"),
                              published_at=NOW, links=(link,))

    def ingest(*posts: FetchedMention) -> int:
        with transaction(sessions) as session:
            watch = get_watch_by_name(session, workspace_id, "acme")
            return do_ingest(session, watch, None, list(posts), now=NOW).joined_stories

    story, other = "https://acme.example/recall", "https://acme.example/launch"
    # Within one batch: the later posts of a story join its first.
    assert ingest(post("a", story, "Acme recalls its bikes"),
                  post("b", story, "the Acme recall covers every model"),
                  post("c", other, "Acme launches a scooter")) == 1
    # A later batch's posts join the story's first stored post, not one of their own.
    assert ingest(post("d", story, "my Acme bike is part of the recall"),
                  post("e", other, "the new Acme scooter is out today"),
                  post("f", "https://acme.example/fresh", "nothing else in common")) == 2
    with sessions() as session:
        ids = dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())
        joined = dict(session.execute(select(Mention.external_id, Mention.story_id)).all())
    assert joined == {"a": None, "b": ids["a"], "c": None, "d": ids["a"], "e": ids["c"],
                      "f": None}


def test_the_same_id_on_two_networks_are_two_posts_with_their_own_stories(db_url: str) -> None:
    # A webhook batch takes each item's network from the payload, so one batch can hold
    # the same id on two networks: two posts, each joined by its own link only.
    sessions, workspace_id = workspace_watching_all(db_url, "T0STORY02", watch="acme",
                                                    channel_id="C0STORY01")

    def post(network: str, external_id: str, link: str, text: str) -> FetchedMention:
        return FetchedMention(network=network, external_id=external_id,
                              url=f"https://{network}.social/@u/{sum(map(ord, external_id))}",
                              text=text,
                              author=FetchedAuthor(handle=f"{network}{external_id}"),
                              published_at=NOW, links=(link,))

    recall, launch = "https://acme.example/recall", "https://acme.example/launch"
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        report = do_ingest(session, watch, None, [
            post("mastodon", "same0", recall, "Acme recalls its bikes"),
            post("bluesky", "same0", launch, "Acme launches a scooter"),
            post("mastodon", "later", launch, "the new Acme scooter is out"),
        ], now=NOW)
    assert (report.stored, report.joined_stories) == (3, 1)
    with sessions() as session:
        rows = session.execute(select(Mention.network, Mention.external_id, Mention.id,
                                      Mention.story_id)).all()
    ids = {(network, external_id): mention_id for network, external_id, mention_id, _ in rows}
    joined = {(network, external_id): story for network, external_id, _, story in rows}
    assert joined == {("mastodon", "same0"): None, ("bluesky", "same0"): None,
                      ("mastodon", "later"): ids[("bluesky", "same0")]}
    assert len(set(ids.values())) == 3


def test_authors_stored_by_ingest_are_found_by_an_author_search(db_url: str) -> None:
    """``from:`` finds an author by the handle key ingest stores with it (both engines:
    VALUES on SQLite, a JSON document on PostgreSQL)."""
    sessions, workspace_id = workspace_watching_all(db_url, "T0INGEST2", watch="acme",
                                                    channel_id="C0INGEST2")
    fetched = [
        FetchedMention(network="mastodon", external_id=str(n), url=f"https://m.example/{n}",
                       text=f"Acme post number {n}", author=FetchedAuthor(handle=handle),
                       published_at=NOW - timedelta(minutes=n))
        for n, handle in enumerate(("@Élodie@piaille.fr", "elodie", "alice",
                                    "@Élodie@piaille.fr"))
    ]
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        assert do_ingest(session, watch, None, fetched, now=NOW).stored == 4
    with sessions() as session:
        keys = dict(session.execute(select(Author.handle, Author.handle_key)).all())
    assert keys == {"@Élodie@piaille.fr": "elodie", "elodie": "elodie", "alice": "alice"}
    found = search_mentions(sessions, workspace_id, MentionFilter(text="from:Elodie"), now=NOW)
    assert sorted(row.external_id for row in found) == ["0", "1", "3"]
    found = search_mentions(sessions, workspace_id,
                            MentionFilter(text="from:elodie@piaille.fr"), now=NOW)
    assert sorted(row.external_id for row in found) == ["0", "3"]
