"""Quiet backfill after a pause, on SQLite and PostgreSQL: a source resumed after a week
(its own pause, its watch's, or Vigie uninstalled then installed again) reads the week's
backlog a page per poll from a local Mastodon hashtag timeline, and no poll alerts on a
post published before its first poll's window; the posts of that window alert, as a new
post of a source never paused does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.installs import do_reinstalled, do_uninstalled
from bot.services.outbox import KIND_CARD
from bot.services.polling import run_poll_tick
from bot.services.sources_admin import do_add_source, do_set_source_paused, list_sources
from bot.services.watches import do_set_watch_paused
from storage.models import Mention, OutboxMessage, Workspace
from storage.models_base import as_utc
from storage.models_cases import QuietMention

PAGE = 5
"""Statuses a poll asks for (the source's ``limit``): a week's backlog takes many polls."""
WINDOW = timedelta(hours=48)
"""The default backfill window (``VIGIE_BACKFILL_HOURS``)."""
WORDS = ("battery", "refund", "courier", "warranty", "screen", "invoice", "charger",
         "update", "login", "parcel", "speaker", "firmware", "receipt", "hinge", "cable",
         "pairing", "subscription", "keyboard", "delivery", "camera", "sensor", "ticket",
         "voucher", "display", "adapter", "strap", "router", "mouse", "printer", "tablet")


def trusted_client(_trusted: bool) -> HttpClient:
    return HttpClient()


def status_id(when: datetime) -> str:
    """The id Mastodon gives a status made at ``when`` (lib/mastodon/snowflake.rb)."""
    return str(int(when.timestamp() * 1000) << 16)


def _made_at(status: str) -> datetime:
    return datetime.fromtimestamp((int(status) >> 16) / 1000, UTC)


def _text(number: int) -> str:
    # Distinct words per post: alike texts would be one story, and one card.
    picked = [WORDS[(number * 7 + k * 11) % len(WORDS)] for k in range(4)]
    return f"Acme {' '.join(picked)} complaint number {number}: {WORDS[number % 30]} again"


@dataclass
class TagTimeline:
    """GET /api/v1/timelines/tag/:hashtag as https://docs.joinmastodon.org/methods/timelines/
    documents it: newest first, ``limit`` (at most 40), and with ``min_id`` the statuses
    immediately newer than it (so a backlog comes a page per request, oldest page first).
    Statuses are the documented example status with their own id, date, text and author."""

    template: dict[str, Any]
    statuses: list[str] = field(default_factory=list)

    def post(self, *moments: datetime) -> None:
        """Publish a status at each of ``moments``."""
        self.statuses.extend(status_id(when) for when in moments)

    def __call__(self, request: Request) -> Response:
        """One page, newest first."""
        limit = min(int(request.args.get("limit", "20")), 40)
        ids = sorted(self.statuses, key=int)
        if "min_id" in request.args:
            ids = [s for s in ids if int(s) > int(request.args["min_id"])][:limit]
        else:
            ids = ids[-limit:]
        page = []
        for number, status in sorted(((self.statuses.index(s), s) for s in ids),
                                     key=lambda pair: -int(pair[1])):
            made = dict(self.template, id=status, in_reply_to_id=None, reblog=None, card=None,
                        uri=f"https://mastodon.example/users/a/statuses/{status}",
                        url=f"https://mastodon.example/@a/{status}",
                        created_at=_made_at(status).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                        content=f"<p>{_text(number)}</p>", media_attachments=[],
                        # One author each: an author's second post joins their open case.
                        account=dict(self.template["account"], id=str(number),
                                     username=f"user{number}", acct=f"user{number}",
                                     url=f"https://mastodon.example/@user{number}"))
            page.append(made)
        return Response(json.dumps(page), content_type="application/json")


def _timeline(httpserver: HTTPServer, shared_data: Path) -> TagTimeline:
    template = json.loads(
        (shared_data / "api" / "mastodon" / "docs_status_example.json").read_text())
    timeline = TagTimeline(template)
    httpserver.expect_request("/api/v1/timelines/tag/acme").respond_with_handler(timeline)
    return timeline


def _add_source(sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
                httpserver: HTTPServer) -> int:
    return do_add_source(sessions, workspace_id, CLI, kind="mastodon", watch_name=watch_name,
                         values={"base_url": httpserver.url_for("").rstrip("/"),
                                 "query": "#acme", "limit": PAGE}).id


def _poll_until_quiet(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    """Poll every five minutes from ``now`` until a poll stores nothing; what each stored."""
    stored = []
    for n in range(40):
        report = run_poll_tick(sessions, trusted_client, force=True,
                               now=now + timedelta(minutes=5 * n))
        assert report.failures == 0
        if report.totals.stored == 0:
            return stored
        stored.append(report.totals.stored)
    raise AssertionError(f"the backlog was never read to its end: {stored}")


def _carded(sessions: sessionmaker[Session]) -> list[datetime]:
    """When each post that got a card was published, oldest first."""
    with sessions() as session:
        return sorted(as_utc(when) for when in session.scalars(
            select(Mention.published_at).join(OutboxMessage,
                                              OutboxMessage.mention_id == Mention.id)
            .where(OutboxMessage.kind == KIND_CARD)))


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _before_the_pause(sessions: sessionmaker[Session], timeline: TagTimeline,
                      week_ago: datetime) -> None:
    """The source's first poll, a week ago: its three posts of that hour alert."""
    timeline.post(*(week_ago - timedelta(minutes=m) for m in (3, 2, 1)))
    report = run_poll_tick(sessions, trusted_client, force=True, now=week_ago)
    assert (report.totals.stored, report.totals.backfilled, report.totals.alerts) == (3, 0, 3)


def _during_the_pause(timeline: TagTimeline, now: datetime, old: int) -> list[datetime]:
    """``old`` posts from six to three days ago, then two of the last hour; the latter."""
    start, end = now - timedelta(days=6), now - timedelta(days=3)
    step = (end - start) / old
    timeline.post(*(start + step * n for n in range(old)))
    fresh = [now - timedelta(minutes=50), now - timedelta(minutes=20)]
    timeline.post(*fresh)
    return fresh


def _to_ms(moments: list[datetime]) -> list[datetime]:
    """``moments`` as a status's created_at gives them: to the millisecond."""
    return [m.replace(microsecond=m.microsecond // 1000 * 1000) for m in moments]


def test_a_resumed_sources_backlog_is_quiet_on_every_poll_that_reads_it(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """A week's pause was read a page per poll: the first poll was quiet, the next ones
    alerted on every post of the backlog, days old."""
    now = datetime.now(UTC) - timedelta(hours=1)  # every poll before the clock's now
    timeline = _timeline(httpserver, shared_data)
    source_id = _add_source(sessions, workspace_id, watch_name, httpserver)
    _before_the_pause(sessions, timeline, now - timedelta(days=7))
    do_set_source_paused(sessions, workspace_id, CLI, source_id, True)
    # 28 old posts: the last page holds three of them and the two fresh ones.
    fresh = _during_the_pause(timeline, now, 28)
    do_set_source_paused(sessions, workspace_id, CLI, source_id, False)

    stored = _poll_until_quiet(sessions, now)

    assert sum(stored) == 30 and len(stored) >= 2  # the backlog took several polls
    assert _count(sessions, QuietMention) == 28
    assert _carded(sessions)[3:] == _to_ms(fresh)  # after the week-old three


def test_a_resumed_watchs_sources_backfill_their_pause_quietly(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """Resuming a watch after a week alerted on every post of the week at its first poll."""
    now = datetime.now(UTC) - timedelta(hours=1)  # every poll before the clock's now
    timeline = _timeline(httpserver, shared_data)
    _add_source(sessions, workspace_id, watch_name, httpserver)
    _before_the_pause(sessions, timeline, now - timedelta(days=7))
    do_set_watch_paused(sessions, workspace_id, CLI, watch_name, True)
    fresh = _during_the_pause(timeline, now, 12)
    do_set_watch_paused(sessions, workspace_id, CLI, watch_name, False)

    _poll_until_quiet(sessions, now)

    assert _count(sessions, QuietMention) == 12
    assert _carded(sessions)[3:] == _to_ms(fresh)


def test_a_reinstalled_workspaces_sources_backfill_the_gap_quietly(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """Installed again after a week uninstalled: the first poll alerted on the week."""
    now = datetime.now(UTC) - timedelta(hours=1)  # every poll before the clock's now
    timeline = _timeline(httpserver, shared_data)
    _add_source(sessions, workspace_id, watch_name, httpserver)
    _before_the_pause(sessions, timeline, now - timedelta(days=7))
    with sessions() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        team_id = workspace.team_id
    do_uninstalled(sessions, team_id, "app_uninstalled")
    fresh = _during_the_pause(timeline, now, 12)
    assert do_reinstalled(sessions, team_id)

    _poll_until_quiet(sessions, now)

    assert _count(sessions, QuietMention) == 12
    assert _carded(sessions)[3:] == _to_ms(fresh)


def test_a_source_never_paused_alerts_on_its_new_posts(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """The backlog rule keeps the history quiet, not what comes after the first poll."""
    now = datetime.now(UTC) - timedelta(hours=1)  # every poll before the clock's now
    timeline = _timeline(httpserver, shared_data)
    _add_source(sessions, workspace_id, watch_name, httpserver)
    timeline.post(now - timedelta(days=3), now - timedelta(hours=1))
    first = run_poll_tick(sessions, trusted_client, force=True, now=now)
    assert (first.totals.stored, first.totals.backfilled, first.totals.alerts) == (2, 1, 1)
    later = [now + timedelta(minutes=m) for m in (2, 7, 12)]
    timeline.post(*later)

    assert _poll_until_quiet(sessions, now + timedelta(minutes=15)) == [3]

    assert _count(sessions, QuietMention) == 1
    assert _carded(sessions) == _to_ms([now - timedelta(hours=1), *later])


def test_a_resumed_sources_listed_backfill_counts_every_poll_of_its_backlog(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """``source list`` said the backfill stored 5 posts quietly (its first poll's page)
    when the backlog's next polls stored 23 more so."""
    now = datetime.now(UTC) - timedelta(hours=1)  # every poll before the clock's now
    timeline = _timeline(httpserver, shared_data)
    source_id = _add_source(sessions, workspace_id, watch_name, httpserver)
    _before_the_pause(sessions, timeline, now - timedelta(days=7))
    do_set_source_paused(sessions, workspace_id, CLI, source_id, True)
    _during_the_pause(timeline, now, 28)
    do_set_source_paused(sessions, workspace_id, CLI, source_id, False)

    _poll_until_quiet(sessions, now)

    [view] = list_sources(sessions, workspace_id)
    assert (view.backfilled, view.backfill_hours) == (28, 48)
    assert view.backfill_note() == ("Quiet backfill: 28 post(s) older than 48 h stored "
                                    "without alert or SLA.")


@dataclass
class Failing:
    """The timeline, or a 503 while ``down``: the instance is out of service."""

    timeline: TagTimeline
    down: bool = False

    def __call__(self, request: Request) -> Response:
        """A 503 while down, else the timeline's page."""
        return Response("down", status=503) if self.down else self.timeline(request)


def test_a_source_failing_for_days_backfills_its_outage_quietly(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """A source whose instance failed for a week alerted, once it answered again, on every
    post of that week (4 to 6 days old), as a resumed source does not."""
    now = datetime.now(UTC) - timedelta(hours=1)  # every poll before the clock's now
    template = json.loads(
        (shared_data / "api" / "mastodon" / "docs_status_example.json").read_text())
    server = Failing(TagTimeline(template))
    httpserver.expect_request("/api/v1/timelines/tag/acme").respond_with_handler(server)
    source_id = _add_source(sessions, workspace_id, watch_name, httpserver)
    _before_the_pause(sessions, server.timeline, now - timedelta(days=7))
    server.down = True
    for day in (6, 4, 2, 1):
        report = run_poll_tick(sessions, trusted_client, force=True,
                               now=now - timedelta(days=day))
        assert report.failures == 1
    fresh = _during_the_pause(server.timeline, now, 12)
    server.down = False

    _poll_until_quiet(sessions, now)

    assert _count(sessions, QuietMention) == 12
    assert _carded(sessions)[3:] == _to_ms(fresh)
    [view] = list_sources(sessions, workspace_id)
    assert (view.id, view.backfilled, view.consecutive_failures) == (source_id, 12, 0)


def test_a_source_failing_for_less_than_the_window_alerts_on_its_outage(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """An outage shorter than the backfill window hides nothing: its posts alert."""
    now = datetime.now(UTC) - timedelta(hours=1)  # every poll before the clock's now
    template = json.loads(
        (shared_data / "api" / "mastodon" / "docs_status_example.json").read_text())
    server = Failing(TagTimeline(template))
    httpserver.expect_request("/api/v1/timelines/tag/acme").respond_with_handler(server)
    _add_source(sessions, workspace_id, watch_name, httpserver)
    _before_the_pause(sessions, server.timeline, now - timedelta(hours=30))
    server.down = True
    assert run_poll_tick(sessions, trusted_client, force=True,
                         now=now - timedelta(hours=20)).failures == 1
    outage = [now - timedelta(hours=h) for h in (25, 12, 2)]
    server.timeline.post(*outage)
    server.down = False

    _poll_until_quiet(sessions, now)

    assert _count(sessions, QuietMention) == 0
    assert _carded(sessions)[3:] == _to_ms(outage)
