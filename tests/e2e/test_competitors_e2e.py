"""Competitors end to end, as Slack sends them: `/cm watch add ... kind:competitor group:`,
`/cm watch kind`, `/cm watch group ...` (admins only, specific errors), `/cm stats sov`
(ephemeral, chart in the DM), the opportunity card's buttons and `/cm opp`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select

from bot.services.ingest import do_ingest
from bot.services.watches import get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Member, OutboxMessage
from storage.models_competitors import Opportunity
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_listening import admin
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import BOT_USER_ID, CHANNEL_ID, OTHER_USER_ID, TEAM_ID, USER_ID

VEILLE = "C07VEILLE1"
GONE = "U07DELETED1"
VIEWER = "U07VIEWER1"
GUEST = "U07GUEST01"


def _answer(vigie: VigieApp, text: str, user: str = USER_ID) -> dict[str, Any]:
    response = vigie.slack.slash_command(text, user_id=user)
    assert response.status_code == 200
    body = response.json() if response.content else {}
    if body.get("text"):
        return body
    url = parse_qs(response.request.content.decode())["response_url"][0]
    vigie.standin.wait_until(lambda standin: bool(standin.responses(url)))
    answer = vigie.standin.responses(url)[0]
    vigie.standin.clear()
    return answer


def _setup(vigie: VigieApp) -> None:
    assert "Watch *acme* created" in admin(vigie, "watch add acme acme")
    assert "kind:competitor" in admin(vigie, "watch add rivalo kind:competiter rivalo")
    text = admin(vigie, f"watch add rivalo <#{VEILLE}|veille> kind:competitor rivalo")
    assert "Competitor watch *rivalo* created" in text and "never as alerts" in text
    text = admin(vigie, "watch group create acme-vs acme rivalo conquest:on")
    assert "Group *acme-vs* created" in text and "rivalo" in text


def test_watch_groups_from_slack(vigie: VigieApp) -> None:
    _setup(vigie)
    listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
    assert validate_blocks(listing["blocks"], "message") == []
    assert "competitor" in str(listing["blocks"]) and "group acme-vs" in str(listing["blocks"])
    groups = vigie.slack.command_answer("watch group list", user_id=ADMIN_ID)
    assert validate_blocks(groups["blocks"], "message") == []
    assert "conquest opportunities: on" in str(groups["blocks"])
    assert "acme-vs" in admin(vigie, "watch add beta group:acme-vs beta")
    assert "already in group `acme-vs`" in admin(vigie, "watch group create other beta rivalo")
    assert "no watch group called `nope`" in admin(vigie, "watch group add nope beta")
    assert "now the brand's" in admin(vigie, "watch kind acme brand")
    assert "brand acme, competitors rivalo" in admin(vigie, "watch group drop acme-vs beta")
    assert "at least one brand watch" in admin(vigie, "watch kind acme competitor")
    assert "at least one brand watch" in admin(vigie, "watch group drop acme-vs rivalo")
    assert "last competitor watch of group `acme-vs`" in admin(vigie, "watch remove rivalo")
    assert "last brand watch of group `acme-vs`" in admin(vigie, "watch remove acme")
    assert "neither `on` nor `off`" in admin(vigie, "watch group conquest acme-vs maybe")
    assert "Usage" in admin(vigie, "watch group frobnicate")
    assert "Usage" in admin(vigie, "watch kind acme")
    # Agents cannot manage groups.
    refused = vigie.slack.command_answer("watch group delete acme-vs", user_id=USER_ID)
    assert "admin" in refused["text"].lower()
    assert "deleted" in admin(vigie, "watch group delete acme-vs")


def test_stats_sov_and_opportunities_from_slack(vigie: VigieApp) -> None:
    _setup(vigie)
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    now = datetime.now(UTC)
    items = [FetchedMention(network="mastodon", external_id=str(n),
                            url=f"https://masto.example/@u/{n}", text=text,
                            author=FetchedAuthor(handle=f"u{n}", followers=500),
                            published_at=now - timedelta(hours=2))
             for n, text in enumerate(["Anyone know an alternative to Rivalo?",
                                       "Rivalo opens a shop in Lyon", "acme rocks"])]
    for name, batch in (("rivalo", items[:2]), ("acme", items[2:])):
        with transaction(vigie.runtime.sessions) as session:
            do_ingest(session, get_watch_by_name(session, workspace.id, name), None, batch,
                      now=now)
    vigie.runtime.outbox.flush(wait=True)
    answer = _answer(vigie, "stats sov 7d")
    assert validate_blocks(answer["blocks"], "message") == []
    text = str(answer["blocks"])
    assert "acme: 1 mention(s) · 33%" in text and "rivalo" in text
    assert "conquest opportunities: 1" in text
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    with vigie.runtime.sessions() as session:
        charts = session.scalars(select(OutboxMessage.channel).where(
            OutboxMessage.kind == "chart")).all()
    assert USER_ID in charts
    for bad, expected in (("stats sov 7days", "not a period"),
                          ("stats sov 7d nope", "no watch group called `nope`"),
                          ("stats sov 7d acme-vs extra", "Usage")):
        assert expected in _answer(vigie, bad)["text"]
    # The opportunity card sits in the brand's channel; its buttons run its workflow.
    def card_ts() -> str | None:
        vigie.runtime.outbox.flush(wait=True)  # a background flush may hold the row a moment
        with vigie.runtime.sessions() as session:
            return session.scalar(select(OutboxMessage.result_ts).where(
                OutboxMessage.kind == "opportunity"))

    eventually(lambda: card_ts() is not None)
    ts = card_ts()
    with vigie.runtime.sessions() as session:
        (opportunity,) = session.scalars(select(Opportunity))
    assert ts is not None
    card = vigie.standin.message(CHANNEL_ID, ts)
    assert card is not None
    assert validate_blocks(card["blocks"], "message") == []
    assert vigie.slack.block_action("vigie.opp_take", message_ts=ts).status_code == 200
    # The DM's chart (drawn by the sender, matplotlib's first import) may go first.
    eventually(lambda: (vigie.runtime.outbox.flush(wait=True) is not None
                        and len(vigie.standin.calls("chat.update", ok=True)) > 0), timeout=60)
    assert "assigned" in str((vigie.standin.message(CHANNEL_ID, ts) or {})["blocks"])
    # As Slack sends it (should_escape on): the draft is kept as typed, open quote included.
    sent = 'Hi!  Try\n<https://acme.com/switch|acme.com/switch> &amp; say "hi'
    assert "now draft ready" in _answer(vigie, f"opp draft {opportunity.id} {sent}")["text"]
    with vigie.runtime.sessions() as session:
        assert (session.get(Opportunity, opportunity.id).draft  # type: ignore[union-attr]
                == 'Hi!  Try\nacme.com/switch & say "hi')
    assert "now contacted" in _answer(vigie, f"opp contacted {opportunity.id}")["text"]
    assert "`dismiss` does not apply" in _answer(vigie, f"opp dismiss {opportunity.id}")["text"]
    assert "not an opportunity number" in _answer(vigie, "opp dismiss abc")["text"]
    assert "no opportunity 999" in _answer(vigie, "opp reopen 999")["text"]
    assert "Usage" in _answer(vigie, "opp frobnicate")["text"]
    assert "No open conquest opportunity" in _answer(vigie, "opp list")["text"]


def _opportunity(vigie: VigieApp) -> int:
    """A conquest opportunity, as ingest leaves it (open, nobody on it)."""
    _setup(vigie)
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    now = datetime.now(UTC)
    post = FetchedMention(network="mastodon", external_id="alt", text="Anyone know an "
                          "alternative to Rivalo?", url="https://masto.example/@u/alt",
                          author=FetchedAuthor(handle="u", followers=500),
                          published_at=now - timedelta(hours=1))
    with transaction(vigie.runtime.sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace.id, "rivalo"), None, [post],
                  now=now)
    with vigie.runtime.sessions() as session:
        (opportunity,) = session.scalars(select(Opportunity))
        return opportunity.id


def _owner(vigie: VigieApp, opportunity_id: int) -> tuple[str, str | None]:
    with vigie.runtime.sessions() as session:
        row = session.get(Opportunity, opportunity_id)
        assert row is not None
        return row.status, row.assignee_user_id


def test_opportunity_assign_refuses_whom_a_mention_assign_refuses(
        vigie_sqlite: VigieApp) -> None:
    """`/cm opp assign` asks Slack (users.info) and the roles table like `/cm assign`, and
    says no in the same words: a bot (Slackbot too), a deactivated or unknown account, a
    viewer."""
    vigie = vigie_sqlite
    opportunity_id = _opportunity(vigie)
    vigie.standin.set_user(GONE, name="gone", deleted=True)
    vigie.standin.remove_user("U07NOBODY1")
    assert "is now *viewer*" in admin(vigie, f"role add <@{VIEWER}|v> viewer")

    def assign(user: str) -> str:
        return str(_answer(vigie, f"opp assign {opportunity_id} <@{user}|x>")["text"])

    assert assign(BOT_USER_ID) == ("That is a bot or an app, which cannot answer anyone: "
                                   "assign it to a person.")
    assert "a bot or an app" in assign("USLACKBOT")
    assert assign(GONE) == "That account is deactivated: assign it to someone active."
    assert assign("U07NOBODY1").startswith("Slack knows no such user in this workspace")
    assert assign(VIEWER) == ("They are *viewer*, so they could not work on it: assign it "
                              "to an *agent* (or above), or an admin can make them one with "
                              "`/cm role add @name agent`.")
    vigie.standin.set_user("U07GUEST01", name="guest", guest="multi")
    assert "a guest in this Slack workspace" in assign("U07GUEST01")
    assert _owner(vigie, opportunity_id) == ("open", None)
    assert "now assigned" in assign(OTHER_USER_ID)
    assert _owner(vigie, opportunity_id) == ("assigned", OTHER_USER_ID)


GUEST_REFUSAL = "You are a guest in this Slack workspace: Vigie shows guests nothing"
"""A guest no admin gave a role is refused every request (tests/e2e/test_guests.py)."""


def test_a_slack_guest_cannot_take_an_opportunity_themselves(vigie: VigieApp) -> None:
    """A guest taking an opportunity (the card's Take button, `/cm opp assign ID` without a
    user) is looked up like anyone assigned (users.info) and refused until an admin grants
    them a role; Slack unreachable, the take goes on (the role still decides)."""
    opportunity_id = _opportunity(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="single")
    refusal = GUEST_REFUSAL
    assert _answer(vigie, f"opp assign {opportunity_id}", GUEST)["text"].startswith(refusal)
    vigie.runtime.outbox.flush(wait=True)
    with vigie.runtime.sessions() as session:
        ts = session.scalar(select(OutboxMessage.result_ts).where(
            OutboxMessage.kind == "opportunity"))
    assert ts is not None

    def lookups() -> list[str]:  # users.info (its answer, locale included, is kept a while)
        return [c.args["user"] for c in vigie.standin.calls("users.info")]

    vigie.standin.clear()
    assert vigie.slack.block_action("vigie.opp_take", message_ts=ts,
                                    user_id=GUEST).status_code == 200
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0, timeout=15)
    assert vigie.standin.responses()[-1]["text"].startswith(refusal)
    assert lookups() == []  # Slack's answer about the guest is kept a while
    assert _owner(vigie, opportunity_id) == ("open", None)
    # With a role an admin gave them, the guest takes it.
    assert "is now" in _answer(vigie, f"role add <@{GUEST}|x> agent", ADMIN_ID)["text"]
    assert "now assigned" in _answer(vigie, f"opp assign {opportunity_id}", GUEST)["text"]
    assert _owner(vigie, opportunity_id) == ("assigned", GUEST)


def test_a_slack_guest_cannot_take_an_opportunity_by_drafting(vigie: VigieApp) -> None:
    """Drafting a message for an opportunity nobody owns makes the drafter its owner: a
    guest no admin gave a role is refused there as when taking it (`/cm opp draft ID text`,
    the editor's Save), in the same words, and nothing is saved."""
    opportunity_id = _opportunity(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    refusal = GUEST_REFUSAL
    answer = _answer(vigie, f"opp draft {opportunity_id} Hi! Acme imports Rivalo data.", GUEST)
    assert answer["text"].startswith(refusal)
    vigie.runtime.outbox.flush(wait=True)
    with vigie.runtime.sessions() as session:
        ts = session.scalar(select(OutboxMessage.result_ts).where(
            OutboxMessage.kind == "opportunity"))
    # The editor a member opened, saved by the guest.
    assert vigie.slack.block_action("vigie.opp_draft", message_ts=str(ts),
                                    user_id=USER_ID).status_code == 200
    opened = vigie.standin.wait_for("views.open", timeout=15)[-1]
    view_id = opened.response["view"]["id"]
    (field,) = [b for b in opened.args["view"]["blocks"] if b["type"] == "input"]
    vigie.standin.type_into(view_id, field["block_id"], "text", "Hi! Acme imports it.")
    response = vigie.slack.view_submission(view_id=view_id, user_id=GUEST)
    refused = response.json() if response.content else {}  # a bare ack: saved
    assert str((refused.get("errors") or {}).get(field["block_id"])).startswith(refusal)
    with vigie.runtime.sessions() as session:
        row = session.get(Opportunity, opportunity_id)
        assert row is not None and (row.status, row.assignee_user_id, row.draft) == (
            "open", None, None)


def test_a_slack_guest_is_refused_the_opportunity_editor_when_it_opens(
        vigie_sqlite: VigieApp) -> None:
    """As the mention's draft editor: a draft for an opportunity nobody owns would make the
    drafter its owner, so a guest no admin gave a role is told before typing, not after;
    when the request's own look-up gets no answer, they are not taken for a member either:
    told to try again, nothing opens."""
    vigie = vigie_sqlite
    opportunity_id = _opportunity(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:  # known, no role granted
        session.add(Member(workspace_id=workspace_id, user_id=GUEST, role="agent",
                           locale="en"))
    vigie.runtime.outbox.flush(wait=True)
    with vigie.runtime.sessions() as session:
        ts = session.scalar(select(OutboxMessage.result_ts).where(
            OutboxMessage.kind == "opportunity"))
    vigie.standin.clear()
    vigie.standin.error_next("users.info", "internal_error")  # the request's look-up
    assert vigie.slack.block_action("vigie.opp_draft", message_ts=str(ts),
                                    user_id=GUEST).status_code == 200
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0, timeout=15)
    assert vigie.standin.responses()[-1]["text"].startswith(
        "Vigie could not check your account with Slack just now")
    assert vigie.standin.calls("views.open") == []
    assert _owner(vigie, opportunity_id) == ("open", None)
    assert vigie.slack.block_action("vigie.opp_draft", message_ts=str(ts),
                                    user_id=GUEST).status_code == 200
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 1, timeout=15)
    assert vigie.standin.responses()[-1]["text"].startswith(
        "You are a guest in this Slack workspace")
    assert vigie.standin.calls("views.open") == []
    assert _owner(vigie, opportunity_id) == ("open", None)
