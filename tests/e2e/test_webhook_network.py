"""A webhook's pushed items keep a network label of their own: whoever holds one source's
secret cannot push posts as X (or any network Vigie reads itself), so cannot pose as the
brand's account to close a real customer's case, nor rewrite an X author's reach."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.services.ingest import do_ingest
from bot.services.watches import get_watch_by_name
from storage.db import transaction
from storage.models import Author, Mention, SourceRow
from storage.models_cases import CasePost
from tests.e2e.conftest import VigieApp
from tests.e2e.test_listening import admin
from tests.harness.constants import CHANNEL_ID
from tests.harness.webhooks import webhook_from_answer, webhook_headers
from tests.services.test_cases import NOW, ROOT, x_batch


def _push(vigie: VigieApp, source: int, secret: str, items: list[dict[str, Any]]
          ) -> httpx.Response:
    body = json.dumps(items).encode()
    return httpx.post(f"{vigie.url}/ingest/{source}", content=body,
                      headers=webhook_headers(secret, body))


def _item(post_id: str, handle: str, **extra: Any) -> dict[str, Any]:
    return {"id": post_id, "url": f"https://forum.example/t/{post_id}", "text": "ok",
            "author": {"handle": handle, "name": "Acme Care", "followers": 5},
            "published_at": datetime.now(UTC).isoformat(), **extra}


def _real_x_complaint(vigie: VigieApp) -> tuple[int, str]:
    """Watch acme holds a real X complaint (by @ana_r, 80 followers) to the brand's
    declared X account; watch partnerfeed has a webhook. The complaint's id and X id."""
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:0")
    admin(vigie, f"watch add partnerfeed <#{CHANNEL_ID}|feed> threshold:100")
    admin(vigie, "account add x @AcmeCare")
    workspace_id = vigie.runtime.workspaces.ensure("T07VIGIE01").id
    with transaction(vigie.runtime.sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                  x_batch(ROOT), now=NOW)
    with vigie.runtime.sessions() as session:
        mention = session.scalars(select(Mention).where(Mention.network == "x")).one()
        assert mention.status == "new"
        return mention.id, mention.external_id


@pytest.mark.parametrize("label", ["x", "twitter", "mastodon", "bluesky", "rss"])
def test_a_webhook_cannot_pose_as_the_brand_on_a_network_vigie_reads(
        vigie_sqlite: VigieApp, label: str) -> None:
    vigie = vigie_sqlite
    complaint, x_id = _real_x_complaint(vigie)
    source, secret = webhook_from_answer(admin(vigie, "source add webhook partnerfeed"))
    spoof = _item("999999", "AcmeCare", network=label, parent_id=x_id)
    answer = _push(vigie, source, secret, [spoof])
    assert answer.status_code == 400, answer.text
    assert "item 0: network" in answer.json()["error"]
    assert "a network Vigie reads itself" in answer.json()["error"]
    # Nor as the customer: a follow-up in their case, or their name and reach rewritten.
    customer = _item("1001", "ana_r", network=label, parent_id=x_id)
    assert _push(vigie, source, secret, [customer]).status_code == 400
    with vigie.runtime.sessions() as session:
        mention = session.get(Mention, complaint)
        assert mention is not None and mention.status == "new"
        assert mention.first_response_at is None
        assert session.scalars(select(CasePost.external_id)).all() == []
        authors = session.execute(select(Author.network, Author.handle, Author.name,
                                         Author.followers)).all()
        assert [tuple(a) for a in authors] == [("x", "@ana_r", "Ana", 80)]
        assert session.scalars(select(Mention.external_id)).all() == [x_id]


