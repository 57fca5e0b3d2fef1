"""`/cm influencers track` stores the handle in the form ingest gives each network's
authors, so an author never seen before alerts on their first real post (SQLite and
PostgreSQL). The posts are the real API answers of tests/data/api, normalized by the
sources' own parsers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import influencers
from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.ingest import do_ingest
from bot.services.watches import get_watch_by_name
from bot.sources import bluesky, hackernews, mastodon, reddit, x
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Author, OutboxMessage
from tests.services.watching import workspace_watching_all

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def _api(shared_data: Path, name: str) -> Any:
    return json.loads((shared_data / "api" / name).read_text(encoding="utf-8"))


def _x_post() -> FetchedMention:
    # No real X capture exists in tests/data: the shape of the v2 recent-search docs.
    payload = {"data": [{"id": "1460323737035677698", "author_id": "2244994945",
                         "created_at": "2021-11-15T19:08:05.000Z", "lang": "en",
                         "text": "Introducing a new era for the Twitter Developer Platform"}],
               "includes": {"users": [{"id": "2244994945", "username": "TwitterDev",
                                       "name": "Twitter Dev"}]}}
    return x.parse_search(payload)[0][0]


def _real_posts(shared_data: Path) -> dict[str, FetchedMention]:
    return {
        "mastodon": mastodon.status_to_mention(
            _api(shared_data, "mastodon/mastodonpy_status_plain.json"), "mastodon.social"),
        "hackernews": hackernews.hit_to_mention(
            _api(shared_data, "hn/fraction_search_comment.json")["hits"][0]),
        "reddit": reddit.parse_listing(
            _api(shared_data, "reddit/praw_r_all_search_q_praw_oauth_search_2016.json"))[0],
        "bluesky": bluesky.post_to_mention(_api(
            shared_data, "bluesky/marshalx_getPostThread_recordWithMedia.json")["thread"]["post"]),
        "x": _x_post(),
    }  # type: ignore[dict-item]


def _workspace(db_url: str) -> tuple[sessionmaker[Session], int]:
    # Threshold 100: only tracking can make these posts alert.
    return workspace_watching_all(db_url, "T0HANDLE1", watch="all", channel_id="C0HANDLE1")


# (network as typed, handle as typed, stored network, stored handle)
TYPED = [
    ("mastodon", "@halcy@mastodon.social", "mastodon", "@halcy@mastodon.social"),
    ("hn", "@zedshaw", "hackernews", "zedshaw"),
    ("Reddit", "/u/dClauzel", "reddit", "u/dClauzel"),
    ("bsky", "test.marshal.dev", "bluesky", "@test.marshal.dev"),
    ("twitter", "TwitterDev", "x", "@TwitterDev"),
]


def test_unseen_authors_alert_on_their_first_real_post(db_url: str, shared_data: Path) -> None:
    sessions, workspace_id = _workspace(db_url)
    posts = _real_posts(shared_data)
    for typed_network, typed, network, stored in TYPED:
        assert posts[network].author.handle == stored  # what ingest will store
        assert influencers.do_track(sessions, workspace_id, CLI, handle=typed,
                                    network=typed_network, now=NOW) == (stored, True)
        assert influencers.network_name(typed_network) == network
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "all")
        report = do_ingest(session, watch, None, list(posts.values()), now=NOW)
    assert report.stored == 5 and report.alerts == 5
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == "card")) == 5
        # One author row each: the real post landed on the tracked one.
        assert session.scalar(select(func.count()).select_from(Author)) == 5


def test_known_authors_are_found_whatever_the_case(db_url: str, shared_data: Path) -> None:
    sessions, workspace_id = _workspace(db_url)
    posts = _real_posts(shared_data)
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "all")
        do_ingest(session, watch, None, list(posts.values()), now=NOW)
    for network, typed, stored, added in [
            ("mastodon", "@HALCY@Mastodon.Social", "@halcy@mastodon.social", True),
            # A bare Mastodon user is enough when one known author matches it.
            ("mastodon", "@Halcy", "@halcy@mastodon.social", False),
            ("x", "@twitterdev", "@TwitterDev", True),
            ("reddit", "u/dclauzel", "u/dClauzel", True),
            ("bluesky", "@Test.Marshal.Dev", "@test.marshal.dev", True)]:
        assert influencers.do_track(sessions, workspace_id, CLI, handle=typed,
                                    network=network, now=NOW) == (stored, added)
    # Hacker News names are case-sensitive: ZEDSHAW is somebody else.
    assert influencers.do_track(sessions, workspace_id, CLI, handle="ZEDSHAW",
                                network="hackernews", now=NOW) == ("ZEDSHAW", True)
    assert influencers.do_untrack(sessions, workspace_id, CLI, handle="@TWITTERDEV",
                                  network="twitter") == "@TwitterDev"


@pytest.mark.parametrize(("handle", "network", "key"), [
    ("@alice", "mastadon", "influencers.bad_network"),
    ("@alice", "news", "influencers.bad_network"),
    ("@alice", "mastodon", "influencers.no_instance"),
    ("@alice@", "mastodon", "influencers.bad_handle_form"),
    ("@alice", "bluesky", "influencers.bad_handle_form"),
    ("@this_name_is_far_too_long", "x", "influencers.bad_handle_form"),
    ("u/a", "reddit", "influencers.bad_handle_form"),
    ("<@U123>", "x", "influencers.bad_handle"),
])
def test_bad_inputs_are_refused_and_write_nothing(db_url: str, handle: str, network: str,
                                                 key: str) -> None:
    sessions, workspace_id = _workspace(db_url)
    with pytest.raises(ServiceError) as caught:
        influencers.do_track(sessions, workspace_id, CLI, handle=handle, network=network,
                             now=NOW)
    assert caught.value.key == key
    if key == "influencers.bad_network":
        assert "mastodon" in caught.value.params["valid"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Author)) == 0


def test_bare_mastodon_user_is_ambiguous_over_two_instances(db_url: str) -> None:
    sessions, workspace_id = _workspace(db_url)
    for instance in ("mastodon.social", "fosstodon.org"):
        influencers.do_track(sessions, workspace_id, CLI, handle=f"@alice@{instance}",
                             network="mastodon", now=NOW)
    with pytest.raises(ServiceError) as caught:
        influencers.do_untrack(sessions, workspace_id, CLI, handle="@alice",
                               network="mastodon")
    assert caught.value.key == "influencers.no_instance"


def test_feed_networks_are_known_once_seen(db_url: str) -> None:
    sessions, workspace_id = _workspace(db_url)
    with transaction(sessions) as session:
        session.add(Author(workspace_id=workspace_id, network="news", handle="Jane Doe",
                           mention_count=1, first_seen_at=NOW, last_seen_at=NOW))
    assert influencers.do_track(sessions, workspace_id, CLI, handle="Jane Doe",
                                network="news", now=NOW) == ("Jane Doe", True)


def test_the_track_button_tracks_by_id_whatever_the_handle(db_url: str) -> None:
    sessions, workspace_id = _workspace(db_url)
    with transaction(sessions) as session:
        # What reddit.py stores for a deleted account: no one could type it.
        author = Author(workspace_id=workspace_id, network="reddit", handle="u/[deleted]",
                        mention_count=1, first_seen_at=NOW, last_seen_at=NOW)
        session.add(author)
        session.flush()
        author_id = author.id
    assert influencers.do_track_author(sessions, workspace_id, CLI, author_id=author_id,
                                       now=NOW) == ("u/[deleted]", "reddit")
    with sessions() as session:
        assert influencers.tracked_list(session, workspace_id) == [("reddit", "u/[deleted]")]


def test_an_unseen_author_typed_in_another_case_alerts_on_their_first_post(db_url: str) -> None:
    """X and Mastodon handles ignore case: "@AcmeFan" tracked before Vigie saw them, then
    a post the network sends as "@acmefan", is the tracked author's (the tracking moves to
    the network's spelling); on Hacker News, whose names are case-sensitive, it is not."""
    sessions, workspace_id = _workspace(db_url)
    for network, typed in (("x", "@AcmeFan"), ("mastodon", "@Star@M.example"),
                           ("hackernews", "CaseFan")):
        influencers.do_track(sessions, workspace_id, CLI, handle=typed, network=network,
                             now=NOW)
    posts = [FetchedMention(network=network, external_id=f"{network}-1",
                            url=f"https://example.com/{network}/1",
                            text=text,
                            author=FetchedAuthor(handle=handle, followers=3),
                            published_at=NOW - timedelta(minutes=5))
             for network, handle, text in (
                 ("x", "@acmefan", "lovely weather for a ride this morning"),
                 ("mastodon", "@star@m.example", "new blog post about bread baking is up"),
                 ("hackernews", "casefan", "Show HN: a tiny static site generator in Go"))]
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "all")
        report = do_ingest(session, watch, None, posts, now=NOW)
    assert report.stored == 3 and report.alerts == 2
    with sessions() as session:
        assert influencers.tracked_list(session, workspace_id) == [
            ("hackernews", "CaseFan"), ("mastodon", "@star@m.example"), ("x", "@acmefan")]
        # The typed spelling's author row went with it: untrack and track find the network's.
        assert session.scalar(select(func.count()).select_from(Author).where(
            Author.network == "x")) == 1
    assert influencers.do_untrack(sessions, workspace_id, CLI, handle="@AcmeFan",
                                  network="x") is not None
    assert influencers.do_track(sessions, workspace_id, CLI, handle="@ACMEFAN", network="x",
                                now=NOW) == ("@acmefan", True)
