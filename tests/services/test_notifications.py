"""Notification DMs and App Home refreshes, on SQLite and PostgreSQL: who is told what,
in the same transaction as the change, batched for approvers, never the actor, never
someone who turned them off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services import notifications as notes
from bot.services import workflow
from bot.services.actors import Actor
from bot.services.notifications import KIND_NOTIFY
from bot.services.outbox import KIND_CARD, KIND_POST, OutboxSender, do_enqueue
from bot.services.replies import NETWORK_ACTOR
from bot.slack.home_publisher import SlackHomePublisher
from bot.slack.notifier import SlackNotifier
from bot.slack.render import rendered
from bot.slack.users import AccountCache, SlackUserDirectories
from storage.db import transaction
from storage.models import Author, Member, Mention, OutboxMessage, Watch, Workspace
from storage.models_notifications import NotificationState
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, TEAM_ID
from tests.harness.slack_standin import SlackStandIn

AGENT = Actor("U0AGENT01", "slash_command")
OTHER_AGENT = Actor("U0AGENT02", "slash_command")
APPROVER = Actor("U0APPROVE1", "slash_command")
ADMIN = Actor("U0ADMIN001", "slash_command")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _setup(sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        session.add(Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID))
        for actor, role in ((AGENT, "agent"), (OTHER_AGENT, "agent"),
                            (APPROVER, "approver"), (ADMIN, "admin")):
            session.add(Member(workspace_id=workspace_id, user_id=actor.user_id, role=role))


def _mention(sessions: sessionmaker[Session], workspace_id: int,
             text: str = "Where is my <!channel> order? <https://evil.example|click>",
             *, card: bool = True) -> int:
    with transaction(sessions) as session:
        watch = session.scalar(select(Watch).where(Watch.workspace_id == workspace_id))
        assert watch is not None
        author = Author(workspace_id=workspace_id, network="mastodon",
                        handle=f"@ana{text[:3]}@mastodon.social", name="Ana")
        session.add(author)
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, author_id=author.id,
                          network="mastodon", external_id=text[:40],
                          url="https://mastodon.social/@ana/1", text=text, published_at=T0,
                          alerted=card, slack_channel=CHANNEL_ID if card else None,
                          slack_ts="1700000000.000100" if card else None)
        session.add(mention)
        session.flush()
        return mention.id


def _dms(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    """(recipient, event) of every notification row, in order."""
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == KIND_NOTIFY)
                               .order_by(OutboxMessage.id)).all()
        return [(r.channel, str(r.payload["event"])) for r in rows]


def _texts(sessions: sessionmaker[Session]) -> dict[int, str | None]:
    """Each notification row rendered as it would be sent (None: nothing is sent)."""
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == KIND_NOTIFY)
                               .order_by(OutboxMessage.id)).all()
        out: dict[int, str | None] = {}
        for row in rows:
            message = notes.render_notification(session, row)
            out[row.id] = rendered(message).text if message is not None else None
        return out


def test_assignment_tells_the_assignee_not_the_actor(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id)
    workflow.do_assign(sessions, workspace_id, AGENT, mention_id, AGENT.user_id or "")
    assert _dms(sessions) == []  # took it themselves
    workflow.do_assign(sessions, workspace_id, AGENT, mention_id, OTHER_AGENT.user_id or "")
    assert _dms(sessions) == [(OTHER_AGENT.user_id, "assigned")]
    [text] = _texts(sessions).values()
    assert text is not None
    assert f"<@{AGENT.user_id}>" in text and "mastodon" in text
    assert f"https://slack.com/archives/{CHANNEL_ID}/p1700000000000100|#{mention_id}>" in text
    assert "@anaWhe@mastodon.social" in text
    # The author's text cannot ping or link: escaped.
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "&lt;https://evil.example|click&gt;" in text


def test_dm_links_to_the_post_until_the_card_exists(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id, "plain text", card=False)
    workflow.do_assign(sessions, workspace_id, AGENT, mention_id, OTHER_AGENT.user_id or "")
    [text] = _texts(sessions).values()
    assert text is not None and f"<https://mastodon.social/@ana/1|#{mention_id}>" in text


def test_nobody_who_turned_dms_off_is_told(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    _setup(sessions, workspace_id)
    first, second = _mention(sessions, workspace_id, "one"), _mention(sessions, workspace_id,
                                                                      "two")
    workflow.do_assign(sessions, workspace_id, AGENT, first, OTHER_AGENT.user_id or "")
    assert notes.dms_enabled(sessions, workspace_id, OTHER_AGENT.user_id or "")
    notes.do_set_dms(sessions, workspace_id, OTHER_AGENT, False)
    assert not notes.dms_enabled(sessions, workspace_id, OTHER_AGENT.user_id or "")
    # Already queued: not sent any more.
    assert list(_texts(sessions).values()) == [None]
    workflow.do_assign(sessions, workspace_id, AGENT, second, OTHER_AGENT.user_id or "")
    assert len(_dms(sessions)) == 1
    notes.do_set_dms(sessions, workspace_id, OTHER_AGENT, True)
    workflow.do_assign(sessions, workspace_id, AGENT, second, AGENT.user_id or "")
    workflow.do_assign(sessions, workspace_id, AGENT, second, OTHER_AGENT.user_id or "")
    assert len(_dms(sessions)) == 2


def test_approval_digest_is_batched_per_approver(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    _setup(sessions, workspace_id)
    first, second, third = (_mention(sessions, workspace_id, text)
                            for text in ("first", "second", "third"))
    workflow.do_save_draft(sessions, workspace_id, AGENT, first, "Sorry, we're on it.")
    assert _dms(sessions) == []  # queued by the digest run, not by the draft itself
    assert notes.send_approval_digests(sessions, T0, 10) == 2
    assert sorted(_dms(sessions)) == [(ADMIN.user_id, "approval_digest"),
                                      (APPROVER.user_id, "approval_digest")]
    # Inside the window: nothing more, however many drafts.
    workflow.do_save_draft(sessions, workspace_id, AGENT, second, "We'll check.")
    workflow.do_save_draft(sessions, workspace_id, APPROVER, third, "Thanks!")
    assert notes.send_approval_digests(sessions, T0 + timedelta(minutes=9), 10) == 0
    assert len(_dms(sessions)) == 2
    # The window ends: one digest each, listing every draft then waiting but their own.
    assert notes.send_approval_digests(sessions, T0 + timedelta(minutes=10), 10) == 2
    assert notes.send_approval_digests(sessions, T0 + timedelta(minutes=30), 10) == 0
    texts = list(_texts(sessions).values())
    with sessions() as session:
        recipients = [r.channel for r in session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == KIND_NOTIFY)
            .order_by(OutboxMessage.id))]
    late = dict(zip(recipients[2:], texts[2:], strict=True))
    approver_text, admin_text = late[APPROVER.user_id], late[ADMIN.user_id]
    assert approver_text is not None and admin_text is not None
    assert f"|#{first}>" in approver_text and f"|#{second}>" in approver_text
    assert f"|#{third}>" not in approver_text  # their own draft
    assert all(f"|#{m}>" in admin_text for m in (first, second, third))
    assert "(2)" in approver_text and "(3)" in admin_text


def test_digest_says_nothing_once_no_draft_waits(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id)
    workflow.do_save_draft(sessions, workspace_id, AGENT, mention_id, "On it.")
    notes.send_approval_digests(sessions, T0, 10)
    workflow.do_approve(sessions, workspace_id, APPROVER, mention_id, version=1)
    texts = _texts(sessions)
    digests = [text for (user, event), text in zip(_dms(sessions), texts.values(),
                                                   strict=True) if event == "approval_digest"]
    assert digests == [None, None]


def test_decisions_tell_the_drafter(sessions: sessionmaker[Session], workspace_id: int
                                    ) -> None:
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id)
    workflow.do_save_draft(sessions, workspace_id, AGENT, mention_id, "First try")
    workflow.do_reject(sessions, workspace_id, APPROVER, mention_id,
                       "too formal <!here> use her name")
    workflow.do_save_draft(sessions, workspace_id, AGENT, mention_id, "Second try")
    workflow.do_approve(sessions, workspace_id, APPROVER, mention_id, version=2)
    with transaction(sessions) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        workflow.mark_replied(session, workspace_id, NETWORK_ACTOR, mention,
                              reply_url="https://mastodon.social/@acme/2")
    assert _dms(sessions) == [(AGENT.user_id, "rejected"), (AGENT.user_id, "approved"),
                              (AGENT.user_id, "posted")]
    rejected, approved, posted = _texts(sessions).values()
    assert rejected is not None and "too formal &lt;!here&gt; use her name" in rejected
    assert approved is not None and f"<@{APPROVER.user_id}>" in approved
    assert posted is not None and "mastodon" in posted


def test_a_withdrawn_approval_tells_the_drafter(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id)
    workflow.do_save_draft(sessions, workspace_id, AGENT, mention_id, "With a typo")
    workflow.do_approve(sessions, workspace_id, APPROVER, mention_id, version=1)
    workflow.do_withdraw(sessions, workspace_id, ADMIN, mention_id, reason="typo")
    assert _dms(sessions) == [(AGENT.user_id, "approved"), (AGENT.user_id, "withdrawn")]
    withdrawn = list(_texts(sessions).values())[-1]
    assert withdrawn is not None and f"<@{ADMIN.user_id}> withdrew the approval" in withdrawn


def test_marked_replied_by_hand_and_self_decisions_are_not_told(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    _setup(sessions, workspace_id)
    with transaction(sessions) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        workspace.allow_self_approval = True
    mention_id = _mention(sessions, workspace_id)
    workflow.do_save_draft(sessions, workspace_id, APPROVER, mention_id, "Mine")
    workflow.do_approve(sessions, workspace_id, APPROVER, mention_id, version=1)
    workflow.do_mark_replied(sessions, workspace_id, ADMIN, mention_id)
    assert _dms(sessions) == []
    # The drafter took the mention: they hear when someone else reopens it.
    workflow.do_simple(sessions, workspace_id, ADMIN, mention_id, "reopen")
    assert _dms(sessions) == [(APPROVER.user_id, "reopened")]


def test_reopen_tells_the_assignee(sessions: sessionmaker[Session], workspace_id: int
                                   ) -> None:
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id)
    workflow.do_assign(sessions, workspace_id, OTHER_AGENT, mention_id, OTHER_AGENT.user_id
                       or "")
    workflow.do_simple(sessions, workspace_id, OTHER_AGENT, mention_id, "ignore")
    workflow.do_simple(sessions, workspace_id, AGENT, mention_id, "reopen")
    assert _dms(sessions) == [(OTHER_AGENT.user_id, "reopened")]
    [text] = _texts(sessions).values()
    assert text is not None and f"<@{AGENT.user_id}> " in text


def test_dm_and_home_reach_slack(sessions: sessionmaker[Session], workspace_id: int,
                                 slack_standin: SlackStandIn, slack_client: WebClient
                                 ) -> None:
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id, card=False)
    workflow.do_assign(sessions, workspace_id, AGENT, mention_id, OTHER_AGENT.user_id or "")
    sender = OutboxSender(sessions, SlackNotifier(slack_client), per_channel_interval=0)
    notes.register_notification_renderers(sender)
    assert sender.flush().sent == 1
    [dm] = slack_standin.messages_in(OTHER_AGENT.user_id or "")
    assert f"<@{AGENT.user_id}>" in dm["text"]
    # Homes marked by the change: the new assignee's (the actor's is the handlers' job).
    publisher = SlackHomePublisher(slack_client)
    assert notes.refresh_homes(sessions, publisher, T0) == 1
    home = slack_standin.home_view(OTHER_AGENT.user_id or "")
    assert home is not None and f"#{mention_id}" in str(home["blocks"])
    assert notes.refresh_homes(sessions, publisher, T0) == 0  # nothing stale any more


def test_home_marked_again_during_a_refresh_is_refreshed_again(
    sessions: sessionmaker[Session], workspace_id: int, slack_client: WebClient
) -> None:
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id)

    class MarkingAgain(SlackHomePublisher):
        """Publishes, and meanwhile another change concerns the same user."""

        def publish_home(self, team_id: str | None, user_id: str,
                         view: dict[str, Any]) -> None:
            super().publish_home(team_id, user_id, view)
            with transaction(sessions) as session:
                notes.mark_homes_stale(session, workspace_id, [user_id])

    workflow.do_assign(sessions, workspace_id, AGENT, mention_id, OTHER_AGENT.user_id or "")
    assert notes.refresh_homes(sessions, MarkingAgain(slack_client), T0) == 1
    with sessions() as session:
        state = session.scalar(select(NotificationState).where(
            NotificationState.user_id == OTHER_AGENT.user_id))
        assert state is not None and state.home_stale_at is not None


def test_card_rows_are_untouched(sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Notification rows carry no mention id: they never wait for (or fail with) a card."""
    _setup(sessions, workspace_id)
    mention_id = _mention(sessions, workspace_id, card=False)
    with transaction(sessions) as session:
        from bot.services.outbox import do_enqueue

        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention_id)
    workflow.do_assign(sessions, workspace_id, AGENT, mention_id, OTHER_AGENT.user_id or "")
    with sessions() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == KIND_NOTIFY))
        assert row is not None and row.mention_id is None


