"""The Vigie HTTP app, served on a local port, talking to the Slack stand-in."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from bot.app import build_app
from bot.config import load_settings
from bot.runtime import Runtime, build_runtime
from bot.slack.users import AccountCache
from bot.web import build_wsgi_app
from tests.harness.app_server import serve_wsgi
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, SIGNING_SECRET, USER_ID
from tests.harness.slack_requests import SlackSender
from tests.harness.slack_standin import SlackStandIn

ADMIN_ID = "U07ADMIN01"


@dataclass
class VigieApp:
    """A running Vigie web process and what a test needs to drive it."""

    url: str
    runtime: Runtime
    standin: SlackStandIn
    slack: SlackSender


def start_vigie(db_url: str, standin: SlackStandIn, *, accounts: AccountCache | None = None,
                **overrides: object) -> Iterator[VigieApp]:
    """Build settings, runtime, Bolt app and WSGI app exactly as `vigie web` does
    (``accounts``: the cache of Slack's answers about users, e.g. on a clock the test
    moves)."""
    settings = load_settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
        slack_api_url=standin.base_url, database_url=db_url, admins=[ADMIN_ID],
        **overrides,
    )
    runtime = build_runtime(settings, accounts=accounts)
    bolt_app = build_app(settings, runtime)
    try:
        with serve_wsgi(build_wsgi_app(runtime, bolt_app)) as url:
            sender = SlackSender(url, standin=standin, user_id=USER_ID, channel_id=CHANNEL_ID)
            yield VigieApp(url, runtime, standin, sender)
    finally:
        runtime.close()


@pytest.fixture
def vigie(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie on SQLite and on PostgreSQL."""
    yield from start_vigie(db_url, slack_standin)


@pytest.fixture
def vigie_sqlite(sqlite_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie on SQLite only (for tests where the database does not matter)."""
    yield from start_vigie(sqlite_url, slack_standin)


def eventually(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``predicate`` until true (background work such as posting a reply)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
