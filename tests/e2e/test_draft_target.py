"""A draft answers the customer post it was written for, through the HTTP app, the Slack
stand-in and a Mastodon stand-in, on SQLite and PostgreSQL: when the customer writes again
in the case after the draft was saved, the card's Approve button queues nothing, tells the
approver (quoting the new post) and leaves the draft pending; saved again, it answers the
new post. A draft with no follow-up, and one saved before drafts kept their post, are
approved and posted as before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from sqlalchemy import select, update

from bot.services.ingest import do_ingest
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Approval, Draft, Mention, Watch
from storage.models_replies import ReplyPost
from tests.e2e.conftest import VigieApp, eventually
from tests.e2e.test_approval_binding import approve_button, next_response
from tests.e2e.test_posting import mastodon_setup
from tests.e2e.test_workflow import card, grant, settle, status
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import OTHER_USER_ID
from tests.publishers.fakes import FakeMastodon

WRITTEN = "Sorry, we are looking into your order now."
AGAIN = "@brand never mind, it just arrived! But the box was open <b>"


def _draft(vigie: VigieApp, mention_id: int, version: int) -> None:
    saved = vigie.slack.command_answer(f"draft {mention_id} {WRITTEN}")
    assert f"Draft v{version} saved" in saved["text"], saved


def _writes_again(vigie: VigieApp, fake: FakeMastodon, mention_id: int) -> dict[str, Any]:
    """The customer's follow-up to the mention, as a poll stores it; the status."""
    with vigie.runtime.sessions() as session:
        first = session.get_one(Mention, mention_id)
        parent_uri, watch_id = first.external_id, first.watch_id
    again = fake.add_status(text=AGAIN)
    with transaction(vigie.runtime.sessions) as session:
        watch = session.get_one(Watch, watch_id)
        do_ingest(session, watch, None, [FetchedMention(
            network="mastodon", external_id=again["uri"], url=again["url"],
            author=FetchedAuthor("alice"), text=AGAIN, published_at=datetime.now(UTC),
            parent_external_id=parent_uri)], now=datetime.now(UTC))
    settle(vigie)
    return again


def _click_approve(vigie: VigieApp, mention_id: int, version: int) -> None:
    """The approver clicks Approve on the card, which shows draft ``version``."""
    seen = card(vigie, mention_id)
    assert approve_button(seen["blocks"])["value"].startswith(f"{mention_id}:v{version}:")
    vigie.slack.block_action("vigie.approve", message=seen, user_id=OTHER_USER_ID)


def _refused_on_card(vigie: VigieApp, mention_id: int, version: int) -> dict[str, Any]:
    """The approver clicks Approve on the card; Vigie's answer to the click."""
    count = len(vigie.standin.responses())
    _click_approve(vigie, mention_id, version)
    return next_response(vigie, count)


def _replies(vigie: VigieApp) -> list[str | None]:
    with vigie.runtime.sessions() as session:
        return list(session.scalars(select(ReplyPost.target_external_id)))