def test_digest_leaves_out_drafts_with_the_approvers_words(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    """An approver who wrote an earlier version is still an author after someone edits it:
    four eyes refuse their approval, so the digest does not offer it to them."""
    _setup(sessions, workspace_id)
    edited, other = _mention(sessions, workspace_id, "edited"), _mention(sessions, workspace_id,
                                                                          "other")
    workflow.do_save_draft(sessions, workspace_id, APPROVER, edited, "Sorry!")
    workflow.do_save_draft(sessions, workspace_id, AGENT, edited, "Sorry, we are on it!")
    workflow.do_save_draft(sessions, workspace_id, AGENT, other, "Thanks")
    assert notes.send_approval_digests(sessions, T0, 10) == 2
    texts = dict(zip((user for user, _ in _dms(sessions)), _texts(sessions).values(),
                     strict=True))
    approver, admin = texts[APPROVER.user_id], texts[ADMIN.user_id]
    assert approver is not None and admin is not None
    assert f"|#{other}>" in approver and f"|#{edited}>" not in approver
    assert f"|#{other}>" in admin and f"|#{edited}>" in admin


GUEST_ID, GRANTED_GUEST_ID = "U0GUEST001", "U0GUEST002"


def test_a_guest_without_a_role_gets_no_dm_and_the_guest_home(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    slack_client: WebClient
) -> None:
    """What Vigie sends unasked follows the rule requests meet: a Slack guest no admin gave
    a role gets no DM (notices, reminders) and a refreshed Home without data; a guest an
    admin gave a role gets both, without Slack being asked about them."""
    _setup(sessions, workspace_id)
    slack_standin.set_user(GUEST_ID, name="guest", guest="single")
    slack_standin.set_user(GRANTED_GUEST_ID, name="agency", guest="multi")
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=GRANTED_GUEST_ID, role="agent",
                           granted_by=ADMIN.user_id))
    first = _mention(sessions, workspace_id, "12345: my order never arrived", card=False)
    second = _mention(sessions, workspace_id, "67890: my order never arrived", card=False)
    # Given without asking Slack (the console, or Slack down): the guest owns one.
    workflow.do_assign(sessions, workspace_id, AGENT, first, GUEST_ID)
    workflow.do_assign(sessions, workspace_id, AGENT, second, GRANTED_GUEST_ID)
    with transaction(sessions) as session:  # as an SLA reminder is queued
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=GUEST_ID,
                   payload={"text": f"Reminder: #{first} (Order 12345) is due soon"})
    directories = SlackUserDirectories(slack_client, cache=AccountCache())
    sender = OutboxSender(sessions, SlackNotifier(slack_client), per_channel_interval=0,
                          directories=directories)
    notes.register_notification_renderers(sender)
    report = sender.flush()
    assert (report.sent, report.withheld, report.failed) == (1, 2, 0)
    assert slack_standin.messages_in(GUEST_ID) == []
    assert "67890" in slack_standin.messages_in(GRANTED_GUEST_ID)[0]["text"]
    assert sender.pending_count() == 0
    assert notes.refresh_homes(sessions, SlackHomePublisher(slack_client), T0,
                               users=directories) == 2
    guest_home = slack_standin.home_view(GUEST_ID)
    assert guest_home is not None
    assert "/cm role add @you viewer" in str(guest_home["blocks"])
    assert "12345" not in str(guest_home["blocks"]) and f"#{first}" not in str(guest_home)
    granted_home = slack_standin.home_view(GRANTED_GUEST_ID)
    assert granted_home is not None and f"#{second}" in str(granted_home["blocks"])
    # The grant decides without Slack; the guest is asked about once (the answer is kept).
    assert [c.args["user"] for c in slack_standin.calls("users.info")] == [GUEST_ID]


