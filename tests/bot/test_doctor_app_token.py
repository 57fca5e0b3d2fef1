"""`vigie doctor` checks SLACK_APP_TOKEN: its format, and a live apps.connections.open call
against the Slack stand-in (a URL is asked for, the socket is never opened)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.doctor import FAIL, OK, Check, run_checks
from storage import migrations
from tests.harness.constants import BOT_TOKEN
from tests.harness.slack_standin import SlackStandIn
from tests.harness.socket_mode import APP_TOKEN, SocketModeServer, token_of


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    migrations.upgrade(url, "head")
    return url


@pytest.fixture
def slack() -> Iterator[tuple[SlackStandIn, SocketModeServer]]:
    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as standin, \
            SocketModeServer() as socket:
        socket.attach(standin)
        yield standin, socket


def checks(db_url: str, standin: SlackStandIn, app_token: str = APP_TOKEN) -> dict[str, Check]:
    found = run_checks({"database_url": db_url, "slack_bot_token": BOT_TOKEN,
                        "slack_app_token": app_token, "slack_api_url": standin.base_url})
    return {check.name: check for check in found}


def test_a_good_app_token_passes_without_opening_the_socket(
        db_url: str, slack: tuple[SlackStandIn, SocketModeServer]) -> None:
    standin, socket = slack
    mode = checks(db_url, standin)["slack mode"]
    assert mode.status == OK, mode
    assert "apps.connections.open" in mode.detail
    call = standin.last("apps.connections.open")
    assert token_of(call.headers) == APP_TOKEN and "token" not in call.args
    assert socket.links == []  # a URL was issued; nobody connected to it
    assert socket.violations == []


def test_a_refused_app_token_says_how_to_get_a_new_one(
        db_url: str, slack: tuple[SlackStandIn, SocketModeServer]) -> None:
    standin, _ = slack
    standin.valid_tokens = frozenset({BOT_TOKEN})  # Slack does not know this app token
    mode = checks(db_url, standin)["slack mode"]
    assert mode.status == FAIL
    assert mode.detail.startswith("Slack refused SLACK_APP_TOKEN (invalid_auth)")
    assert "App-Level Tokens" in mode.detail and "connections:write" in mode.detail
    assert APP_TOKEN not in mode.detail


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"ok": False, "error": "missing_scope", "needed": "connections:write",
          "provided": "authorizations:read"},
         "SLACK_APP_TOKEN lacks the scope connections:write (it has: authorizations:read)"),
        ({"ok": False, "error": "not_allowed_token_type"},
         "SLACK_APP_TOKEN is not an app-level token (not_allowed_token_type)"),
        ({"ok": False, "error": "token_revoked"}, "Slack refused SLACK_APP_TOKEN (token_revoked)"),
        ({"ok": False, "error": "internal_error"}, "apps.connections.open failed (internal_error)"),
        ({"ok": True}, "apps.connections.open answered without a websocket URL"),
    ],
)
def test_each_refusal_has_its_fix(db_url: str, slack: tuple[SlackStandIn, SocketModeServer],
                                  answer: dict[str, Any], expected: str) -> None:
    standin, _ = slack
    standin.on("apps.connections.open", lambda _args: answer)
    mode = checks(db_url, standin)["slack mode"]
    assert mode.status == FAIL
    assert mode.detail.startswith(expected), mode.detail


def test_a_bot_token_pasted_as_app_token_is_named(
        db_url: str, slack: tuple[SlackStandIn, SocketModeServer]) -> None:
    standin, _ = slack
    found = run_checks({"database_url": db_url, "slack_bot_token": BOT_TOKEN,
                        "slack_app_token": BOT_TOKEN, "slack_api_url": standin.base_url})
    assert [check.status for check in found] == [FAIL]
    line = found[0].detail
    assert line.startswith("SLACK_APP_TOKEN: must be an app-level token starting with xapp-")
    assert "that is the bot token, it goes in SLACK_BOT_TOKEN" in line
    assert BOT_TOKEN not in line.replace("xoxb-:", "")
    assert standin.calls("apps.connections.open") == []


def test_slack_unreachable_is_reported(db_url: str) -> None:
    with SlackStandIn() as standin:
        url = standin.base_url  # the port is free again once the stand-in stopped
    mode = run_checks({"database_url": db_url, "slack_bot_token": BOT_TOKEN,
                       "slack_app_token": APP_TOKEN, "slack_api_url": url})
    by_name = {check.name: check for check in mode}
    assert by_name["slack mode"].status == FAIL
    assert by_name["slack mode"].detail.startswith(f"cannot reach {url}")
