"""Two workers posting replies never post the same reply twice, nor overwrite each other's
result: a reply is leased right before its post (its post bounded within the lease), and
a worker whose lease ran out records nothing over the worker that took the reply over.

X stand-in on loopback whose tweet endpoint holds worker A's posts until the test lets
them through; SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.replies import ReplyOutcome, flush_replies
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from bot.services.workflow import do_approve, do_save_draft
from storage.db import transaction
from storage.models import Author, Mention, Workspace
from storage.models_replies import ReplyPost
from tests.harness.constants import CHANNEL_ID
from tests.publishers.fakes import FakeX

T0 = datetime.now(UTC).replace(microsecond=0)
WORKER_A = "vigie-test-worker-a"
TEXTS = [f"Sorry! We are on it, order {n}" for n in range(3)]
TWEETS = [f"@alice {text}" for text in TEXTS]
"""The tweets X shows: it names the customer answered."""


class SlowPosts:
    """Holds each tweet worker A posts until the test releases it, then lets the X
    stand-in handle it; remembers the text of every tweet posted, by either worker."""

    def __init__(self, server: HTTPServer) -> None:
        self.arrived = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.posted_texts: list[str] = []
        # Registered before the stand-in's own routes: it sees worker A's posts first.
        server.expect_request("/2/tweets", method="POST",
                              headers={"User-Agent": WORKER_A}).respond_with_handler(self._hold)
        server.expect_request("/2/tweets", method="POST").respond_with_handler(self._handle)
        self.fake = FakeX(server)
        self._lock = threading.Lock()

    def _hold(self, request: Request) -> Response:
        self.arrived.release()
        assert self.release.acquire(timeout=30), "the test never released the post"
        return self._handle(request)

    def _handle(self, request: Request) -> Response:
        with self._lock:
            self.posted_texts.append(request.get_json()["text"])
            return self.fake._guard(self.fake._post)(request)

    def wait_arrival(self) -> None:
        """Block until worker A's next post reached the stand-in."""
        assert self.arrived.acquire(timeout=30), "worker A never posted"


@pytest.fixture
def x_server() -> Iterator[HTTPServer]:
    # Threaded: worker A's held post must not block worker B's requests.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def _approved_replies(sessions: sessionmaker[Session], fake: FakeX) -> list[int]:
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T1", allow_self_approval=True)
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    watch = do_add_watch(sessions, workspace_id, CLI, name="acme", query="",
                         channel_id=CHANNEL_ID)
    source = do_add_source(sessions, workspace_id, CLI, kind="x", watch_name="acme",
                           values={"base_url": fake.base, "query": "acme",
                                   "bearer_token": "b", "reply_token": fake.TOKEN})
    ids = []
    for number, text in enumerate(TEXTS):
        tweet = str(1920000000000000001 + number)
        fake.authors[tweet] = "alice"
        with transaction(sessions) as session:
            author = Author(workspace_id=workspace_id, network="x", handle=f"alice{number}")
            session.add(author)
            session.flush()
            mention = Mention(workspace_id=workspace_id, watch_id=watch.id,
                              source_id=source.id, author_id=author.id, network="x",
                              external_id=tweet, url=f"https://x.com/alice/status/{tweet}",
                              text="@acme my order never arrived", language="en",
                              published_at=datetime(2026, 11, 21, 8, tzinfo=UTC), priority=70)
            session.add(mention)
            session.flush()
            ids.append(mention.id)
        do_save_draft(sessions, workspace_id, CLI, mention.id, text)
        do_approve(sessions, workspace_id, CLI, mention.id)
    with transaction(sessions) as session:
        session.execute(update(ReplyPost).values(next_attempt_at=T0))
    return ids


def _client(agent: str | None = None) -> HttpClient:
    return HttpClient(user_agent=agent) if agent else HttpClient()


def _rows(sessions: sessionmaker[Session]) -> list[ReplyPost]:
    with sessions() as session:
        return list(session.scalars(select(ReplyPost).order_by(ReplyPost.id)))


def test_a_second_worker_never_posts_a_reply_the_first_is_posting(
        sessions: sessionmaker[Session], x_server: HTTPServer) -> None:
    stand_in = SlowPosts(x_server)
    _approved_replies(sessions, stand_in.fake)
    clock_a = [T0]
    outcomes_a: list[ReplyOutcome] = []
    worker_a = threading.Thread(target=lambda: outcomes_a.extend(flush_replies(
        sessions, lambda _trusted: _client(WORKER_A), clock=lambda: clock_a[0])))
    worker_a.start()
    try:
        stand_in.wait_arrival()
        # The first post was slow: A goes on to the second reply 1 min 50 s after it began.
        clock_a[0] = T0 + timedelta(minutes=1, seconds=50)
        stand_in.release.release()
        stand_in.wait_arrival()
        # Worker B's tick 2.5 minutes after A began, while A posts the second reply.
        outcomes_b = flush_replies(sessions, lambda _trusted: _client(),
                                   now=T0 + timedelta(minutes=2, seconds=30))
    finally:
        stand_in.release.release()
        stand_in.release.release()
        worker_a.join(timeout=60)
    assert not worker_a.is_alive()
    # Each draft went to X once: A posted the first two, B the third (A never claimed it).
    assert sorted(stand_in.posted_texts) == TEXTS
    assert [o.status for o in outcomes_a] == ["posted", "posted"]
    assert [o.status for o in outcomes_b] == ["posted"]
    rows = _rows(sessions)
    assert [row.status for row in rows] == ["posted"] * 3
    assert sorted(tweet["text"] for tweet in stand_in.fake.tweets) == TWEETS
    assert sorted(row.external_id for row in rows) == sorted(
        tweet["id"] for tweet in stand_in.fake.tweets)


def test_a_worker_whose_lease_ran_out_never_overwrites_the_result_recorded(
        sessions: sessionmaker[Session], x_server: HTTPServer) -> None:
    stand_in = SlowPosts(x_server)
    _approved_replies(sessions, stand_in.fake)
    outcomes_a: list[ReplyOutcome] = []
    worker_a = threading.Thread(target=lambda: outcomes_a.extend(flush_replies(
        sessions, lambda _trusted: _client(WORKER_A), now=T0, limit=1)))
    worker_a.start()
    try:
        stand_in.wait_arrival()
        # A's process stalled past its lease (a stop-the-world pause, a frozen VM): B
        # takes the reply over and posts it.
        outcomes_b = flush_replies(sessions, lambda _trusted: _client(),
                                   now=T0 + timedelta(minutes=3), limit=1)
        assert [o.status for o in outcomes_b] == ["posted"]
        recorded = _rows(sessions)[0]
    finally:
        stand_in.release.release()
        worker_a.join(timeout=60)
    assert not worker_a.is_alive()
    # A's late post reached X after B's: X refused the same text. A records nothing over
    # B's result: the reply stays posted, at B's address, and the card says "posted".
    assert stand_in.posted_texts == [TEXTS[0], TEXTS[0]]
    row = _rows(sessions)[0]
    assert (row.status, row.url, row.external_id, row.error) == (
        "posted", recorded.url, recorded.external_id, None)
    with sessions() as session:
        mention = session.get(Mention, row.mention_id)
        assert mention is not None and mention.status == "replied"
        assert mention.reply_url == recorded.url
