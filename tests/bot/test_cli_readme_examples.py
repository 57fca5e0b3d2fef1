"""The README's terminal examples run in the order a reader follows them: the topic route
it shows goes to another channel than the watch it created earlier (a route to the watch's
own channel is refused)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.bot.test_cli import REPO, vigie


def _example(pattern: str) -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(pattern, readme, re.MULTILINE)
    assert found is not None, pattern
    return shlex.split(found.group(1))[1:]  # without "vigie"


def test_the_routing_example_follows_the_watch_example(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    for command in (_example(r"^\s*(vigie watch add acme .*)$"),
                    _example(r"`(vigie watch route acme [^`]*)`")):
        result = vigie(tmp_path, *command)
        assert result.returncode == 0, (command, result.stderr)
