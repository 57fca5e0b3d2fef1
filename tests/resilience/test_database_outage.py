"""PostgreSQL refusing connections while Vigie runs (a restart, a failover, a partition).

The database is reached through a TCP relay on loopback that the test closes (every
connection cut, new ones refused) and reopens: the shared server keeps running. A push is
answered 503 with Retry-After (senders retry; the retry stores it once), a Slack command
says the database is unavailable, and the scheduler's poll job carries on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot.scheduler import build_scheduler
from storage import migrations
from storage.models import Mention
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually, start_vigie
from tests.e2e.test_listening import admin
from tests.harness.slack_standin import SlackStandIn
from tests.harness.tcp_relay import TcpRelay, tcp_relay
from tests.harness.webhooks import webhook_from_answer, webhook_headers

pytestmark = pytest.mark.postgres


@pytest.fixture
def relayed(postgres_database_factory: object, slack_standin: SlackStandIn
            ) -> Iterator[tuple[VigieApp, TcpRelay]]:
    """Vigie's web app on PostgreSQL through a relay the test can close."""
    url: str = postgres_database_factory()  # type: ignore[operator]
    migrations.upgrade(url)
    with tcp_relay(url) as relay:
        for vigie in start_vigie(relay.url(url), slack_standin):
            yield vigie, relay


def _push(vigie: VigieApp, source_id: int, secret: str, post: str) -> httpx.Response:
    body = json.dumps([{"id": post, "url": f"https://hooks.example/{post}",
                        "text": f"acme {post}", "author": {"handle": "fan"},
                        "published_at": "2026-12-07T09:00:00Z"}]).encode()
    return httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                      headers=webhook_headers(secret, body), timeout=60)


def _stored(vigie: VigieApp) -> list[str]:
    with vigie.runtime.sessions() as session:
        return sorted(session.scalars(select(Mention.external_id)))


def test_a_push_while_the_database_refuses_connections_is_answered_503_and_retried(
    relayed: tuple[VigieApp, TcpRelay],
) -> None:
    vigie, relay = relayed
    admin(vigie, "watch add acme threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    assert _push(vigie, source_id, secret, "p-1").status_code == 200

    relay.close()
    refused = _push(vigie, source_id, secret, "p-2")
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "30"
    assert refused.headers["Content-Type"].startswith("application/json")
    assert "nothing was stored" in refused.json()["error"]

    relay.open()
    retried = _push(vigie, source_id, secret, "p-2")
    assert retried.status_code == 200, retried.text
    assert retried.json()["stored"] == 1
    assert _stored(vigie) == ["p-1", "p-2"]


def test_a_command_while_the_database_refuses_connections_says_it_is_unavailable(
    relayed: tuple[VigieApp, TcpRelay],
) -> None:
    vigie, relay = relayed
    admin(vigie, "watch add acme threshold:0")
    relay.close()
    vigie.slack.slash_command("mentions", user_id=ADMIN_ID)
    eventually(lambda: bool(vigie.standin.responses()))
    (answer,) = [r.get("text", "") for r in vigie.standin.responses()]
    assert "database" in answer and "try again" in answer.lower(), answer
    assert "something went wrong" not in answer


def test_the_scheduler_poll_job_carries_on_while_the_database_refuses_connections(
    relayed: tuple[VigieApp, TcpRelay], caplog: pytest.LogCaptureFixture,
) -> None:
    vigie, relay = relayed
    scheduler = build_scheduler(vigie.runtime, blocking=False)
    poll = scheduler.get_job("poll")
    relay.close()
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        poll.func(*poll.args)  # logged by its failure streak, never raised
        relay.open()
        poll.func(*poll.args)
    said = [record.getMessage() for record in caplog.records if record.name == "bot.scheduler"]
    assert said[0].startswith("job poll failing: OperationalError"), said
    assert said[-1].startswith("job poll works again after 1 failures"), said
