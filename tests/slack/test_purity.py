"""The renderers are pure: a typed spec in, Block Kit or mrkdwn out. No renderer module
imports services, storage, handlers or the Slack SDK, and every module of ``bot/slack`` is
either such a renderer or one of the named I/O adapters."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import bot.slack

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = {"bolt_wsgi", "client", "home_publisher", "notifier", "oauth", "token_state", "users"}
"""The modules of bot/slack that talk to Slack or storage; every other one renders."""
IMPURE_PREFIXES = ("bot.services", "storage", "handlers", "sqlalchemy", "slack_sdk",
                   "slack_bolt", "httpx", "bot.runtime", "bot.app", "bot.config",
                   *(f"bot.slack.{name}" for name in ADAPTERS))


def _renderer_contract() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (pure,) = [c for c in contracts if c["name"].startswith("Slack renderers are pure")]
    return list(pure["source_modules"])


def _slack_modules() -> set[str]:
    return {info.name for info in pkgutil.iter_modules(bot.slack.__path__)}


def _imported_by(modules: list[str]) -> list[str]:
    """What importing ``modules`` in a fresh interpreter loads that a renderer must not."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({IMPURE_PREFIXES!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    return [name for name in result.stdout.strip().split(",") if name]


def test_every_slack_module_is_a_named_adapter_or_a_contracted_renderer() -> None:
    renderers = {name.removeprefix("bot.slack.") for name in _renderer_contract()}
    assert renderers.isdisjoint(ADAPTERS)
    assert _slack_modules() - ADAPTERS == renderers


def test_renderer_modules_import_nothing_from_services_storage_or_slack_sdk() -> None:
    assert _imported_by(_renderer_contract()) == []


def test_message_specs_import_nothing_from_services_slack_or_storage() -> None:
    names = [f"bot.messages.{info.name}" for info in pkgutil.iter_modules(
        [str(ROOT / "bot" / "messages")])]
    assert "bot.messages.delivery" in names
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "print(','.join(sorted(m for m in sys.modules if m.startswith("
            "('bot.services', 'bot.slack', 'storage', 'handlers', 'sqlalchemy', "
            "'slack_sdk', 'slack_bolt')))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.strip() == ""
