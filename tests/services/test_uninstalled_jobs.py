"""A workspace Vigie was uninstalled from gets nothing from the scheduled jobs (daily
digests, monthly reports, SLA notices, spike alerts): they would pile up in its paused
outbox and all reach Slack at once on a reinstall. Queued digests and reports that are
already stale then are dropped at the reinstall."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.services.installs import do_reinstalled, do_uninstalled
from bot.services.notifications import send_approval_digests
from bot.services.outbox import KIND_POST, PROBE_CAP_SECONDS, OutboxSender, do_enqueue
from bot.services.reporting.digest import run_due_digests
from bot.services.reporting.monthly import run_due_reports
from bot.services.sla import run_sla_checks
from bot.services.spikes import run_spike_checks
from bot.slack.client import build_web_client
from bot.slack.notifier import SlackNotifier
from storage.db import transaction
from storage.models import AuditEvent, Draft, Member, Mention, OutboxMessage, Watch, Workspace
from storage.models_base import as_utc
from storage.models_influencers import ReportSchedule
from storage.models_notifications import NotificationState
from storage.models_outbox import OutboxPause
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, TEAM_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for
from tests.services.test_sla import an_assigned_urgent_mention
from tests.services.test_spike_events import H0, burst, setup

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # a Friday


def _past_digest_time(at: datetime) -> datetime:
    """10:00 UTC on ``at``'s day: the default digest time (09:00, UTC) has passed, whatever
    the time the suite runs at."""
    return datetime.combine(at.date(), time(10), UTC)


def _uninstall(sessions: sessionmaker[Session], at: datetime) -> None:
    assert do_uninstalled(sessions, TEAM_ID, "app_uninstalled", now=at).known


def _queued(sessions: sessionmaker[Session], workspace_id: int) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(r.status, r.dedupe_key or r.channel) for r in session.scalars(
            select(OutboxMessage).where(OutboxMessage.workspace_id == workspace_id)
            .order_by(OutboxMessage.id))]


def test_no_daily_digest_while_uninstalled(sessions: sessionmaker[Session],
                                           workspace_id: int) -> None:
    with transaction(sessions) as session:
        session.add(Watch(workspace_id=workspace_id, name="acme", channel_id="C0CHAN0001"))
    # A digest is due from the day after its channel's first watch.
    start = _past_digest_time(datetime.now(UTC))
    _uninstall(sessions, start)
    for day in range(1, 4):
        assert run_due_digests(sessions, now=start + timedelta(days=day),
                               default_timezone="UTC", chart=False) == []
    assert _queued(sessions, workspace_id) == []
    do_reinstalled(sessions, TEAM_ID, now=start + timedelta(days=4))
    outcomes = run_due_digests(sessions, now=start + timedelta(days=4),
                               default_timezone="UTC", chart=False)
    assert [o.channel_id for o in outcomes] == ["C0CHAN0001"]


def test_no_monthly_report_while_uninstalled(sessions: sessionmaker[Session],
                                             workspace_id: int) -> None:
    with transaction(sessions) as session:
        session.add(ReportSchedule(workspace_id=workspace_id, channel_id="C0CHAN0001",
                                   updated_at=datetime(2026, 10, 2, tzinfo=UTC)))
    _uninstall(sessions, datetime(2026, 11, 15, tzinfo=UTC))
    first = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert run_due_reports(sessions, now=first, default_timezone="UTC") == []
    assert _queued(sessions, workspace_id) == []


def test_no_sla_notice_while_uninstalled(sessions: sessionmaker[Session],
                                         workspace_id: int) -> None:
    an_assigned_urgent_mention(sessions, workspace_id, T0)
    _uninstall(sessions, T0 + timedelta(minutes=10))
    assert run_sla_checks(sessions, T0 + timedelta(minutes=46), "UTC") == 0
    assert run_sla_checks(sessions, T0 + timedelta(minutes=61), "UTC") == 0
    assert _queued(sessions, workspace_id) == []


def test_no_spike_alert_while_uninstalled(sessions: sessionmaker[Session],
                                          workspace_id: int) -> None:
    ids = setup(sessions, workspace_id)
    burst(sessions, workspace_id, ids, 40, H0, "a")
    _uninstall(sessions, H0 - timedelta(hours=1))
    assert run_spike_checks(sessions, H0 + timedelta(minutes=15)) == []
    assert _queued(sessions, workspace_id) == []


def test_a_reinstall_drops_stale_digests_and_reports(sessions: sessionmaker[Session],
                                                     workspace_id: int) -> None:
    """Rows queued while the workspace was uninstalled (by a release before this check, or
    a job that read the workspace just before the mark): a digest or a report older than a
    day says nothing current and is dropped; the rest, and anything recent, is sent."""
    _uninstall(sessions, T0)
    with transaction(sessions) as session:
        for key, age in (("digest:1:C0CHAN0001:2026-11-21:post", timedelta(days=3)),
                         ("report:1:C0CHAN0001:2026-10", timedelta(days=2)),
                         ("digest:1:C0CHAN0001:2026-11-23:post", timedelta(hours=2)),
                         ("card-like:1", timedelta(days=3))):
            row = do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                             channel="C0CHAN0001", payload={"text": key}, dedupe_key=key)
            assert row is not None
            session.flush()
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                            .values(created_at=T0 + timedelta(days=3, hours=1) - age))
    assert do_reinstalled(sessions, TEAM_ID, now=T0 + timedelta(days=3, hours=1))
    assert _queued(sessions, workspace_id) == [
        ("failed", "digest:1:C0CHAN0001:2026-11-21:post"),
        ("failed", "report:1:C0CHAN0001:2026-10"),
        ("pending", "digest:1:C0CHAN0001:2026-11-23:post"),
        ("pending", "card-like:1")]
    with sessions() as session:
        assert session.scalars(select(Workspace.uninstalled_at)).one() is None


def _queue(sessions: sessionmaker[Session], workspace_id: int, key: str,
           age: timedelta) -> None:
    """A post keyed ``key`` (its text), queued ``age`` ago."""
    with transaction(sessions) as session:
        row = do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                         channel=CHANNEL_ID, payload={"text": key}, dedupe_key=key)
        assert row is not None
        session.flush()
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                        .values(created_at=datetime.now(UTC) - age))


def _refused(sessions: sessionmaker[Session], standin: SlackStandIn,
             clock: Clock) -> OutboxSender:
    """Slack revokes the bot token and its events never reach Vigie (it was down): the
    outbox's next flush pauses on ``token_revoked``, the workspace is not marked."""
    sender = sender_for(sessions, standin, clock)
    standin.revoke_token(BOT_TOKEN)
    assert sender.flush().paused
    with sessions() as session:
        pause = session.scalars(select(OutboxPause)).one()
        assert pause.error == "token_revoked"
        assert session.scalars(select(Workspace.uninstalled_at)).one() is None
    return sender


