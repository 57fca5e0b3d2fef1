"""`vigie outbox` and the outbox lines of `vigie doctor`, run as a user runs them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.services.outbox import KIND_POST, do_enqueue
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import OutboxMessage, Workspace, utcnow
from storage.models_outbox import OutboxPause
from tests.bot.test_cli import vigie
from tests.harness.constants import CHANNEL_ID, SIGNING_SECRET, TEAM_ID

OTHER_CHANNEL = "C07OTHERCH"


def seeded(url: str, *, paused: bool) -> list[int]:
    """A migrated database with a failed row, a row waiting for a retry and a fresh one;
    the workspace paused when ``paused``."""
    migrations.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = utcnow()
    with transaction(sessions) as session:
        workspace = Workspace(team_id=TEAM_ID)
        session.add(workspace)
        session.flush()
        ids = [do_enqueue(session, workspace_id=workspace.id, kind=KIND_POST, channel=channel,
                          payload={"text": text}).id  # type: ignore[union-attr]
               for channel, text in ((CHANNEL_ID, "lost"), (CHANNEL_ID, "later"),
                                     (OTHER_CHANNEL, "other"))]
        session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[0]).values(
            status="failed", attempts=1, last_error="Slack refused the message: is_archived"))
        session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[1]).values(
            attempts=2, created_at=now - timedelta(hours=2),
            next_attempt_at=now + timedelta(minutes=10),
            last_error="Slack refused the message: internal_error"))
        if paused:
            session.add(OutboxPause(workspace_id=workspace.id, error="token_revoked",
                                    paused_at=now - timedelta(minutes=30), probes=3,
                                    next_probe_at=now + timedelta(minutes=8)))
    engine.dispose()
    return ids


def test_outbox_lists_rows_per_channel_and_retry_requeues_failed_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    failed, waiting, other = seeded(url, paused=False)
    listing = vigie(tmp_path, "outbox", VIGIE_DATABASE_URL=url)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0] == "2 pending (oldest 2 h), 1 failed in the last 24 h"
    channels = [line for line in lines if line.startswith("C07")]
    assert channels == [OTHER_CHANNEL, CHANNEL_ID]  # grouped, by channel id
    header, *rows = [line for line in lines if line.startswith("  ")]
    assert header.split() == ["ID", "KIND", "STATUS", "TRIES", "AGE", "MENTION", "ERROR"]
    (lost,) = [line for line in rows if line.split()[0] == str(failed)]
    assert lost.split()[1:4] == ["post", "failed", "1"] and "is_archived" in lost
    (late,) = [line for line in rows if line.split()[0] == str(waiting)]
    assert "pending" in late and "internal_error" in late and "next try in" in late
    assert "vigie outbox retry" in listing.stdout
    only_failed = vigie(tmp_path, "outbox", "--status", "failed", VIGIE_DATABASE_URL=url)
    assert [line.split()[0] for line in only_failed.stdout.splitlines()
            if line.startswith("  ")] == ["ID", str(failed)]
    retried = vigie(tmp_path, "outbox", "retry", str(failed), str(other),
                    VIGIE_DATABASE_URL=url)
    assert retried.returncode == 0, retried.stderr
    assert f"Requeued 1 rows: {failed}." in retried.stdout
    assert f"Row {other} left alone: it is pending, not failed." in retried.stderr
    assert "0 failed" in vigie(tmp_path, "outbox", VIGIE_DATABASE_URL=url).stdout
    nothing = vigie(tmp_path, "outbox", "retry", "999", VIGIE_DATABASE_URL=url)
    assert nothing.returncode == 1 and "Row 999 left alone: no such row." in nothing.stderr
    usage = vigie(tmp_path, "outbox", "retry", VIGIE_DATABASE_URL=url)
    assert usage.returncode == 2 and "--all-failed" in usage.stderr
    bad = vigie(tmp_path, "outbox", "retry", "--all-failed", "--since", "soon",
                VIGIE_DATABASE_URL=url)
    assert bad.returncode == 2 and "30m, 24h or 7d" in bad.stderr
    assert "Traceback" not in listing.stderr + retried.stderr + usage.stderr + bad.stderr


def _doctor_lines(tmp_path: Path, url: str, **env: str) -> tuple[int, dict[str, str]]:
    result = vigie(tmp_path, "doctor", VIGIE_DATABASE_URL=url, **env)
    names = ("outbox paused", "outbox", "uninstalled")
    by_name: dict[str, str] = {}
    for line in result.stdout.splitlines()[1:]:
        name = next((n for n in names if line.startswith(n + " ")), None)
        if name is not None:
            by_name[name] = line
    return result.returncode, by_name


def test_doctor_shows_outbox_health_and_paused_workspaces(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    seeded(url, paused=True)
    code, lines = _doctor_lines(tmp_path, url)
    assert code == 1  # a paused workspace is a failure to fix
    assert "WARN" in lines["outbox"] and "1 failed in the last 24 h" in lines["outbox"]
    assert "vigie outbox" in lines["outbox"]
    paused = lines["outbox paused"]
    assert "FAIL" in paused and TEAM_ID in paused and "token_revoked" in paused
    assert "2 messages wait" in paused and "Reinstall" in paused


@pytest.mark.postgres
def test_doctor_on_a_healthy_postgres_outbox(tmp_path: Path, fresh_postgres_url: str) -> None:
    migrations.upgrade(fresh_postgres_url)
    code, lines = _doctor_lines(tmp_path, fresh_postgres_url)
    assert "OK" in lines["outbox"] and "0 pending (oldest -), 0 failed" in lines["outbox"]
    assert "outbox paused" not in lines
    assert code == 0


OAUTH = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "s3cr3t-value",
         "SLACK_SIGNING_SECRET": SIGNING_SECRET}
"""Several workspaces: Vigie installed through OAuth, no SLACK_BOT_TOKEN."""


def test_doctor_and_retry_with_several_workspaces_one_uninstalled(tmp_path: Path,
                                                                   db_url: str) -> None:
    """With several workspaces, one Vigie was uninstalled from is no failure: the doctor
    says since when, `outbox retry` leaves its rows alone and says why, and the install
    that brings it back ends its pause. A workspace whose token Slack refuses (its events
    missed) is a failure, with the OAuth advice, not SLACK_BOT_TOKEN's."""
    from bot.services.installs import do_reinstalled, do_uninstalled

    failed, _waiting, _other = seeded(db_url, paused=False)
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    do_uninstalled(sessions, TEAM_ID, "app_uninstalled")
    code, lines = _doctor_lines(tmp_path, db_url, **OAUTH)
    assert "outbox paused" not in lines
    assert "OK" in lines["uninstalled"] and TEAM_ID in lines["uninstalled"]
    assert "app was uninstalled (app_uninstalled)" in lines["uninstalled"]
    assert "SLACK_BOT_TOKEN" not in lines["uninstalled"]
    assert code == 0
    retried = vigie(tmp_path, "outbox", "retry", "--all-failed", VIGIE_DATABASE_URL=db_url,
                    **OAUTH)
    assert retried.returncode == 0, retried.stderr
    assert "Nothing requeued." in retried.stdout
    assert f"Row {failed} left alone: Vigie was uninstalled from its workspace" in retried.stderr
    with sessions() as session:
        assert session.get(OutboxMessage, failed).status == "failed"  # type: ignore[union-attr]

    do_reinstalled(sessions, TEAM_ID)
    code, lines = _doctor_lines(tmp_path, db_url, **OAUTH)
    assert "outbox paused" not in lines and "uninstalled" not in lines
    with transaction(sessions) as session:
        session.add(OutboxPause(workspace_id=session.scalars(select(Workspace.id)).one(),
                                error="token_revoked", paused_at=utcnow(), probes=0,
                                next_probe_at=utcnow()))
    engine.dispose()
    code, lines = _doctor_lines(tmp_path, db_url, **OAUTH)
    paused = lines["outbox paused"]
    assert code == 1 and "FAIL" in paused and "token_revoked" in paused
    assert "/slack/install" in paused and "SLACK_BOT_TOKEN" not in paused
