"""A push while another process holds the SQLite file locked is answered after one busy
timeout, not two (review of the webhook's 503).

The push waited the busy timeout (30 s) and failed, then recording the refusal in the
source's health waited a second one on the same lock: the sender heard 503 after a minute,
past many senders' own timeouts. The lock is real: a second connection's BEGIN EXCLUSIVE.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from tests.e2e.conftest import VigieApp, start_vigie
from tests.e2e.test_listening import admin
from tests.harness.slack_standin import SlackStandIn
from tests.harness.webhooks import webhook_from_answer, webhook_headers


@pytest.fixture
def vigie_sqlite(sqlite_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie's web app on a SQLite file."""
    yield from start_vigie(sqlite_url, slack_standin)


def _push(vigie: VigieApp, source_id: int, secret: str, post: str) -> httpx.Response:
    body = json.dumps([{"id": post, "url": f"https://hooks.example/{post}",
                        "text": f"acme {post}", "author": {"handle": "fan"},
                        "published_at": "2026-12-07T09:00:00Z"}]).encode()
    return httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                      headers=webhook_headers(secret, body), timeout=120)


def test_a_push_to_a_locked_sqlite_file_waits_for_the_lock_once(vigie_sqlite: VigieApp
                                                                ) -> None:
    vigie = vigie_sqlite
    admin(vigie, "watch add acme threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    engine = vigie.runtime.engine
    writes: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement == "BEGIN IMMEDIATE":
            writes.append(statement)

    holder = sqlite3.connect(str(make_url(str(engine.url)).database), isolation_level=None)
    event.listen(engine, "before_cursor_execute", count)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        refused = _push(vigie, source_id, secret, "p-1")
        holder.execute("COMMIT")
    finally:
        event.remove(engine, "before_cursor_execute", count)
        holder.close()
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "30"
    assert len(writes) == 1  # the push's own: nothing else waited on the lock

    stored = _push(vigie, source_id, secret, "p-1")
    assert stored.status_code == 200 and stored.json()["stored"] == 1, stored.text
