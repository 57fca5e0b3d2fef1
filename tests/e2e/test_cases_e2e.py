"""`/cm account` and `/cm show` with a conversation, as Slack sends them (the stand-in
checks every Block Kit payload)."""

from __future__ import annotations

from sqlalchemy import select

from bot.services.ingest import do_ingest
from bot.services.watches import get_watch_by_name
from storage.db import transaction
from storage.models import Mention
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_listening import admin
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import CHANNEL_ID
from tests.services.test_cases import BRAND_REPLY, FOLLOW_UP, NOW, ROOT, x_batch


def test_account_commands(vigie: VigieApp) -> None:
    assert "No brand accounts yet" in admin(vigie, "account list")
    added = admin(vigie, "account add x @AcmeCare")
    assert "@acmecare on x is now one of the brand's accounts" in added
    assert "already one of the brand's accounts" in admin(vigie, "account add x acmecare")
    assert "`myspace` is not a network" in admin(vigie, "account add myspace @acme")
    assert "write it like `@acme@mastodon.social`" in admin(vigie, "account add mastodon @acme")
    assert "is not a x handle" in admin(vigie, "account add x <@U0123ABCD>")
    assert "Usage" in admin(vigie, "account add x")
    assert "@acmecare" in admin(vigie, "account list")
    refused = vigie.slack.command_answer("account add x @other")
    assert "You need the *admin* role" in refused["text"]
    assert "removed" in admin(vigie, "account remove x @acmecare")
    assert "is not one of the brand's accounts" in admin(vigie, "account remove x @acmecare")


def test_show_lists_the_whole_conversation_in_order(vigie: VigieApp) -> None:
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:0")
    admin(vigie, "account add x @AcmeCare")
    workspace_id = vigie.runtime.workspaces.ensure("T07VIGIE01").id
    for batch in ([ROOT, BRAND_REPLY], [FOLLOW_UP]):
        with transaction(vigie.runtime.sessions) as session:
            do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                      x_batch(*batch), now=NOW)
    with vigie.runtime.sessions() as session:
        follow_up = session.scalar(select(Mention.id).where(Mention.external_id == "1003"))
    body = vigie.slack.command_answer(f"show {follow_up}", user_id=ADMIN_ID)
    assert validate_blocks(body["blocks"], "message") == []
    shown = next(block["text"]["text"] for block in body["blocks"]
                 if "Conversation (3 posts, oldest first)" in str(block))
    assert shown.index("two weeks now") < shown.index("DM us") < shown.index("still nothing")
    assert "@acmecare (brand)" in shown
    assert "&lt;!date" not in shown and shown.count("|Open post>") == 3
    # Through the outbox: the case's card (the follow-up made it urgent again), then the
    # follow-up in the card's thread; no card for the follow-up itself.
    vigie.runtime.outbox.flush(wait=True, limit=100)
    posts = vigie.standin.calls("chat.postMessage")
    cards = [c for c in posts
             if not c.args.get("thread_ts") and c.args.get("channel") == CHANNEL_ID]
    threads = [c for c in posts if c.args.get("thread_ts")]
    assert len(cards) == 1 and "two weeks now" in str(cards[0].args["blocks"])
    assert any("Follow-up" in str(c.args.get("text")) and "still nothing" in str(
        c.args.get("text")) for c in threads)
