"""`vigie stats` and `vigie report` give the same figures after `vigie purge` for the days
it purged (found in an operator review: they showed no mention at all)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import privacy as _privacy  # noqa: F401  (registers purge)
from bot.cli import reporting as _reporting  # noqa: F401  (registers stats and report)
from bot.cli.root import main
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Author, Mention, OutboxMessage, OutboxStatus, Watch, Workspace

PUBLISHED = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=10)


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    """12 mentions published and found ten days ago: 4 negative, 4 neutral, 4 positive."""
    engine = make_engine(sqlite_url)
    with transaction(make_session_factory(engine)) as session:
        workspace = Workspace(team_id="T07VIGIE01", timezone="UTC")
        session.add(workspace)
        session.flush()
        watch = Watch(workspace_id=workspace.id, name="acme", channel_id="C07RETAIN1",
                      created_at=PUBLISHED - timedelta(days=30))
        author = Author(workspace_id=workspace.id, network="rss", handle="news")
        session.add_all([watch, author])
        session.flush()
        for index in range(12):
            session.add(Mention(
                workspace_id=workspace.id, watch_id=watch.id, author_id=author.id,
                network="rss", external_id=str(index), url=f"https://news.example/{index}",
                text=f"acme post {index}", priority=40,
                sentiment_label=("negative", "neutral", "positive")[index % 3],
                published_at=PUBLISHED + timedelta(minutes=index),
                created_at=PUBLISHED + timedelta(hours=1)))
        # Two digests and a DM sent then; the channel's newest row stays (the record of a
        # channel Slack may have refused).
        for channel, minute in (("C07RETAIN1", 0), ("C07RETAIN1", 1), ("U07ADMIN01", 0)):
            sent = PUBLISHED + timedelta(minutes=minute)
            session.add(OutboxMessage(
                workspace_id=workspace.id, kind="post", channel=channel,
                payload={"text": "digest of acme post 3"}, status=OutboxStatus.SENT.value,
                created_at=sent, next_attempt_at=sent, sent_at=sent,
                result_ts=f"{sent.timestamp():.6f}"))
    engine.dispose()
    return {"VIGIE_DATABASE_URL": sqlite_url, "VIGIE_TIMEZONE": "UTC",
            "SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}


def test_stats_and_report_keep_the_figures_of_purged_days(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    runner = CliRunner()
    month = f"{PUBLISHED:%Y-%m}"

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    def volumes(output: str) -> list[str]:
        # The answered share and the top authors need the posts themselves (README,
        # "Retention"): they go with them.
        lines, skipping = [], False
        for line in output.splitlines():
            skipping = line == "Top authors by reach" or (skipping and line.startswith("•"))
            # "From ... to <now>": the minute may turn between the two runs.
            if (line and not skipping and not line.startswith("Answered:")
                    and not line.startswith("From ")):
                lines.append(line)
        return lines

    before = run("stats", "--period", "30d")
    assert "12 mention" in before and "No mentions" not in before
    report_before = run("report", "--month", month, "--format", "html",
                        "--out", str(tmp_path / "before.html"))
    assert "(12 mention(s))" in report_before
    assert run("purge", "--older-than", "5").splitlines()[-1] == (
        "Purged 12 mention(s) and 2 other Slack message record(s) (digests, DMs, alerts, "
        "reports) older than 5 days.")
    after = run("stats", "--period", "30d")
    assert volumes(after) == volumes(before)
    assert "12 mention(s), 0.4 a day" in after and "Negative 4 (33%)" in after
    assert "Busiest hours (UTC)" in after and "(12)" in after
    report_after = run("report", "--month", month, "--format", "html",
                       "--out", str(tmp_path / "after.html"))
    assert "(12 mention(s))" in report_after
