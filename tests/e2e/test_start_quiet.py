"""Starting the HTTP app logs nothing a user must wonder about."""

from __future__ import annotations

import logging

import pytest

from bot.app import build_app
from bot.config import load_settings
from bot.runtime import build_runtime
from tests.harness.constants import BOT_TOKEN, SIGNING_SECRET
from tests.harness.slack_standin import SlackStandIn


def test_http_start_has_no_token_will_be_unused_warning(
    sqlite_url: str, slack_standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)  # as `.env` sets it; Bolt reads it too
    settings = load_settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                             slack_api_url=slack_standin.base_url, database_url=sqlite_url)
    runtime = build_runtime(settings)
    try:
        with caplog.at_level(logging.WARNING):
            build_app(settings, runtime)
    finally:
        runtime.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
