"""A customer writes again in a case the team answered, driven as Slack and a webhook
source send it: `/cm mentions status:new` lists the case once, and the follow-up's id acts
on the case."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_listening import admin
from tests.e2e.test_workflow import grant, settle, status
from tests.harness.constants import CHANNEL_ID, OTHER_USER_ID, USER_ID
from tests.harness.webhooks import webhook_from_answer, webhook_headers

SENT = "Sorry ana, a new parcel ships today with tracking."


def _push(vigie: VigieApp, source: int, secret: str, items: list[dict[str, Any]]) -> None:
    body = json.dumps(items).encode()
    response = httpx.post(f"{vigie.url}/ingest/{source}", content=body,
                          headers=webhook_headers(secret, body))
    assert response.status_code in {200, 202}, response.text


def _post(post_id: str, text: str, *, parent: str | None = None, minutes: int = 30
          ) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": post_id, "url": f"https://forum.example/t/{post_id}", "text": text,
        "author": {"handle": "ana", "followers": 1200},
        "published_at": (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()}
    if parent:
        item["parent_id"] = parent
    return item


def _answered_then_again(vigie: VigieApp) -> None:
    """Mention #1 answered through Vigie, then the customer's follow-up (#2)."""
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:40 acme")
    source, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    _push(vigie, source, secret, [_post("p1", "@acme my order 1234 never arrived, where is "
                                        "it?", minutes=120)])
    settle(vigie)
    assert "saved" in vigie.slack.slash_command(f"draft 1 {SENT}", user_id=USER_ID
                                                ).json()["text"]
    grant(vigie, OTHER_USER_ID, "approver")
    vigie.slack.slash_command("approve 1 v1", user_id=OTHER_USER_ID)
    vigie.slack.slash_command("replied 1", user_id=USER_ID)
    assert status(vigie, 1) == "replied"
    _push(vigie, source, secret, [_post(
        "p2", "@acme the new parcel is not here either, tracking says returned to sender!",
        parent="p1", minutes=5)])
    settle(vigie)
    assert status(vigie, 1) == "new" and status(vigie, 2) == "follow_up"


def test_a_follow_up_is_listed_and_worked_through_its_case(vigie: VigieApp) -> None:
    _answered_then_again(vigie)
    listed = vigie.slack.slash_command("mentions status:new", user_id=USER_ID).json()
    shown = json.dumps(listed)
    assert "#1" in shown and "#2" not in shown and "returned to sender" not in shown
    answer = vigie.slack.slash_command("draft 2 So sorry, a refund today.", user_id=USER_ID
                                       ).json()["text"]
    assert "#1" in answer and "#2 is a follow-up" in answer
    assert status(vigie, 1) == "awaiting_approval" and status(vigie, 2) == "follow_up"
    assert "#2 is a follow-up" in vigie.slack.slash_command(
        f"assign 2 <@{USER_ID}|a>", user_id=ADMIN_ID).json()["text"]

