"""`vigie watch add` and `vigie watch list` say the threshold ingest applies once triage
learning shifts it: a real process on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from storage.db import make_engine, make_session_factory, transaction
from storage.models import Workspace
from storage.models_triage import TriageCalibration
from tests.bot.test_cli import vigie


def test_watch_add_and_list_name_the_learned_shift(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    added = vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel", "C0SOCIAL1")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip().endswith("at priority >= 50.")
    engine = make_engine(f"sqlite:///{tmp_path / 'vigie.db'}")
    with transaction(make_session_factory(engine)) as session:
        workspace_id = session.scalars(select(Workspace.id)).one()
        session.add(TriageCalibration(workspace_id=workspace_id, enabled=True, offset=20))
    engine.dispose()

    beta = vigie(tmp_path, "watch", "add", "beta", "--query", "beta", "--channel", "C0SOCIAL1",
                 "--alert-threshold", "40")
    assert beta.returncode == 0, beta.stderr
    assert beta.stdout.strip().endswith(
        "at priority >= 60 (40 + 20 learned from the team's triage).")
    listed = vigie(tmp_path, "watch", "list").stdout.splitlines()
    assert "threshold 70 (50 + 20 learned from the team's triage) 0 sources" in listed[0]
    assert listed[0].startswith("acme ")
    as_json = json.loads(vigie(tmp_path, "watch", "list", "--json").stdout)
    assert [(w["name"], w["alert_threshold"], w["learned_shift"], w["applied_threshold"])
            for w in as_json] == [("acme", 50, 20, 70), ("beta", 40, 20, 60)]


def test_watch_list_says_a_competitor_watch_never_alerts(tmp_path: Path) -> None:
    """It was listed "threshold 50" though a competitor's watch never alerts."""
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    for args in (["acme", "--query", "acme"], ["rivalo", "--query", "rivalo", "--competitor"]):
        added = vigie(tmp_path, "watch", "add", *args, "--channel", "C0SOCIAL1")
        assert added.returncode == 0, added.stderr
    acme, rivalo = vigie(tmp_path, "watch", "list").stdout.splitlines()
    assert "threshold 50  0 sources" in acme
    assert rivalo.startswith("rivalo ") and "threshold" not in rivalo
    assert "never alerts (competitor: counted and compared) 0 sources" in rivalo


def test_watch_threshold_changes_it_in_place(tmp_path: Path) -> None:
    """`vigie watch threshold NAME N`, where before only `watch add` set a threshold."""
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    for args in (["acme", "--query", "acme"], ["rivalo", "--query", "rivalo", "--competitor"]):
        assert vigie(tmp_path, "watch", "add", *args, "--channel", "C0SOCIAL1").returncode == 0
    changed = vigie(tmp_path, "watch", "threshold", "acme", "65")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == ("Watch acme now alerts at priority >= 65 (it was 50), "
                                      "for the mentions found from now on.")
    listed = json.loads(vigie(tmp_path, "watch", "list", "--json").stdout)
    assert [(w["name"], w["alert_threshold"]) for w in listed] == [("acme", 65), ("rivalo", 50)]
    too_high = vigie(tmp_path, "watch", "threshold", "acme", "101")
    assert too_high.returncode == 2 and "from 0 (alert on everything) to 100" in too_high.stderr
    competitor = vigie(tmp_path, "watch", "threshold", "rivalo", "60")
    assert competitor.returncode == 2
    assert competitor.stderr.strip() == (
        "Error: 'rivalo' is a competitor's watch: it never alerts, so it has no threshold. "
        "vigie watch kind rivalo brand makes it the brand's.")
