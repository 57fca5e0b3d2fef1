"""A story whose first post is deleted (a forget, the retention purge) keeps its work: the
next post takes over its assignee, status, drafts and SLA clock (``bot.services.stories``),
and nothing of the person forgotten (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI, Actor
from bot.services.privacy import purge_older_than
from bot.services.reporting.digest import preview_digests
from bot.services.sla import due_at
from bot.services.workflow import do_assign, do_save_draft, do_simple, latest_draft
from storage.db import transaction
from storage.models import AuditEvent, Author, Draft, Member, Mention
from storage.models_sla import SlaNotice
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_forget_cards import _channel_texts, _ids, _shares, delete_first_post
from tests.services.test_stories import NOW, SOCIAL

AGENT = Actor("U0AGENT001", "slash_command")
STATEMENT = "We are recalling the kettles: see acme.example/recall for a free replacement."


def _story(sessions: sessionmaker[Session], workspace_id: int,
           slack_standin: SlackStandIn) -> dict[str, int]:
    """The three shares' story (user1 first, received three hours before the others),
    its card posted, an agent in the workspace."""
    _shares(sessions, workspace_id, slack_standin, 0).flush()
    ids = _ids(sessions)
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=AGENT.user_id, role="agent"))
        first = session.get(Mention, ids["1"])
        assert first is not None
        first.created_at = NOW - timedelta(hours=3)
    return ids


def _due(sessions: sessionmaker[Session], mention_id: int) -> object:
    with sessions() as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        return due_at(session, mention)


@pytest.mark.parametrize("purge", [False, True], ids=["forget", "purge"])
def test_the_next_post_takes_the_storys_assignee_draft_and_sla_clock(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        purge: bool) -> None:
    ids = _story(sessions, workspace_id, slack_standin)
    do_assign(sessions, workspace_id, CLI, ids["1"], AGENT.user_id or "")
    do_save_draft(sessions, workspace_id, AGENT, ids["1"], STATEMENT)
    with transaction(sessions) as session:
        session.add(SlaNotice(mention_id=ids["1"], kind="reminder",
                              recipient=AGENT.user_id or ""))
    if purge:  # the clock the purge keeps is the one of a post 200 days old
        with transaction(sessions) as session:
            first = session.get(Mention, ids["1"])
            assert first is not None
            first.created_at = NOW - timedelta(days=200)
    due = _due(sessions, ids["1"])
    delete_first_post(sessions, workspace_id, ids, purge)
    with sessions() as session:
        second = session.get(Mention, ids["2"])
        assert second is not None
        assert (second.status, second.assignee_user_id) == ("awaiting_approval",
                                                            AGENT.user_id)
        draft = latest_draft(session, second.id)
        assert draft is not None and draft.text == STATEMENT
        # The SLA keeps counting from the story's first post: not from zero.
        assert due_at(session, second) == due
        assert session.scalars(select(SlaNotice.kind).where(
            SlaNotice.mention_id == second.id)).all() == ["reminder"]
        # Its history says why it is assigned now.
        assert session.execute(select(AuditEvent.action, AuditEvent.to_status).where(
            AuditEvent.mention_id == second.id)).tuples().all() == [
            ("mention.story_taken_over", "awaiting_approval")]
    (_, digest), = preview_digests(sessions, workspace_id, now=NOW + timedelta(hours=1))
    assert digest.open_by_status == {"awaiting_approval": 1}
    # The digest's overdue work reads the same clock (in SQL): 200 days is overdue.
    assert digest.overdue_count == (1 if purge else 0)


def test_a_draft_quoting_the_forgotten_person_does_not_move(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    ids = _story(sessions, workspace_id, slack_standin)
    do_assign(sessions, workspace_id, CLI, ids["1"], AGENT.user_id or "")
    quoting = "@user1 thanks, yes: Acme recalls its kettles after fires. Replacement soon."
    do_save_draft(sessions, workspace_id, AGENT, ids["1"], quoting)
    delete_first_post(sessions, workspace_id, ids, purge=False)
    with sessions() as session:
        second = session.get(Mention, ids["2"])
        assert second is not None
        # Still theirs to answer, afresh: nothing of what was written to user1 is kept.
        assert (second.status, second.assignee_user_id) == ("assigned", AGENT.user_id)
        assert session.scalars(select(Draft.text)).all() == []


def _draft_after_takeover(sessions: sessionmaker[Session], workspace_id: int,
                          slack_standin: SlackStandIn, draft: str
                          ) -> tuple[str, list[str]]:
    """The status of the story's next post and its drafts, once the story's first post
    (by "Hélène Dupont", handle user1) goes with ``draft`` written to it."""
    ids = _story(sessions, workspace_id, slack_standin)
    with transaction(sessions) as session:
        first = session.get(Mention, ids["1"])
        assert first is not None
        author = session.get(Author, first.author_id)
        assert author is not None
        author.name = "Hélène Dupont"
    do_assign(sessions, workspace_id, CLI, ids["1"], AGENT.user_id or "")
    do_save_draft(sessions, workspace_id, AGENT, ids["1"], draft)
    delete_first_post(sessions, workspace_id, ids, purge=False)
    with sessions() as session:
        second = session.get(Mention, ids["2"])
        assert second is not None
        return second.status, list(session.scalars(
            select(Draft.text).where(Draft.mention_id == second.id)))


@pytest.mark.parametrize("draft", [
    "Hélène, sorry about your kettle: we will call you today.",
    "Helene, sorry about your kettle: we will call you today.",
    "Dear Ms DUPONT, we will call you today.",
    'You wrote "Acme recalls its kettles after fires": yes, replacement soon.',
    "Yes: ACME recalls its kettles after fires... Replacement soon.",
], ids=["first-name", "first-name-unaccented", "last-name", "quote-punctuated",
        "quote-case"])
def test_a_draft_naming_or_quoting_the_forgotten_person_in_part_does_not_move(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        draft: str) -> None:
    # A word of their name, or their words with other punctuation or case, is theirs.
    assert _draft_after_takeover(sessions, workspace_id, slack_standin, draft) == (
        "assigned", [])


def test_a_draft_that_neither_names_nor_quotes_the_forgotten_person_moves(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    draft = "Sorry about your kettle: we will call you today about a replacement."
    assert _draft_after_takeover(sessions, workspace_id, slack_standin, draft) == (
        "awaiting_approval", [draft])


@pytest.mark.parametrize("purge", [False, True], ids=["forget", "purge"])
def test_an_ignored_story_stays_ignored_when_its_first_post_goes(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        purge: bool) -> None:
    ids = _story(sessions, workspace_id, slack_standin)
    do_simple(sessions, workspace_id, CLI, ids["1"], "ignore")
    delete_first_post(sessions, workspace_id, ids, purge)
    with sessions() as session:
        second = session.get(Mention, ids["2"])
        assert second is not None and second.status == "ignored"
    # Not back in open work: the team decided on this story already.
    (_, digest), = preview_digests(sessions, workspace_id, now=NOW + timedelta(hours=1))
    assert digest.open_by_status == {}


def test_a_purge_of_a_storys_later_posts_renders_its_card_again(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    sender = _shares(sessions, workspace_id, slack_standin, 0)
    sender.flush()
    (card,) = _channel_texts(slack_standin, SOCIAL)
    assert "story: 3 posts, 600 reach" in card and "|user3 (x.com)>" in card
    ids = _ids(sessions)
    with transaction(sessions) as session:
        third = session.get(Mention, ids["3"])
        assert third is not None
        third.created_at = NOW - timedelta(days=200)
    assert purge_older_than(sessions, 90, NOW).mentions == 1
    sender.flush()
    # The card counts and names what is stored: the purged post is gone from it.
    (card,) = _channel_texts(slack_standin, SOCIAL)
    assert "story: 2 posts, 300 reach" in card and "user3" not in card


def test_the_sla_notices_of_the_story_join_those_the_next_post_had(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    ids = _story(sessions, workspace_id, slack_standin)
    with transaction(sessions) as session:
        session.add_all([SlaNotice(mention_id=ids["1"], kind=kind, recipient="C0SOCIAL01")
                         for kind in ("breach", "reminder")]
                        + [SlaNotice(mention_id=ids["2"], kind="breach", recipient="C0OTHER01")])
    delete_first_post(sessions, workspace_id, ids, purge=False)
    with sessions() as session:
        assert sorted(session.execute(select(SlaNotice.kind, SlaNotice.recipient).where(
            SlaNotice.mention_id == ids["2"])).tuples().all()) == [
            ("breach", "C0OTHER01"), ("reminder", "C0SOCIAL01")]
