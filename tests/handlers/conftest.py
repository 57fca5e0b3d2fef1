"""The real Bolt app on a local port, talking to the Slack stand-in, on SQLite (the
listeners' behaviour does not depend on the database; tests/e2e runs both)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import VigieApp, start_vigie
from tests.harness.slack_standin import SlackStandIn


@pytest.fixture
def vigie(sqlite_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie's web process, as `vigie web` builds it."""
    yield from start_vigie(sqlite_url, slack_standin)


def nth_response(vigie: VigieApp, count: int) -> dict[str, Any]:
    """The ``count``-th message the app sent to a response URL (waiting for it)."""
    vigie.standin.wait_until(lambda standin: len(standin.responses()) >= count, timeout=15)
    return vigie.standin.responses()[count - 1]