def test_a_user_slack_cannot_tell_about_gets_nothing_yet_and_nothing_is_lost(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    slack_client: WebClient
) -> None:
    """Slack cannot say whether the recipient is a guest and never did: as their requests
    are not let in, what Vigie sends them unasked waits (the DM stays queued, no attempt
    spent; the Home stays stale) until Slack answers, then goes as the answer says."""
    _setup(sessions, workspace_id)
    slack_standin.set_user(GUEST_ID, name="guest", guest="single")
    first = _mention(sessions, workspace_id, "12345: my order never arrived", card=False)
    workflow.do_assign(sessions, workspace_id, AGENT, first, GUEST_ID)
    directories = SlackUserDirectories(slack_client, cache=AccountCache())
    sender = OutboxSender(sessions, SlackNotifier(slack_client), per_channel_interval=0,
                          directories=directories)
    notes.register_notification_renderers(sender)
    slack_standin.error_next("users.info", "internal_error", count=2)
    report = sender.flush()
    assert (report.sent, report.withheld, report.failed) == (0, 0, 0)
    assert sender.pending_count() == 1 and slack_standin.messages_in(GUEST_ID) == []
    with sessions() as session:
        row = session.scalars(select(OutboxMessage).where(
            OutboxMessage.channel == GUEST_ID)).one()
        assert row.attempts == 0
    publisher = SlackHomePublisher(slack_client)
    assert notes.refresh_homes(sessions, publisher, T0, users=directories) == 0
    assert slack_standin.home_view(GUEST_ID) is None
    # Slack answers (a guest): the DM is settled unsent, the Home has no data.
    with transaction(sessions) as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=T0 - timedelta(hours=1)))
    assert sender.flush().withheld == 1 and slack_standin.messages_in(GUEST_ID) == []
    assert notes.refresh_homes(sessions, publisher, T0, users=directories) == 1
    home = slack_standin.home_view(GUEST_ID)
    assert home is not None and "12345" not in str(home["blocks"])