def test_missed_uninstall_events_a_refused_token_stops_the_jobs_until_a_reinstall(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Slack's app_uninstalled never reached Vigie: the outbox's refusal is the only sign.
    No daily digest is queued while the token is refused; the install that gives a token
    back ends the pause (its token was just checked) and drops the digest kept days from
    Slack; the card goes."""
    with transaction(sessions) as session:
        session.add(Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID))
    start = datetime.now(UTC)
    _queue(sessions, workspace_id, "digest:1:C0CHAN0001:2026-11-21:post", timedelta(days=2))
    _queue(sessions, workspace_id, "card-like:1", timedelta(days=2))
    clock = Clock()
    sender = _refused(sessions, slack_standin, clock)
    for day in range(1, 4):
        assert run_due_digests(sessions, now=start + timedelta(days=day),
                               default_timezone="UTC", chart=False) == []
    slack_standin.restore_token(BOT_TOKEN)  # installed again (the same token back)
    assert not do_reinstalled(sessions, TEAM_ID, now=clock.now)  # it was never marked
    with sessions() as session:
        assert session.scalars(select(OutboxPause)).all() == []
    sender.flush()
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["card-like:1"]
    assert _queued(sessions, workspace_id) == [
        ("failed", "digest:1:C0CHAN0001:2026-11-21:post"), ("sent", "card-like:1")]


def test_a_token_slack_accepts_again_sends_no_stale_digest(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """The token works again without an install (the workspace active again): the
    outbox's probe goes through, but the digest it kept for days is dropped before it."""
    _queue(sessions, workspace_id, "digest:1:C0CHAN0001:2026-11-21:post", timedelta(days=2))
    _queue(sessions, workspace_id, "card-like:1", timedelta(days=2))
    clock = Clock()
    sender = _refused(sessions, slack_standin, clock)
    slack_standin.restore_token(BOT_TOKEN)
    clock.now += timedelta(seconds=61)  # the probe's backoff
    sender.flush()
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["card-like:1"]
    assert _queued(sessions, workspace_id)[0] == (
        "failed", "digest:1:C0CHAN0001:2026-11-21:post")


@pytest.mark.parametrize("how", ["uninstalled", "token refused", "token accepted at a check",
                                 "token accepted at a delivery"])
def test_no_burst_of_sla_notices_after_a_reinstall(sessions: sessionmaker[Session],
                                                   workspace_id: int, how: str,
                                                   slack_standin: SlackStandIn) -> None:
    """Deadlines that passed while nobody could act (Vigie uninstalled, or its token
    refused with Slack's events missed) are not announced at the reinstall, nor when the
    outbox's probe finds the token accepted again (its check with auth.test, or a delivery
    going through): no breach note, no escalation DM. A deadline still ahead gets them when
    it passes."""
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123",
                      sla_urgent_minutes=60)
        session.add(watch)
        session.add(Member(workspace_id=workspace_id, user_id="U0APPROVER", role="approver"))
        session.flush()
        back = T0 + timedelta(days=2)
        for n, received in enumerate([T0, T0, back - timedelta(minutes=30)]):
            session.add(Mention(
                workspace_id=workspace_id, watch_id=watch.id, network="x",
                external_id=str(n), url=f"https://x.com/a/status/{n}", text="help!",
                published_at=received, created_at=received, priority=90,
                assignee_user_id="U0AGENT01", status="assigned", alerted=True,
                slack_channel="C0ACME123", slack_ts=f"1.{n}"))
    if how == "uninstalled":
        _uninstall(sessions, T0 + timedelta(minutes=10))
    else:
        with transaction(sessions) as session:
            session.add(OutboxPause(workspace_id=workspace_id, error="token_revoked",
                                    paused_at=T0 + timedelta(minutes=10), probes=0,
                                    next_probe_at=T0 + timedelta(minutes=11)))
    assert run_sla_checks(sessions, T0 + timedelta(hours=2), "UTC") == 0
    if how.startswith("token accepted"):
        if how.endswith("delivery"):
            _queue(sessions, workspace_id, "card-like:1", timedelta(days=1))
            with transaction(sessions) as session:
                session.execute(update(OutboxMessage).values(next_attempt_at=back))
        clock = Clock()
        clock.now = back
        sender_for(sessions, slack_standin, clock).flush()
        with sessions() as session:
            assert session.scalars(select(OutboxPause)).all() == []
    else:
        do_reinstalled(sessions, TEAM_ID, now=back)
    assert run_sla_checks(sessions, back, "UTC") == 0
    assert [key for _status, key in _queued(sessions, workspace_id)
            if key != "card-like:1"] == []
    # The third mention's deadline (received 30 minutes before the reinstall) is ahead.
    assert run_sla_checks(sessions, back + timedelta(minutes=31), "UTC") == 2
    with sessions() as session:
        assert sorted((r.kind, r.channel) for r in session.scalars(select(OutboxMessage))
                      if r.channel != CHANNEL_ID) == [
            ("post", "U0APPROVER"), ("thread", "C0ACME123")]


