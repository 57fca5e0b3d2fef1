"""A runtime that closes while its background sender posts: the post under way ends, no
other starts, and nothing reaches a network once ``close()`` has returned."""

from __future__ import annotations

import threading
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from bot.runtime import CoalescingRunner
from bot.services import workflow
from bot.services.actors import Actor
from storage.db import transaction
from storage.models import Author, Mention
from storage.models_replies import ReplyPost
from tests.e2e.conftest import VigieApp, eventually
from tests.e2e.test_posting import mastodon_setup
from tests.e2e.test_workflow import grant
from tests.harness.constants import OTHER_USER_ID, TEAM_ID
from tests.publishers.fakes import FakeMastodon

APPROVER = OTHER_USER_ID


def _second_mention(vigie: VigieApp, fake: FakeMastodon, first_id: int) -> int:
    """Another customer's mention on the same source, as ingest stores it."""
    post = fake.add_status(text="@brand same here, nothing arrived")
    with transaction(vigie.runtime.sessions) as session:
        first = session.get(Mention, first_id)
        assert first is not None
        author = Author(workspace_id=first.workspace_id, network="mastodon", handle="bruno")
        session.add(author)
        session.flush()
        mention = Mention(workspace_id=first.workspace_id, watch_id=first.watch_id,
                          source_id=first.source_id, author_id=author.id, network="mastodon",
                          external_id=post["uri"], url=post["url"], text="same here",
                          language="en", published_at=first.published_at, priority=70)
        session.add(mention)
        session.flush()
        return mention.id


def _approved_without_nudge(vigie: VigieApp, mention_id: int) -> None:
    drafted = vigie.slack.command_answer(f"draft {mention_id} Sorry, we're on it")
    assert "saved" in drafted["text"], drafted
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    workflow.do_approve(vigie.runtime.sessions, workspace.id,
                        Actor(APPROVER, "slash_command"), mention_id, version=1)


def _replies(vigie: VigieApp) -> list[tuple[int, str, int]]:
    with vigie.runtime.sessions() as session:
        return [(row.mention_id, row.status, row.attempts) for row in
                session.scalars(select(ReplyPost).order_by(ReplyPost.id))]


def test_closing_while_a_reply_is_posted_waits_for_it_and_posts_no_other(
    vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path
) -> None:
    # Seen in the e2e suite under load: a sender left running by a closed runtime posted
    # a reply to the (shared) Mastodon stand-in of the next test.
    vigie = vigie_sqlite
    fake, first = mastodon_setup(vigie, httpserver, shared_data)
    second = _second_mention(vigie, fake, first)
    grant(vigie, APPROVER, "approver")
    for mention_id in (first, second):
        _approved_without_nudge(vigie, mention_id)
    entered, release = threading.Event(), threading.Event()

    def held(request: Request) -> Response:
        entered.set()
        release.wait(30)
        return fake._post(request)

    httpserver.expect_oneshot_request("/api/v1/statuses", method="POST").respond_with_handler(
        held)
    vigie.runtime.nudge_replies()
    assert entered.wait(30), "the first reply was never posted"
    closer = threading.Thread(target=vigie.runtime.close, name="test-closer")
    closer.start()
    eventually(lambda: vigie.runtime.closed)
    release.set()  # the post under way answers only once close() has begun
    closer.join(60)
    assert not closer.is_alive()
    requests_at_close = len(httpserver.log)
    # A sender still running now (the old close() did not wait) would post the second reply.
    for thread in threading.enumerate():
        if thread.name == "vigie-replies-nudge":
            thread.join(30)
    assert len(httpserver.log) == requests_at_close
    assert len(fake.created) == 1
    # The first reply is recorded; the second is given back, due, its attempt not spent.
    assert _replies(vigie) == [(first, "posted", 1), (second, "pending", 0)]


def test_a_stopped_runner_starts_nothing_more() -> None:
    runs: list[int] = []
    runner = CoalescingRunner(lambda: runs.append(1), "test-stopped")
    runner()
    eventually(lambda: runs == [1])
    assert runner.stop(5)
    runner()
    threading.Event().wait(0.2)
    assert runs == [1]
