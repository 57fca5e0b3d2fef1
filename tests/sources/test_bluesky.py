"""Bluesky: sessions, searchPosts paging and post mapping from the shared real records.

The shared data has no searchPosts capture; the real ``postView`` of a getPostThread
answer is wrapped into a searchPosts envelope (whose shape the shared lexicon defines),
and the real post records are wrapped into post views with the capture's account.
"""

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
from bot.net.http import HttpClient
from bot.sources.bluesky import BlueskyConfig, BlueskySource, post_to_mention
from tests.sources.paging_stand_ins import BlueskySearch, poll_until_quiet

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
LOGIN = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"


def config(httpserver: HTTPServer, **values: Any) -> BlueskyConfig:
    """A config pointing at the local server."""
    base = {"query": "acme", "handle": "brand.bsky.social", "app_password": "app-pass-word"}
    return BlueskyConfig(service_url=httpserver.url_for("").rstrip("/"), **(base | values))


def thread_post(load_json: Callable[[str], Any]) -> dict[str, Any]:
    """The real postView of the shared getPostThread answer."""
    post: dict[str, Any] = load_json("bluesky/marshalx_getPostThread_recordWithMedia.json")[
        "thread"
    ]["post"]
    return post


def login_ok(httpserver: HTTPServer, access: str = "jwt-1") -> None:
    httpserver.expect_request(
        LOGIN, method="POST", json={"identifier": "brand.bsky.social", "password": "app-pass-word"}
    ).respond_with_json({"accessJwt": access, "refreshJwt": "refresh-1", "did": "did:plc:x"})


def test_thread_post_view_maps(load_json: Callable[[str], Any]) -> None:
    mention = post_to_mention(thread_post(load_json))
    assert mention is not None
    assert (
        mention.external_id
        == "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3kaheyt6vpc22"
    )
    assert mention.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert mention.author.handle == "@test.marshal.dev"
    assert mention.author.name == "Python SDK"
    assert mention.author.url == "https://bsky.app/profile/test.marshal.dev"
    assert mention.text == ""  # an image-and-quote post with no text
    assert mention.language_hint == "en"
    assert mention.published_at == datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC)
    assert mention.parent_external_id is None
    assert mention.engagement == 0


def _view(record: dict[str, Any], uri: str, handle: str = "atproto.com") -> dict[str, Any]:
    return {
        "uri": uri,
        "cid": "bafy",
        "author": {
            "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
            "handle": handle,
            "displayName": "AT Protocol Developers",
        },
        "record": record,
        "indexedAt": record.get("createdAt"),
        "likeCount": 3,
        "repostCount": 2,
        "replyCount": 1,
    }


def test_captured_post_records_map(load_json: Callable[[str], Any]) -> None:
    capture = load_json("bluesky/indigo_automod_capture_atprotocom.json")
    records = capture["postRecords"]
    mentions = [post_to_mention(_view(r["value"], r["uri"])) for r in records]
    assert all(m is not None for m in mentions)
    first = mentions[0]
    assert first is not None
    assert (
        first.external_id
        == "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kftldxbvq22p"
    )
    assert first.url == "https://bsky.app/profile/atproto.com/post/3kftldxbvq22p"
    assert first.text.startswith("[for developers]")
    assert first.parent_external_id == (
        "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kftlbujmfk24"
    )
    assert first.links == ("https://github.com/bluesky-social/atproto/discussions/1933",)
    assert first.engagement == 6
    assert first.published_at == datetime(2023, 12, 6, 0, 21, 7, 723000, tzinfo=UTC)


def test_doc_record_examples_map(load_json: Callable[[str], Any]) -> None:
    examples = load_json("bluesky/bskydocs_post_record_examples.json")
    posts = [e["record"] for e in examples if e["record"].get("$type") == "app.bsky.feed.post"]
    mentions = [
        post_to_mention(_view(r, f"at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/k{i}"))
        for i, r in enumerate(posts)
    ]
    by_text = {m.text: m for m in mentions if m is not None}
    assert len(by_text) == len(posts)
    facet = next(m for t, m in by_text.items() if t.startswith("✨ example mentioning"))
    assert facet.links == ("https://en.wikipedia.org/wiki/CBOR",)
    assert facet.published_at == datetime(2023, 8, 8, 1, 3, 41, 157302, tzinfo=UTC)
    reply = by_text["example of a reply"]
    assert reply.parent_external_id == (
        "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k43tv4rft22g"
    )
    thai = next(m for t, m in by_text.items() if t.startswith("สวัสดีชาวโลก"))
    assert thai.language_hint == "th"
    # The minimal getRecord answer is a record, not a post view: no uri at the view level.
    record = load_json("bluesky/marshalx_post_record.json")
    assert post_to_mention(_view(record["value"], record["uri"])) is not None
    assert post_to_mention({"record": record["value"]}) is None