def _stale_homes(sessions: sessionmaker[Session], workspace_id: int, users: list[str],
                 since: datetime) -> None:
    with transaction(sessions) as session:
        for user_id in users:
            session.add(NotificationState(workspace_id=workspace_id, user_id=user_id,
                                          home_stale_at=since))


def _team(sessions: sessionmaker[Session], team_id: str, *,
          uninstalled_at: datetime | None = None) -> int:
    with transaction(sessions) as session:
        workspace = Workspace(team_id=team_id, uninstalled_at=uninstalled_at)
        session.add(workspace)
        session.flush()
        return workspace.id


def test_homes_of_uninstalled_or_tokenless_workspaces_do_not_block_the_others(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    slack_client: WebClient
) -> None:
    """Before, each refresh took the oldest stale Homes of any workspace: those of a
    workspace uninstalled, or without a token (several workspaces), were never published
    nor cleared, and a batch of them left every other workspace's Homes stale for ever."""
    _setup(sessions, workspace_id)
    gone = _team(sessions, "T0GONE0001", uninstalled_at=T0 - timedelta(days=3))
    tokenless = _team(sessions, "T0NOTOKEN1")
    _stale_homes(sessions, gone, [f"U0GONE{i:04d}" for i in range(notes.HOME_BATCH)],
                 T0 - timedelta(days=2))
    _stale_homes(sessions, tokenless, [f"U0LOST{i:04d}" for i in range(notes.HOME_BATCH)],
                 T0 - timedelta(days=1))
    _stale_homes(sessions, workspace_id, [AGENT.user_id or ""], T0 - timedelta(hours=1))
    tokens = {TEAM_ID: BOT_TOKEN}  # the installation store: no token for the others
    directories = SlackUserDirectories(slack_client, tokens.get, cache=AccountCache())
    publisher = SlackHomePublisher(slack_client, tokens.get)
    assert notes.refresh_homes(sessions, publisher, T0, users=directories,
                               installed=lambda team: team in tokens) == 1
    assert slack_standin.home_view(AGENT.user_id or "") is not None


