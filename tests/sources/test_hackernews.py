"""Hacker News (Algolia): every shared search example maps; the fetch is incremental."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer

from bot.net.http import HttpClient
from bot.sources.cursors import id_digest
from bot.sources.hackernews import HackerNewsConfig, HackerNewsSource, hit_to_mention, parse_hits
from tests.sources.paging_stand_ins import HackerNewsSearch, poll_until_quiet

SEARCH_FILES = [
    "algolia_apidoc_search_query_pg_elided.json",
    "fraction_search_ask_hn_page2_query_apple.json",
    "fraction_search_by_date_comment_query_apple.json",
    "fraction_search_by_date_story.json",
    "fraction_search_comment.json",
    "fraction_search_comment_query_apple.json",
    "fraction_search_poll.json",
    "fraction_search_story_query_apple.json",
]


def config(httpserver: HTTPServer, **values: Any) -> HackerNewsConfig:
    """A config pointing at the local server."""
    return HackerNewsConfig(base_url=httpserver.url_for("/api/v1"), **({"query": "apple"} | values))


@pytest.mark.parametrize("name", SEARCH_FILES)
def test_every_search_example_maps(name: str, load_json: Callable[[str], Any]) -> None:
    hits = parse_hits(load_json(f"hn/{name}"))
    mentions = [hit_to_mention(h) for h in hits]
    assert len(mentions) == len(hits) > 0
    for hit, mention in zip(hits, mentions, strict=True):
        assert mention is not None
        assert mention.external_id == hit["objectID"]
        assert mention.url == f"https://news.ycombinator.com/item?id={hit['objectID']}"
        assert mention.author.handle == hit["author"]
        assert "<" not in mention.text and "&#x27;" not in mention.text
        if "created_at_i" in hit:
            assert mention.published_at == datetime.fromtimestamp(hit["created_at_i"], UTC)


def test_fixture_bundle_search_replies_all_map(load_json: Callable[[str], Any]) -> None:
    bundle = load_json("hn/fraction_fixtures_all_2014.json")
    searches = [entry["reply"] for entry in bundle if "/search" in entry["url"]]
    assert len(searches) == 24
    for reply in searches:
        for hit in parse_hits(reply):
            assert hit_to_mention(hit) is not None


def test_comment_in_detail(load_json: Callable[[str], Any]) -> None:
    (hit,) = parse_hits(load_json("hn/fraction_search_by_date_comment_query_apple.json"))
    mention = hit_to_mention(hit)
    assert mention is not None
    assert mention.external_id == "7919418"
    assert mention.author.url == "https://news.ycombinator.com/user?id=fleitz"
    # The story's title and link are the comment's context, not its title or link: a
    # watch's query reads only the comment's words, and its comments are not one story
    # card of the story's link.
    assert mention.title is None
    assert mention.parent_external_id == "7919290"
    assert mention.extra == {
        "kind": "comment", "story_id": "7918547", "thread_root": "7918547",
        "context": "Starbucks admits it's not contributing to scholarship fund",
        "story_url": "http://www.komonews.com/news/local/"
                     "Starbucks-admits-its-not-contributing-to-hyped-scholarships-263837031.html"}
    assert mention.published_at == datetime(2014, 6, 20, 3, 32, 34, tzinfo=UTC)
    assert mention.text.startswith(
        "Yeah the article seems stupid, while technically they aren't contributing to the "
        "scholarship they do pay tuition for the last 2 years. I'm not the biggest fan"
    )
    assert "Starbucks/Wal-Mart" in mention.text
    assert mention.links == ()  # the comment links nothing itself
    assert mention.engagement == 1


def test_story_in_detail(load_json: Callable[[str], Any]) -> None:
    (hit,) = parse_hits(load_json("hn/fraction_search_by_date_story.json"))
    mention = hit_to_mention(hit)
    assert mention is not None
    assert (
        mention.title
        == mention.text
        == "Judge says concerned about Apple, Google hiring settlement"
    )
    assert mention.links == (
        "http://in.reuters.com/article/2014/06/19/apple-google-settlement-idINL2N0P01ZI20140619",
    )
    assert mention.parent_external_id is None
    assert mention.extra["kind"] == "story"
    assert "thread_root" not in mention.extra  # a story roots its own thread


def test_fetch_is_incremental_by_created_at(
    httpserver: HTTPServer, http: HttpClient, api_data: Path, load_json: Callable[[str], Any]
) -> None:
    story = load_json("hn/fraction_search_by_date_story.json")
    comment = load_json("hn/fraction_search_by_date_comment_query_apple.json")
    both = dict(story, hits=story["hits"] + comment["hits"], nbPages=1)
    httpserver.expect_request(
        "/api/v1/search_by_date",
        query_string={
            "query": "apple",
            "tags": "(story,comment)",
            "hitsPerPage": "50",
            "page": "0",
        },
    ).respond_with_json(both)
    source, cfg = HackerNewsSource(), config(httpserver)
    first = source.fetch(http, cfg, {})
    assert [m.external_id for m in first.mentions] == ["7919418", "7919424"]  # oldest first
    assert {k: v for k, v in first.cursor.items() if k != "seen"} == \
        {"created_at_i": 1403235346, "ids_at": ["7919424"]}
    assert set(first.cursor["seen"]) == {id_digest("7919418"), id_digest("7919424")}

    httpserver.clear()
    httpserver.expect_request(
        "/api/v1/search_by_date",
        query_string={
            "query": "apple",
            "tags": "(story,comment)",
            "hitsPerPage": "50",
            "numericFilters": "created_at_i>=1403234446",  # LOOKBACK before the newest
            "page": "0",
        },
    ).respond_with_json(dict(story, nbPages=1))
    second = source.fetch(http, cfg, first.cursor)
    assert second.mentions == []  # the boundary item was already seen
    assert second.cursor["created_at_i"] == first.cursor["created_at_i"]
    assert set(second.cursor["seen"]) == set(first.cursor["seen"])


def test_fetch_follows_pages_when_many_items_are_new(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    page = load_json("hn/fraction_search_by_date_story.json")
    hit = page["hits"][0]
    pages = [
        dict(page, hits=[dict(hit, objectID=str(i), created_at_i=1403235346 + i)], nbPages=3)
        for i in range(3)
    ]
    for number, body in enumerate(pages):
        httpserver.expect_request(
            "/api/v1/search_by_date",
            query_string={
                "query": "apple",
                "tags": "story",
                "hitsPerPage": "50",
                "numericFilters": "created_at_i>=-800",  # LOOKBACK before 100
                "page": str(number),
            },
        ).respond_with_json(body)
    result = HackerNewsSource().fetch(http, config(httpserver, tags="story"), {"created_at_i": 100})
    assert [m.external_id for m in result.mentions] == ["0", "1", "2"]
    assert result.cursor["created_at_i"] == 1403235348


WRONG_SHAPES = [5, 1.5, True, "x", [], [1], {"a": 1}, None]
HOSTILE_FIELDS = [
    *(("fraction_search_by_date_comment_query_apple.json", field) for field in (
        "_tags", "comment_text", "story_title", "author", "parent_id", "story_id",
        "created_at_i", "story_url")),
    *(("fraction_search_by_date_story.json", field) for field in (
        "_tags", "story_text", "title", "author", "url", "points", "objectID")),
]


@pytest.mark.parametrize(("name", "field"), HOSTILE_FIELDS,
                         ids=lambda v: v.split("_")[4].removesuffix(".json") if ".json" in v else v)
def test_a_hit_field_of_the_wrong_shape_costs_that_field_not_the_fetch(
    load_json: Callable[[str], Any], json_answers: Any, name: str, field: str
) -> None:
    # One hit whose text was a number (or _tags a number, ...) failed every fetch.
    (good,) = load_json(f"hn/{name}")["hits"]
    for value in WRONG_SHAPES:
        (bad,) = load_json(f"hn/{name}")["hits"]
        bad["objectID"] = "1"
        bad[field] = value
        http = json_answers({"search_by_date": {"hits": [bad, good], "nbPages": 1}})
        result = HackerNewsSource().fetch(http, HackerNewsConfig(query="apple"), {})
        ids = [m.external_id for m in result.mentions]
        if field == "objectID":  # no id, no mention; a number or a string is an id
            assert ids == ([str(value)] if value in (5, "x") else []) + [good["objectID"]]
            continue
        assert ids == ["1", good["objectID"]]
        mention = result.mentions[0]
        assert mention.author.handle in {good["author"], "unknown", "x"}
        assert mention.parent_external_id in {str(good["parent_id"]), "5", "x", None}
        assert mention.extra.get("story_id") in {str(good["story_id"]), "5", "x", None}
        assert mention.published_at.year > 2000 or value in (5, 1.5)  # epoch seconds 5
        assert all(link.startswith("http") for link in mention.links)
        assert result.cursor["created_at_i"] == good["created_at_i"]


@pytest.mark.parametrize(("tags", "kept"), [
    ("(story,comment)", "(story,comment)"), ("( story , comment )", "(story,comment)"),
    ("story,author_pg", "story,author_pg"), ("ask_hn", "ask_hn"), ("story_8863", "story_8863"),
    ("(show_hn,ask_hn),front_page", "(show_hn,ask_hn),front_page"),
    ("", ""),  # no tag filter, as sources stored before the check may have
    ("(Story,COMMENT)", "(story,comment)"), ("story,author_PG", "story,author_PG"),
])
def test_an_hn_tags_filter_is_kept_in_the_api_s_syntax(tags: str, kept: str) -> None:
    assert HackerNewsConfig(query="acme", tags=tags).tags == kept


@pytest.mark.parametrize("tags", ["bogus", "(story,bogus)", "story,,comment", "(story",
                                  "author_", "story;comment"])
def test_an_hn_tags_filter_the_api_does_not_know_is_refused(tags: str) -> None:
    """HN Search answers an unknown tag with no hits, every poll: a source that can never
    find anything, shown healthy. Refused when added, with the syntax."""
    with pytest.raises(ValidationError, match="not an HN Search tags filter"):
        HackerNewsConfig(query="acme", tags=tags)


def test_a_poll_stopping_with_pages_left_reads_them_on_the_next_polls(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # 26 items came between two polls and a poll reads 2 pages of 5: the cursor moved to
    # the newest item read, and the 16 older ones were never fetched. Several share a
    # second, across the pages' edges.
    search = HackerNewsSearch().serve(httpserver)
    search.post(1_700_000_000)
    source, cfg = HackerNewsSource(), config(httpserver, tags="story", hits_per_page=5,
                                             max_pages=2)
    cursor = source.fetch(http, cfg, {}).cursor  # as the code before backlogs stored it
    assert set(cursor) == {"created_at_i", "ids_at", "seen"}
    arrived = [i for second in range(1_700_000_100, 1_700_000_113)
               for i in search.post(second, 2)]

    fetched, cursor = poll_until_quiet(source, http, cfg, cursor)
    assert sorted(fetched) == sorted(arrived) and len(fetched) == 26
    assert {k: cursor[k] for k in ("created_at_i", "ids_at")} == \
        {"created_at_i": 1_700_000_112, "ids_at": sorted(arrived[-2:])}
    assert "until_i" not in cursor
    assert search.requests[3]["numericFilters"] == \
        "created_at_i>=1699999100,created_at_i<=1700000108"  # from LOOKBACK before

    later = search.post(1_700_000_200, 2)
    assert sorted(poll_until_quiet(source, http, cfg, cursor)[0]) == later


def test_an_item_indexed_late_is_read_on_the_next_poll(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # HN Search filters on creation time while its index lags: an item indexed after a
    # newer one was read was created before the cursor's second, and no poll found it.
    search = HackerNewsSearch().serve(httpserver)
    search.post(1_700_000_000)
    source, cfg = HackerNewsSource(), config(httpserver, tags="story")
    cursor = source.fetch(http, cfg, {}).cursor
    newer = search.post(1_700_000_300)
    cursor = source.fetch(http, cfg, cursor).cursor
    assert cursor["created_at_i"] == 1_700_000_300
    late = search.post(1_700_000_270)
    newest = search.post(1_700_000_360)

    third = source.fetch(http, cfg, cursor)
    assert [m.external_id for m in third.mentions] == late + newest
    assert search.requests[-1]["numericFilters"] == "created_at_i>=1699999400"
    assert newer[0] not in [m.external_id for m in third.mentions]  # read before
    assert source.fetch(http, cfg, third.cursor).mentions == []


def test_pages_left_below_the_cursor_do_not_hold_a_busy_search_back(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # The look-back's items come last (newest first): pages left with them only are no
    # backlog, or a busy search would spend its next polls reading them again.
    search = HackerNewsSearch().serve(httpserver)
    search.post(1_700_000_000, 30)
    source, cfg = HackerNewsSource(), config(httpserver, tags="story", hits_per_page=5,
                                             max_pages=2)
    arrived = search.post(1_700_000_060, 7)
    result = source.fetch(http, cfg, {"created_at_i": 1_700_000_000})
    assert set(arrived) <= {m.external_id for m in result.mentions}
    assert "until_i" not in result.cursor
    assert result.cursor["created_at_i"] == 1_700_000_060


@pytest.mark.parametrize("backlog", [
    {"until_i": "abc"}, {"until_i": True}, {"until_i": 1.5}, {"until_i": 1_699_999_999},
    {"ids_until": "x"}, {"ids_until": [1, None]},
    {"newest_i": "x"}, {"newest_i": 1_700_000_101}, {"ids_newest": {"a": 1}},
], ids=repr)
def test_a_malformed_backlog_in_the_cursor_loses_nothing(
    backlog: dict[str, Any], httpserver: HTTPServer, http: HttpClient
) -> None:
    search = HackerNewsSearch().serve(httpserver)
    first = search.post(1_700_000_000)
    arrived = [i for second in range(1_700_000_100, 1_700_000_112)
               for i in search.post(second)]
    cursor = {"created_at_i": 1_700_000_000, "ids_at": first, "until_i": 1_700_000_106,
              "ids_until": [arrived[6]], "newest_i": 1_700_000_111,
              "ids_newest": [arrived[-1]]}
    fetched, last = poll_until_quiet(
        HackerNewsSource(), http, config(httpserver, tags="story", hits_per_page=5,
                                         max_pages=1), cursor | backlog)
    # items the cursor says were read may come again; none of the others is left unread
    assert set(arrived[:6]) <= set(fetched)
    assert last["created_at_i"] == 1_700_000_111


@pytest.mark.parametrize("ids_at", [5, "7919424", {"a": 1}, [1, None, "x"]], ids=repr)
def test_stored_ids_at_that_are_no_list_of_ids_are_none(
    ids_at: Any, httpserver: HTTPServer, http: HttpClient
) -> None:
    # set(5) raised: every poll of the source failed while that cursor stayed stored.
    search = HackerNewsSearch().serve(httpserver)
    item = search.post(1_700_000_000)
    result = HackerNewsSource().fetch(http, config(httpserver, tags="story"),
                                      {"created_at_i": 1_700_000_000, "ids_at": ids_at})
    assert [m.external_id for m in result.mentions] == item


def test_an_item_dated_in_the_future_does_not_hide_the_next_ones(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # An item whose created_at_i was three days ahead moved the cursor there: every
    # search after asked from three days ahead less the look-back, and found nothing.
    search = HackerNewsSearch().serve(httpserver)
    start = int(datetime.now(UTC).timestamp()) - 3600
    search.post(start)
    source, cfg = HackerNewsSource(), config(httpserver, tags="story")
    cursor = source.fetch(http, cfg, {}).cursor
    future = search.post(start + 3600 + 3 * 86400)
    normal = search.post(start + 300)
    result = source.fetch(http, cfg, cursor)
    assert {m.external_id for m in result.mentions} == {*future, *normal}
    cursor = result.cursor

    for seconds in (1200, 2400, 3300):
        later = search.post(start + seconds)
        result = source.fetch(http, cfg, cursor)
        assert [m.external_id for m in result.mentions] == later  # the future one: once
        cursor = result.cursor


def test_a_cursor_stored_in_the_future_is_brought_back_to_now(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    search = HackerNewsSearch().serve(httpserver)
    now = int(datetime.now(UTC).timestamp())
    recent = search.post(now - 300)
    cursor = {"created_at_i": now + 3 * 86400, "ids_at": ["1"]}
    result = HackerNewsSource().fetch(http, config(httpserver, tags="story"), cursor)
    assert [m.external_id for m in result.mentions] == recent
