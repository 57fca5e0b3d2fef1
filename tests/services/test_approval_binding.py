"""Approvals bind to the draft version the approver read, and four eyes judge the words of
that version (who wrote them), not who saved it last. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI, Actor
from bot.services.errors import Forbidden, ServiceError
from bot.services.home import home_summary
from bot.services.workflow import (
    WITHDRAWN,
    DraftOrigin,
    StaleDraft,
    do_approve,
    do_assign,
    do_save_draft,
    draft_authors,
    latest_draft,
)
from storage.db import transaction
from storage.models import Approval, Draft, Member, Mention, Watch

AGENT = Actor("U0AGENT001", "slash_command")
LEA = Actor("U0APPROVR1", "button")
MAX = Actor("U0APPROVR2", "button")
GOOD = "Sorry Ana, we are on it: https://acme.example/help"
PHISH = "Sorry Ana, please log in here to get your refund: https://acme-refunds.example/login"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def mention_id(sessions: sessionmaker[Session], workspace_id: int) -> int:
    """An assigned mention, with one agent and two approvers in the workspace."""
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123")
        session.add(watch)
        session.add_all([Member(workspace_id=workspace_id, user_id=actor.user_id,
                                role="approver") for actor in (LEA, MAX)])
    return new_mention(sessions, workspace_id, "1")


def new_mention(sessions: sessionmaker[Session], workspace_id: int, external_id: str) -> int:
    with transaction(sessions) as session:
        watch = session.scalars(select(Watch).where(Watch.workspace_id == workspace_id)).one()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, network="rss",
                          external_id=external_id, url=f"https://blog.example/{external_id}",
                          text="Where is it?",
                          published_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
                          status="assigned", assignee_user_id=AGENT.user_id)
        session.add(mention)
        session.flush()
        return mention.id


def status(sessions: sessionmaker[Session], mention_id: int) -> str:
    with sessions() as session:
        return session.get(Mention, mention_id).status  # type: ignore[union-attr]


def approvals(sessions: sessionmaker[Session]) -> list[Approval]:
    with sessions() as session:
        return list(session.scalars(select(Approval)))


def authors(sessions: sessionmaker[Session], mention_id: int) -> set[str]:
    with sessions() as session:
        draft = latest_draft(session, mention_id)
        assert draft is not None
        return draft_authors(session, draft.id)


def test_a_draft_replaced_before_the_click_is_not_approved(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD)
    # The card showed v1; one second before the click, the draft became a phishing link.
    do_save_draft(sessions, workspace_id, AGENT, mention_id, PHISH)
    with pytest.raises(StaleDraft) as stale:
        do_approve(sessions, workspace_id, LEA, mention_id, version=1, digest=sha(GOOD)[:16])
    assert stale.value.key == "workflow.stale_draft"
    assert (stale.value.draft.version, stale.value.draft.text) == (2, PHISH)
    assert "you saw v1" in stale.value.message() and "draft v2" in stale.value.message()
    assert approvals(sessions) == [] and status(sessions, mention_id) == "awaiting_approval"

    outcome = do_approve(sessions, workspace_id, LEA, mention_id, version=2,
                         digest=sha(PHISH)[:16])
    assert outcome.status == "approved"
    [approval] = approvals(sessions)
    assert (approval.draft_version, approval.text_hash) == (2, sha(PHISH))


def test_a_draft_saved_during_the_click_is_never_the_one_approved(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    outcomes: list[str] = []
    for round_ in range(12):
        target = new_mention(sessions, workspace_id, f"race-{round_}")
        do_save_draft(sessions, workspace_id, AGENT, target, GOOD)
        barrier = threading.Barrier(2)

        def click(target: int = target, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                do_approve(sessions, workspace_id, LEA, target, version=1,
                           digest=sha(GOOD)[:16])
                outcomes.append("approved")
            except ServiceError as err:
                outcomes.append(err.key)

        def replace(target: int = target, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                do_save_draft(sessions, workspace_id, AGENT, target, PHISH)
                outcomes.append("replaced")
            except ServiceError as err:
                outcomes.append(err.key)

        threads = [threading.Thread(target=click), threading.Thread(target=replace)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with sessions() as session:
            approved = session.scalars(select(Approval).where(
                Approval.mention_id == target)).all()
            versions = session.scalars(select(Draft.version).where(
                Draft.mention_id == target)).all()
        # Either the approver's v1 went through and nothing replaced it before, or nothing
        # did. A save that came after the approval (the threads did not overlap: a loaded
        # machine) is a redraft, which withdraws it: v1 is never left approved beside v2.
        if approved:
            assert [(a.draft_version, a.text_hash) for a in approved] == [(1, sha(GOOD))]
            assert versions == [1] or (
                versions == [1, 2] and [a.decision for a in approved] == [WITHDRAWN])
    assert set(outcomes) <= {"approved", "replaced", "workflow.stale_draft",
                             "workflow.conflict", "workflow.bad_state"}, outcomes


def test_a_draft_saved_after_the_approval_withdraws_it(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD)
    do_approve(sessions, workspace_id, LEA, mention_id, version=1, digest=sha(GOOD)[:16])
    do_save_draft(sessions, workspace_id, AGENT, mention_id, PHISH)
    [approval] = approvals(sessions)
    assert (approval.draft_version, approval.decision) == (1, WITHDRAWN)
    assert status(sessions, mention_id) == "awaiting_approval"


def test_the_text_hash_must_match_too(sessions: sessionmaker[Session], workspace_id: int,
                                      mention_id: int) -> None:
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD)
    for digest in (sha(PHISH)[:16], sha(GOOD)[:8], "", sha(GOOD)[:15]):
        with pytest.raises(StaleDraft):
            do_approve(sessions, workspace_id, LEA, mention_id, version=1, digest=digest)
    assert approvals(sessions) == []
    do_approve(sessions, workspace_id, LEA, mention_id, version=1, digest=sha(GOOD))
    assert status(sessions, mention_id) == "approved"


def test_a_slack_approver_must_name_a_version(sessions: sessionmaker[Session],
                                              workspace_id: int, mention_id: int) -> None:
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD)
    with pytest.raises(StaleDraft) as shown:
        do_approve(sessions, workspace_id, LEA, mention_id)
    assert shown.value.key == "workflow.confirm_draft"
    assert shown.value.draft.text_hash == sha(GOOD)
    assert approvals(sessions) == []
    # The local operator (CLI) is trusted and approves the latest draft.
    do_approve(sessions, workspace_id, CLI, mention_id)
    assert approvals(sessions)[0].draft_version == 1


def test_an_unchanged_resave_does_not_make_the_text_someone_elses(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    do_save_draft(sessions, workspace_id, LEA, mention_id, GOOD)
    # An agent re-saves the approver's own text unchanged: the agent saved it last...
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD)
    assert authors(sessions, mention_id) == {LEA.user_id}
    # ...but the words are still Lea's: she may not approve them.
    with pytest.raises(Forbidden) as refused:
        do_approve(sessions, workspace_id, LEA, mention_id, version=2, digest=sha(GOOD))
    assert refused.value.key == "workflow.four_eyes"
    assert approvals(sessions) == []
    do_approve(sessions, workspace_id, MAX, mention_id, version=2, digest=sha(GOOD))
    assert status(sessions, mention_id) == "approved"


def test_every_writer_and_editor_of_the_text_is_an_author(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    do_save_draft(sessions, workspace_id, LEA, mention_id, GOOD)
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD + " Sorry again.")
    assert authors(sessions, mention_id) == {LEA.user_id, AGENT.user_id}
    # Back to the original text: still both (their words may be in it).
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD)
    assert authors(sessions, mention_id) == {LEA.user_id, AGENT.user_id}
    with pytest.raises(Forbidden):
        do_approve(sessions, workspace_id, LEA, mention_id, version=3, digest=sha(GOOD))
    do_approve(sessions, workspace_id, MAX, mention_id, version=3, digest=sha(GOOD))


def test_who_asked_for_a_suggestion_is_its_author(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    # Lea asked the LLM for a suggestion and submitted it; an agent re-submits it as is.
    do_save_draft(sessions, workspace_id, LEA, mention_id, GOOD, origin=DraftOrigin.LLM)
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD, origin=DraftOrigin.LLM)
    assert authors(sessions, mention_id) == {LEA.user_id}
    with pytest.raises(Forbidden):
        do_approve(sessions, workspace_id, LEA, mention_id, version=2, digest=sha(GOOD))


def test_the_approvers_home_does_not_list_drafts_with_their_words(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    do_save_draft(sessions, workspace_id, LEA, mention_id, GOOD)
    do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD)
    now = datetime(2026, 11, 20, 11, tzinfo=UTC)
    assert home_summary(sessions, workspace_id, LEA.user_id or "", now).to_approve == []
    assert [i.id for i in home_summary(sessions, workspace_id, MAX.user_id or "",
                                       now).to_approve] == [mention_id]


@pytest.mark.parametrize("assignee", ["<!channel>", "", "U0AGENT001\n", "u0agent001",
                                      "<@U0AGENT001>", "C0ACME123", "U" + "A" * 40])
def test_the_assignee_must_be_a_user_id(sessions: sessionmaker[Session], workspace_id: int,
                                        mention_id: int, assignee: str) -> None:
    with pytest.raises(ServiceError) as refused:
        do_assign(sessions, workspace_id, AGENT, mention_id, assignee)
    assert refused.value.key == "workflow.bad_assignee"
    assert "<!channel>" not in refused.value.message()
    with sessions() as session:
        assert session.get(Mention, mention_id).assignee_user_id == AGENT.user_id  # type: ignore[union-attr]
    do_assign(sessions, workspace_id, AGENT, mention_id, "W0LEA1234")


def test_a_refused_assignee_is_echoed_escaped_once(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    with pytest.raises(ServiceError) as refused:
        do_assign(sessions, workspace_id, AGENT, mention_id, "<!channel> & co")
    assert "`&lt;!channel&gt; &amp; co`" in refused.value.message()  # was &amp;lt;…
    assert "`<!channel> & co`" in refused.value.message(plain=True)  # the terminal as typed
    with pytest.raises(ServiceError) as long:
        do_assign(sessions, workspace_id, AGENT, mention_id, "x" * 60)
    assert f"`{'x' * 40}`" in long.value.message()