def test_homes_slack_cannot_tell_about_wait_behind_the_others(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    slack_client: WebClient
) -> None:
    """A Home left stale because Slack cannot say whether its user is a guest is tried
    again after the others: before, a full batch of them was taken first at every refresh
    and no other Home was ever published."""
    _setup(sessions, workspace_id)
    unknown = [f"U0UNKN{i:04d}" for i in range(notes.HOME_BATCH)]
    _stale_homes(sessions, workspace_id, unknown, T0 - timedelta(days=1))
    _stale_homes(sessions, workspace_id, [APPROVER.user_id or ""], T0 - timedelta(hours=1))
    slack_standin.error_next("users.info", "internal_error", count=10 * notes.HOME_BATCH)
    directories = SlackUserDirectories(slack_client, cache=AccountCache())
    publisher = SlackHomePublisher(slack_client)
    assert notes.refresh_homes(sessions, publisher, T0, users=directories) == 0
    assert notes.refresh_homes(sessions, publisher, T0 + timedelta(seconds=30),
                               users=directories) == 1
    assert slack_standin.home_view(APPROVER.user_id or "") is not None
    with sessions() as session:  # none is lost: they wait, stale
        assert session.scalar(select(func.count()).select_from(NotificationState).where(
            NotificationState.home_stale_at.is_not(None))) == notes.HOME_BATCH