def test_fetch_signs_in_once_pages_and_keeps_a_time_cursor(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    post = thread_post(load_json)
    login_ok(httpserver)
    httpserver.expect_oneshot_request(
        SEARCH,
        headers={"Authorization": "Bearer jwt-1"},
        query_string={"q": "acme", "sort": "latest", "limit": "50"},
    ).respond_with_json({"posts": [post], "cursor": "next"})
    source, cfg = BlueskySource(), config(httpserver)

    first = source.fetch(http, cfg, {})
    assert [m.external_id for m in first.mentions] == [post["uri"]]
    assert first.cursor["since"] == "2023-09-28T12:49:36.735000+00:00"

    # Second fetch: same session (no new sign-in), since= sent (LOOKBACK before the newest
    # post read), the post read before skipped, and pages followed while they are full.
    newer = json.loads(json.dumps(post))
    newer["uri"] = post["uri"].replace("3kaheyt6vpc22", "3newer")
    newer["record"]["createdAt"] = newer["indexedAt"] = "2023-09-28T13:00:00.000Z"
    newer["record"]["text"] = "acme is great"
    cfg2 = config(httpserver, limit=1)
    httpserver.expect_oneshot_request(
        SEARCH,
        query_string={
            "q": "acme",
            "sort": "latest",
            "limit": "1",
            "since": "2023-09-28T12:34:36.735000Z",
        },
    ).respond_with_json({"posts": [newer], "cursor": "page2"})
    httpserver.expect_oneshot_request(SEARCH).respond_with_json({"posts": [post]})
    second = source.fetch(http, cfg2, first.cursor)
    assert [m.text for m in second.mentions] == ["acme is great"]
    assert second.cursor["since"] == "2023-09-28T13:00:00+00:00"
    logins = [e for e in httpserver.log if e[0].path == LOGIN]
    assert len(logins) == 1
    searches = [e[0] for e in httpserver.log if e[0].path == SEARCH]
    assert searches[-1].args["cursor"] == "page2"


def test_expired_token_is_refreshed_then_the_search_retried(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    login_ok(httpserver, access="old")
    httpserver.expect_request(SEARCH, headers={"Authorization": "Bearer old"}).respond_with_json(
        {"error": "ExpiredToken", "message": "Token has expired"}, status=400
    )
    httpserver.expect_request(
        REFRESH, method="POST", headers={"Authorization": "Bearer refresh-1"}
    ).respond_with_json({"accessJwt": "new", "refreshJwt": "refresh-2"})
    httpserver.expect_request(SEARCH, headers={"Authorization": "Bearer new"}).respond_with_json(
        {"posts": [thread_post(load_json)]}
    )
    result = BlueskySource().fetch(http, config(httpserver), {})
    assert len(result.mentions) == 1


def test_failed_refresh_falls_back_to_a_new_session(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    calls = {"login": 0}

    def login(_: Request) -> Response:
        calls["login"] += 1
        token = f"jwt-{calls['login']}"
        return Response(
            json.dumps({"accessJwt": token, "refreshJwt": "r"}), content_type="application/json"
        )

    httpserver.expect_request(LOGIN, method="POST").respond_with_handler(login)
    httpserver.expect_request(SEARCH, headers={"Authorization": "Bearer jwt-1"}).respond_with_json(
        {"error": "InvalidToken"}, status=401
    )
    httpserver.expect_request(REFRESH, method="POST").respond_with_json(
        {"error": "ExpiredToken"}, status=400
    )
    httpserver.expect_request(SEARCH, headers={"Authorization": "Bearer jwt-2"}).respond_with_json(
        {"posts": []}
    )
    assert BlueskySource().fetch(http, config(httpserver), {}).mentions == []
    assert calls["login"] == 2


def test_wrong_app_password_is_an_auth_error_without_the_password(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    httpserver.expect_request(LOGIN, method="POST").respond_with_json(
        {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, status=401
    )
    with pytest.raises(SourceAuthError) as caught:
        BlueskySource().fetch(http, config(httpserver), {})
    assert "Invalid identifier or password" in str(caught.value)
    assert "app-pass-word" not in str(caught.value)


WRONG_SHAPES = [5, 1.5, True, "x", [], [1], {"a": 1}, None]
HOSTILE_FIELDS = [("cid",), ("author",), ("author", "handle"), ("author", "displayName"),
                  ("author", "verification"), ("record",), ("record", "text"),
                  ("record", "langs"), ("record", "langs", 0), ("record", "facets"),
                  ("record", "facets", 0), ("record", "facets", 0, "features"),
                  ("record", "facets", 0, "features", 0, "uri"), ("record", "reply", "parent"),
                  ("record", "reply", "root"), ("record", "embed", "external")]


def _set(item: Any, path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        item = item[key]
    item[path[-1]] = value


@pytest.mark.parametrize("path", HOSTILE_FIELDS, ids=lambda p: "/".join(map(str, p)))
def test_a_post_field_of_the_wrong_shape_costs_that_field_not_the_fetch(
    load_json: Callable[[str], Any], json_answers: Any, path: tuple[str | int, ...]
) -> None:
    # One post whose author was a string (or facets a number, ...) failed every fetch.
    record = load_json("bluesky/indigo_automod_capture_atprotocom.json")["postRecords"][3]
    good = _view(record["value"], record["uri"])
    for value in WRONG_SHAPES:
        bad = _view(json.loads(json.dumps(record["value"])), record["uri"] + "-bad")
        _set(bad, path, value)
        http = json_answers({"createSession": {"accessJwt": "a", "refreshJwt": "r"},
                             "searchPosts": {"posts": [bad, good]},
                             "getProfiles": {"profiles": []}})
        result = BlueskySource().fetch(http, BlueskyConfig(
            query="acme", handle="brand.bsky.social", app_password="pw"), {})
        assert [m.external_id for m in result.mentions] == [bad["uri"], good["uri"]]
        mention = result.mentions[0]
        assert all(link.startswith("https://") for link in mention.links)
        assert isinstance(mention.text, str) and "{" not in mention.text
        assert mention.author.name is None or isinstance(mention.author.name, str)
        assert mention.author.handle in {"@atproto.com", "@did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                                         "@unknown", "@x"}
        assert mention.extra.get("cid", "x") in {"bafy", "x"}
        assert mention.language_hint in {"en", None}


SEARCH_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _search_after_a_first_poll(
    httpserver: HTTPServer, http: HttpClient, **values: Any
) -> tuple[BlueskySearch, BlueskyConfig, dict[str, Any]]:
    """Bluesky's search, served with one post at SEARCH_START; a config (``values``) and
    the cursor of a first poll, which read it."""
    search = BlueskySearch().serve(httpserver)
    search.post(SEARCH_START)
    cfg = config(httpserver, **values)
    return search, cfg, BlueskySource().fetch(http, cfg, {}).cursor


def test_a_poll_stopping_with_pages_left_reads_them_on_the_next_polls(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # 23 posts came between two polls and a poll reads 2 pages of 5: since moved to the
    # newest post read, and the 13 older ones were never fetched.
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http, limit=5, max_pages=2)
    source = BlueskySource()
    assert set(cursor) == {"since", "seen"}  # as the code before backlogs stored it
    arrived = search.post(SEARCH_START + timedelta(minutes=5), 23)

    fetched, cursor = poll_until_quiet(source, http, cfg, cursor)
    assert sorted(fetched) == sorted(arrived) and len(fetched) == 23
    assert cursor["since"] == (SEARCH_START + timedelta(minutes=5, milliseconds=22)).isoformat()
    assert "until" not in cursor
    backlog = search.requests[3]  # the third poll: the span below the oldest read
    assert backlog["since"] == "2026-03-02T08:45:00Z"  # since, less LOOKBACK
    assert backlog["until"] == "2026-03-02T09:05:00.014000Z"

    later = search.post(SEARCH_START + timedelta(minutes=20), 2)
    assert sorted(poll_until_quiet(source, http, cfg, cursor)[0]) == later


def test_a_post_indexed_late_is_read_on_the_next_poll(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # Search filters since on sortAt, a post's createdAt when it was indexed later: one
    # indexed after a newer post was read sorted before since, and no poll found it.
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http)
    source = BlueskySource()
    newer = search.post(SEARCH_START + timedelta(minutes=5))
    cursor = source.fetch(http, cfg, cursor).cursor
    assert cursor["since"] == (SEARCH_START + timedelta(minutes=5)).isoformat()
    late = search.post(SEARCH_START + timedelta(minutes=4, seconds=57))
    newest = search.post(SEARCH_START + timedelta(minutes=6))

    third = source.fetch(http, cfg, cursor)
    assert [m.external_id for m in third.mentions] == late + newest
    assert search.requests[-1]["since"] == "2026-03-02T08:50:00Z"  # LOOKBACK before
    assert newer[0] not in [m.external_id for m in third.mentions]  # read before
    assert source.fetch(http, cfg, third.cursor).mentions == []


def test_pages_left_below_since_do_not_hold_a_busy_search_back(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # The look-back's posts come last (newest first): pages left with them only are no
    # backlog, or a busy search would spend its next polls reading them again.
    search = BlueskySearch().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for _ in range(30):  # read before, all at since's millisecond
        search.post(start)
    source, cfg = BlueskySource(), config(httpserver, limit=5, max_pages=2)
    cursor = {"since": start.isoformat()}
    arrived = search.post(start + timedelta(minutes=1), 7)
    result = source.fetch(http, cfg, cursor)
    assert set(arrived) <= {m.external_id for m in result.mentions}
    assert "until" not in result.cursor
    assert result.cursor["since"] == (start + timedelta(minutes=1, milliseconds=6)).isoformat()


def test_the_read_stops_at_the_first_page_that_reaches_posts_read_before(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # Each poll searches from LOOKBACK before since: on a busy search every poll read
    # max_pages pages, all but the first of posts read before.
    search = BlueskySearch().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for second in range(60):  # read before, in the 15 minutes up to since
        search.post(start - timedelta(seconds=10 * second))
    late = search.post(start - timedelta(seconds=5))  # indexed late, on the first page
    source, cfg = BlueskySource(), config(httpserver, limit=5, max_pages=3)
    cursor = {"since": start.isoformat()}
    arrived = search.post(start + timedelta(minutes=1), 2)
    result = source.fetch(http, cfg, cursor)
    assert len(search.requests) == 1  # the first page reached since: no more asked
    assert set(arrived + late) <= {m.external_id for m in result.mentions}
    assert result.cursor["since"] == (start + timedelta(minutes=1, milliseconds=1)).isoformat()
    assert "until" not in result.cursor


@pytest.mark.parametrize("backlog", [
    {"until": "abc"}, {"until": 5}, {"until": ["x"]},
    {"until": "2026-03-02T09:00:00+00:00"}, {"until": "2026-03-01T00:00:00+00:00"},
    {"newest": "abc"}, {"newest": "2026-03-01T00:00:00+00:00"}, {"newest": {"a": 1}},
], ids=repr)
def test_a_malformed_backlog_in_the_cursor_loses_nothing(
    backlog: dict[str, Any], httpserver: HTTPServer, http: HttpClient
) -> None:
    search = BlueskySearch().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    search.post(start)
    seen = BlueskySource().fetch(http, config(httpserver), {}).cursor["seen"]
    arrived = search.post(start + timedelta(minutes=5), 12)
    cursor = {"since": start.isoformat(), "seen": seen,
              "until": (start + timedelta(minutes=5, milliseconds=6)).isoformat(),
              "newest": (start + timedelta(minutes=5, milliseconds=11)).isoformat()}
    fetched, last = poll_until_quiet(BlueskySource(), http,
                                      config(httpserver, limit=5, max_pages=1),
                                      cursor | backlog)
    # posts the cursor says were read may come again; none of the others is left unread
    assert set(arrived[:6]) <= set(fetched)
    assert last["since"] == (start + timedelta(minutes=5, milliseconds=11)).isoformat()


def test_a_quote_posts_link_card_is_its_link(load_json: Callable[[str], Any]) -> None:
    """A quote post with a link card (``recordWithMedia`` whose ``media`` is an
    ``app.bsky.embed.external``) links the card's page: it was lost (no story by link).
    The real quote post of the shared thread, its images swapped for a card as the
    lexicon shapes one, in the record and in the view."""
    post = thread_post(load_json)
    page = "https://news.example.com/acme-recall"
    card = {"uri": page, "title": "Acme recalls kettles", "description": ""}
    record = post["record"] | {"embed": post["record"]["embed"] | {
        "media": {"$type": "app.bsky.embed.external", "external": card}}}
    view = post["embed"] | {"media": {"$type": "app.bsky.embed.external#view", "external": card}}
    for quote in (post | {"record": record}, post | {"embed": view}):
        mention = post_to_mention(quote)
        assert mention is not None
        assert mention.links == (page,)


def _facet_post(load_json: Callable[[str], Any], index: int) -> dict[str, Any]:
    record = load_json("bluesky/indigo_automod_capture_atprotocom.json")["postRecords"][index]
    return _view(json.loads(json.dumps(record["value"])), record["uri"])


def test_a_shortened_link_is_read_whole(load_json: Callable[[str], Any]) -> None:
    # The app shows a link as its host and the start of its path ("atproto.com/community/
    # pr..."): a word only in the rest of it was matched by no watch. Real post (capture
    # of atproto.com); its emoji before the links makes byte offsets differ from characters.
    mention = post_to_mention(_facet_post(load_json, 12))
    assert mention is not None
    assert "github.com/mozzius/gray..." not in mention.text
    assert ("check out the source code here: https://github.com/mozzius/graysky\n\n"
            in mention.text)
    assert mention.text.endswith("find more clients here: https://atproto.com/community/projects")
    assert parse_query("projects").matches(MatchInput(text=mention.text, network="bluesky"))
    assert mention.links == ("https://github.com/mozzius/graysky",
                             "https://atproto.com/community/projects#clients")


def test_a_link_s_tracking_parameters_are_not_its_words(
        load_json: Callable[[str], Any]) -> None:
    post = _facet_post(load_json, 3)
    link = post["record"]["facets"][0]["features"][0]
    link["uri"] = "https://atproto.com/blog/feature-bridgyfed?utm_source=acme&ref=acme#acme"
    mention = post_to_mention(post)
    assert mention is not None
    assert mention.text.endswith("here: https://atproto.com/blog/feature-bridgyfed")
    assert not parse_query("acme").matches(MatchInput(text=mention.text))
    assert mention.links[0] == link["uri"]


def test_a_link_over_words_keeps_its_words(load_json: Callable[[str], Any]) -> None:
    # A link facet over words, not over a shortened address (Bridgy Fed bridges every
    # <a href>words</a> so; some clients link words): the words were replaced by the
    # address, and a watch for the brand they name never saw the post. The real post's
    # text and facet rewritten so; "✨" makes byte offsets differ from characters.
    post = _facet_post(load_json, 3)
    text = "✨ Loving the new Acme Rocket Boots, 10/10"
    start = text.encode().index(b"Acme")
    post["record"]["text"] = text
    post["record"]["facets"] = [{
        "index": {"byteStart": start, "byteEnd": start + len(b"Acme Rocket Boots")},
        "features": [{"$type": "app.bsky.richtext.facet#link",
                      "uri": "https://shop.example/p/42"}]}]
    mention = post_to_mention(post)
    assert mention is not None
    assert mention.text == text
    assert parse_query("acme").matches(MatchInput(text=mention.text, network="bluesky"))
    assert mention.links[0] == "https://shop.example/p/42"


@pytest.mark.parametrize("index", [
    {"byteStart": 5, "byteEnd": 2}, {"byteStart": -1, "byteEnd": 4},
    {"byteStart": 0, "byteEnd": 10**6}, {"byteStart": "0", "byteEnd": 4},
    {"byteStart": 1, "byteEnd": 2},  # inside the first character (3 bytes)
])
def test_a_link_facet_with_a_bad_range_leaves_the_text(
        load_json: Callable[[str], Any], index: dict[str, Any]) -> None:
    post = _facet_post(load_json, 12)
    post["record"]["text"] = "✨ " + post["record"]["text"]
    text = post["record"]["text"]
    post["record"]["facets"] = [{"index": index, "features": [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.example/x"}]}]
    mention = post_to_mention(post)
    assert mention is not None and mention.text == text.strip()


def test_a_post_dated_in_the_future_does_not_move_since(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # A client may write any createdAt; search sorts by sortAt, the earlier of it and the
    # AppView's indexedAt (lexicon: indexedAt is required), so since stays at the
    # indexing time and the next posts are read.
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http)
    source = BlueskySource()
    future = search.post(SEARCH_START + timedelta(minutes=5),
                         created_at=SEARCH_START + timedelta(days=3))
    result = source.fetch(http, cfg, cursor)
    assert [m.external_id for m in result.mentions] == future
    assert result.cursor["since"] == (SEARCH_START + timedelta(minutes=5)).isoformat()
    cursor = result.cursor
    for minutes in (20, 40, 55):
        later = search.post(SEARCH_START + timedelta(minutes=minutes))
        result = source.fetch(http, cfg, cursor)
        assert [m.external_id for m in result.mentions] == later
        cursor = result.cursor


def test_a_page_shortened_by_a_hidden_post_is_not_the_last(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # The AppView cuts a page to limit, then drops the posts of accounts blocking the
    # searcher, with a cursor still: a page of 49 of 50 was read as the last, since moved
    # to the newest post, and the 30 older posts were never fetched.
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http)
    source = BlueskySource()
    arrived = [search.post(SEARCH_START + timedelta(seconds=45 * n))[0] for n in range(1, 81)]
    search.hidden.add(arrived[-10])
    visible = [uri for uri in arrived if uri not in search.hidden]

    fetched, cursor = poll_until_quiet(source, http, cfg, cursor)
    assert sorted(fetched) == sorted(visible)
    assert cursor["since"] == (SEARCH_START + timedelta(seconds=45 * 80)).isoformat()


def test_an_empty_page_with_a_cursor_is_not_the_last(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    """The AppView may drop every post of a page (blocked, muted, deleted: bluesky-social/
    atproto#2089) and still send a cursor: the empty page ended the read, since moved to
    the newest post, and the posts on the pages after it were never fetched."""
    search, cfg, cursor = _search_after_a_first_poll(httpserver, http, limit=5, max_pages=3)
    source = BlueskySource()
    arrived = search.post(SEARCH_START + timedelta(minutes=5), 12)
    search.hidden.update(arrived[2:7])  # the second page, newest first
    visible = [uri for uri in arrived if uri not in search.hidden]

    fetched, cursor = poll_until_quiet(source, http, cfg, cursor)
    assert sorted(fetched) == sorted(visible)
    assert cursor["since"] == (SEARCH_START + timedelta(minutes=5, milliseconds=11)).isoformat()


def _capture_post(load_json: Callable[[str], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A real post of the atproto.com capture as search gives it (its author a
    profileViewBasic: no followersCount), and that account's profileViewDetailed as
    getProfiles gives it, from the capture's account (lexicon app.bsky.actor.defs)."""
    capture = load_json("bluesky/indigo_automod_capture_atprotocom.json")
    record, meta = capture["postRecords"][1], capture["accountMeta"]
    profile = {"did": meta["Identity"]["DID"], "handle": meta["Identity"]["Handle"],
               "displayName": meta["Profile"]["DisplayName"],
               "description": meta["Profile"]["Description"],
               "followersCount": meta["FollowersCount"], "followsCount": meta["FollowsCount"],
               "postsCount": meta["PostsCount"]}
    return _view(record["value"], record["uri"]), profile


def test_an_authors_followers_come_from_their_profile(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    # Search's author view has no followersCount: every Bluesky author's reach was
    # unknown, a post by atproto.com (47,411 followers) ranked as one by a new account.
    post, profile = _capture_post(load_json)
    login_ok(httpserver)
    httpserver.expect_request(SEARCH).respond_with_json({"posts": [post, post | {
        "uri": post["uri"] + "2"}]})
    httpserver.expect_request(PROFILES, headers={"Authorization": "Bearer jwt-1"}
                              ).respond_with_json({"profiles": [profile]})
    result = BlueskySource().fetch(http, config(httpserver), {})
    assert [m.author.followers for m in result.mentions] == [47411, 47411]
    asked = [e[0].args.getlist("actors") for e in httpserver.log if e[0].path == PROFILES]
    assert asked == [["did:plc:ewvi7nxzyoun6zhxrhs64oiz"]]  # each author once


def test_authors_are_looked_up_25_a_call_and_only_for_new_posts(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    search = BlueskySearch().serve(httpserver)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    source, cfg = BlueskySource(), config(httpserver)
    cursor = source.fetch(http, cfg, {}).cursor  # nothing found: nobody looked up
    posts = search.post(start, 30)
    authors = {uri: f"did:plc:author{n:02d}" for n, uri in enumerate(posts)}
    handler = search.__call__

    def by_many(request: Request) -> Response:
        response = handler(request)
        body = json.loads(response.get_data())
        for view in body["posts"]:
            view["author"]["did"] = authors[view["uri"]]
        return Response(json.dumps(body), content_type="application/json")

    httpserver.clear_all_handlers()
    login_ok(httpserver)
    httpserver.expect_request(SEARCH).respond_with_handler(by_many)
    httpserver.expect_request(PROFILES).respond_with_handler(search.profiles)
    result = source.fetch(http, config(httpserver, limit=50), cursor | {
        "since": start.isoformat()})
    assert len(result.mentions) == 30
    assert {m.author.followers for m in result.mentions} == {3}
    asked = [e[0].args.getlist("actors") for e in httpserver.log if e[0].path == PROFILES]
    assert [len(a) for a in asked] == [25, 5]
    assert sorted(a for batch in asked for a in batch) == sorted(authors.values())
    httpserver.clear_log()
    again = source.fetch(http, config(httpserver, limit=50), result.cursor)
    assert again.mentions == []
    assert not [e for e in httpserver.log if e[0].path == PROFILES]  # all read before


@pytest.mark.parametrize("answer", [
    Response(json.dumps({"error": "InternalServerError"}), status=500,
             content_type="application/json"),
    Response(json.dumps({"error": "InvalidRequest"}), status=400,
             content_type="application/json"),
    Response("<html>bad gateway</html>", status=200, content_type="text/html"),
    Response(json.dumps({"profiles": 5}), content_type="application/json"),
    Response(json.dumps({"profiles": [{"did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                                       "followersCount": "12"}]}),
             content_type="application/json"),
], ids=["500", "400", "html", "profiles-number", "count-text"])
def test_a_failed_profile_look_up_keeps_the_posts(
    answer: Response, httpserver: HTTPServer, http: HttpClient,
    load_json: Callable[[str], Any], caplog: pytest.LogCaptureFixture,
) -> None:
    post, _ = _capture_post(load_json)
    login_ok(httpserver)
    httpserver.expect_request(SEARCH).respond_with_json({"posts": [post]})
    httpserver.expect_request(PROFILES).respond_with_response(answer)
    with caplog.at_level("WARNING", logger="bot.sources"):
        result = BlueskySource().fetch(http, config(httpserver), {})
    assert [m.external_id for m in result.mentions] == [post["uri"]]
    assert result.mentions[0].author.followers is None
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) <= 1


@pytest.mark.parametrize(("headers", "wait"), [
    ({"Retry-After": "3600"}, 3600.0),
    ({"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": "RESET",
      "RateLimit-Policy": "3000;w=300"}, 1800.0),
], ids=["retry-after", "ratelimit-reset"])
def test_a_rate_limited_profile_look_up_keeps_the_posts_and_says_to_wait(
    headers: dict[str, str], wait: float, httpserver: HTTPServer, http: HttpClient,
    load_json: Callable[[str], Any],
) -> None:
    # A 429 on getProfiles was a warning like any failure: the posts were kept, but the
    # poller, told nothing, polled again at the source's interval and met the limit again.
    post, _ = _capture_post(load_json)
    login_ok(httpserver)
    httpserver.expect_request(SEARCH).respond_with_json({"posts": [post]})
    reset = str(int(datetime.now(UTC).timestamp()) + 1800)
    httpserver.expect_request(PROFILES).respond_with_response(Response(
        json.dumps({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}),
        status=429, content_type="application/json",
        headers={k: v.replace("RESET", reset) for k, v in headers.items()}))
    result = BlueskySource().fetch(http, config(httpserver), {})
    assert [m.external_id for m in result.mentions] == [post["uri"]]
    assert result.mentions[0].author.followers is None
    assert result.rate_limited is not None
    assert result.rate_limited.retry_after == pytest.approx(wait, abs=5)
