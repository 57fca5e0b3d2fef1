"""A brand reply to a customer's follow-up marks the customer's one case replied, however the
polls split the conversation, on SQLite and PostgreSQL.

The conversation: m1, a customer's post to @AcmeCare; m2, her reply to m1 (a follow-up);
m3, the brand's reply to m2. An X recent-search source, served by the local test server
(the documented v2 shape of GET /2/tweets/search/recent, as tests/services/test_cases.py),
brings it in one, two or three polls. Whatever the split, the end state is the one the
README describes: one case, rooted at m1, with m2 as its follow-up and m3 as the brand's
answer; m1 replied.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.outbox import KIND_CARD
from bot.services.polling import run_poll_tick
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from storage.models import Mention, OutboxMessage
from storage.models_cases import Case, CasePost
from tests.harness.constants import CHANNEL_ID
from tests.services.test_polling import trusted_client
from tests.sources.paging_stand_ins import X_PATH, x_id

NOW = datetime.now(UTC).replace(microsecond=0)
USERS = [
    {"id": "11", "username": "ana_r", "name": "Ana", "public_metrics": {"followers_count": 80}},
    {"id": "99", "username": "AcmeCare", "name": "Acme Support",
     "public_metrics": {"followers_count": 90000}},
]
M1 = x_id(NOW - timedelta(minutes=50))
M2 = x_id(NOW - timedelta(minutes=40))
M3 = x_id(NOW - timedelta(minutes=30))


def _tweet(tweet_id: str, author: str, text: str, minutes_ago: int,
           reply_to: tuple[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": tweet_id, "text": text, "author_id": author, "lang": "en",
        "created_at": (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conversation_id": M1,
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                           "quote_count": 0},
    }
    if reply_to:
        body["referenced_tweets"] = [{"type": "replied_to", "id": reply_to[0]}]
        body["in_reply_to_user_id"] = reply_to[1]
    return body


TWEETS = {
    "m1": _tweet(M1, "11", "@AcmeCare my order 5512 never arrived, two weeks now", 50),
    "m2": _tweet(M2, "11", "@AcmeCare still nothing, this is unacceptable", 40,
                 reply_to=(M1, "11")),
    "m3": _tweet(M3, "99", "@ana_r So sorry Ana! Please DM us your order number.", 30,
                 reply_to=(M2, "11")),
}


class Search:
    """The X stand-in: each poll answers with the posts the test put in ``batch``."""

    def __init__(self) -> None:
        self.batch: list[str] = []

    def __call__(self, _request: Request) -> Response:
        data = [TWEETS[name] for name in self.batch]
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            ids = sorted((t["id"] for t in data), key=lambda i: (len(i), i))
            meta |= {"newest_id": ids[-1], "oldest_id": ids[0]}
        return Response(json.dumps({"data": data, "includes": {"users": USERS}, "meta": meta}),
                        content_type="application/json")


# Each split, with what each of its polls reports: (stored, brand posts, follow-ups,
# alerts). One card in all: m1's, queued by the poll that stored it.
SPLITS: list[tuple[list[list[str]], list[tuple[int, int, int, int]]]] = [
    # the reviewer's case: the brand's reply in the follow-up's poll
    ([["m1"], ["m2", "m3"]], [(1, 0, 0, 1), (1, 1, 1, 0)]),
    ([["m1"], ["m3", "m2"]], [(1, 0, 0, 1), (1, 1, 1, 0)]),
    ([["m1", "m2", "m3"]], [(2, 1, 1, 1)]),
    ([["m3", "m2", "m1"]], [(2, 1, 1, 1)]),
    ([["m2", "m1", "m3"]], [(2, 1, 1, 1)]),
    ([["m1", "m2"], ["m3"]], [(2, 0, 1, 1), (0, 1, 0, 0)]),
    ([["m1"], ["m2"], ["m3"]], [(1, 0, 0, 1), (1, 0, 1, 0), (0, 1, 0, 0)]),
]


@pytest.mark.parametrize(("split", "counts"), SPLITS,
                         ids=["+".join("".join(p) for p in s) for s, _ in SPLITS])
def test_the_brand_reply_to_a_follow_up_marks_the_one_case_replied(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
        split: list[list[str]], counts: list[tuple[int, int, int, int]]) -> None:
    search = Search()
    httpserver.expect_request(X_PATH).respond_with_handler(search)
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    source = do_add_source(sessions, workspace_id, CLI, kind="x", watch_name="acme",
                           values={"base_url": httpserver.url_for("/").rstrip("/"),
                                   "query": "acme", "bearer_token": "b"}).id
    reports = []
    for number, batch in enumerate(split):
        search.batch = batch
        tick = run_poll_tick(sessions, trusted_client, force=True, only_ids=[source],
                             now=NOW + timedelta(minutes=number))
        assert tick.failures == 0, [o.error for o in tick.outcomes]
        reports.append(tick.totals)
    with sessions() as session:
        ids = dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())
        statuses = dict(session.execute(select(Mention.external_id, Mention.status))
                        .tuples().all())
        rows = [(c.root_mention_id, c.state, c.follow_ups)
                for c in session.scalars(select(Case).order_by(Case.id))]
        posts = {p.external_id: (p.case_id is not None, p.by_brand)
                 for p in session.scalars(select(CasePost))}
        cards = [m for m in session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD)) if m is not None]
    assert rows == [(ids[M1], "replied", 1)]
    assert statuses == {M1: "replied", M2: "follow_up"}
    assert posts == {M1: (True, False), M2: (True, False), M3: (True, True)}
    assert cards == [ids[M1]]
    assert [(r.stored, r.brand_posts, r.follow_ups, r.alerts) for r in reports] == counts
