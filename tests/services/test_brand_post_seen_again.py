"""A brand post a source brings again (a second source, a reset cursor) is the answer it
was, not a new one, on SQLite and PostgreSQL: a case its customer reopened since stays open.

The X payloads are test_cases.py's (the documented v2 shape of GET /2/tweets/search/recent).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.watches import do_add_watch
from storage.models_cases import Case
from tests.services.test_cases import (
    BRAND_REPLY,
    FOLLOW_UP,
    NOW,
    ROOT,
    ingest,
    mention,
    x_batch,
)


def test_a_brand_reply_seen_again_does_not_answer_the_reopened_case_again(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    do_add_watch(sessions, workspace_id, CLI, name="support", query="",
                 channel_id="C0SUPPORT", alert_threshold=0)
    ingest(sessions, workspace_id, x_batch(ROOT, BRAND_REPLY))
    report = ingest(sessions, workspace_id, x_batch(FOLLOW_UP), now=NOW + timedelta(hours=1))
    assert report.reopened == 1 and mention(sessions, "1001").status == "new"
    # Another source brings the brand's reply again: it answered the post before the
    # follow-up, not the follow-up.
    again = ingest(sessions, workspace_id, x_batch(BRAND_REPLY), watch="support",
                   now=NOW + timedelta(hours=2))
    assert again.brand_posts == 1
    assert mention(sessions, "1001").status == "new"
    with sessions() as session:
        case = session.scalars(select(Case)).one()
    assert (case.state, case.follow_ups, case.reopened) == ("open", 1, 1)
