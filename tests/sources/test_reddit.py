"""Reddit: OAuth app-only token, search/comments listings from the shared captures, RSS mode."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.net.errors import SourceAuthError, SourceError
from bot.net.http import HttpClient
from bot.sources.reddit import RedditConfig, RedditSource, parse_listing
from tests.sources.paging_stand_ins import RedditSearch, poll_until_quiet

TOKEN_PATH = "/api/v1/access_token"
BASIC = "Basic " + base64.b64encode(b"client-id:client-secret").decode()


def config(httpserver: HTTPServer, **values: Any) -> RedditConfig:
    """An API-mode config pointing every base URL at the local server."""
    base = httpserver.url_for("").rstrip("/")
    defaults = {
        "query": "praw oauth search",
        "client_id": "client-id",
        "client_secret": "client-secret",
        "auth_url": base + TOKEN_PATH,
        "api_base": base,
        "rss_base": base,
    }
    return RedditConfig(**(defaults | values))


def token_ok(httpserver: HTTPServer, token: str = "tok-1") -> None:  # noqa: S107
    httpserver.expect_request(
        TOKEN_PATH,
        method="POST",
        headers={"Authorization": BASIC},
        data="grant_type=client_credentials",
    ).respond_with_json({"access_token": token, "token_type": "bearer", "expires_in": 86400})


def test_search_listing_2020_maps(load_json: Callable[[str], Any]) -> None:
    mentions = parse_listing(
        load_json("reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json")
    )
    assert len(mentions) == 31
    first = mentions[0]
    assert first.external_id == "t3_6ganxe"
    assert first.url == (
        "https://www.reddit.com/r/learnpython/comments/6ganxe/"
        "how_to_check_if_a_username_is_available_on_reddit/"
    )
    assert first.author.handle == "u/cheesycow5"
    assert first.author.url == "https://www.reddit.com/user/cheesycow5"
    assert first.title == "How to check if a username is available on Reddit?"
    assert first.text.startswith("I need to check the availability of a username on Reddit.")
    assert first.published_at == datetime.fromtimestamp(1497036556, UTC)
    assert first.engagement == 3 + 24
    assert first.links == ()  # a self post
    assert first.extra == {"subreddit": "learnpython", "kind": "t3"}


def test_search_listing_2016_strips_tracking_from_permalinks(
    load_json: Callable[[str], Any],
) -> None:
    mentions = parse_listing(load_json("reddit/praw_r_all_search_q_praw_oauth_search_2016.json"))
    assert len(mentions) == 6
    assert mentions[0].url == (
        "https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/"
    )
    assert all("?" not in m.url for m in mentions)


def test_comments_listing_maps(load_json: Callable[[str], Any]) -> None:
    mentions = parse_listing(load_json("reddit/asyncpraw_r_askreddit_comments_2020.json"))
    assert len(mentions) == 100
    first = mentions[0]
    assert first.external_id == "t1_fxl1p7i"
    assert first.parent_external_id == "t1_fxj90f6"
    # The thread's title is the comment's context, not its title (read as its words).
    assert first.title is None
    assert first.extra["context"] == "Dear non Germans: What do you think of Germany?"
    assert first.url.endswith(
        "/r/AskReddit/comments/hoocpo/dear_non_germans_what_do_you_think_of_germany/fxl1p7i/"
    )
    assert first.text.startswith("The Germans are a very resilient group.")
    assert all(m.extra["kind"] == "t1" for m in mentions)
    # The submission a comment is in roots its conversation (bot.services.cases).
    assert first.extra["thread_root"] == "t3_hoocpo"


def test_submission_with_nested_comments_is_flattened(load_json: Callable[[str], Any]) -> None:
    payload = load_json("reddit/asyncpraw_submission_2gmzqe_with_comments_2020.json")
    mentions = parse_listing(payload)
    assert mentions[0].external_id == "t3_2gmzqe"
    assert mentions[0].title == "[PRAW] HTTPS enabled PRAW testing needed"
    comments = mentions[1:]
    assert [m.external_id for m in comments][:1] == ["t1_cklfmye"]
    assert comments[0].parent_external_id == "t3_2gmzqe"
    assert len(comments) >= 2  # nested replies included
    assert any(c.parent_external_id and c.parent_external_id.startswith("t1_") for c in comments)


def test_search_fetch_with_app_token_and_cursor(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    token_ok(httpserver)
    httpserver.expect_request(
        "/search",
        headers={"Authorization": "Bearer tok-1"},
        query_string={
            "limit": "100",
            "raw_json": "1",
            "q": "praw oauth search",
            "sort": "new",
            "type": "link",
        },
    ).respond_with_json(load_json("reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json"))
    source, cfg = RedditSource(), config(httpserver)
    first = source.fetch(http, cfg, {})
    assert len(first.mentions) == 31
    assert [m.published_at for m in first.mentions] == sorted(
        m.published_at for m in first.mentions
    )
    second = source.fetch(http, cfg, first.cursor)
    assert second.mentions == []
    assert len([e for e in httpserver.log if e[0].path == TOKEN_PATH]) == 1  # token reused


def test_a_post_the_search_finds_late_is_new_and_flagged_late(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    # Search indexing lags: a post older than the newest one seen by far more than the
    # grace showed up later. It was dropped unseen (never stored, never fetched again).
    token_ok(httpserver)
    full = load_json("reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json")
    children = full["data"]["children"]
    oldest = min(children, key=lambda c: c["data"]["created_utc"])
    partial = {**full, "data": {**full["data"],
                                "children": [c for c in children if c is not oldest]}}
    httpserver.expect_oneshot_request("/search").respond_with_json(partial)
    httpserver.expect_request("/search").respond_with_json(full)
    source, cfg = RedditSource(), config(httpserver)
    first = source.fetch(http, cfg, {})
    assert len(first.mentions) == 30 and not any(m.late for m in first.mentions)
    second = source.fetch(http, cfg, first.cursor)
    assert [(m.external_id.rsplit("_", 1)[-1], m.late) for m in second.mentions] == [
        (oldest["data"]["id"], True)]
    assert source.fetch(http, cfg, second.cursor).mentions == []


def test_subreddit_comments_mode(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    token_ok(httpserver)
    httpserver.expect_request("/r/AskReddit/comments").respond_with_json(
        load_json("reddit/asyncpraw_r_askreddit_comments_2020.json")
    )
    cfg = config(httpserver, mode="comments", subreddit="r/AskReddit", query=None)
    assert len(RedditSource().fetch(http, cfg, {}).mentions) == 100


def test_revoked_cached_token_is_renewed_once(
    httpserver: HTTPServer, http: HttpClient, load_json: Callable[[str], Any]
) -> None:
    token_ok(httpserver, "tok-1")
    httpserver.expect_request(
        "/search", headers={"Authorization": "Bearer tok-1"}
    ).respond_with_json({"kind": "Listing", "data": {"children": []}})
    source, cfg = RedditSource(), config(httpserver)
    source.fetch(http, cfg, {})
    httpserver.clear()
    httpserver.expect_request(
        "/search", headers={"Authorization": "Bearer tok-1"}
    ).respond_with_json({"message": "Unauthorized", "error": 401}, status=401)
    token_ok(httpserver, "tok-2")
    httpserver.expect_request(
        "/search", headers={"Authorization": "Bearer tok-2"}
    ).respond_with_json(load_json("reddit/praw_r_all_search_q_praw_oauth_search_2016.json"))
    assert len(source.fetch(http, cfg, {}).mentions) == 6


@pytest.mark.parametrize(("reason", "said"), [
    ("private", "r/acme is private: Reddit does not show it to this app"),
    ("gated", "r/acme is gated: Reddit does not show it to this app"),
    ("quarantined", "r/acme is quarantined: Reddit does not show it to this app"),
])
def test_a_closed_subreddit_is_named_and_keeps_the_token(
    httpserver: HTTPServer, http: HttpClient, reason: str, said: str
) -> None:
    """Reddit's 403 for a subreddit it does not show the app is no credentials problem:
    the token (shared by every source of that app) is kept, poll after poll."""
    token_ok(httpserver, "tok-1")
    httpserver.expect_request("/r/acme/comments").respond_with_json(
        {"reason": reason, "message": "Forbidden", "error": 403}, status=403)
    cfg = config(httpserver, mode="comments", subreddit="acme", query=None)
    for _ in range(3):
        with pytest.raises(SourceError) as caught:
            RedditSource().fetch(http, cfg, {})
        assert not isinstance(caught.value, SourceAuthError)
        assert str(caught.value) == said
        assert caught.value.reasons == ((f"reddit_{reason}", {"subreddit": "r/acme"}),)
    assert sum(request.path == TOKEN_PATH for request, _ in httpserver.log) == 1


def test_a_plain_403_is_not_renewed_either(httpserver: HTTPServer, http: HttpClient) -> None:
    token_ok(httpserver, "tok-1")
    httpserver.expect_request("/search").respond_with_json(
        {"message": "Forbidden", "error": 403}, status=403)
    for _ in range(2):
        with pytest.raises(SourceAuthError, match=r"HTTP 403"):
            RedditSource().fetch(http, config(httpserver), {})
    assert sum(request.path == TOKEN_PATH for request, _ in httpserver.log) == 1


def test_bad_credentials_are_an_auth_error(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {"message": "Unauthorized", "error": 401}, status=401
    )
    with pytest.raises(SourceAuthError) as caught:
        RedditSource().fetch(http, config(httpserver), {})
    assert "client-secret" not in str(caught.value)


def test_rss_mode_uses_the_feed_parser(
    httpserver: HTTPServer, http: HttpClient, shared_data: Path
) -> None:
    httpserver.expect_request(
        "/r/redditdev/search.rss", query_string={"q": "praw", "sort": "new", "restrict_sr": "on"}
    ).respond_with_data((shared_data / "feeds" / "rssparser__reddit.rss").read_bytes())
    cfg = RedditConfig(
        mode="rss", query="praw", subreddit="redditdev", rss_base=httpserver.url_for("").rstrip("/")
    )
    result = RedditSource().fetch(http, cfg, {})
    assert len(result.mentions) == 24
    assert {m.network for m in result.mentions} == {"reddit"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mode": "search"}, "search mode needs a query"),
        (
            {"mode": "comments", "client_id": "a", "client_secret": "b"},
            "comments mode needs a subreddit",
        ),
        ({"mode": "search", "query": "acme"}, "API modes need client_id and client_secret"),
        ({"mode": "rss", "query": "acme", "subreddit": "no spaces"}, "2 to 21 letters"),
    ],
)
def test_config_rules(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedditConfig(**values)


WRONG_SHAPES = [5, 1.5, True, "x", [], [1], {"a": 1}, None]
SEARCH_2020 = "reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json"
COMMENTS_2020 = "reddit/asyncpraw_r_askreddit_comments_2020.json"
HOSTILE_FIELDS = [
    *((SEARCH_2020, field) for field in (
        "kind", "name", "title", "selftext", "selftext_html", "permalink", "author",
        "subreddit", "url")),
    *((COMMENTS_2020, field) for field in (
        "kind", "body", "body_html", "link_title", "author", "parent_id", "replies")),
]


@pytest.mark.parametrize(("name", "field"), HOSTILE_FIELDS,
                         ids=lambda v: "comment" if v == COMMENTS_2020 else
                         "post" if v == SEARCH_2020 else v)
def test_a_thing_field_of_the_wrong_shape_costs_that_field_not_the_fetch(
    load_json: Callable[[str], Any], name: str, field: str
) -> None:
    # One comment whose body was a number (or author an object, ...) failed every fetch.
    good = load_json(name)["data"]["children"][0]
    for value in WRONG_SHAPES:
        bad = load_json(name)["data"]["children"][0]
        bad["data"]["name"] += "bad"
        bad["data"]["id"] += "bad"
        (bad if field == "kind" else bad["data"])[field] = value
        mentions = parse_listing({"kind": "Listing", "data": {"children": [bad, good]}})
        ids = [m.external_id for m in mentions]
        # no kind or permalink, no mention; no name, the kind and id make one
        expected = {"kind": [], "permalink": [],
                    "name": [f"{good['kind']}_{bad['data']['id']}"]}.get(
            field, [bad["data"]["name"]])
        if value == "x" and field in {"kind", "name"}:
            expected = {"kind": [], "name": ["x"]}[field]
        assert ids == [*expected, good["data"]["name"]]
        if not expected:
            continue
        mention = mentions[0]
        assert isinstance(mention.text, str) and isinstance(mention.url, str)
        assert mention.title is None or isinstance(mention.title, str)
        assert mention.author.handle in {f"u/{good['data']['author']}", "u/[deleted]", "u/x"}
        assert mention.extra["subreddit"] in {good["data"]["subreddit"], "x", None}


NOT_A_LISTING = [
    {"message": "Forbidden", "error": 403},  # Reddit's error object
    {"kind": "t3", "data": {"id": "abc"}},
    {"kind": "Listing"},
    {"kind": "Listing", "data": {"after": None}},  # a Listing without data.children
    {"kind": "Listing", "data": {"children": {"a": 1}}},
    {"kind": "Listing", "data": []},
    [],
    [1],
    [{"kind": "Listing", "data": {"children": []}}, {"error": 500}],
    "Listing",
]


@pytest.mark.parametrize("payload", NOT_A_LISTING, ids=repr)
def test_an_answer_that_is_not_a_listing_is_a_source_error(
    httpserver: HTTPServer, http: HttpClient, payload: Any
) -> None:
    # It read as an empty listing: the poll "succeeded" with nothing new, for as long as
    # Reddit kept answering that way, and no one was told.
    token_ok(httpserver)
    httpserver.expect_request("/search").respond_with_json(payload)
    with pytest.raises(SourceError, match="Reddit sent an unexpected answer"):
        RedditSource().fetch(http, config(httpserver), {"seen": ["x"]})


def test_an_empty_listing_is_no_news(httpserver: HTTPServer, http: HttpClient) -> None:
    token_ok(httpserver)
    httpserver.expect_request("/search").respond_with_json(
        {"kind": "Listing", "data": {"after": None, "dist": 0, "children": [], "before": None}})
    assert RedditSource().fetch(http, config(httpserver), {}).mentions == []


@pytest.mark.parametrize("permalink", [
    "x", "r/redditdev/comments/3gpbiu/", "https://evil.example/r/redditdev/comments/3gpbiu/",
    "http", "?ref=search_posts",
])
def test_a_permalink_that_is_not_a_site_path_costs_that_item(
    load_json: Callable[[str], Any], permalink: str
) -> None:
    # "x" made the item's link https://www.reddit.comx, and an absolute address was taken
    # as it came, though Reddit's permalinks are paths on the site.
    payload = load_json(SEARCH_2020)
    good, bad = payload["data"]["children"][:2]
    bad["data"]["permalink"] = permalink
    mentions = parse_listing({"kind": "Listing", "data": {"children": [bad, good]}})
    assert [m.external_id for m in mentions] == [good["data"]["name"]]
    assert mentions[0].url == "https://www.reddit.com" + good["data"]["permalink"]


def test_more_new_posts_than_a_page_are_read_on_the_next_polls(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # 23 posts came between two polls and a page holds 10: each poll read the newest
    # page only, and the 13 older new posts were never fetched.
    token_ok(httpserver)
    search = RedditSearch().serve(httpserver)
    search.post(1_700_000_000, 3)
    source, cfg = RedditSource(), config(httpserver, limit=10)
    cursor = source.fetch(http, cfg, {}).cursor  # as the code before backlogs stored it
    assert set(cursor) == {"seen", "newest"}
    arrived = [name for t in range(1_700_000_600, 1_700_000_623) for name in search.post(t)]

    fetched, cursor = poll_until_quiet(source, http, cfg, cursor)
    assert sorted(fetched) == sorted(arrived)
    assert "after" not in cursor and "floor" not in cursor
    assert search.requests[2]["after"] == arrived[13]

    later = search.post(1_700_001_000, 2)
    assert sorted(poll_until_quiet(source, http, cfg, cursor)[0]) == sorted(later)


@pytest.mark.parametrize("backlog", [
    {"after": 5}, {"after": "not a fullname"}, {"after": ["t3_x"]}, {"floor": "abc"},
    {"floor": None},
], ids=repr)
def test_a_malformed_backlog_in_the_cursor_loses_nothing(
    backlog: dict[str, Any], httpserver: HTTPServer, http: HttpClient
) -> None:
    token_ok(httpserver)
    search = RedditSearch().serve(httpserver)
    search.post(1_700_000_000)
    source, cfg = RedditSource(), config(httpserver, limit=10)
    cursor = source.fetch(http, cfg, {}).cursor
    arrived = [name for t in range(1_700_000_600, 1_700_000_615) for name in search.post(t)]
    cursor |= {"after": arrived[10], "floor": cursor["newest"]} | backlog
    fetched, last = poll_until_quiet(source, http, cfg, cursor)
    assert set(arrived) <= set(fetched)
    assert "after" not in last


def test_a_backlog_of_a_long_burst_is_not_flagged_late(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # Posts of the last 12 hours read over several polls, newest first: the older ones
    # are older than the newest read by more than the grace, yet none was found late.
    token_ok(httpserver)
    search = RedditSearch().serve(httpserver)
    search.post(1_700_000_000)
    source, cfg = RedditSource(), config(httpserver, limit=10)
    cursor = source.fetch(http, cfg, {}).cursor
    arrived = [n for t in range(1_700_003_600, 1_700_046_800, 1_800) for n in search.post(t)]
    late: list[bool] = []
    for _ in range(5):
        result = source.fetch(http, cfg, cursor)
        cursor = result.cursor
        late += [m.late for m in result.mentions]
    assert len(late) == len(arrived) and not any(late)


# The shape of reddit.com's search feed today (Atom; each entry's <author> is "/u/name" at
# its profile), as a QA review fetched it for the query "acme": a post by the brand.
SEARCH_ATOM = (
    '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    '<id>/search.rss?q=acme&amp;sort=new</id><title>reddit.com: search results - acme</title>'
    "<entry><author><name>/u/acme_support</name>"
    "<uri>https://www.reddit.com/user/acme_support</uri></author>"
    '<category term="acme" label="r/acme"/><content type="html">&lt;div class="md"&gt;&lt;p&gt;'
    "Acme update: the outage is fixed, sorry everyone.&lt;/p&gt;&lt;/div&gt;</content>"
    "<id>t3_zz1abc</id>"
    '<link href="https://www.reddit.com/r/acme/comments/zz1abc/acme_update/" />'
    "<updated>2026-12-07T06:50:00+00:00</updated>"
    "<published>2026-12-07T06:50:00+00:00</published>"
    "<title>Acme update: outage fixed</title></entry></feed>"
)


def test_rss_and_api_modes_name_a_poster_alike(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    """A search feed's entry is by ``u/name`` at their profile, as the API names them: the
    feed's byline ("/u/name@reddit.com") made one person two authors, and never the
    brand's account ``u/name``."""
    httpserver.expect_request("/search.rss").respond_with_data(
        SEARCH_ATOM, content_type="application/atom+xml")
    rss = RedditSource().fetch(http, config(httpserver, mode="rss", query="acme"), {})
    api = parse_listing({"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {
        "id": "zz1abc", "name": "t3_zz1abc", "author": "acme_support", "is_self": True,
        "created_utc": 1796539800, "title": "Acme update: outage fixed",
        "permalink": "/r/acme/comments/zz1abc/acme_update/", "selftext": "Fixed."}}]}})
    assert [m.author for m in rss.mentions] == [m.author for m in api]
    assert rss.mentions[0].author.handle == "u/acme_support"
    assert rss.mentions[0].author.url == "https://www.reddit.com/user/acme_support"
    assert rss.mentions[0].external_id == api[0].external_id


