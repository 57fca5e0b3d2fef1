"""`vigie workspace erase` from the terminal: refused for a workspace Vigie is still
installed in unless forced, shows what it deletes and asks first unless --yes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.bot.test_cli import VIGIE, _env, vigie

CONSOLE = "T0CONSOLE"


def erase(tmp_path: Path, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGIE, "workspace", "erase", *args], cwd=tmp_path,
                          env=_env(tmp_path), input=answer, capture_output=True, text=True,
                          timeout=120, check=False)


def test_erase_asks_first_and_refuses_an_installed_workspace(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel",
                 "C0NEWS120").returncode == 0
    unknown = erase(tmp_path, "--team", "T0NOBODY", "--yes")
    assert unknown.returncode == 2 and "No workspace has the team id T0NOBODY" in unknown.stderr
    installed = erase(tmp_path, "--team", CONSOLE, "--yes")
    assert installed.returncode == 2
    assert "Vigie is still installed in T0CONSOLE" in installed.stderr
    assert "--force" in installed.stderr and "watches" not in installed.stdout
    declined = erase(tmp_path, "--team", CONSOLE, "--force", answer="n\n")
    assert declined.returncode == 1, declined.stderr
    assert "Erasing workspace T0CONSOLE deletes" in declined.stdout
    assert "  watches: 1" in declined.stdout and "  workspaces: 1" in declined.stdout
    assert "Nothing was deleted." in declined.stdout
    assert "acme" in vigie(tmp_path, "watch", "list").stdout
    done = erase(tmp_path, "--team", CONSOLE, "--force", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Workspace T0CONSOLE erased" in done.stdout
    assert "acme" not in vigie(tmp_path, "watch", "list").stdout