def test_a_webhook_labelled_x_pushes_under_its_own_label(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    complaint, x_id = _real_x_complaint(vigie)
    refused = admin(vigie, "source add webhook partnerfeed network=x")
    assert "a network Vigie reads itself" in refused, refused
    # A source labelled so before the rule (its row written directly): its items that give
    # no network of their own are the webhook's, and the brand's handle means nothing there.
    source, secret = webhook_from_answer(admin(vigie, "source add webhook partnerfeed"))
    with transaction(vigie.runtime.sessions) as session:
        row = session.get(SourceRow, source)
        assert row is not None
        row.config = {**row.config, "network": "x"}
    answer = _push(vigie, source, secret, [_item("999999", "AcmeCare", parent_id=x_id)])
    assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    with vigie.runtime.sessions() as session:
        mention = session.get(Mention, complaint)
        assert mention is not None and mention.status == "new"
        pushed = session.scalars(select(Mention).where(Mention.external_id == "999999")).one()
        assert pushed.network == "webhook"
        assert session.execute(select(Author.followers).where(
            Author.network == "x")).scalar_one() == 80


def test_a_legitimate_push_is_stored_under_its_labels(vigie_sqlite: VigieApp) -> None:
    # (A customer's follow-up through a webhook joins its case: test_follow_up_e2e.)
    vigie = vigie_sqlite
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:0")
    added = admin(vigie, "source add webhook acme network=zendesk")
    source, secret = webhook_from_answer(added)
    answer = _push(vigie, source, secret, [
        _item("t-1", "ana", text="acme my order never came"),
        _item("f-1", "bob", network="forum", text="acme is fine"),
        _item("f-2", "ana", network="forum", text="acme still nothing"),
    ])
    assert answer.status_code == 200 and answer.json()["stored"] == 3, answer.text
    with vigie.runtime.sessions() as session:
        stored = dict(session.execute(select(Mention.external_id, Mention.network)).tuples().all())
        handles = set(session.execute(select(Author.network, Author.handle)).tuples().all())
    assert stored == {"t-1": "zendesk", "f-1": "forum", "f-2": "forum"}
    assert handles == {("zendesk", "ana"), ("forum", "bob"), ("forum", "ana")}


def _status(vigie: VigieApp, external_id: str) -> str:
    with vigie.runtime.sessions() as session:
        return session.scalars(select(Mention.status).where(
            Mention.external_id == external_id)).one()


def test_a_webhook_joins_only_the_conversations_it_pushed(vigie_sqlite: VigieApp) -> None:
    # Two webhooks share the default label: the one of watch partnerfeed names, as parent,
    # a post the webhook of watch acme pushed, which the team answered.
    vigie = vigie_sqlite
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:0")
    admin(vigie, f"watch add partnerfeed <#{CHANNEL_ID}|feed> threshold:100")
    ours, our_secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    theirs, their_secret = webhook_from_answer(admin(vigie, "source add webhook partnerfeed"))
    assert _push(vigie, ours, our_secret, [
        _item("p1", "ana", text="@acme my order never came")]).json()["stored"] == 1
    assert "replied" in admin(vigie, "replied 1")
    assert _status(vigie, "p1") == "replied"
    pushed = _push(vigie, theirs, their_secret, [
        _item("p2", "ana", text="@acme still nothing", parent_id="p1"),
        # nor through a copy of the parent in its own batch
        _item("p1", "ana", text="@acme my order never came"),
        _item("p3", "ana", text="@acme still nothing", parent_id="p1")])
    assert pushed.status_code == 200, pushed.text
    assert _status(vigie, "p1") == "replied"
    assert _status(vigie, "p2") != "follow_up" and _status(vigie, "p3") != "follow_up"
    with vigie.runtime.sessions() as session:
        assert session.scalars(select(CasePost.external_id)).all() == []
    # The webhook that pushed the post still carries its conversation.
    assert _push(vigie, ours, our_secret, [
        _item("p4", "ana", text="@acme still nothing", parent_id="p1")]).json()["stored"] == 1
    assert (_status(vigie, "p1"), _status(vigie, "p4")) == ("new", "follow_up")