def test_an_rss_2_entry_is_by_its_submitter(
    httpserver: HTTPServer, http: HttpClient, shared_data: Path
) -> None:
    """Reddit's older RSS 2.0 feeds name the poster only in "submitted by NAME to ..."."""
    httpserver.expect_request("/search.rss").respond_with_data(
        (shared_data / "feeds" / "rssparser__reddit.rss").read_bytes())
    result = RedditSource().fetch(http, config(httpserver, mode="rss", query="x"), {})
    water = next(m for m in result.mentions
                 if m.title == "The water is too deep, so he improvises")
    assert water.author.handle == "u/cakebeerandmorebeer"
    assert water.author.url == "https://www.reddit.com/user/cakebeerandmorebeer"
    assert all(m.author.handle.startswith("u/") and "@" not in m.author.handle
               for m in result.mentions)


def test_the_links_of_self_posts_and_comments_are_read(load_json: Callable[[str], Any]) -> None:
    # Their links were dropped: no story by a link shared, no link priority. Links to
    # Reddit's own pages (a subreddit's rules, the site) are navigation, not a shared page.
    posts = {m.external_id: m for m in parse_listing(
        load_json("reddit/asyncpraw_r_all_search_q_praw_oauth_search_2020.json"))}
    assert posts["t3_b6b9uf"].links == (
        "https://github.com/reddit-archive/reddit/wiki/oauth2-quick-start-example",)
    assert posts["t3_6ganxe"].links == ()
    comments = {m.external_id: m for m in parse_listing(
        load_json("reddit/asyncpraw_r_askreddit_comments_2020.json"))}
    assert comments["t1_fxl1ncv"].links == ("https://www.youtube.com/watch?v=MReV9dkAVhY",)
    assert comments["t1_fxl1nzv"].links == (
        "https://www.who.int/emergencies/diseases/novel-coronavirus-2019",)
    assert comments["t1_fxl1ny8"].links == ()
