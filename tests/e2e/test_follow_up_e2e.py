"""A customer writes again in a case the team answered, driven as Slack and a webhook
source send it: the card's Draft reply answers the follow-up (with a new LLM suggestion),
the approved reply is posted in answer to the follow-up (Mastodon stand-in), `/cm mentions
status:new` lists the case once, and the follow-up's id acts on the case."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.services.home import home_summary
from bot.services.ingest import do_ingest
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.schedule import channel_config
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention, Watch
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_listening import admin
from tests.e2e.test_llm_drafting import FakeLLM, vigie_llm  # noqa: F401 (fixture)
from tests.e2e.test_posting import approve, mastodon_setup
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
    assert "saved" in vigie.slack.command_answer(f"draft 1 {SENT}", user_id=USER_ID
                                                 )["text"]
    grant(vigie, OTHER_USER_ID, "approver")
    vigie.slack.command_answer("approve 1 v1", user_id=OTHER_USER_ID)
    vigie.slack.command_answer("replied 1", user_id=USER_ID)
    assert status(vigie, 1) == "replied"
    _push(vigie, source, secret, [_post(
        "p2", "@acme the new parcel is not here either, tracking says returned to sender!",
        parent="p1", minutes=5)])
    settle(vigie)
    assert status(vigie, 1) == "new" and status(vigie, 2) == "follow_up"


def test_draft_reply_on_a_reopened_case_answers_the_follow_up(
        vigie_llm: VigieApp, httpserver: HTTPServer) -> None:  # noqa: F811
    vigie = vigie_llm
    llm = FakeLLM(httpserver, "Hi ana, so sorry: we are sending a refund today.")
    _answered_then_again(vigie)
    cards = [c for c in vigie.standin.calls("chat.postMessage", ok=True)
             if c.args.get("channel") == CHANNEL_ID and not c.args.get("thread_ts")]
    assert len(cards) == 1  # the follow-up has no card of its own
    vigie.slack.block_action("vigie.draft", message_ts=cards[0].response["ts"],
                             user_id=USER_ID)
    opened = vigie.standin.wait_for("views.open", timeout=15)[-1].args["view"]
    shown = json.dumps(opened["blocks"])
    assert "returned to sender" in shown and "never arrived" not in shown
    assert "The customer wrote again" in shown
    (field,) = [b for b in opened["blocks"] if b["type"] == "input"]
    assert SENT not in str(field["element"].get("initial_value"))
    # A new suggestion is asked for the follow-up, with the conversation before it.
    vigie.standin.wait_for("views.update", timeout=15)
    prompt = llm.prompts[-1][-1]["content"]
    assert "returned to sender" in prompt and SENT in prompt
    assert "so sorry: we are sending a refund" in json.dumps(
        vigie.standin.calls("views.update")[-1].args["view"])


def test_a_follow_up_is_listed_and_worked_through_its_case(vigie: VigieApp) -> None:
    _answered_then_again(vigie)
    listed = vigie.slack.command_answer("mentions status:new", user_id=USER_ID)
    shown = json.dumps(listed)
    assert "#1" in shown and "#2" not in shown and "returned to sender" not in shown
    answer = vigie.slack.command_answer("draft 2 So sorry, a refund today.", user_id=USER_ID
                                        )["text"]
    assert "#1" in answer and "#2 is a follow-up" in answer
    assert status(vigie, 1) == "awaiting_approval" and status(vigie, 2) == "follow_up"
    assert "#2 is a follow-up" in vigie.slack.command_answer(
        f"assign 2 <@{USER_ID}|a>", user_id=ADMIN_ID)["text"]


def test_the_reply_to_a_reopened_case_answers_the_follow_up(
        vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    approve(vigie, mention_id)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    with vigie.runtime.sessions() as session:
        first = session.get(Mention, mention_id)
        assert first is not None
        parent_uri, watch_id = first.external_id, first.watch_id
    again = fake.add_status(text="@brand still nothing, where is my order?",
                            in_reply_to_id=fake.created[0])
    with transaction(vigie.runtime.sessions) as session:
        watch = session.get(Watch, watch_id)
        assert watch is not None
        do_ingest(session, watch, None, [FetchedMention(
            network="mastodon", external_id=again["uri"], url=again["url"],
            author=FetchedAuthor("alice"), text="@brand still nothing, where is my order?",
            published_at=datetime.now(UTC), parent_external_id=parent_uri)],
            now=datetime.now(UTC))
    assert status(vigie, mention_id) == "new"
    drafted = vigie.slack.command_answer(f"draft {mention_id} So sorry, a refund today.")
    assert "saved" in drafted["text"], drafted
    vigie.slack.command_answer(f"approve {mention_id} v2 confirm", user_id=OTHER_USER_ID)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    assert len(fake.created) == 2
    assert fake.statuses[fake.created[1]]["in_reply_to_id"] == again["id"]


def test_a_reopened_case_that_never_had_a_card_gets_one_and_is_open_work(
        vigie: VigieApp) -> None:
    """A post below the watch's threshold waits for the digest, no card; the team answers
    it by hand; the customer writes again, below the threshold too. The case reopens: its
    first mention waits on the brand again, so its card goes out, and App Home and the
    digest count it as open work (alerted as a card), where it was in no list at all."""
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:95 acme")
    source, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    _push(vigie, source, secret, [_post("p1", "does acme ship to canada?", minutes=120)])
    settle(vigie)
    assert _cards(vigie) == []
    vigie.slack.command_answer("replied 1", user_id=USER_ID)
    assert status(vigie, 1) == "replied"
    _push(vigie, source, secret, [_post("p2", "and to mexico?", parent="p1", minutes=5)])
    settle(vigie)
    assert status(vigie, 1) == "new" and status(vigie, 2) == "follow_up"
    with vigie.runtime.sessions() as session:
        assert max(m.priority for m in session.scalars(select(Mention))) < 95
        workspace_id = session.scalars(select(Watch.workspace_id)).one()
    cards = _cards(vigie)
    assert len(cards) == 1 and "does acme ship to canada" in json.dumps(cards[0].args)
    home = home_summary(vigie.runtime.sessions, workspace_id, USER_ID,
                        datetime.now(UTC))
    assert home.counts == {"new": 1}
    with vigie.runtime.sessions() as session:
        digest = build_digest_report(session, channel_config(session, workspace_id,
                                                             CHANNEL_ID),
                                     end=datetime.now(UTC), now=datetime.now(UTC))
    assert digest.open_by_status == {"new": 1}


def _cards(vigie: VigieApp, channel: str = CHANNEL_ID) -> list[Any]:
    return [c for c in vigie.standin.calls("chat.postMessage", ok=True)
            if c.args.get("channel") == channel and not c.args.get("thread_ts")]


ROUTED = "C07SHIPPING1"


def test_a_mention_reopened_by_hand_that_never_had_a_card_gets_one_where_its_topic_goes(
        vigie: VigieApp) -> None:
    """A post below the watch's threshold waits for the digest, no card; someone ignores
    it, then reopens it by hand (`/cm reopen`). It waits on the brand again: its card goes
    out, to the channel its topic's route sends the watch's alerts to, and App Home counts
    it as open work, where it was in no list at all."""
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:95 acme")
    assert "delivery" in admin(vigie, f"watch route acme topic:delivery <#{ROUTED}|ship>")
    source, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    _push(vigie, source, secret, [_post("p1", "acme: my parcel never arrived", minutes=120)])
    settle(vigie)
    assert _cards(vigie, ROUTED) == [] and _cards(vigie) == []
    vigie.slack.command_answer("ignore 1", user_id=USER_ID)
    assert status(vigie, 1) == "ignored"
    vigie.slack.command_answer("reopen 1", user_id=USER_ID)
    assert status(vigie, 1) == "new"
    settle(vigie)
    with vigie.runtime.sessions() as session:
        assert session.scalars(select(Mention.priority)).one() < 95
        workspace_id = session.scalars(select(Watch.workspace_id)).one()
    cards = _cards(vigie, ROUTED)
    assert len(cards) == 1 and "my parcel never arrived" in json.dumps(cards[0].args)
    assert _cards(vigie) == []
    home = home_summary(vigie.runtime.sessions, workspace_id, USER_ID, datetime.now(UTC))
    assert home.counts == {"new": 1}