def test_a_draft_written_before_the_customer_wrote_again_is_not_posted_to_the_new_post(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    grant(vigie, OTHER_USER_ID, "approver")
    _draft(vigie, mention_id, 1)
    settle(vigie)
    again = _writes_again(vigie, fake, mention_id)
    assert status(vigie, mention_id) == "awaiting_approval"

    refused = _refused_on_card(vigie, mention_id, 1)
    assert refused["response_type"] == "ephemeral" and refused["replace_original"] is False
    text = refused["text"]
    assert text.startswith("Nothing was approved: the customer wrote again")
    assert "after draft v1 was written" in text and "*Draft reply*" in text
    assert "it just arrived! But the box was open &lt;b&gt;" in text  # quoted, escaped
    assert "<b>" not in text and validate_blocks(refused.get("blocks") or [], "message") == []
    with vigie.runtime.sessions() as session:
        assert session.scalars(select(Approval)).all() == []
    assert _replies(vigie) == [] and status(vigie, mention_id) == "awaiting_approval"
    # The refusal is the same on every click until the draft is saved again.
    assert _refused_on_card(vigie, mention_id, 1)["text"] == text

    # Saved again, unchanged (its author's words: the approver may still approve it), the
    # draft answers the new post, and the reply goes there.
    _draft(vigie, mention_id, 2)
    settle(vigie)
    with vigie.runtime.sessions() as session:
        pinned = session.scalars(select(Draft.target_external_id).order_by(Draft.version))
        assert list(pinned) == [_first_uri(vigie, mention_id), again["uri"]]
    _click_approve(vigie, mention_id, 2)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    assert _replies(vigie) == [again["uri"]]
    assert len(fake.created) == 1 and fake.statuses[fake.created[0]]["in_reply_to_id"] == (
        again["id"])


def _first_uri(vigie: VigieApp, mention_id: int) -> str:
    with vigie.runtime.sessions() as session:
        return session.get_one(Mention, mention_id).external_id


def test_a_follow_up_that_came_while_the_editor_was_open_is_not_what_the_draft_answers(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    """The editor showed the first post; the customer wrote again while the agent typed:
    the draft they submit answers the post they saw, so approving it is refused."""
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    grant(vigie, OTHER_USER_ID, "approver")
    vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    assert "Is @brand down again?" in str(opened.args["view"]["blocks"])
    again = _writes_again(vigie, fake, mention_id)
    (field,) = [b for b in opened.args["view"]["blocks"] if b["type"] == "input"]
    sent = vigie.slack.view_submission(view_id=opened.response["view"]["id"], values={
        field["block_id"]: {"text": WRITTEN}})
    assert sent.status_code == 200 and not sent.content
    settle(vigie)
    with vigie.runtime.sessions() as session:
        assert session.scalars(select(Draft.target_external_id)).one() == _first_uri(
            vigie, mention_id)
    refused = _refused_on_card(vigie, mention_id, 1)
    assert refused["text"].startswith("Nothing was approved: the customer wrote again")
    assert _replies(vigie) == []
    # The editor opened again shows the new post; saved from it, the draft answers it.
    vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"])
    vigie.standin.wait_until(lambda standin: len(standin.calls("views.open")) > 1)
    reopened = vigie.standin.calls("views.open")[-1]
    assert "it just arrived" in str(reopened.args["view"]["blocks"])
    vigie.slack.view_submission(view_id=reopened.response["view"]["id"])
    settle(vigie)
    _click_approve(vigie, mention_id, 2)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    assert _replies(vigie) == [again["uri"]]


def test_the_french_refusal_says_the_customer_wrote_again(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    vigie.standin.set_user(OTHER_USER_ID, locale="fr-FR")
    grant(vigie, OTHER_USER_ID, "approver")
    _draft(vigie, mention_id, 1)
    _writes_again(vigie, fake, mention_id)
    answer = vigie.slack.command_answer(f"approve {mention_id} v1 confirm",
                                        user_id=OTHER_USER_ID)
    assert answer["text"].startswith("Rien n'a été validé : le client a écrit de nouveau")
    assert "« @brand never mind, it just arrived!" in answer["text"]
    assert _replies(vigie) == [] and status(vigie, mention_id) == "awaiting_approval"


def test_a_draft_with_no_follow_up_is_posted_to_the_post_it_answers(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    grant(vigie, OTHER_USER_ID, "approver")
    _draft(vigie, mention_id, 1)
    settle(vigie)
    first = _first_uri(vigie, mention_id)
    with vigie.runtime.sessions() as session:
        assert session.scalars(select(Draft.target_external_id)).one() == first
    _click_approve(vigie, mention_id, 1)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    assert _replies(vigie) == [first] and len(fake.created) == 1


def test_a_draft_saved_before_drafts_kept_their_post_is_approved_as_before(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    grant(vigie, OTHER_USER_ID, "approver")
    _draft(vigie, mention_id, 1)
    settle(vigie)
    with transaction(vigie.runtime.sessions) as session:  # as migration 0065 leaves it
        session.execute(update(Draft).values(target_external_id=None))
    again = _writes_again(vigie, fake, mention_id)
    _click_approve(vigie, mention_id, 1)
    eventually(lambda: status(vigie, mention_id) == "replied", timeout=15)
    assert _replies(vigie) == [again["uri"]]