def test_a_token_refused_for_a_minute_loses_no_sla_notice(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Slack refuses the token to one delivery (invalid_auth), half a minute before an
    urgent mention's deadline; the probe a minute later goes through. The SLA check run
    during that minute skipped the workspace; the breach note and the escalation DM that
    came due then are sent at the next check, not marked missed as after days away."""
    an_assigned_urgent_mention(sessions, workspace_id, T0)
    clock = Clock()
    clock.now = T0 + timedelta(minutes=59, seconds=30)
    sender = sender_for(sessions, slack_standin, clock)
    _queue(sessions, workspace_id, "card-like:1", timedelta(minutes=1))
    with transaction(sessions) as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=clock.now,
                                                     created_at=clock.now))
    slack_standin.revoke_token(BOT_TOKEN, "invalid_auth")
    assert sender.flush().paused
    assert run_sla_checks(sessions, T0 + timedelta(minutes=60), "UTC") == 0  # out of reach
    slack_standin.restore_token(BOT_TOKEN)
    clock.now = T0 + timedelta(minutes=60, seconds=31)  # the next probe
    with transaction(sessions) as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=clock.now))
    sender.flush()
    with sessions() as session:
        assert session.scalars(select(OutboxPause)).all() == []
    assert run_sla_checks(sessions, T0 + timedelta(minutes=61), "UTC") == 2
    with sessions() as session:
        assert sorted((r.kind, r.channel) for r in session.scalars(select(OutboxMessage))
                      if r.channel != CHANNEL_ID) == [
            ("post", "U0APPROVER"), ("thread", "C0ACME123")]


def test_no_approval_digest_while_uninstalled(sessions: sessionmaker[Session],
                                              workspace_id: int) -> None:
    """An approver's digest owed while Vigie is uninstalled is not queued (it would wait in
    the paused outbox): it stays owed, and goes after the reinstall."""
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123")
        session.add(watch)
        session.add(Member(workspace_id=workspace_id, user_id="U0APPROVER", role="approver"))
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, network="x",
                          external_id="1", url="https://x.com/a/status/1", text="help",
                          published_at=now, created_at=now, status="awaiting_approval")
        session.add(mention)
        session.flush()
        session.add(Draft(mention_id=mention.id, version=1, text="hello",
                          author_user_id="U0AGENT01"))
        session.add(NotificationState(workspace_id=workspace_id, user_id="U0APPROVER",
                                      digest_owed=True))
    _uninstall(sessions, now)
    assert send_approval_digests(sessions, now + timedelta(hours=1)) == 0
    assert _queued(sessions, workspace_id) == []
    with sessions() as session:
        assert session.scalars(select(NotificationState.digest_owed)).one() is True
    do_reinstalled(sessions, TEAM_ID, now=now + timedelta(hours=2))
    assert send_approval_digests(sessions, now + timedelta(hours=2)) == 1
    assert [channel for _status, channel in _queued(sessions, workspace_id)] == ["U0APPROVER"]


DIGEST_KEY = "digest:1:C07VIGIEFEED:2026-11-21:post"
OTHER_TEAM = "T07OTHER01"


def _quiet_and_refused(sessions: sessionmaker[Session], workspace_id: int,
                       standin: SlackStandIn, clock: Clock) -> OutboxSender:
    """A quiet brand whose token Slack refuses (its events missed): its only row, a daily
    digest queued two days ago, met the refusal and paused the outbox; the next probe
    drops it as stale, and then nothing of the workspace is due to be that probe."""
    with transaction(sessions) as session:
        session.add(Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID))
    _queue(sessions, workspace_id, DIGEST_KEY, timedelta(days=2))
    return _refused(sessions, standin, clock)


def _pause(sessions: sessionmaker[Session], workspace_id: int, now: datetime) -> None:
    with transaction(sessions) as session:
        session.add(OutboxPause(workspace_id=workspace_id, error="invalid_auth",
                                paused_at=now - timedelta(hours=1), probes=3,
                                next_probe_at=now - timedelta(seconds=1)))


def _other_workspace(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        workspace = Workspace(team_id=OTHER_TEAM)
        session.add(workspace)
        session.flush()
        return workspace.id


def _pauses(sessions: sessionmaker[Session]) -> dict[int, tuple[str, int, datetime]]:
    with sessions() as session:
        return {p.workspace_id: (p.error, p.probes, as_utc(p.next_probe_at))
                for p in session.scalars(select(OutboxPause))}


def test_a_quiet_workspace_whose_token_works_again_resumes_and_gets_its_digest(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Nothing is due when the pause's probe time comes (the scheduled jobs queue nothing
    for a workspace whose token is refused): Slack is asked whether it accepts the token
    (auth.test), and it does, so the pause ends as after a delivery and the next digest
    is queued and posted. The pause used to wait for a row that never came."""
    clock = Clock()
    sender = _quiet_and_refused(sessions, workspace_id, slack_standin, clock)
    slack_standin.restore_token(BOT_TOKEN)  # the workspace active again
    clock.now += timedelta(seconds=61)  # the probe's backoff
    sender.flush()
    assert [c.ok for c in slack_standin.calls("auth.test")] == [True]
    assert _pauses(sessions) == {}
    with sessions() as session:
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "outbox.resumed")).all() == ["outbox.resumed"]
    clock.now = _past_digest_time(clock.now + timedelta(days=1))
    outcomes = run_due_digests(sessions, now=clock.now, default_timezone="UTC", chart=False)
    assert [o.channel_id for o in outcomes] == [CHANNEL_ID]
    assert sender.flush().sent == 1
    assert len(slack_standin.messages_in(CHANNEL_ID)) == 1
    assert [status for status, _key in _queued(sessions, workspace_id)] == ["failed", "sent"]


