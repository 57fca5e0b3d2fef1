"""One poison item never freezes a source (issue 19, item 6).

A NUL in an author name (PostgreSQL text refuses it), a follower count of 2**31 (past
INTEGER) or an engagement count past it used to fail the whole batch: the cursor never
moved and the webhook answered 500. Each case is sent for real: by a Mastodon instance
stand-in on loopback that the poller fetches, and by a signed push to the webhook
endpoint, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.polling import run_poll_tick
from bot.services.sources_admin import do_add_source, list_sources
from storage.models import Author, Mention, SourceRow
from tests.e2e.conftest import VigieApp, start_vigie
from tests.e2e.test_listening import admin
from tests.harness.slack_standin import SlackStandIn
from tests.harness.webhooks import webhook_from_answer, webhook_headers

INT_MAX = 2**31 - 1


def _status(number: int, *, name: str = "Ann", followers: int = 10, favourites: int = 1,
            text: str = "acme works") -> dict[str, Any]:
    return {
        "id": str(100 + number), "uri": f"https://toot.example/s/{number}",
        "url": f"https://toot.example/@ann/{number}",
        "created_at": f"2026-11-20T10:{number:02d}:00Z", "content": f"<p>{text} {number}</p>",
        "favourites_count": favourites, "reblogs_count": 0, "replies_count": 0,
        "account": {"acct": f"user{number}@toot.example", "username": f"user{number}",
                    "display_name": name, "followers_count": followers,
                    "url": f"https://toot.example/@user{number}"},
    }


POISON = [
    _status(1),
    _status(2, name="Eve\x00 the poisoner", text="nul\x00 in the text"),
    _status(3, followers=2**31),
    _status(4, favourites=2**40),
    _status(5, followers=2**70),
    _status(6),
]


def test_poison_items_in_a_fetch_do_not_freeze_the_source(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/api/v1/timelines/tag/acme").respond_with_json(POISON)
    do_add_source(sessions, workspace_id, CLI, kind="mastodon", watch_name=watch_name,
                  values={"base_url": httpserver.url_for("/").rstrip("/"), "query": "acme"})
    report = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
    assert report.failures == 0, [o.error for o in report.outcomes]
    assert report.totals.stored == len(POISON)
    with sessions() as session:
        row = session.scalars(select(SourceRow)).one()
        assert row.cursor["min_id"] == "106", "the cursor moved past the poison items"
        assert row.consecutive_failures == 0
        authors = {a.handle: a for a in session.scalars(select(Author))}
        eve = authors["@user2@toot.example"]
        assert eve.name == "Eve the poisoner"
        assert authors["@user3@toot.example"].followers == INT_MAX
        assert authors["@user5@toot.example"].followers == INT_MAX
        texts = {m.external_id: m for m in session.scalars(select(Mention))}
        assert "\x00" not in texts["https://toot.example/s/2"].text
        assert texts["https://toot.example/s/4"].engagement == INT_MAX
    (view,) = list_sources(sessions, workspace_id)
    assert view.last_success_at is not None and view.consecutive_failures == 0


@pytest.fixture
def vigie(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie's web app on SQLite and on PostgreSQL."""
    yield from start_vigie(db_url, slack_standin)


def test_poison_items_pushed_to_the_webhook_are_stored_clean(vigie: VigieApp) -> None:
    admin(vigie, "watch add acme threshold:0")
    text = admin(vigie, "source add webhook acme")
    source_id, secret = webhook_from_answer(text)
    items = [
        {"id": "w-1", "url": "https://hooks.example/1", "text": "acme ok",
         "author": {"handle": "fine", "followers": 12}, "published_at": "2026-11-20T10:00:00Z"},
        {"id": "w-2", "url": "https://hooks.example/2", "text": "acme\x00 nul",
         "author": {"handle": "nul\x00handle", "name": "N\x00ul"},
         "published_at": "2026-11-20T10:01:00Z"},
        {"id": "w-3", "url": "https://hooks.example/3", "text": "acme big",
         "author": {"handle": "big", "followers": 2**31}, "published_at": "2026-11-20T10:02:00Z"},
        {"id": "w\x004", "url": "https://hooks.example/4", "text": "acme id",
         "author": {"handle": "idnul"}, "published_at": "2026-11-20T10:03:00Z"},
    ]
    body = json.dumps(items).encode()
    answer = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                        headers=webhook_headers(secret, body))
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == len(items)
    with vigie.runtime.sessions() as session:
        authors = {a.handle: a for a in session.scalars(select(Author))}
        assert authors["nulhandle"].name == "Nul"
        assert authors["big"].followers == INT_MAX
        ids = set(session.scalars(select(Mention.external_id)))
        assert ids == {"w-1", "w-2", "w-3", "w4"}


