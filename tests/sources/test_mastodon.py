"""Mastodon: real API examples from the shared data, served by a local instance stand-in."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.matching import MatchInput, parse_query
from bot.net.errors import SourceAuthError
from bot.net.http import HttpClient, HttpStatusError
from bot.services.ingest import IngestReport, match_batch
from bot.sources.base import SEARCHED_ASIDE
from bot.sources.mastodon import (
    MastodonConfig,
    MastodonSource,
    lookback_id,
    parse_statuses,
    status_to_mention,
)
from storage.models import Watch
from tests.sources.paging_stand_ins import (
    MASTODON_SEARCH,
    MastodonSearch,
    MastodonTagTimeline,
    UlidTagTimeline,
    mastodon_id,
    poll_until_quiet,
)

SINGLE_STATUSES = [
    "docs_status_example.json",
    "mastodonpy_status_custom_emoji.json",
    "mastodonpy_status_plain.json",
    "mastodonpy_status_quote_reply.json",
    "mastodonpy_status_with_media.json",
    "mastodonpy_status_with_poll.json",
    "mastodonpy_status_with_preview_card.json",
]


def config(httpserver: HTTPServer, **values: Any) -> MastodonConfig:
    """A config pointing at the local server."""
    return MastodonConfig(base_url=httpserver.url_for("").rstrip("/"), **values)


def position(cursor: dict[str, Any]) -> dict[str, Any]:
    """Where a cursor resumes, without the statuses it read (``seen``)."""
    return {k: v for k, v in cursor.items() if k != "seen"}


@pytest.mark.parametrize("name", SINGLE_STATUSES)
def test_every_single_status_example_maps(name: str, load_json: Callable[[str], Any]) -> None:
    status = load_json(f"mastodon/{name}")
    mention = status_to_mention(status, "https://mastodon.social")
    assert mention is not None
    assert mention.network == "mastodon"
    assert mention.external_id == status["uri"]
    assert mention.url == status["url"]
    assert mention.extra["status_id"] == status["id"]
    assert mention.author.followers == status["account"]["followers_count"]
    assert mention.published_at.tzinfo is not None
    assert "<" not in mention.text


def test_docs_status_example_in_detail(load_json: Callable[[str], Any]) -> None:
    mention = status_to_mention(load_json("mastodon/docs_status_example.json"), "https://m.s")
    assert mention is not None
    assert (
        mention.external_id == "https://mastodon.social/users/Gargron/statuses/103270115826048975"
    )
    assert mention.url == "https://mastodon.social/@Gargron/103270115826048975"
    assert mention.author.handle == "@Gargron@mastodon.social"
    assert mention.author.name == "Eugen"
    assert mention.author.followers == 322930
    assert mention.engagement == 11 + 6 + 5
    assert mention.language_hint == "en"
    assert mention.published_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)
    assert mention.text.startswith('"I lost my inheritance with one wrong digit on my sort code" ')
    assert mention.links[0].startswith("https://www.theguardian.com/money/2019/dec/07/")


MEANINGLESS_LINKS = ["x", "javascript:alert(1)", "mailto:a@b.example", "https://", "/@a/1",
                     "https://a.example/x y"]


@pytest.mark.parametrize("bad", MEANINGLESS_LINKS)
def test_a_meaningless_status_url_is_not_the_mention_link(
    load_json: Callable[[str], Any], bad: str
) -> None:
    # Stored as the mention's link and exported as it was ('x', 'javascript:alert(1)').
    status = load_json("mastodon/docs_status_example.json")
    mention = status_to_mention({**status, "url": bad}, "https://m.s")
    assert mention is not None and mention.url == status["uri"]
    both = status_to_mention({**status, "url": bad, "uri": bad}, "https://m.s")
    assert both is not None and both.url == f"https://m.s/statuses/{status['id']}"
    assert both.external_id == bad  # the identity stays what the instance calls it


def test_reply_and_remote_account(load_json: Callable[[str], Any]) -> None:
    media = status_to_mention(load_json("mastodon/mastodonpy_status_with_media.json"), "x")
    assert media is not None
    assert media.author.handle == "@halcy@mastodon.social"
    assert media.extra["in_reply_to_id"] == "110447001287656894"
    assert media.text == "image post"
    assert media.extra[SEARCHED_ASIDE] == ["\N{FRAME WITH PICTURE} furry cube"]  # its alt text
    emoji = status_to_mention(load_json("mastodon/mastodonpy_status_custom_emoji.json"), "x")
    assert emoji is not None
    assert emoji.author.handle == "@halcy@icosahedron.website"
    assert emoji.title == "test post for mastodon.py stuff"  # the content warning
    assert emoji.language_hint == "de"


def test_mentions_and_hashtags_are_not_links(load_json: Callable[[str], Any]) -> None:
    card = status_to_mention(load_json("mastodon/mastodonpy_status_with_preview_card.json"), "x")
    assert card is not None
    assert card.links == (
        "https://soundcloud.com/wakarangirl/popstars-dj-wakaran-girl-khard-bass-flex-1",
    )
    assert (
        "https://soundcloud.com/wakarangirl/popstars-dj-wakaran-girl-khard-bass-flex-1" in card.text
    )


def test_reblog_is_replaced_by_the_reblogged_status(load_json: Callable[[str], Any]) -> None:
    original = load_json("mastodon/docs_status_example.json")
    wrapper = {
        "id": "999",
        "created_at": "2020-01-01T00:00:00.000Z",
        "uri": "https://other.example/users/fan/statuses/999/activity",
        "content": "",
        "account": {"acct": "fan@other.example", "url": "https://other.example/@fan"},
        "reblog": original,
    }
    mention = status_to_mention(wrapper, "https://mastodon.social")
    assert mention is not None
    assert mention.external_id == original["uri"]
    assert mention.author.handle == "@Gargron@mastodon.social"
    assert mention.extra["reblogged_by"] == "@fan@other.example"


def test_context_thread_statuses_map(load_json: Callable[[str], Any]) -> None:
    context = load_json("mastodon/mastodonpy_status_context.json")
    statuses = context["ancestors"] + context["descendants"]
    mentions = parse_statuses(statuses, "https://mastodon.social")
    assert len(mentions) == len(statuses) > 0
    assert {m.external_id for m in mentions} == {s["uri"] for s in statuses}


def test_hashtag_timeline_fetch_and_min_id_cursor(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    hoot = load_json("mastodon/mastodonpy_timelines_tag_hoot.json")
    httpserver.expect_request(
        "/api/v1/timelines/tag/hoot", query_string={"limit": "40", "min_id": "117020593741189701"}
    ).respond_with_json([])
    httpserver.expect_request("/api/v1/timelines/tag/hoot").respond_with_json(hoot)
    source, cfg = MastodonSource(), config(httpserver, query="#hoot")

    first = source.fetch(http, cfg, {})
    (mention,) = first.mentions
    assert mention.external_id.endswith("/statuses/117020593741189701")
    assert mention.url == "http://localhost:3000/@mastodonpy_test_2/117020593741189701"
    assert mention.author.handle == "@mastodonpy_test_2@localhost"
    assert mention.author.name == "mastodonpy_test_2"  # empty display name
    assert mention.text == "#hoot (hashtag toot)"
    assert mention.language_hint == "ja"
    assert mention.links == ()
    assert position(first.cursor) == {"min_id": "117020593741189701"}

    second = source.fetch(http, cfg, first.cursor)
    assert second.mentions == [] and position(second.cursor) == position(first.cursor)


def test_elided_doc_timeline_still_maps(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/cats").respond_with_json(
        load_json("mastodon/docs_timelines_tag_cats_200_elided.json")
    )
    result = MastodonSource().fetch(http, config(httpserver, query="cats"), {})
    assert [m.extra["status_id"] for m in result.mentions] == [
        "103203659567597966",
        "103206185588894565",
    ]  # oldest first
    assert result.mentions[0].text.startswith("Caught on the hop. 😺 #Qualitätskatzen #cats")
    assert "(photo: @kernpanik | license: CC BY-NC-SA 4.0)" in result.mentions[0].text
    assert result.mentions[0].author.handle == "unknown"  # the doc elides the account
    assert position(result.cursor) == {"min_id": "103206185588894565"}


def test_search_fetch_sends_the_token(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    httpserver.expect_request(
        "/api/v2/search",
        query_string={"limit": "40", "q": "halcy", "type": "statuses", "resolve": "false"},
        headers={"Authorization": "Bearer tok"},
    ).respond_with_json(load_json("mastodon/mastodonpy_search_v2_mastodon_social_q_halcy.json"))
    cfg = config(httpserver, mode="search", query="halcy", access_token="tok")
    result = MastodonSource().fetch(http, cfg, {})
    assert [m.author.handle for m in result.mentions] == [
        "@Jo@social.sublingual.xyz",
        "@greg@icosahedron.website",
    ]
    greg = result.mentions[1]
    assert greg.external_id == "https://icosahedron.website/users/greg/statuses/116388148912635764"
    assert greg.extra["status_id"] == "116388149027005349"
    assert greg.author.followers == 455
    assert position(result.cursor) == {"min_id": "116388149027005349"}


@pytest.mark.parametrize(
    "name",
    [
        "mastodonpy_search_v2_local_empty.json",
        "mastodonpy_search_v2_local_accounts.json",
        "docs_search_v2_cats_200_elided.json",
    ],
)
def test_other_search_examples(
    name: str, httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    payload = load_json(f"mastodon/{name}")
    # the example is the first page; past it (offset), nothing is left
    httpserver.expect_request("/api/v2/search").respond_with_handler(
        lambda request: Response(json.dumps(
            payload | {"statuses": []} if "offset" in request.args else payload),
            content_type="application/json"))
    cfg = config(httpserver, mode="search", query="cats", access_token="tok")
    result = MastodonSource().fetch(http, cfg, {"min_id": "1"})
    assert len(result.mentions) == len(payload["statuses"])
    assert result.cursor["min_id"] == max(
        [s["id"] for s in payload["statuses"]] + ["1"], key=lambda i: (len(i), i)
    )


def test_401_and_404_examples_become_clear_errors(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/locked").respond_with_json(
        load_json("mastodon/docs_timelines_tag_401.json"), status=401
    )
    httpserver.expect_request("/api/v1/timelines/tag/missing").respond_with_json(
        load_json("mastodon/docs_timelines_tag_404.json"), status=404
    )
    with pytest.raises(SourceAuthError, match="The access token is invalid"):
        MastodonSource().fetch(http, config(httpserver, query="locked"), {})
    with pytest.raises(HttpStatusError, match="nothing found"):
        MastodonSource().fetch(http, config(httpserver, query="missing"), {})


def test_config_rules() -> None:
    with pytest.raises(ValueError, match="search mode needs an access token"):
        MastodonConfig(mode="search", query="acme")
    cfg = MastodonConfig(query="  acme ", access_token="secret-token")
    assert cfg.base_url == "https://mastodon.social" and cfg.query == "acme"
    assert "secret-token" not in repr(cfg)


WRONG_SHAPES = [5, 1.5, True, "x", [], [1], {"url": 5}, None]
HOSTILE_FIELDS = [("content",), ("spoiler_text",), ("language",), ("card",), ("card", "url"),
                  ("reblog",), ("account",), ("account", "display_name"), ("account", "url"),
                  ("account", "fields"), ("uri",), ("url",)]


@pytest.mark.parametrize("path", HOSTILE_FIELDS, ids="/".join)
def test_a_status_field_of_the_wrong_shape_costs_that_field_not_the_fetch(
    load_json: Callable[[str], Any], path: tuple[str, ...]
) -> None:
    # One status whose card URL was a number made every fetch of the source fail.
    good = load_json("mastodon/docs_status_example.json")
    for value in WRONG_SHAPES:
        if path == ("reblog",) and isinstance(value, dict):
            continue  # an object: a reblogged status, one without an id (no mention)
        bad = load_json("mastodon/docs_status_example.json")
        holder = bad
        for key in path[:-1]:
            holder = holder.setdefault(key, {}) if isinstance(holder.get(key), dict) else {}
        holder[path[-1]] = value
        bad["id"] = "1"
        mentions = parse_statuses([bad, good], "https://m.s")
        assert [m.extra["status_id"] for m in mentions] == ["1", good["id"]]
        mention = mentions[0]
        assert all(isinstance(link, str) for link in mention.links)
        assert isinstance(mention.text, str) and isinstance(mention.external_id, str)
        assert mention.author.url is None or isinstance(mention.author.url, str)


@pytest.mark.parametrize("bad_id", [{"a": "x" * 40}, ["1" * 30], True, 1.5])
def test_a_status_id_of_the_wrong_shape_is_neither_a_mention_nor_the_cursor(
    bad_id: Any, httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    # Its repr ("{'a': 'xxx...'}", longer than any real id) became the min_id every later
    # poll asked for.
    good = load_json("mastodon/docs_status_example.json")
    bad = {**good, "id": bad_id, "uri": "https://m.s/users/x/statuses/bad",
           "in_reply_to_id": {"a": 1}, "account": {**good["account"], "acct": 5}}
    httpserver.expect_request("/api/v1/timelines/tag/hoot").respond_with_json([bad, good])
    result = MastodonSource().fetch(http, config(httpserver, query="#hoot"), {"min_id": "1"})
    assert [m.external_id for m in result.mentions] == [good["uri"]]
    assert position(result.cursor) == {"min_id": good["id"]}


def test_a_reply_id_or_handle_of_the_wrong_shape_is_read_as_missing(
    load_json: Callable[[str], Any]
) -> None:
    status = {**load_json("mastodon/docs_status_example.json"), "in_reply_to_id": [1],
              "account": {"acct": {"a": 1}, "username": "Gargron",
                          "url": "https://mastodon.social/@Gargron"}}
    mention = status_to_mention(status, "https://m.s")
    assert mention is not None and mention.parent_external_id is None
    assert "in_reply_to_id" not in mention.extra
    assert mention.author.handle == "@Gargron@mastodon.social"


BROKEN_CURSOR_IDS = ["{'a': '" + "x" * 40 + "'}", "abc", "1" * 30, "12a", " 12", "١٢٣", True,
                     [1], 1.5, -3]


@pytest.mark.parametrize("stored", BROKEN_CURSOR_IDS, ids=repr)
def test_a_stored_min_id_that_is_not_an_id_is_dropped_once_with_a_warning(
    stored: Any, httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A cursor written by an earlier bug (the repr of an object, text) stayed stored and was
    # sent as min_id on every poll, which then found nothing new, for good.
    good = load_json("mastodon/docs_status_example.json")
    httpserver.expect_request("/api/v1/timelines/tag/hoot").respond_with_json([good])
    source, cfg = MastodonSource(), config(httpserver, query="#hoot")
    with caplog.at_level("WARNING", logger="bot.sources"):
        first = source.fetch(http, cfg, {"min_id": stored})
        source.fetch(http, cfg, first.cursor)
    first_request, second_request = (r for r, _ in httpserver.log[:2])  # then the look-back
    assert "min_id" not in first_request.args  # as a first poll: the latest statuses
    assert [m.external_id for m in first.mentions] == [good["uri"]]
    assert position(first.cursor) == {"min_id": good["id"]}
    assert second_request.args["min_id"] == good["id"]
    (warning,) = [r for r in caplog.records if "min_id" in r.getMessage()]
    assert warning.levelname == "WARNING" and "dropped" in warning.getMessage()


@pytest.mark.parametrize("older, newer", [
    ("9uHDKMsg8lHrW6BpKK", "AaZ9mX0lD3nVq7tR4s"),  # Pleroma / Akkoma flake ids (base62)
    ("01HF3ZJ4QK8N2V5X7Y9A0B1C2D", "01HF3ZK0000000000000000000"),  # GoToSocial ULIDs
    ("9kx3abcd12", "9kx3abce00"),  # Misskey forks' aid (Sharkey, Firefish, Iceshrimp)
])
def test_a_server_whose_status_ids_are_not_numbers_keeps_its_cursor(
    older: str, newer: str, httpserver: HTTPServer, http: HttpClient,
    load_json: Callable[[str], Any], caplog: pytest.LogCaptureFixture,
) -> None:
    # Mastodon-compatible servers other than Mastodon give opaque ids: without a cursor
    # every poll would start as a first one.
    good = load_json("mastodon/docs_status_example.json")
    statuses = [{**good, "id": newer, "uri": "https://m.s/users/x/statuses/b"},
                {**good, "id": older, "uri": "https://m.s/users/x/statuses/a"}]
    httpserver.expect_request("/api/v1/timelines/tag/hoot").respond_with_json(statuses)
    source, cfg = MastodonSource(), config(httpserver, query="#hoot")
    with caplog.at_level("WARNING", logger="bot.sources"):
        first = source.fetch(http, cfg, {})
        source.fetch(http, cfg, first.cursor)
    assert len(first.mentions) == 2
    assert position(first.cursor) == {"min_id": newer}
    # the second poll reads the newest page below min_id again (no look-back id)
    assert [(r.args.get("min_id"), r.args.get("max_id")) for r, _ in httpserver.log] == [
        (None, None), (newer, None), (None, newer)]
    assert not caplog.records


def test_a_numeric_min_id_stored_as_a_number_is_still_sent(
    httpserver: HTTPServer, http: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/hoot").respond_with_json([])
    with caplog.at_level("WARNING", logger="bot.sources"):
        result = MastodonSource().fetch(http, config(httpserver, query="#hoot"),
                                        {"min_id": 103270115826048975})
    (request, _), (lookback, _) = httpserver.log
    assert request.args["min_id"] == "103270115826048975"
    assert lookback.args["max_id"] == "103270115826048975"
    assert lookback.args["since_id"] == lookback_id("103270115826048975")
    assert position(result.cursor) == {"min_id": "103270115826048975"}
    assert not caplog.records



def _poll_statuses(source: MastodonSource, http: HttpClient, cfg: MastodonConfig,
                   cursor: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """``poll_until_quiet`` by status id, until nothing new (the search sends back the
    min_id status's second each time)."""
    return poll_until_quiet(source, http, cfg, cursor, key=lambda m: m.extra["status_id"],
                            new_only=True)


SEARCH_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _search_after_a_first_poll(
    httpserver: HTTPServer, http: HttpClient, **values: Any
) -> tuple[MastodonSearch, MastodonConfig, dict[str, Any]]:
    """Mastodon's search, served with one status posted at SEARCH_START; a search config
    (query "acme", a token, ``values``) and the cursor of a first poll, which read it."""
    search = MastodonSearch().serve(httpserver)
    search.post(SEARCH_START)
    cfg = config(httpserver, mode="search", query="acme", access_token="tok", **values)
    return search, cfg, MastodonSource().fetch(http, cfg, {}).cursor


def test_a_search_poll_with_a_full_page_reads_the_rest_on_the_next_polls(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # 25 statuses came between two polls and a page holds 10: Mastodon's search answers
    # min_id with the newest 10, min_id moved to the newest, and 15 were never fetched.
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http, limit=10, max_pages=1)
    source = MastodonSource()
    assert set(cursor) == {"min_id", "seen"}  # as the code before backlogs stored it
    arrived = search.post(SEARCH_START + timedelta(minutes=5), 25)

    fetched, cursor = _poll_statuses(source, http, cfg, cursor)
    assert set(arrived) <= set(fetched)
    assert position(cursor) == {"min_id": arrived[-1]}
    assert search.requests[2]["offset"] == "10"
    assert search.requests[2]["min_id"] == lookback_id(search.statuses[0])

    later = search.post(SEARCH_START + timedelta(minutes=20), 3)
    assert set(later) <= set(_poll_statuses(source, http, cfg, cursor)[0])


def test_a_search_page_shortened_by_a_hidden_status_is_not_the_last(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # Mastodon cuts a search page to limit and offset, then drops the statuses of muted
    # or blocked authors: a page of 39 of 40 was read as the last, min_id moved to the
    # newest, and the 40 older statuses were never fetched.
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http)
    source = MastodonSource()
    arrived = [search.post(SEARCH_START + timedelta(seconds=45 * n))[0] for n in range(1, 81)]
    search.hidden.add(arrived[-5])
    visible = [s for s in arrived if s not in search.hidden]

    fetched, cursor = _poll_statuses(source, http, cfg, cursor)
    assert set(visible) <= set(fetched)
    assert position(cursor) == {"min_id": arrived[-1]}


def test_statuses_arriving_while_a_backlog_is_read_are_not_lost(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http, limit=10)
    source = MastodonSource()
    arrived = search.post(SEARCH_START + timedelta(minutes=5), 25)
    fetched: list[str] = []
    for minute in range(6, 12):  # 7 more between each two polls
        result = source.fetch(http, cfg, cursor)
        cursor = result.cursor
        fetched += [m.extra["status_id"] for m in result.mentions]
        arrived += search.post(SEARCH_START + timedelta(minutes=minute), 7)
    more, cursor = _poll_statuses(source, http, cfg, cursor)
    assert set(arrived) <= set(fetched + more)


def test_a_server_ignoring_the_search_offset_ends_the_backlog(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    # Always the same full page: asking from the same place would never end.
    search = MastodonSearch()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    since = search.post(start)[0]
    search.post(start + timedelta(minutes=5), 15)
    httpserver.expect_request(MASTODON_SEARCH).respond_with_handler(
        lambda request: search(Request.from_values(
            query_string={k: v for k, v in request.args.items() if k != "offset"},
            headers=dict(request.headers))))
    cfg = config(httpserver, mode="search", query="acme", access_token="tok", limit=10)
    cursor: dict[str, Any] = {"min_id": since}
    for _ in range(5):
        cursor = MastodonSource().fetch(http, cfg, cursor).cursor
    assert position(cursor) == {"min_id": search.statuses[-1]}


@pytest.mark.parametrize("backlog", [
    {"offset": "10"}, {"offset": True}, {"offset": -1}, {"offset": 10**9},
    {"until_id": "x"}, {"until_id": "SINCE"}, {"newest_id": [1]}, {"newest_id": "SINCE"},
    {"stalls": "a"}, {"stalls": 99},
], ids=repr)
def test_a_malformed_search_backlog_loses_nothing(
    backlog: dict[str, Any], httpserver: HTTPServer, http: HttpClient
) -> None:
    search = MastodonSearch().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    since = search.post(start)[0]
    arrived = search.post(start + timedelta(minutes=5), 25)
    cursor = {"min_id": since, "offset": 10, "until_id": arrived[15],
              "newest_id": arrived[-1]}
    cursor |= {k: since if v == "SINCE" else v for k, v in backlog.items()}
    cfg = config(httpserver, mode="search", query="acme", access_token="tok", limit=10)
    fetched, last = _poll_statuses(MastodonSource(), http, cfg, cursor)
    # statuses the cursor says were read may come again; none of the others is left unread
    assert set(arrived[:15]) <= set(fetched)
    assert position(last) == {"min_id": arrived[-1]}


def test_a_remote_status_federating_late_is_read_on_the_next_poll(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # A remote status is numbered by its creation: one that reached the instance after a
    # newer one was read was below min_id, and no poll ever asked for it.
    timeline = MastodonTagTimeline().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    timeline.post(start)
    source, cfg = MastodonSource(), config(httpserver, query="acme")
    cursor = source.fetch(http, cfg, {}).cursor
    newer = timeline.post(start + timedelta(minutes=5))
    second = source.fetch(http, cfg, cursor)
    assert [m.extra["status_id"] for m in second.mentions] == newer
    late = timeline.post(start + timedelta(minutes=4, seconds=20))
    newest = timeline.post(start + timedelta(minutes=6))

    third = source.fetch(http, cfg, second.cursor)
    assert [m.extra["status_id"] for m in third.mentions] == late + newest
    assert position(third.cursor) == {"min_id": newest[0]}
    # the look-back asked below the newest status read, newest first
    assert timeline.requests[-1] | {"limit": "40"} == {
        "limit": "40", "since_id": lookback_id(newer[0]), "max_id": newer[0]}
    # what the look-back reads again is not fetched twice
    assert source.fetch(http, cfg, third.cursor).mentions == []


def test_a_remote_status_federating_late_is_read_by_a_search_poll(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http)
    source = MastodonSource()
    newer = search.post(SEARCH_START + timedelta(minutes=5))
    cursor = source.fetch(http, cfg, cursor).cursor
    assert position(cursor) == {"min_id": newer[0]}
    late = search.post(SEARCH_START + timedelta(minutes=4, seconds=20))
    newest = search.post(SEARCH_START + timedelta(minutes=6))

    third = source.fetch(http, cfg, cursor)
    assert [m.extra["status_id"] for m in third.mentions] == late + newest
    assert position(third.cursor) == {"min_id": newest[0]}
    assert search.requests[-1]["min_id"] == lookback_id(newer[0])
    assert source.fetch(http, cfg, third.cursor).mentions == []


def test_a_busy_tag_is_read_up_to_max_pages_a_poll(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # 60 new statuses between two polls: one page of 40 a poll fell behind without limit.
    timeline = MastodonTagTimeline().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    timeline.post(start)
    source, cfg = MastodonSource(), config(httpserver, query="acme")
    cursor = source.fetch(http, cfg, {}).cursor
    fetched: list[str] = []
    for poll in range(1, 7):
        arrived = timeline.post(start + timedelta(minutes=5 * poll), 60)
        result = source.fetch(http, cfg, cursor)
        cursor = result.cursor
        assert [m.extra["status_id"] for m in result.mentions] == arrived
        fetched += arrived
    assert len(set(fetched)) == 360 and position(cursor) == {"min_id": fetched[-1]}


def test_a_tag_busier_than_max_pages_moves_on_before_it_looks_back(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # The look-back has the pages the new statuses left: none while more are new than
    # a poll reads, so a busy tag keeps up first and each poll starts where the last ended.
    timeline = MastodonTagTimeline().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    timeline.post(start)
    source, cfg = MastodonSource(), config(httpserver, query="acme", limit=10, max_pages=2)
    cursor = source.fetch(http, cfg, {}).cursor
    arrived = timeline.post(start + timedelta(minutes=5), 45)
    fetched, cursor = poll_until_quiet(source, http, cfg, cursor,
                                       key=lambda m: m.extra["status_id"])
    assert fetched == arrived
    # polls 2 and 3 spent their 2 pages on new statuses; polls 4 and 5 looked back with
    # the page they had left
    assert ["since_id" in r for r in timeline.requests] == [False] * 6 + [True, False, True]


def test_a_search_reads_up_to_max_pages_a_poll(httpserver: HTTPServer, http: HttpClient) -> None:
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http, limit=10)
    source = MastodonSource()
    arrived = search.post(SEARCH_START + timedelta(minutes=5), 25)
    result = source.fetch(http, cfg, cursor)
    assert [m.extra["status_id"] for m in result.mentions] == arrived
    assert position(result.cursor) == {"min_id": arrived[-1]}
    assert [r.get("offset") for r in search.requests[1:]] == [None, "10", "20"]


def test_a_quote_posts_hidden_re_fallback_is_not_its_text_nor_its_link(
    load_json: Callable[[str], Any],
) -> None:
    """Mastodon writes a quote post's "RE: <quoted post>" in a ``quote-inline`` span that
    clients showing the quote hide: it is not the post's words or links (its fingerprint
    and story); the quoted post's address is kept in ``extra``."""
    status = load_json("mastodon/mastodonpy_status_quote_reply.json")
    mention = status_to_mention(status, "https://mastodon.social")
    assert mention is not None
    assert mention.text == ("actual reply that quotes a post that quotes a post "
                            "https://bsky.app/profile/h4lcy.bsky.social/post/3lwlumdwf522i")
    assert mention.links == ("https://bsky.app/profile/h4lcy.bsky.social/post/3lwlumdwf522i",)
    assert mention.extra["quote_of"] == (
        "https://bsky.app/profile/did:plc:5syfqzormjkutgo5hi2u2gpr/post/3lwlumdwf522i")
    # Nested spans (as Mastodon renders a long link) inside the fallback, and text after it.
    nested = status | {"content": (
        '<p>Acme again<span class="quote-inline"><br><br>RE: <a href="https://m.example/@a/1">'
        '<span class="invisible">https://</span><span class="ellipsis">m.example/@a/1'
        '</span><span class="invisible"></span></a></span></p><p>sigh &amp; more</p>')}
    quoted = status_to_mention(nested, "https://mastodon.social")
    assert quoted is not None
    assert (quoted.text, quoted.links) == ("Acme again sigh & more", ())
    assert quoted.extra["quote_of"] == "https://m.example/@a/1"
    # A line separator other than "\n" before the fallback (\u2028, \x85): the parser
    # counts lines by "\n" alone; counted otherwise, the cut fell on the post's own words.
    for separator in ("\u2028", "\x85", "\r"):
        odd = status | {"content": (
            f'<p>hello{separator}world</p>\n<p>Acme<span class="quote-inline"><br>RE: '
            '<a href="https://m.example/@a/2">m.example/@a/2</a></span> my own words</p>')}
        cut = status_to_mention(odd, "https://mastodon.social")
        assert cut is not None
        assert "Acme my own words" in cut.text and "RE:" not in cut.text, (separator, cut.text)
        assert cut.links == () and cut.extra["quote_of"] == "https://m.example/@a/2"


def test_a_mentioned_account_is_matched_by_its_full_handle(
    load_json: Callable[[str], Any],
) -> None:
    # The README tells users to watch a Mastodon account as @name@instance; the status
    # shows "@halcy" only, its full acct is in "mentions". Real search answer (q=halcy).
    found = parse_statuses(
        load_json("mastodon/mastodonpy_search_v2_mastodon_social_q_halcy.json"),
        "https://mastodon.social", "search")
    horse = next(m for m in found if "riding my horse" in m.text)
    assert horse.text == ("@halcy@icosahedron.website me when im riding my horse in stop "
                          "and go traffic")
    item = MatchInput(text=horse.text, network="mastodon")
    assert parse_query("@halcy@icosahedron.website").matches(item)
    assert parse_query("@halcy").matches(item)
    assert not parse_query("@halcy@mastodon.social").matches(item)
    sample = next(m for m in found if "hip-hop" in m.text)
    assert sample.text.startswith("@cancel@merveilles.town @halcy@icosahedron.website not ")


def test_a_mention_that_names_no_account_of_the_status_is_left_as_written(
    load_json: Callable[[str], Any],
) -> None:
    status = load_json("mastodon/mastodonpy_status_custom_emoji.json")
    status["mentions"] = [{"acct": "halcy@evil.example", "username": "halcy",
                           "url": "https://evil.example/@halcy"}]
    mention = status_to_mention(status, "https://mastodon.social")
    assert mention is not None and mention.text.startswith("@halcy you're a doo-doo head")


def test_a_link_shortened_in_the_text_is_read_whole(load_json: Callable[[str], Any]) -> None:
    # A status whose link text is shortened in the HTML itself ("bsky.app/profile/h4lc...",
    # no hidden part): a word only in the rest of the address was matched by no watch.
    status = load_json("mastodon/mastodonpy_status_quote_reply.json")
    mention = status_to_mention(status, "https://mastodon.social")
    assert mention is not None
    assert mention.text == ("actual reply that quotes a post that quotes a post "
                            "https://bsky.app/profile/h4lcy.bsky.social/post/3lwlumdwf522i")
    assert parse_query("h4lcy").matches(MatchInput(text=mention.text, network="mastodon"))
    # Its tracking parameters are not its words; a link written whole stays as written.
    status["content"] = status["content"].replace(
        "3lwlumdwf522i\" rel", "3lwlumdwf522i?utm_source=acme\" rel", 1)
    mention = status_to_mention(status, "https://mastodon.social")
    assert mention is not None and mention.text.endswith("/post/3lwlumdwf522i")
    status["content"] = "<p>at <a href=\"https://acme.example/a\">acme.example/b...</a></p>"
    mention = status_to_mention(status, "https://mastodon.social")
    assert mention is not None and mention.text == "at acme.example/b..."


def _fetched(source: MastodonSource, http: HttpClient, cfg: MastodonConfig,
             cursor: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    result = source.fetch(http, cfg, cursor)
    return [m.extra["status_id"] for m in result.mentions], result.cursor


@pytest.mark.parametrize("mode", ["hashtag", "search"])
def test_a_status_dated_in_the_future_does_not_hide_the_next_ones(
    mode: str, httpserver: HTTPServer, http: HttpClient
) -> None:
    # A remote server with a wrong clock (or a hostile one) dated a status three days
    # ahead: Mastodon numbers it by that date, min_id moved there, and every status of
    # the next three days was below it: never read.
    stand_in = (MastodonTagTimeline() if mode == "hashtag" else MastodonSearch()
                ).serve(httpserver)
    cfg = config(httpserver, query="acme", mode=mode,
                 **({"access_token": "tok"} if mode == "search" else {}))
    source, start = MastodonSource(), datetime.now(UTC) - timedelta(hours=1)
    stand_in.post(start)
    cursor = source.fetch(http, cfg, {}).cursor
    future = stand_in.post(datetime.now(UTC) + timedelta(days=3))
    normal = stand_in.post(start + timedelta(minutes=5))
    fetched, cursor = _fetched(source, http, cfg, cursor)
    assert set(fetched) == {*future, *normal}

    for minutes in (20, 40, 55):
        later = stand_in.post(start + timedelta(minutes=minutes))
        fetched, cursor = _fetched(source, http, cfg, cursor)
        assert fetched == later  # the future one was read once, not again


@pytest.mark.parametrize("mode", ["hashtag", "search"])
def test_a_min_id_stored_in_the_future_is_brought_back_to_now(
    mode: str, httpserver: HTTPServer, http: HttpClient
) -> None:
    # A cursor a future status moved (before this was fixed) is read as now: the look-back
    # finds the statuses of the last minutes again.
    stand_in = (MastodonTagTimeline() if mode == "hashtag" else MastodonSearch()
                ).serve(httpserver)
    cfg = config(httpserver, query="acme", mode=mode,
                 **({"access_token": "tok"} if mode == "search" else {}))
    recent = stand_in.post(datetime.now(UTC) - timedelta(minutes=5))
    cursor = {"min_id": mastodon_id(datetime.now(UTC) + timedelta(days=3))}
    assert _fetched(MastodonSource(), http, cfg, cursor)[0] == recent


def test_a_status_federating_late_to_a_server_with_ulid_ids_is_read_on_the_next_poll(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # GoToSocial numbers a remote status by its creation too, with a ULID: Vigie computes
    # no look-back id from one, and asked no page below min_id: the late status was lost.
    timeline = UlidTagTimeline().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    timeline.post(start)
    source, cfg = MastodonSource(), config(httpserver, query="acme")
    cursor = source.fetch(http, cfg, {}).cursor
    newer = timeline.post(start + timedelta(minutes=5))
    second = source.fetch(http, cfg, cursor)
    assert [m.extra["status_id"] for m in second.mentions] == newer
    late = timeline.post(start + timedelta(minutes=4, seconds=20))
    newest = timeline.post(start + timedelta(minutes=6))

    third = source.fetch(http, cfg, second.cursor)
    assert [m.extra["status_id"] for m in third.mentions] == late + newest
    assert position(third.cursor) == {"min_id": newest[0]}
    assert source.fetch(http, cfg, third.cursor).mentions == []  # read again, not twice


def test_image_descriptions_and_poll_options_are_read(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    # Mastodon's search finds a status by its alt text and poll options too; only the
    # content was kept, so the watch that searched for them filtered the status out.
    media = load_json("mastodon/mastodonpy_status_with_media.json")
    poll = load_json("mastodon/mastodonpy_status_with_poll.json")
    httpserver.expect_request(MASTODON_SEARCH).respond_with_json(
        {"accounts": [], "hashtags": [], "statuses": [media, poll]})
    cfg = config(httpserver, mode="search", query="furry cube", access_token="tok")
    by_id = {m.extra["status_id"]: m for m in MastodonSource().fetch(http, cfg, {}).mentions}
    pictured, polled = by_id[media["id"]], by_id[poll["id"]]
    # Kept aside from the status's words (its text: fingerprint, addressing, drafts).
    assert (pictured.text, polled.text) == ("image post", "secret test poll :hecker:")
    assert pictured.extra[SEARCHED_ASIDE] == ["\N{FRAME WITH PICTURE} furry cube"]
    assert polled.extra[SEARCHED_ASIDE] == [
        "\N{BAR CHART} real \N{MIDDLE DOT} fr fr \N{MIDDLE DOT} so true \N{MIDDLE DOT} :hecker:"]
    # The watch that searched for them keeps both (ingest's watch filter).
    report = IngestReport()
    kept = match_batch(Watch(name="cube", query='"furry cube" OR "so true"'),
                       [pictured, polled], report=report, keys=False)
    assert [m.fetched for m in kept] == [pictured, polled] and report.filtered == 0
    # attachments without a description, or a poll of hostile shape, add nothing
    bare = media | {"media_attachments": [{"description": None}, 5, {"description": " "}],
                    "poll": {"options": [{"title": 7}, "x", {}]}}
    mention = status_to_mention(bare, "https://mastodon.social")
    assert mention is not None and mention.text == "image post"
    assert SEARCHED_ASIDE not in mention.extra