def test_a_quiet_workspace_whose_token_is_still_refused_stays_paused(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Slack still refuses the token at the check: the pause stays, its next probe backed
    off as after a refused delivery, and no digest is queued. Before that time no check
    is made."""
    clock = Clock()
    sender = _quiet_and_refused(sessions, workspace_id, slack_standin, clock)
    clock.now += timedelta(seconds=61)
    sender.flush()
    assert [c.error for c in slack_standin.calls("auth.test")] == ["token_revoked"]
    assert _pauses(sessions) == {
        workspace_id: ("token_revoked", 1, clock.now + timedelta(seconds=120))}
    clock.now += timedelta(seconds=119)
    sender.flush()
    assert len(slack_standin.calls("auth.test")) == 1
    assert run_due_digests(sessions, now=_past_digest_time(clock.now + timedelta(days=1)),
                           default_timezone="UTC", chart=False) == []
    assert _queued(sessions, workspace_id) == [("failed", DIGEST_KEY)]
    clock.now += timedelta(seconds=1)
    sender.flush()
    assert len(slack_standin.calls("auth.test")) == 2
    assert _pauses(sessions)[workspace_id][:2] == ("token_revoked", 2)


def test_a_token_check_that_does_not_reach_slack_keeps_the_pause(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        caplog: pytest.LogCaptureFixture) -> None:
    """A 5xx at the check says nothing of the token: the pause stays as it was (its count
    of probes too), the check is tried again later (after as long as Slack has not
    answered: 61 s since the refusal), one line logged."""
    clock = Clock()
    sender = _quiet_and_refused(sessions, workspace_id, slack_standin, clock)
    slack_standin.restore_token(BOT_TOKEN)
    slack_standin.fail_next("auth.test", status=503)
    clock.now += timedelta(seconds=61)
    with caplog.at_level(logging.WARNING, logger="bot.services.outbox"):
        sender.flush()
    assert [c.error for c in slack_standin.calls("auth.test")] == ["http_503"]
    assert _pauses(sessions) == {
        workspace_id: ("token_revoked", 0, clock.now + timedelta(seconds=61))}
    assert len([r for r in caplog.records if "could not ask Slack" in r.getMessage()]) == 1
    clock.now += timedelta(seconds=61)
    sender.flush()
    assert [c.ok for c in slack_standin.calls("auth.test")] == [False, True]
    assert _pauses(sessions) == {}


def test_a_token_check_slack_does_not_answer_for_half_an_hour_backs_off(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        caplog: pytest.LogCaptureFixture) -> None:
    """Slack answers 503 to auth.test for half an hour: the checks of the quiet paused
    workspace come less and less often (not one a minute), one warning is logged for the
    outage, saying Slack answered 503 (not that it refused the token); the first check
    Slack answers ends the pause."""
    clock = Clock()
    sender = _quiet_and_refused(sessions, workspace_id, slack_standin, clock)
    slack_standin.restore_token(BOT_TOKEN)
    slack_standin.fail_next("auth.test", status=503, count=5)  # as many as half an hour takes
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.services.outbox"):
        for _ in range(30):
            clock.now += timedelta(seconds=61)
            sender.flush()
    assert len(slack_standin.calls("auth.test")) == 5  # after 1, 2, 4, 8 and 15 minutes
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "bot.services.outbox" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "Slack answered HTTP 503" in warnings[0] and "refused" not in warnings[0]
    assert _pauses(sessions)[workspace_id][:2] == ("token_revoked", 0)
    clock.now += timedelta(seconds=PROBE_CAP_SECONDS)
    sender.flush()
    assert _pauses(sessions) == {}


def test_an_uninstalled_workspace_is_not_checked(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Only the pause on a refused token is checked: the workspace Slack said Vigie was
    uninstalled from waits for an install (its tokens are gone; the install ends its
    pause, ``do_reinstalled``), even with a token Slack accepts at hand."""
    clock = Clock()
    other = _other_workspace(sessions)
    assert do_uninstalled(sessions, OTHER_TEAM, "app_uninstalled", now=clock.now).known
    _pause(sessions, workspace_id, clock.now)
    sender_for(sessions, slack_standin, clock).flush()
    assert len(slack_standin.calls("auth.test")) == 1
    assert _pauses(sessions) == {other: ("app_uninstalled", 0, clock.now)}


def test_a_pause_with_a_row_due_is_probed_by_that_row_only(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """A paused workspace with a row due has that row as its probe: no auth.test for it.
    The quiet one beside it is checked."""
    clock = Clock()
    other = _other_workspace(sessions)
    _pause(sessions, workspace_id, clock.now)
    _pause(sessions, other, clock.now)
    _queue(sessions, other, "card-like:1", timedelta(minutes=5))
    sender_for(sessions, slack_standin, clock).flush()
    assert len(slack_standin.calls("auth.test")) == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["card-like:1"]
    assert _pauses(sessions) == {}


def test_several_workspaces_a_stored_token_of_another_team_is_no_token(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Several workspaces (OAuth): the check uses the token stored for the workspace, and
    Slack accepting it ends the pause only when it is that workspace's token (auth.test's
    team_id); the workspace whose stored token is another team's stays paused."""
    clock = Clock()
    other = _other_workspace(sessions)
    _pause(sessions, workspace_id, clock.now)
    _pause(sessions, other, clock.now)
    slack_standin.clock = clock.seconds
    settings = load_settings(slack_api_url=slack_standin.base_url)
    notifier = SlackNotifier(build_web_client(settings, for_outbox=True),
                             token_for_team=lambda _team: BOT_TOKEN)
    sender = OutboxSender(sessions, notifier, clock=clock, per_channel_interval=0,
                          monotonic=clock.seconds, sleep=clock.sleep)
    sender.flush()
    assert [c.args.get("token") or c.headers.get("authorization")
            for c in slack_standin.calls("auth.test")] == [f"Bearer {BOT_TOKEN}"] * 2
    assert _pauses(sessions) == {
        other: ("not_installed", 4, clock.now + timedelta(seconds=PROBE_CAP_SECONDS))}


def test_a_row_queued_after_an_uninstall_is_no_probe(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """A row queued after Slack said Vigie was uninstalled (a webhook source) waits for the
    install: the pause's probe time has come, and Slack would take the post (the stand-in
    still accepts the token), but the row is no probe. Before, it was sent and its success
    ended the pause while the mark stayed: the outbox flowed for a workspace whose sources
    were not polled. The install ends both; the row goes then."""
    clock = Clock()
    assert do_uninstalled(sessions, TEAM_ID, "app_uninstalled", now=clock.now).known
    _queue(sessions, workspace_id, "card-like:1", timedelta(minutes=5))
    clock.now += timedelta(hours=1)
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    sender.flush()
    assert slack_standin.messages_in(CHANNEL_ID) == []
    assert _pauses(sessions) == {
        workspace_id: ("app_uninstalled", 0, clock.now - timedelta(hours=1))}
    with sessions() as session:
        assert session.scalars(select(Workspace.uninstalled_at)).one() is not None
    assert do_reinstalled(sessions, TEAM_ID, now=clock.now)
    assert sender.flush().sent == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["card-like:1"]


def test_a_due_row_the_flush_had_no_budget_for_is_still_the_probe(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """The paused workspace's due row is not tried in this flush (its budget goes to an
    earlier row of another workspace): no auth.test is asked for it; the row is the probe
    of the next flush, and its delivery ends the pause. Before, the flush asked auth.test
    too, a second probe for a workspace that had one due."""
    clock = Clock()
    other = _other_workspace(sessions)
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel="C0FIRST001",
                   payload={"text": "first"})
    _pause(sessions, other, clock.now)
    _queue(sessions, other, "card-like:1", timedelta(minutes=5))
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush(limit=1).sent == 1
    assert slack_standin.calls("auth.test") == []
    assert other in _pauses(sessions)
    assert sender.flush().sent == 1
    assert slack_standin.calls("auth.test") == []
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["card-like:1"]
    assert _pauses(sessions) == {}


def test_a_reinstall_within_a_day_of_a_breach_still_sends_it(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Vigie is uninstalled ten minutes after an urgent mention came in and installed again
    two hours after its deadline passed: the breach note and the escalation DM, due less
    than STALE_REPORTS ago, are sent at the next check, as when a pause on a refused
    token ends. Before, the reinstall marked every breach since the uninstall as sent."""
    an_assigned_urgent_mention(sessions, workspace_id, T0)
    _uninstall(sessions, T0 + timedelta(minutes=10))
    assert run_sla_checks(sessions, T0 + timedelta(hours=2), "UTC") == 0  # out of reach
    back = T0 + timedelta(hours=3)
    assert do_reinstalled(sessions, TEAM_ID, now=back)
    assert run_sla_checks(sessions, back, "UTC") == 2
    with sessions() as session:
        assert sorted((r.kind, r.channel) for r in session.scalars(select(OutboxMessage))) == [
            ("post", "U0APPROVER"), ("thread", "C0ACME123")]