def test_an_item_the_database_refuses_is_dropped_alone_and_reported(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, db_url: str,
) -> None:
    """The safety net behind normalisation: an item that still reaches the database in a
    shape it refuses (here a parent id past its column, forced past the gate) is dropped
    on its own, listed in the report and the source health; the rest is stored."""
    from datetime import UTC, datetime

    from bot.services.ingest import do_ingest
    from bot.services.watches import get_watch_by_name
    from bot.sources.base import Author as FetchedAuthor
    from bot.sources.base import FetchedMention
    from storage.db import transaction

    def item(number: int) -> FetchedMention:
        return FetchedMention(network="rss", external_id=f"n-{number}",
                              url=f"https://news.example/{number}",
                              author=FetchedAuthor(handle="desk"), text=f"acme news {number}",
                              published_at=datetime(2026, 11, 20, 10, number, tzinfo=UTC))

    batch = [item(1), item(2), item(3)]
    object.__setattr__(batch[1], "parent_external_id", "p" * 600)
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, watch_name)
        report = do_ingest(session, watch, None, batch, now=datetime.now(UTC))
    with sessions() as session:
        stored = set(session.scalars(select(Mention.external_id)))
    if db_url.startswith("sqlite"):  # SQLite does not enforce VARCHAR lengths
        assert stored == {"n-1", "n-2", "n-3"} and not report.skipped
        return
    assert stored == {"n-1", "n-3"}
    assert report.received == 3 and report.stored == 2
    assert report.skipped == ["rss:n-2 (StringDataRightTruncation)"]
    assert report.skipped_note is not None and "n-2" in report.skipped_note


def test_a_poll_that_skips_items_words_its_note_for_each_reader(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, db_url: str,
    httpserver: HTTPServer,
) -> None:
    """The note on items a poll had to drop is stored with its catalogue reason: a French
    reader's `/cm source list` says it in French, an English reader's as before, and the
    stored English stays for the CLI and the logs."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite does not enforce VARCHAR lengths: it refuses no item")
    from datetime import UTC, datetime

    from bot.services.polling import SourceOutcome, _store, snapshot
    from bot.slack.admin_views import build_source_list
    from bot.sources.base import Author as FetchedAuthor
    from bot.sources.base import FetchedMention, FetchResult

    def item(number: int) -> FetchedMention:
        return FetchedMention(network="mastodon", external_id=f"n-{number}",
                              url=f"https://toot.example/{number}",
                              author=FetchedAuthor(handle="@desk@toot.example"),
                              text=f"acme news {number}",
                              published_at=datetime(2026, 11, 20, 10, number, tzinfo=UTC))

    do_add_source(sessions, workspace_id, CLI, kind="mastodon", watch_name=watch_name,
                  values={"base_url": httpserver.url_for("/").rstrip("/"), "query": "acme"})
    batch = [item(1), item(2), item(3)]
    object.__setattr__(batch[1], "parent_external_id", "p" * 600)  # past the gate
    with sessions() as session:
        claimed = snapshot(session.scalars(select(SourceRow)).one(), watch_name)
    outcome = SourceOutcome(claimed)
    _store(sessions, claimed, FetchResult(batch, {}), datetime.now(UTC), outcome)
    assert outcome.report.skipped == ["mastodon:n-2 (StringDataRightTruncation)"]

    (view,) = list_sources(sessions, workspace_id)
    english_note = ("1 item(s) could not be stored and were skipped: "
                    "mastodon:n-2 (StringDataRightTruncation)")
    assert view.last_error == english_note  # the CLI's and the logs'
    _, french = build_source_list([view], "fr")
    french_text = french[0]["text"]["text"]
    assert ("1 élément(s) n'ont pas pu être enregistrés et ont été ignorés : "
            "mastodon:n-2 (StringDataRightTruncation)") in french_text
    assert "could not be stored" not in french_text and "skipped" not in french_text
    _, english = build_source_list([view], "en")
    assert english_note in english[0]["text"]["text"]


def test_a_long_skipped_note_is_worded_for_each_reader_with_what_it_leaves_out() -> None:
    """Past the items it names, the note counts the others: in English as stored for the
    CLI, in French from the same stored reason."""
    from bot.i18n import t
    from bot.services.ingest import MAX_SKIPPED_SHOWN, IngestReport

    report = IngestReport(skipped=[f"rss:n-{n} (DataError)" for n in range(MAX_SKIPPED_SHOWN + 2)])
    assert report.skipped_reasons is not None
    ((key, params),) = report.skipped_reasons
    assert t("en", f"source_error.{key}", **params) == report.skipped_note
    french = t("fr", f"source_error.{key}", **params)
    assert french.startswith(f"{MAX_SKIPPED_SHOWN + 2} élément(s) n'ont pas pu être enregistrés")
    assert french.endswith(" et 2 autre(s)") and "rss:n-0 (DataError)" in french
    assert "more" not in french and "skipped" not in french
    assert IngestReport().skipped_reasons is None


def test_a_healthy_source_s_list_entry_words_its_skipped_note_for_each_reader() -> None:
    """`/cm source list` shows the note of a poll that stored its posts but skipped some,
    from its stored reason: French for a French reader, the English note otherwise."""
    from datetime import UTC, datetime

    from bot.services.ingest import IngestReport
    from bot.services.sources_admin import SourceView
    from bot.slack.admin_views import build_source_list

    report = IngestReport(skipped=["rss:n-2 (DataError)"])
    reasons = tuple((key, params) for key, params in report.skipped_reasons or ())
    now = datetime.now(UTC)
    view = SourceView(id=3, kind="rss", watch_name="acme", settings={}, interval_minutes=15,
                      paused=False, trusted=False, last_success_at=now,
                      last_error=report.skipped_note, last_error_at=now,
                      consecutive_failures=0, next_poll_at=now, last_error_reasons=reasons)
    french = build_source_list([view], "fr")[1][0]["text"]["text"]
    assert ("1 élément(s) n'ont pas pu être enregistrés et ont été ignorés : "
            "rss:n-2 (DataError)") in french
    assert "could not be stored" not in french and "skipped" not in french
    english = build_source_list([view], "en")[1][0]["text"]["text"]
    assert "1 item(s) could not be stored and were skipped: rss:n-2 (DataError)" in english
