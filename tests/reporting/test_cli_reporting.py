"""`vigie digest --preview` and `vigie export` in the terminal."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import reporting as _reporting  # noqa: F401  (registers digest and export)
from bot.cli.root import main
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Author, Mention, Watch, Workspace

CHANNEL = "C07DIGEST01"


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    """Settings for a migrated SQLite database holding three mentions of the last hours."""
    engine = make_engine(sqlite_url)
    now = datetime.now(UTC)
    with transaction(make_session_factory(engine)) as session:
        workspace = Workspace(team_id="T07VIGIE01", timezone="Europe/Paris")
        session.add(workspace)
        session.flush()
        watch = Watch(workspace_id=workspace.id, name="acme", channel_id=CHANNEL,
                      created_at=now - timedelta(days=30))
        author = Author(workspace_id=workspace.id, network="mastodon", handle="@ana",
                        followers=4200)
        session.add_all([watch, author])
        session.flush()
        for index, (sentiment, priority) in enumerate(
                [("negative", 90), ("positive", 20), ("neutral", 55)]):
            session.add(Mention(
                workspace_id=workspace.id, watch_id=watch.id, author_id=author.id,
                network="mastodon", external_id=str(index), url=f"https://m.example/{index}",
                text="=cmd|' /C calc'!A0" if index == 0 else f"acme post {index}",
                published_at=now - timedelta(hours=2), sentiment_label=sentiment,
                priority=priority, created_at=now - timedelta(hours=2 + index)))
    engine.dispose()
    return {"VIGIE_DATABASE_URL": sqlite_url, "VIGIE_TIMEZONE": "UTC",
            "SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}


def test_digest_preview_prints_text(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["digest", "--preview"], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"--- #{CHANNEL} · daily at 09:00 Europe/Paris ---" in out
    assert "Daily digest · " in out and "3 mention(s) (+3 vs 0 the day before)" in out
    assert "Highest priority\n• #1 (https://m.example/0) [90] Mastodon @ana" in out
    assert "acme (alerts at ≥ 50): 1 mention(s)" in out
    assert "<@" not in out and "&gt;" not in out


def test_digest_preview_of_a_channel_without_watches(env: dict[str, str]) -> None:
    # No watch alerts there and no digest is set: no digest goes there (issue 17; it used
    # to print a digest of every watch of the workspace under that channel's name).
    result = CliRunner().invoke(main, ["digest", "--preview", "--channel", "C07ELSEWHERE"],
                                env=env)
    assert result.exit_code == 2, result.output
    assert "No digest goes to C07ELSEWHERE" in result.output
    assert "--- #C07ELSEWHERE" not in result.output


def test_export_csv_to_a_file_and_jsonl_to_stdout(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["export", "--since", "30d", "--output", str(target)],
                                env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert len(rows) == 3
    assert rows[-1]["text"] == "'=cmd|' /C calc'!A0"
    result = CliRunner().invoke(main, ["export", "--format", "jsonl", "--watch", "acme"],
                                env=env)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["priority"] for r in records] == [55, 20, 90]
    assert records[-1]["text"] == "=cmd|' /C calc'!A0"  # JSON is data, not a spreadsheet


def test_export_csv_to_a_file_starts_with_a_byte_order_mark(env: dict[str, str],
                                                           tmp_path: Path) -> None:
    """As `/cm export`'s file: spreadsheet apps then read it as UTF-8 (accents, emoji).
    Standard output (a pipe) and JSON Lines get none."""
    target = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["export", "--output", str(target)], env=env)
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"\xef\xbb\xbfid,")
    rows = list(csv.DictReader(target.open(encoding="utf-8-sig", newline="")))
    assert len(rows) == 3 and rows[0]["id"]
    printed = CliRunner().invoke(main, ["export"], env=env)
    assert printed.exit_code == 0 and printed.output.startswith("id,"), printed.output
    lines = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["export", "--format", "jsonl", "--output", str(lines)],
                                env=env)
    assert result.exit_code == 0 and lines.read_bytes().startswith(b"{"), result.output


def test_export_errors_are_one_line(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["export", "--watch", "nope"], env=env)
    assert result.exit_code == 2
    assert "There is no watch called 'nope'. vigie watch list shows them." in result.output
    result = CliRunner().invoke(main, ["export", "--since", "forever"], env=env)
    assert result.exit_code == 2 and "is not a duration" in result.output


@pytest.mark.parametrize("output, message", [
    ("/nonexistent-folder/x.csv", "Error: the folder /nonexistent-folder does not exist."),
    ("", "Error: --output needs a file name."),
    ("/proc/x.csv", "Error: cannot write /proc/x.csv: No such file or directory."),
])
def test_export_to_a_file_that_cannot_be_written_is_one_line(
        env: dict[str, str], output: str, message: str) -> None:
    # These were FileNotFoundError and "OSError: [Errno 16] ... -> '.'" tracebacks.
    result = CliRunner().invoke(main, ["export", "--output", output], env=env)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.output == message + "\n"
