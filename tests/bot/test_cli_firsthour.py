"""The `vigie` command as a newcomer meets it: real processes on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_cli import vigie


def _ready(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0


def test_watch_test_tries_a_query_on_stored_mentions(tmp_path: Path) -> None:
    _ready(tmp_path)
    tried = vigie(tmp_path, "watch", "test", "acme AND NOT (jobs OR hiring)", "--since", "7d")
    assert tried.returncode == 0, tried.stderr
    assert tried.stdout.splitlines()[:2] == [
        "Query: mentions containing acme, excluding jobs or hiring",
        "0 of 0 mention(s) published in the last 7d match.",
    ]
    bad = vigie(tmp_path, "watch", "test", "acme lang:xx")
    assert bad.returncode == 2 and "unknown language code 'xx'" in bad.stderr
    assert "Traceback" not in bad.stderr
