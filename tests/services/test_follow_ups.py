"""A customer writing again in an answered case, on SQLite and PostgreSQL: the draft
editor answers the follow-up (not the first post, not with the reply already sent), the
reply goes to the follow-up, the follow-up is worked through its case's card (not as a
"new" mention of its own), and the assignee's DM says the customer wrote again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import notifications, workflow
from bot.services.actors import Actor
from bot.services.drafting import draft_context
from bot.services.home import home_summary
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.replies import reply_target
from bot.services.reporting.digest_sections import _top_priority
from bot.services.reporting.queries import Scope
from bot.services.watch_links import do_record_card
from bot.slack.modals import build_draft_modal
from bot.slack.render import rendered
from storage.db import transaction
from storage.models import Draft, DraftOrigin, Member, Mention, OutboxMessage
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


def test_the_editor_answers_the_follow_up_not_the_first_post(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    root, _ = _answered_then_again(sessions, workspace_id)
    context = draft_context(sessions, workspace_id, root, actor=AGENT)
    assert context.mention_id == root
    assert "returned to sender" in context.mention_text and context.follow_up
    # The reply sent is history: the editor does not offer it again as "the draft", and
    # its origin is not a human's (the handler then asks the LLM for a new suggestion).
    assert context.text != SENT and context.origin != DraftOrigin.HUMAN
    blocks = str(build_draft_modal(context, "en")["blocks"])
    assert "returned to sender" in blocks and "never arrived" not in blocks
    assert "wrote again" in blocks
    assert "a écrit de nouveau" in str(build_draft_modal(context, "fr")["blocks"])
    # A draft written since the reopen is the current one again.
    workflow.do_save_draft(sessions, workspace_id, AGENT, root, "So sorry, refund today.")
    again = draft_context(sessions, workspace_id, root, actor=AGENT)
    assert again.text == "So sorry, refund today." and again.origin == DraftOrigin.HUMAN


def test_the_reply_goes_to_the_follow_up(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    root, _ = _answered_then_again(sessions, workspace_id)
    with sessions() as session:
        target = reply_target(session, session.get(Mention, root))
    assert target.external_id == "1004" and (target.url or "").endswith("/1004")


def test_a_lone_mention_is_answered_itself(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    with sessions() as session:
        row = session.scalar(select(Mention).where(Mention.external_id == "1001"))
        assert row is not None and reply_target(session, row).external_id == "1001"
    context = draft_context(sessions, workspace_id, row.id)
    assert not context.follow_up and "never arrived" in context.mention_text


def test_the_follow_up_is_worked_through_its_case(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    root, follow_up = _answered_then_again(sessions, workspace_id)
    with transaction(sessions) as session:  # its card went out, as the outbox records it
        row = session.get_one(Mention, root)
        assert row.watch is not None
        do_record_card(session, row, row.watch.channel_id, "1700000000.000100")
    # Not open work of its own: not listed as new, not in the Home or the digest's top.
    listed = search_mentions(sessions, workspace_id, MentionFilter(status="new"),
                             now=NOW + timedelta(hours=2))
    assert [row.id for row in listed] == [root]
    home = home_summary(sessions, workspace_id, AGENT.user_id or "", NOW + timedelta(hours=2))
    assert home.counts.get("new") == 1
    with sessions() as session:
        top = _top_priority(session, Scope(workspace_id), NOW - timedelta(days=1),
                            NOW + timedelta(days=1))
        assert [line.id for line in top] == [root]
        assert session.get(Mention, follow_up).status == "follow_up"  # type: ignore[union-attr]
    # Its id acts on its case's mention, and says so.
    outcome = workflow.do_assign(sessions, workspace_id, AGENT, follow_up,
                                 APPROVER.user_id or "")
    assert outcome.mention_id == root
    assert f"#{follow_up}" in outcome.message("en") and f"#{root}" in outcome.message("en")
    assert draft_context(sessions, workspace_id, follow_up, actor=AGENT).mention_id == root
    saved = workflow.do_save_draft(sessions, workspace_id, AGENT, follow_up, "On it, Ana.")
    assert saved.mention_id == root
    with sessions() as session:
        drafts = session.scalars(select(Draft.mention_id)).all()
        assert set(drafts) == {root}


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



def test_a_draft_marked_replied_by_mistake_is_current_again_once_the_mark_is_undone(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    # The reopen took the hand-made mark back, but the editor still took the draft for an
    # answer already given and opened on the template: the team's text was out of sight.
    del watch_name
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=AGENT.user_id, role="agent"))
    ingest(sessions, workspace_id, x_batch(ROOT))
    root = mention(sessions, "1001").id
    workflow.do_save_draft(sessions, workspace_id, AGENT, root, "My careful draft text")
    workflow.do_mark_replied(sessions, workspace_id, AGENT, root)  # by mistake
    reopened = workflow.do_simple(sessions, workspace_id, AGENT, root, "reopen")
    assert reopened.message_key == "workflow.done_reopen_undone"
    context = draft_context(sessions, workspace_id, root, actor=AGENT)
    assert context.text == "My careful draft text"
    # Marked replied again and left: that draft is the answer given, the next starts afresh.
    workflow.do_mark_replied(sessions, workspace_id, AGENT, root)
    with transaction(sessions) as session:
        assert workflow.current_draft(session, root) is None


def test_a_follow_up_whose_first_mention_was_purged_is_worked_on_its_own(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    from bot.services.privacy import purge_older_than

    root, follow_up = _answered_then_again(sessions, workspace_id)
    later = NOW + timedelta(days=30, minutes=30)
    # Retention (30 days) deletes the first mention (found at NOW), not the follow-up.
    purge_older_than(sessions, 30, later)
    with sessions() as session:
        assert session.get(Mention, root) is None
        assert session.get(Mention, follow_up).status == "new"
    rows = search_mentions(sessions, workspace_id, MentionFilter(status="new"), limit=50,
                           now=later)
    assert [row.id for row in rows] == [follow_up]
    out = workflow.do_assign(sessions, workspace_id, AGENT, follow_up, AGENT.user_id or "")
    assert out.mention_id == follow_up
    with sessions() as session:
        assert session.get(Mention, follow_up).status == "assigned"


def test_a_follow_up_left_without_its_case_is_treated_as_new(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    from storage.models_cases import Case

    _root, follow_up = _answered_then_again(sessions, workspace_id)
    with transaction(sessions) as session:  # its case went some other way
        session.execute(delete(Case))
    out = workflow.do_assign(sessions, workspace_id, AGENT, follow_up, AGENT.user_id or "")
    assert out.mention_id == follow_up
    with sessions() as session:
        assert session.get(Mention, follow_up).status == "assigned"
