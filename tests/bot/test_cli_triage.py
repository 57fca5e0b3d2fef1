"""`vigie triage learn` run as an operator runs it: a real process on a real SQLite file."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, Watch, Workspace
from storage.models_triage import TriageCalibration, TriageLabel
from tests.bot.test_cli import vigie

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def seed(tmp_path: Path, team_id: str, count: int, line: int) -> None:
    """A workspace whose team wants every mention at priority >= ``line`` (labels only)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'vigie.db'}")
    rng = random.Random(team_id)
    with transaction(make_session_factory(engine)) as session:
        workspace = Workspace(team_id=team_id)
        session.add(workspace)
        session.flush()
        watch = Watch(workspace_id=workspace.id, name="acme", channel_id="C0ACME0001")
        session.add(watch)
        session.flush()
        for n in range(count):
            priority = rng.randint(5, 95)
            when = START + timedelta(minutes=n)
            mention = Mention(workspace_id=workspace.id, watch_id=watch.id, network="x",
                              external_id=f"{team_id}-{n}", url="https://x.com/s/1", text="hi",
                              published_at=when, priority=priority, created_at=when)
            session.add(mention)
            session.flush()
            session.add(TriageLabel(
                workspace_id=workspace.id, mention_id=mention.id, watch_id=watch.id,
                positive=priority >= line, action="assign" if priority >= line else "ignore",
                source="workflow", actor="U07CMALICE", surface="button", priority=priority,
                threshold=50, alerted=priority >= 50, decided_at=when))
    engine.dispose()


def test_triage_learn_dry_run_then_for_real(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    seed(tmp_path, "T0ACME0001", 200, line=25)
    seed(tmp_path, "T0SMALL001", 12, line=50)

    dry = vigie(tmp_path, "triage", "learn", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0].startswith("T0ACME0001: applied; shift ±0 -> -10 (labels asked for -2")
    assert lines[1].startswith("  newest 50 labels, not used to fit: precision ")
    assert lines[2].startswith("T0SMALL001: too_few_labels; shift ±0 -> ±0; 12 labels (")
    assert lines[3] == ("  not enough labels to learn from: a run needs 40, with at least 10 "
                        "of each kind; nothing was changed")
    assert lines[-1] == "Dry run: nothing was changed."

    real = vigie(tmp_path, "triage", "learn", "--workspace", "T0ACME0001", "--json")
    assert real.returncode == 0, real.stderr
    [result] = json.loads(real.stdout)
    assert (result["team_id"], result["outcome"], result["applied"]) == (
        "T0ACME0001", "applied", True)
    assert (result["offset_before"], result["offset_after"]) == (0, -10)
    assert result["after"]["recall"] > result["before"]["recall"]
    # Named twice, run once; and not a point more today: 10 points a day is the most.
    again = json.loads(vigie(tmp_path, "triage", "learn", "--workspace", "T0ACME0001",
                             "--workspace", "T0ACME0001", "--json").stdout)
    assert [(r["offset_before"], r["offset_after"], r["outcome"]) for r in again] == [
        (-10, -10, "day_limit")]
    text = vigie(tmp_path, "triage", "learn", "--workspace", "T0ACME0001").stdout
    assert text.splitlines()[1] == ("  the shift already moved 10 points today (UTC), "
                                    "learning and resets together, and learning moves it at "
                                    "most 10 points a day; nothing was changed")

    unknown = vigie(tmp_path, "triage", "learn", "--workspace", "T0NOSUCH01")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("Error: No workspace T0NOSUCH01. Known: T0ACME0001, "
                                      "T0SMALL001.")


def test_a_workspace_with_learning_off_reports_its_labels(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    seed(tmp_path, "T0ACME0001", 80, line=50)
    engine = make_engine(f"sqlite:///{tmp_path / 'vigie.db'}")
    with transaction(make_session_factory(engine)) as session:
        session.add(TriageCalibration(workspace_id=1, enabled=False, offset=0))
    engine.dispose()
    text = vigie(tmp_path, "triage", "learn")
    assert text.returncode == 0, text.stderr
    first, second = text.stdout.splitlines()
    assert first.startswith("T0ACME0001: off; shift ±0 -> ±0; 80 labels (")
    assert second == ("  triage learning is off for this workspace (/cm triage on in Slack); "
                      "nothing was changed")
    [result] = json.loads(vigie(tmp_path, "triage", "learn", "--json").stdout)
    assert result["outcome"] == "off" and result["counts"]["labels"] == 80
    assert result["counts"]["positive"] + result["counts"]["negative"] == 80
