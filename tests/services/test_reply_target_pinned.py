"""An approved reply answers the post it was approved for: the customer's newest post in
its case at approval, kept on the queued row. A post the customer adds later (while the
reply waits for a rate limit, or for a worker) never moves it. X stand-in on loopback,
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.net.http import HttpClient, HttpLimits
from bot.services.replies import flush_replies
from storage.db import transaction
from storage.models import Mention
from storage.models_cases import Case, CasePost
from storage.models_replies import ReplyPost
from tests.publishers.fakes import FakeX
from tests.services.test_reply_error_language import TWEET, _refused_reply

LATER = "1920000000000000777"


def test_a_post_added_to_the_case_after_approval_does_not_move_the_reply(
    sessions: sessionmaker[Session], httpserver: HTTPServer
) -> None:
    fake = FakeX(httpserver)
    mention_id = _refused_reply(sessions, fake, "en")  # approved, not posted yet
    with sessions() as session:
        row = session.scalars(select(ReplyPost)).one()
        assert (row.target_external_id, row.target_language) == (TWEET, "en")
    with transaction(sessions) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        case = Case(
            workspace_id=mention.workspace_id,
            network="x",
            thread_key=TWEET,
            customer="alice",
            root_mention_id=mention_id,
        )
        session.add(case)
        session.flush()
        session.add(
            CasePost(
                workspace_id=mention.workspace_id,
                case_id=case.id,
                network="x",
                external_id=LATER,
                author="alice",
                by_brand=False,
                text="@acme unrelated: love the new logo!",
                url=f"https://x.com/alice/status/{LATER}",
                published_at=datetime(2026, 11, 21, 9, 20, tzinfo=UTC),
            )
        )

    def client(_trusted: bool) -> HttpClient:
        return HttpClient(limits=HttpLimits(read_timeout=5, total_timeout=10))

    (outcome,) = flush_replies(sessions, client, now=datetime.now(UTC) + timedelta(hours=1))
    assert outcome.status == "posted"
    (tweet,) = fake.tweets
    assert tweet["referenced_tweets"] == [{"type": "replied_to", "id": TWEET}]
