"""A customer writing again in an answered case, on SQLite and PostgreSQL: the assignee's
DM says the customer wrote again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import notifications, workflow
from bot.services.actors import Actor
from bot.slack.render import rendered
from storage.db import transaction
from storage.models import Member, OutboxMessage
from tests.services.test_cases import NOW, ROOT, ingest, mention, tweet, x_batch

AGENT = Actor("U0AGENT01", "slash_command")
APPROVER = Actor("U0APPROVE1", "slash_command")
SENT = "Sorry Ana, a new parcel ships today with tracking."
AGAIN = tweet("1004", "11", "@AcmeCare the new parcel is not here either, tracking says "
              "returned to sender!", 50, conversation="1001", reply_to="1001",
              reply_to_user="11")


def _answered_then_again(sessions: sessionmaker[Session], workspace_id: int
                         ) -> tuple[int, int]:
    """A case answered through Vigie (drafted, approved, marked replied), then the
    customer's follow-up; (root id, follow-up id)."""
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=AGENT.user_id, role="agent"))
        session.add(Member(workspace_id=workspace_id, user_id=APPROVER.user_id,
                           role="approver"))
    ingest(sessions, workspace_id, x_batch(ROOT))
    root = mention(sessions, "1001").id
    workflow.do_assign(sessions, workspace_id, AGENT, root, AGENT.user_id or "")
    workflow.do_save_draft(sessions, workspace_id, AGENT, root, SENT)
    workflow.do_approve(sessions, workspace_id, APPROVER, root, version=1)
    workflow.do_mark_replied(sessions, workspace_id, AGENT, root)
    report = ingest(sessions, workspace_id, x_batch(AGAIN), now=NOW + timedelta(hours=1))
    assert report.follow_ups == 1 and report.reopened == 1
    return root, mention(sessions, "1004").id


def test_the_reopen_dm_says_the_customer_wrote_again(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    root, _ = _answered_then_again(sessions, workspace_id)
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == notifications.KIND_NOTIFY,
            OutboxMessage.channel == AGENT.user_id)).all()
        texts = [rendered(message).text for row in rows
                 if (message := notifications.render_notification(session, row))]
    [text] = [text for text in texts if "again" in text or "conversation" in text]
    assert f"The customer wrote again on mention #{root} assigned to you" in text
    assert "conversation" not in text

