"""X API v2 recent search.

No real X capture exists in the shared data: the payloads below are written for this
test after the documented v2 response shape of GET /2/tweets/search/recent with
``expansions=author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id``
(``data``, ``includes.users``, ``includes.tweets``, ``meta.newest_id/next_token``;
docs.x.com/x-api/fundamentals/expansions).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.net.errors import SourceAuthError, SourceRateLimited
from bot.net.http import HttpClient
from bot.sources.x import XConfig, XSource, parse_search
from tests.sources.paging_stand_ins import XRecentSearch, poll_until_quiet, x_id

PATH = "/2/tweets/search/recent"

PAGE_1: dict[str, Any] = {
    "data": [
        {
            "id": "1780000000000000002",
            "text": "@acme your app keeps crashing &amp; support is silent &gt;:( https://t.co/abc",
            "author_id": "2244994945",
            "created_at": "2024-04-15T10:00:05.000Z",
            "lang": "en",
            "conversation_id": "1779999999999999999",
            "referenced_tweets": [{"type": "replied_to", "id": "1779999999999999999"}],
            "public_metrics": {
                "retweet_count": 2,
                "reply_count": 1,
                "like_count": 10,
                "quote_count": 0,
                "bookmark_count": 3,
                "impression_count": 900,
            },
            "entities": {
                "urls": [
                    {
                        "start": 60,
                        "end": 83,
                        "url": "https://t.co/abc",
                        "expanded_url": "https://status.acme.example/incident/42",
                        "display_url": "status.acme.example/incident/42",
                    }
                ]
            },
        },
        {
            "id": "1780000000000000001",
            "text": "J'adore le nouveau produit Acme",
            "author_id": "783214",
            "created_at": "2024-04-15T09:59:00.000Z",
            "lang": "fr",
            "conversation_id": "1780000000000000001",
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 1,
                "quote_count": 0,
            },
        },
    ],
    "includes": {
        "users": [
            {
                "id": "2244994945",
                "name": "Dev Person",
                "username": "devperson",
                "verified": False,
                "public_metrics": {
                    "followers_count": 1234,
                    "following_count": 10,
                    "tweet_count": 500,
                    "listed_count": 3,
                },
            },
            {
                "id": "783214",
                "name": "X",
                "username": "X",
                "verified": True,
                "public_metrics": {
                    "followers_count": 68000000,
                    "following_count": 0,
                    "tweet_count": 15000,
                    "listed_count": 90000,
                },
            },
        ]
    },
    "meta": {
        "newest_id": "1780000000000000002",
        "oldest_id": "1780000000000000001",
        "result_count": 2,
        "next_token": "b26v89c19zqg8o3fpzbkk",
    },
}
PAGE_2: dict[str, Any] = {
    "data": [
        {
            "id": "1780000000000000000",
            "text": "acme?",
            "author_id": "999",
            "created_at": "2024-04-15T09:58:00.000Z",
            "lang": "und",
        }
    ],
    "meta": {
        "newest_id": "1780000000000000000",
        "oldest_id": "1780000000000000000",
        "result_count": 1,
    },
}


def config(httpserver: HTTPServer, **values: Any) -> XConfig:
    """A config pointing at the local server."""
    base = {"query": "acme -is:retweet", "bearer_token": "AAAA-bearer"}
    return XConfig(base_url=httpserver.url_for("").rstrip("/"), **(base | values))


def test_search_page_maps() -> None:
    mentions, meta = parse_search(PAGE_1)
    assert meta["newest_id"] == "1780000000000000002"
    reply, french = mentions
    assert reply.external_id == "1780000000000000002"
    assert reply.url == "https://x.com/devperson/status/1780000000000000002"
    assert reply.text == "@acme your app keeps crashing & support is silent >:( https://t.co/abc"
    assert reply.author.handle == "@devperson" and reply.author.followers == 1234
    assert reply.parent_external_id == "1779999999999999999"
    assert reply.engagement == 13
    assert reply.links == ("https://status.acme.example/incident/42",)
    assert reply.published_at == datetime(2024, 4, 15, 10, 0, 5, tzinfo=UTC)
    assert french.language_hint == "fr" and french.author.verified
    assert french.author.followers == 68000000


def test_an_edited_post_names_its_earlier_ids() -> None:
    """Each edit has its own id; ``edit_history_tweet_ids`` lists them, the original first
    (a default field). The edit keeps its id and url, the earlier ids go to ``extra``."""
    post = {"id": "1780000000000000009", "text": "acme app crashes on login",
            "created_at": "2024-04-15T10:00:05.000Z", "author_id": "42",
            "edit_history_tweet_ids": ["1780000000000000001", "1780000000000000009"]}
    never = post | {"id": "1780000000000000001", "edit_history_tweet_ids": [
        "1780000000000000001"]}
    (edited, original), _ = parse_search({"data": [post, never]})
    assert edited.external_id == "1780000000000000009"
    assert edited.extra["edited_from"] == ["1780000000000000001"]
    assert "edited_from" not in original.extra


def test_unknown_author_and_undetermined_language() -> None:
    (mention,), _ = parse_search(PAGE_2)
    assert mention.author.handle == "id:999"
    assert mention.url == "https://x.com/i/web/status/1780000000000000000"
    assert mention.language_hint is None


def test_fetch_with_since_id_and_pages(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request(
        PATH,
        headers={"Authorization": "Bearer AAAA-bearer"},
        query_string={
            "query": "acme -is:retweet",
            "max_results": "100",
            "expansions": "author_id,in_reply_to_user_id,referenced_tweets.id,"
            "referenced_tweets.id.author_id",
            "user.fields": "public_metrics,verified,username,name",
            "tweet.fields": "created_at,lang,public_metrics,conversation_id,"
            "referenced_tweets,author_id,entities,in_reply_to_user_id",
        },
    ).respond_with_json(PAGE_1)
    source, cfg = XSource(), config(httpserver)
    first = source.fetch(http, cfg, {})  # the first fetch reads one page only
    assert [m.external_id for m in first.mentions] == ["1780000000000000001", "1780000000000000002"]
    assert first.cursor == {"since_id": "1780000000000000002"}

    httpserver.clear()
    httpserver.expect_oneshot_request(PATH).respond_with_json(
        {
            "data": PAGE_1["data"][:1],
            "includes": PAGE_1["includes"],
            "meta": {"newest_id": "1780000000000000009", "next_token": "t2"},
        }
    )
    httpserver.expect_oneshot_request(PATH).respond_with_json({"meta": {"result_count": 0}})
    second = source.fetch(http, cfg, first.cursor)
    assert len(second.mentions) == 1
    assert second.cursor == {"since_id": "1780000000000000009"}
    assert httpserver.log[-1][0].args["next_token"] == "t2"
    paged = dict(httpserver.log[-2][0].args)
    # PAGE_1's ids are from 2024, past X's 7-day window: X would refuse them as since_id.
    assert "since_id" not in paged and paged.pop("start_time")
    assert paged == {
        "query": "acme -is:retweet",
        "max_results": "100",
        "expansions": "author_id,in_reply_to_user_id,referenced_tweets.id,"
        "referenced_tweets.id.author_id",
        "user.fields": "public_metrics,verified,username,name",
        "tweet.fields": "created_at,lang,public_metrics,conversation_id,referenced_tweets,"
        "author_id,entities,in_reply_to_user_id",
    }


def test_empty_result_keeps_the_cursor(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request(PATH).respond_with_json({"meta": {"result_count": 0}})
    result = XSource().fetch(http, config(httpserver), {"since_id": "5"})
    assert result.mentions == [] and result.cursor == {"since_id": "5"}


def test_rate_limit_uses_the_reset_header(httpserver: HTTPServer, sleeps: Any) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 900
    httpserver.expect_request(PATH).respond_with_json(
        {"title": "Too Many Requests", "status": 429},
        status=429,
        headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
    )
    with HttpClient(sleep=sleeps) as http, pytest.raises(SourceRateLimited) as caught:
        XSource().fetch(http, config(httpserver), {})
    assert caught.value.retry_after is not None and 880 <= caught.value.retry_after <= 900
    assert sleeps.calls == []
    assert "AAAA-bearer" not in str(caught.value)


WRONG_SHAPES = [5, 1.5, True, "x", [], [1], {"a": 1}, None]
TWEET_FIELDS = [("id",), ("text",), ("lang",), ("author_id",), ("public_metrics",),
                ("entities",), ("entities", "urls"), ("entities", "urls", 0, "expanded_url"),
                ("referenced_tweets",), ("referenced_tweets", 0, "id"), ("conversation_id",)]
ANSWER_FIELDS = [("includes",), ("includes", "users"), ("includes", "users", 0, "name"),
                 ("includes", "users", 0, "username"), ("includes", "users", 0, "public_metrics"),
                 ("meta", "newest_id"), ("meta", "next_token")]


def _set(item: Any, path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        item = item[key]
    item[path[-1]] = value


@pytest.mark.parametrize("path", [("data", 0, *p) for p in TWEET_FIELDS] + ANSWER_FIELDS,
                         ids=lambda p: "/".join(map(str, p)))
def test_a_field_of_the_wrong_shape_costs_that_field_not_the_fetch(
    json_answers: Any, path: tuple[str | int, ...]
) -> None:
    # One post whose entities were a string (or lang a number, ...) failed every fetch.
    good_ids = ["1780000000000000001", "1780000000000000002"]
    for value in WRONG_SHAPES:
        answer = json.loads(json.dumps(PAGE_1))
        answer["data"].insert(0, json.loads(json.dumps(PAGE_1["data"][0])))
        answer["data"][0]["id"] = "1780000000000000003"
        _set(answer, path, value)
        http = json_answers({"/2/tweets/search/recent": answer})
        result = XSource().fetch(http, XConfig(query="acme", bearer_token="b"), {})
        ids = sorted(m.external_id for m in result.mentions)
        if path == ("data", 0, "id"):  # no id, no post; a number or a string is an id
            assert ids == sorted(good_ids + ([str(value)] if value in (5, "x") else []))
        else:
            assert ids == [*good_ids, "1780000000000000003"]
        assert result.cursor in ({"since_id": "1780000000000000002"}, {"since_id": "5"}, {})
        for mention in result.mentions:
            shown = [mention.external_id, mention.text, mention.author.handle,
                     mention.author.name or "", mention.parent_external_id or "",
                     *mention.links, *mention.extra.values()]
            assert not any(r in s for r in ("{'a': 1}", "[1]", "[]", "True", "1.5") for s in shown)
            assert all(link.startswith("http") for link in mention.links)


@pytest.mark.parametrize("stored", ["{'a': 1}", "abc", "1" * 30, "17800000000000000x2", True,
                                    [1], 1.5, -3], ids=repr)
def test_a_stored_since_id_that_is_not_numeric_is_dropped_once_with_a_warning(
    stored: Any, httpserver: HTTPServer, http: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    # X refuses a since_id that is not a post id: every later search of the source failed
    # (or found nothing) as long as the cursor stayed stored.
    httpserver.expect_request(PATH).respond_with_json(PAGE_1)
    source, cfg = XSource(), config(httpserver)
    with caplog.at_level("WARNING", logger="bot.sources"):
        first = source.fetch(http, cfg, {"since_id": stored})
        source.fetch(http, cfg, first.cursor)
    first_request, second_request, _ = (r for r, _ in httpserver.log)
    assert "since_id" not in first_request.args  # a first poll: one page, no since_id
    assert len(first.mentions) == 2 and first.cursor == {"since_id": "1780000000000000002"}
    # the cursor as X takes it: that 2024 id is past the 7-day window, so from its start
    assert "since_id" not in second_request.args and "start_time" in second_request.args
    (warning,) = [r for r in caplog.records if "since_id" in r.getMessage()]
    assert "dropped" in warning.getMessage()


def test_a_poll_stopping_with_pages_left_reads_them_on_the_next_polls(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # 45 posts came between two polls and a poll reads 2 pages of 10: the cursor jumped to
    # the newest post read, and the 25 older ones were never fetched.
    search = XRecentSearch().serve(httpserver)
    start = datetime.now(UTC) - timedelta(hours=3)
    cursor = {"since_id": search.post(start)[0]}  # what the old code stored: still read
    arrived = search.post(start + timedelta(minutes=5), 45)
    source, cfg = XSource(), config(httpserver, max_results=10, max_pages=2)

    fetched, cursor = poll_until_quiet(source, http, cfg, cursor)
    assert sorted(fetched) == sorted(arrived) and len(fetched) == 45
    assert cursor == {"since_id": arrived[-1]}
    backlog = search.requests[2]  # the second poll: below the oldest read, above since_id
    assert backlog["since_id"] == search.posts[0] and backlog["until_id"] == arrived[25]

    later = search.post(start + timedelta(minutes=20), 3)
    assert poll_until_quiet(source, http, cfg, cursor)[0] == later


def test_a_backlog_past_x_s_seven_days_reads_what_x_still_serves_and_ends(
    httpserver: HTTPServer, http: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    # X refuses a since_id older than 7 days: the backlog's start is read from the start
    # of the window instead, and a backlog wholly past it is closed, not asked forever.
    search = XRecentSearch().serve(httpserver)
    now = datetime.now(UTC)
    gone = x_id(now - timedelta(days=8))
    kept = search.post(now - timedelta(days=6), 4)
    read = search.post(now - timedelta(hours=1))[0]
    source, cfg = XSource(), config(httpserver, max_results=10)
    cursor = {"since_id": gone, "until_id": read, "newest_id": read}
    with caplog.at_level("WARNING", logger="bot.sources"):
        result = source.fetch(http, cfg, cursor)
    assert sorted(m.external_id for m in result.mentions) == kept
    assert result.cursor == {"since_id": read}
    assert "since_id" not in search.requests[0] and "start_time" in search.requests[0]
    assert any("lost" in r.getMessage() for r in caplog.records)

    past = {"since_id": gone, "until_id": x_id(now - timedelta(days=7, minutes=1)),
            "newest_id": read}
    closed = source.fetch(http, cfg, past)
    assert closed.mentions == [] and closed.cursor == {"since_id": read}
    assert len(search.requests) == 1  # nothing asked that X would refuse


def test_a_cursor_older_than_x_s_seven_days_is_read_from_the_window_not_refused(
    httpserver: HTTPServer, http: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    # A source paused for a week (or whose query found nothing for one) kept a since_id X
    # refuses with a 400: every poll failed from then on, until someone deleted the source.
    search = XRecentSearch().serve(httpserver)
    now = datetime.now(UTC)
    stale = {"since_id": x_id(now - timedelta(days=9))}
    source, cfg = XSource(), config(httpserver, max_results=10)
    with caplog.at_level("WARNING", logger="bot.sources"):
        quiet = source.fetch(http, cfg, stale)  # nothing new in the window yet
    assert quiet.mentions == [] and quiet.cursor == stale
    arrived = search.post(now - timedelta(days=2), 3)
    found = source.fetch(http, cfg, quiet.cursor)
    assert sorted(m.external_id for m in found.mentions) == arrived
    assert found.cursor == {"since_id": arrived[-1]}
    assert all("since_id" not in r and "start_time" in r for r in search.requests[:2])
    assert any("lost" in r.getMessage() for r in caplog.records)
    assert source.fetch(http, cfg, found.cursor).mentions == []
    assert search.requests[-1]["since_id"] == arrived[-1]  # back to since_id once it moved


@pytest.mark.parametrize("backlog", [
    {"until_id": "{'a': 1}"}, {"until_id": True}, {"until_id": "1" * 30},
    {"until_id": "SINCE"}, {"until_id": "BELOW"},  # not above since_id
    {"newest_id": "abc"}, {"newest_id": "BELOW"}, {"newest_id": [1]},
], ids=repr)
def test_a_malformed_backlog_in_the_cursor_loses_nothing(
    backlog: dict[str, Any], httpserver: HTTPServer, http: HttpClient,
    caplog: pytest.LogCaptureFixture
) -> None:
    search = XRecentSearch().serve(httpserver)
    start = datetime.now(UTC) - timedelta(hours=3)
    since = search.post(start)[0]
    arrived = search.post(start + timedelta(minutes=5), 25)
    below = x_id(start - timedelta(minutes=1))
    cursor = {"since_id": since, "until_id": arrived[10], "newest_id": arrived[-1]}
    cursor |= {k: {"SINCE": since, "BELOW": below}.get(v, v) if isinstance(v, str) else v
               for k, v in backlog.items()}
    source, cfg = XSource(), config(httpserver, max_results=10, max_pages=1)
    with caplog.at_level("WARNING", logger="bot.sources"):
        fetched, last = poll_until_quiet(source, http, cfg, cursor)
    # what the cursor says was read (ids from arrived[10] up) may be read again; the rest
    # never goes unread
    assert set(arrived[:10]) <= set(fetched)
    assert last == {"since_id": arrived[-1]}


def test_pages_announced_but_never_sent_end_the_backlog(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # A next_token with no older post: asking again from the same place would loop.
    now = datetime.now(UTC)
    since, until = x_id(now - timedelta(hours=2)), x_id(now - timedelta(hours=1))
    httpserver.expect_request(PATH).respond_with_json(
        {"meta": {"result_count": 0, "next_token": "again"}})
    result = XSource().fetch(http, config(httpserver, max_pages=2),
                             {"since_id": since, "until_id": until, "newest_id": until})
    assert result.cursor == {"since_id": until}


# A brand's notice and what X's search returns around it (retweets are not excluded by
# default): the retweets' text is "RT @author: " and the original's words, cut at 140
# characters with an ellipsis; their ``retweeted`` reference names the original, which
# ``expansions=referenced_tweets.id`` puts in ``includes.tweets`` (and
# ``referenced_tweets.id.author_id`` its author in ``includes.users``); a quote is a post
# of its own, with a ``quoted`` reference.
NOTICE_AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
NOTICE_ID = x_id(NOTICE_AT)
QUOTE_ID = x_id(NOTICE_AT + timedelta(minutes=9))
NOTICE = {
    "id": NOTICE_ID, "author_id": "1", "lang": "en", "conversation_id": NOTICE_ID,
    "created_at": "2026-11-20T14:00:00.000Z",
    "text": "Acme Roadster recall: please stop riding your Roadster now &amp; contact us. "
            "Full refund, details and pick-up booking at https://t.co/rc11",
    "entities": {"urls": [{"start": 121, "end": 144, "url": "https://t.co/rc11",
                           "expanded_url": "https://acme.example/recall",
                           "display_url": "acme.example/recall"}]},
    "public_metrics": {"retweet_count": 2, "reply_count": 4, "like_count": 30,
                       "quote_count": 1, "bookmark_count": 2, "impression_count": 9000},
}
RT_TEXT = ("RT @acmecare: Acme Roadster recall: please stop riding your Roadster now &amp; "
           "contact us. Full refund, details and pick-up booking at…")


def retweet(author_id: str, minute: int, tweet_id: str | None = None) -> dict[str, Any]:
    """A retweet of NOTICE as v2 returns it, ``minute`` minutes after it."""
    tweet_id = tweet_id or x_id(NOTICE_AT + timedelta(minutes=minute))
    return {
        "id": tweet_id, "author_id": author_id, "lang": "en", "conversation_id": tweet_id,
        "created_at": f"2026-11-20T14:{minute:02d}:00.000Z", "text": RT_TEXT,
        "referenced_tweets": [{"type": "retweeted", "id": NOTICE_ID}],
        "public_metrics": {"retweet_count": 2, "reply_count": 0, "like_count": 0,
                           "quote_count": 0, "bookmark_count": 0, "impression_count": 3},
    }


QUOTE = {
    "id": QUOTE_ID, "author_id": "102", "lang": "en", "conversation_id": QUOTE_ID,
    "created_at": "2026-11-20T14:09:00.000Z",
    "text": "Third recall this year @acmecare, I want my money back https://t.co/q1",
    "referenced_tweets": [{"type": "quoted", "id": NOTICE_ID}],
    "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 3,
                       "quote_count": 0},
}
RETWEETS = {
    "data": [QUOTE, retweet("101", 7), retweet("100", 5)],
    "includes": {
        "users": [
            {"id": "100", "username": "fan0", "name": "Fan 0",
             "public_metrics": {"followers_count": 150}},
            {"id": "101", "username": "fan1", "name": "Fan 1",
             "public_metrics": {"followers_count": 80}},
            {"id": "102", "username": "critic", "name": "Critic",
             "public_metrics": {"followers_count": 900}},
            {"id": "1", "username": "acmecare", "name": "Acme Care", "verified": True,
             "public_metrics": {"followers_count": 90000}},
        ],
        "tweets": [NOTICE],
    },
    "meta": {"newest_id": QUOTE_ID, "oldest_id": x_id(NOTICE_AT + timedelta(minutes=5)),
             "result_count": 3},
}


def test_a_retweet_is_the_post_it_retweets_by_its_author() -> None:
    # A retweet was a post of the retweeter's, "RT @acmecare: ..." in their name: the
    # brand's recall notice retweeted by customers became their complaint.
    quote, *retweets = parse_search(RETWEETS)[0]
    for found, by in zip(retweets, ("@fan1", "@fan0"), strict=True):
        assert found.external_id == NOTICE_ID
        assert found.url == f"https://x.com/acmecare/status/{NOTICE_ID}"
        assert found.author.handle == "@acmecare" and found.author.followers == 90000
        assert found.text.startswith("Acme Roadster recall: please stop riding your Roadster "
                                     "now & contact us.")
        assert found.text.endswith("https://t.co/rc11")  # its whole text, not the cut one
        assert found.published_at == NOTICE_AT
        assert found.engagement == 37  # the original's counts
        assert found.links == ("https://acme.example/recall",)
        assert found.parent_external_id is None
        assert found.extra["retweeted_by"] == by
        assert found.extra["conversation_id"] == NOTICE_ID
    # a quote is the quoter's own words
    assert quote.external_id == QUOTE_ID and quote.author.handle == "@critic"
    assert "retweeted_by" not in quote.extra


def test_a_retweet_whose_original_is_not_included_is_named_by_its_reference() -> None:
    # A page without includes.tweets (nor the original's author): the reference gives the
    # original's id (and, a snowflake, its time), the text's "RT @handle: " its author.
    answer = json.loads(json.dumps(RETWEETS))
    del answer["includes"]["tweets"]
    answer["includes"]["users"] = answer["includes"]["users"][:3]
    quote, latest, first = parse_search(answer)[0]
    for found in (latest, first):
        assert found.external_id == NOTICE_ID and found.author.handle == "@acmecare"
        assert found.url == f"https://x.com/acmecare/status/{NOTICE_ID}"
        assert found.text == ("Acme Roadster recall: please stop riding your Roadster now & "
                              "contact us. Full refund, details and pick-up booking at…")
        assert found.published_at == NOTICE_AT
        assert found.engagement == 0  # the retweet's counts are not the original's
    assert (latest.extra["retweeted_by"], first.extra["retweeted_by"]) == ("@fan1", "@fan0")
    # the original's author known from the page's users all the same (name, followers)
    answer["includes"]["users"] = RETWEETS["includes"]["users"]
    assert parse_search(answer)[0][1].author.followers == 90000
    # and a page holding the original itself uses it
    answer["data"].append(NOTICE)
    assert parse_search(answer)[0][1].engagement == 37
    assert quote.author.handle == "@critic"


def test_a_page_of_retweets_of_an_old_post_pages_by_the_retweets_ids(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # The retweets stand for a post older than X's 7-day window: the backlog's until_id
    # is the oldest retweet read (what X pages by), not the original's id, which X refuses.
    now = datetime.now(UTC)
    since = x_id(now - timedelta(hours=2))
    old = x_id(now - timedelta(days=30))
    ids = [x_id(now - timedelta(minutes=m)) for m in (10, 20)]
    page = {"data": [retweet("100", 0, i) | {"referenced_tweets": [
                {"type": "retweeted", "id": old}]} for i in ids],
            "includes": {"users": RETWEETS["includes"]["users"],
                         "tweets": [NOTICE | {"id": old}]},
            "meta": {"newest_id": ids[0], "oldest_id": ids[1], "result_count": 2,
                     "next_token": "t2"}}
    httpserver.expect_request(PATH).respond_with_json(page)
    result = XSource().fetch(http, config(httpserver, max_pages=1), {"since_id": since})
    assert [m.external_id for m in result.mentions] == [old, old]
    assert result.cursor == {"since_id": since, "until_id": ids[1], "newest_id": ids[0]}
    assert httpserver.log[0][0].args["expansions"] == (
        "author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id")


RETWEET_FIELDS = [("includes", "tweets"), ("includes", "tweets", 0),
                  *(("includes", "tweets", 0, f) for f in ("id", "text", "author_id",
                                                           "created_at", "public_metrics")),
                  ("data", 1, "text"), ("data", 1, "author_id"), ("data", 1, "referenced_tweets"),
                  ("data", 1, "referenced_tweets", 0), ("data", 1, "referenced_tweets", 0, "id"),
                  ("data", 1, "referenced_tweets", 0, "type")]


@pytest.mark.parametrize("path", RETWEET_FIELDS, ids=lambda p: "/".join(map(str, p)))
def test_a_retweet_field_of_the_wrong_shape_costs_that_field_not_the_page(
    path: tuple[str | int, ...]
) -> None:
    for value in WRONG_SHAPES:
        answer = json.loads(json.dumps(RETWEETS))
        _set(answer, path, value)
        mentions, _ = parse_search(answer)
        assert mentions[0].external_id == QUOTE_ID and len(mentions) >= 2
        for mention in mentions:
            shown = [mention.external_id, mention.text, mention.author.handle, mention.url,
                     *mention.links, *map(str, mention.extra.values())]
            assert not any(r in s for r in ("{'a': 1}", "[1]", "True", "1.5") for s in shown)
            assert mention.external_id.isdigit()


@pytest.mark.parametrize("reference", ["²", "١٢٣", "9" * 20, "-5"])
def test_a_retweet_of_no_post_id_without_its_original_is_left_out(reference: str) -> None:
    answer = json.loads(json.dumps(RETWEETS))
    del answer["includes"]["tweets"]
    answer["data"][1]["referenced_tweets"][0]["id"] = reference
    assert [m.extra.get("retweeted_by") for m in parse_search(answer)[0]] == [None, "@fan0"]


PLAN_REFUSALS = {
    # X's answer to an app whose plan lacks the endpoint (reported in socioboard#440).
    "453": {"errors": [{"message": "You currently have access to a subset of X API V2 "
                        "endpoints and limited v1.1 endpoints (e.g. media post, oauth) only. "
                        "If you need access to this endpoint, you may need a different "
                        "access level.", "code": 453}]},
    "client-not-enrolled": {
        "client_id": "123", "title": "Client Forbidden", "reason": "client-not-enrolled",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use "
                  "keys and tokens from a Twitter developer App that is attached to a Project.",
        "required_enrollment": "Appropriate Level of API Access",
        "type": "https://api.twitter.com/2/problems/client-forbidden"},
}


@pytest.mark.parametrize("code", sorted(PLAN_REFUSALS))
def test_a_plan_without_recent_search_is_named_as_such(
        httpserver: HTTPServer, http: HttpClient, code: str) -> None:
    """A 403 because the app's X plan lacks recent search is not a wrong token: X's words,
    then what to change."""
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        PLAN_REFUSALS[code], status=403)
    with pytest.raises(SourceAuthError) as caught:
        XSource().fetch(http, config(httpserver), {})
    (refused, refused_params), (plan, _) = caught.value.reasons
    assert refused == "http_refused" and plan == "x_plan_no_search"
    assert str(refused_params["detail"]).startswith((": You currently have access", ": When"))
    assert str(caught.value).endswith("the app needs an X API plan that does")


def test_a_refused_token_is_not_called_a_plan(httpserver: HTTPServer, http: HttpClient) -> None:
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        {"title": "Unauthorized", "type": "about:blank", "status": 401,
         "detail": "Unauthorized"}, status=401)
    with pytest.raises(SourceAuthError) as caught:
        XSource().fetch(http, config(httpserver), {})
    assert [key for key, _ in caught.value.reasons] == ["http_refused"]
