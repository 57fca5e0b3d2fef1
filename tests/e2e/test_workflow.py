"""The reply workflow end to end: cards, buttons, modals, commands, roles, App Home."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import handlers.commands as commands
from bot.analysis.topics import topic_mask
from bot.services import workflow
from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.outbox import KIND_CARD, do_enqueue
from storage.db import transaction
from storage.models import (
    Approval,
    AuditEvent,
    Author,
    Draft,
    Member,
    Mention,
    OutboxMessage,
    Watch,
    Workspace,
)
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import BOT_USER_ID, CHANNEL_ID, OTHER_USER_ID, TEAM_ID, USER_ID

APPROVER = OTHER_USER_ID
VIEWER = "U07VIEWER1"


def seed(vigie: VigieApp, text: str = "My order never arrived, this is a scam",
         handle: str = "@ana@mastodon.social", name: str = "Ana", network: str = "mastodon"
         ) -> int:
    """A stored mention with its card posted, as ingest leaves it."""
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    with transaction(vigie.runtime.sessions) as session:
        watch = session.scalar(select(Watch).where(Watch.name == "acme"))
        if watch is None:
            watch = Watch(workspace_id=workspace.id, name="acme", channel_id=CHANNEL_ID)
            session.add(watch)
        author = Author(workspace_id=workspace.id, network=network, handle=handle, name=name,
                        followers=48_213)
        session.add(author)
        session.flush()
        mention = Mention(
            workspace_id=workspace.id, watch_id=watch.id, author_id=author.id, network=network,
            external_id=f"{handle}-{text[:20]}", url="https://mastodon.social/@ana/1", text=text,
            # Published an hour ago: listings' periods count from the published time.
            published_at=datetime.now(UTC) - timedelta(hours=1), priority=74,
            priority_reason="complaint · negative · 48k followers", sentiment_label="negative",
            intent="complaint", language="en")
        session.add(mention)
        session.flush()
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention.id, dedupe_key=f"card:{mention.id}")
        mention_id = mention.id
    vigie.runtime.outbox.flush(wait=True)
    return mention_id


def card(vigie: VigieApp, mention_id: int) -> dict[str, Any]:
    with vigie.runtime.sessions() as session:
        ts = session.get(Mention, mention_id).slack_ts  # type: ignore[union-attr]
    return vigie.standin.message(CHANNEL_ID, ts)


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


def settle(vigie: VigieApp) -> None:
    """Let the background outbox nudge finish, then flush what is left."""
    vigie.runtime.outbox.flush(wait=True)


def thread_notes(vigie: VigieApp) -> list[str]:
    return [c.args["text"] for c in vigie.standin.calls("chat.postMessage", ok=True)
            if c.args.get("thread_ts")]


def status(vigie: VigieApp, mention_id: int) -> str:
    with vigie.runtime.sessions() as session:
        return session.get(Mention, mention_id).status  # type: ignore[union-attr]


def grant(vigie: VigieApp, user: str, role: str) -> None:
    text = vigie.slack.command_answer(f"role add <@{user}|x> {role}", user_id=ADMIN_ID)
    assert "is now" in text["text"], text


def test_a_replied_mention_no_longer_says_it_waits_for_an_answer(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    with transaction(vigie.runtime.sessions) as session:
        session.get(Mention, mention_id).priority_reason = (  # type: ignore[union-attr]
            "complaint · writes again · waiting for an answer · 48k followers")
    listed = vigie.slack.command_answer("mentions status:new")
    assert "complaint · writes again · waiting for an answer" in str(listed["blocks"])
    assert vigie.slack.command_answer(f"replied {mention_id}")["text"].endswith(
        "marked as replied.")
    settle(vigie)
    updated = str(card(vigie, mention_id)["blocks"])
    assert "Replied" in updated and "complaint · 48k followers" in updated
    listed = vigie.slack.command_answer("mentions status:replied")
    assert "complaint · 48k followers" in str(listed["blocks"])
    for shown in (updated, str(listed["blocks"])):
        assert "waiting for an answer" not in shown and "writes again" not in shown


def test_full_path_assign_draft_approve_replied(vigie: VigieApp) -> None:
    full_path(vigie)


def test_full_path_with_every_answer_past_the_ack_budget(
        vigie_sqlite: VigieApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a loaded machine, where a database round trip can take a second: each command
    is acknowledged empty and answered through its response URL, which the user sees the
    same (the path above read its answers from the ack alone, and failed so under load)."""
    monkeypatch.setattr(commands, "ACK_BUDGET_SECONDS", 0.0)
    full_path(vigie_sqlite)
    assert vigie_sqlite.standin.responses(), "the answers went through response URLs"


def full_path(vigie: VigieApp) -> None:
    """Assign, draft, approve (refused to the agent and to the drafter), mark replied."""
    mention_id = seed(vigie)
    first = card(vigie, mention_id)
    # The seeded source holds no account to post with: Vigie says so and offers the link.
    assert buttons(first) == ["vigie.open_reply", "vigie.assign", "vigie.draft",
                              "vigie.replied", "vigie.ignore", "vigie.not_urgent"]
    assert validate_blocks(first["blocks"], "message") == []

    reply = vigie.slack.command_answer(f"assign {mention_id} <@{USER_ID}|alice>")
    assert reply["text"] == f"Mention #{mention_id} assigned to <@{USER_ID}>."
    settle(vigie)
    assert status(vigie, mention_id) == "assigned"
    assert f"assigned this to <@{USER_ID}>" in thread_notes(vigie)[-1]

    reply = vigie.slack.command_answer(f"draft {mention_id} Sorry Ana, we are on it.")
    assert "Draft v1 saved" in reply["text"]
    settle(vigie)
    updated = card(vigie, mention_id)
    assert "vigie.approve" in buttons(updated) and "Sorry Ana" in str(updated["blocks"])

    denied = vigie.slack.command_answer(f"approve {mention_id}")
    assert "Only an *approver*" in denied["text"]  # agents cannot approve
    grant(vigie, USER_ID, "approver")
    denied = vigie.slack.command_answer(f"approve {mention_id}")
    assert "someone else must approve" in denied["text"]  # four eyes
    grant(vigie, APPROVER, "approver")
    shown = vigie.slack.command_answer(f"approve {mention_id}", user_id=APPROVER)
    assert shown["text"].startswith("Nothing approved yet") and "Sorry Ana" in shown["text"]
    assert validate_blocks(shown["blocks"], "message") == []
    assert status(vigie, mention_id) == "awaiting_approval"
    ok = vigie.slack.command_answer(f"approve {mention_id} v1", user_id=APPROVER)
    assert ok["text"] == (f"Mention #{mention_id} approved. Vigie cannot post on Mastodon: "
                          "copy the draft, post it there, then press Mark replied.")
    assert vigie.slack.command_answer(f"replied {mention_id}")["text"].endswith(
        "marked as replied.")
    settle(vigie)
    assert status(vigie, mention_id) == "replied"
    notes = thread_notes(vigie)
    assert any("approved draft v1" in note for note in notes)
    assert vigie.standin.calls("chat.update", ok=True)
    for call in vigie.standin.calls("chat.update"):
        assert validate_blocks(call.args["blocks"], "message") == []
    show = vigie.slack.command_answer(f"show {mention_id}")
    history = str(show["blocks"])
    for words in ("assigned", "drafted a reply", "approved the reply", "marked it replied"):
        assert words in history
    assert "mention.assign" not in history and "_slash_command_" not in history
    with vigie.runtime.sessions() as session:
        events = session.scalars(select(AuditEvent.action).where(
            AuditEvent.mention_id == mention_id)).all()
    assert events == ["mention.assign", "mention.draft", "mention.approve", "mention.replied"]


def test_buttons_and_modals(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    ts = card(vigie, mention_id)["ts"]
    assert vigie.slack.block_action("vigie.draft", message_ts=ts).status_code == 200
    vigie.standin.wait_for("views.open")
    modal = vigie.standin.calls("views.open")[-1].args["view"]
    assert modal["callback_id"] == "vigie.modal.draft"
    assert validate_blocks(modal["blocks"], "modal") == []
    text_input = modal["blocks"][1]["element"]
    assert text_input["initial_value"]  # a template suggestion is pre-filled
    assert "/500 characters on Mastodon" in modal["blocks"][1]["hint"]["text"]
    view_id = vigie.standin.calls("views.open")[-1].response["view"]["id"]
    block_id = modal["blocks"][1]["block_id"]
    vigie.standin.type_into(view_id, block_id, "text", "   ")
    empty = vigie.slack.view_submission(view_id=view_id)
    assert empty.json()["response_action"] == "errors"
    assert list(empty.json()["errors"]) == [block_id]  # Slack needs the view's block_id
    # Plain text, as Slack shows it, without the /cm example of the command's answer.
    assert empty.json()["errors"][block_id] == "The draft is empty: write the reply text."
    vigie.standin.type_into(view_id, block_id, "text", "We're sorry, Ana.")
    sent = vigie.slack.view_submission(view_id=view_id)
    assert sent.status_code == 200 and not sent.content
    assert status(vigie, mention_id) == "awaiting_approval"

    grant(vigie, APPROVER, "approver")
    settle(vigie)
    vigie.slack.block_action("vigie.reject", message_ts=ts, user_id=APPROVER)
    vigie.standin.wait_for("views.open", count=2)
    reject_view = vigie.standin.calls("views.open")[-1].response["view"]["id"]
    no_reason = vigie.slack.view_submission(view_id=reject_view, user_id=APPROVER,
                                            values={"reason": {"text": "  "}}).json()
    assert no_reason["errors"] == {
        "reason": "Please give a reason, e.g. too formal, use the customer's first name."}
    vigie.slack.view_submission(view_id=reject_view, user_id=APPROVER,
                                values={"reason": {"text": "Too short <!channel>"}})
    assert status(vigie, mention_id) == "drafting"
    settle(vigie)
    assert any("&lt;!channel&gt;" in note for note in thread_notes(vigie))
    assert not any("<!channel>" in note for note in thread_notes(vigie))


def test_reject_modal_rejects_the_version_it_was_opened_on(vigie_sqlite: VigieApp) -> None:
    """Before, the Reject modal rejected whatever draft was latest on submit: opened on v1,
    submitted after the agent saved v2, it sent back v2, unread, with v1's reason. Now it
    refuses, under the field, with v2's text; the modal of a later Reject button (on v2)
    rejects v2."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.command_answer(f"draft {mention_id} Hello Ana, you are a scammer too")
    grant(vigie, APPROVER, "approver")
    settle(vigie)
    vigie.slack.block_action("vigie.reject", message_ts=card(vigie, mention_id)["ts"],
                             user_id=APPROVER)
    first = vigie.standin.wait_for("views.open")[-1].response["view"]["id"]
    v2 = "Hello Ana, we are very sorry: a new parcel left today."
    vigie.slack.command_answer(f"draft {mention_id} {v2}")
    refused = vigie.slack.view_submission(
        view_id=first, user_id=APPROVER,
        values={"reason": {"text": "Never call a customer a scammer"}}).json()
    assert refused["response_action"] == "errors"
    assert refused["errors"]["reason"].startswith(
        "Nothing was rejected: the draft of mention #1 changed since you opened this "
        "window (you saw v1). The current text is draft v2")
    assert v2 in refused["errors"]["reason"]
    assert status(vigie, mention_id) == "awaiting_approval"
    with vigie.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Approval)) == 0
    settle(vigie)
    vigie.slack.block_action("vigie.reject", message_ts=card(vigie, mention_id)["ts"],
                             user_id=APPROVER)
    second = vigie.standin.wait_for("views.open", count=2)[-1].response["view"]["id"]
    sent = vigie.slack.view_submission(view_id=second, user_id=APPROVER,
                                       values={"reason": {"text": "Too short"}})
    assert sent.status_code == 200 and not sent.content
    assert status(vigie, mention_id) == "drafting"
    with vigie.runtime.sessions() as session:
        (approval,) = session.scalars(select(Approval)).all()
        assert session.get(Draft, approval.draft_id).version == 2  # type: ignore[union-attr]


def test_viewer_is_refused_with_an_explanation(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    grant(vigie, VIEWER, "viewer")
    ts = card(vigie, mention_id)["ts"]
    sent = len(vigie.standin.responses())
    vigie.slack.block_action("vigie.assign", message_ts=ts, user_id=VIEWER)
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > sent)
    explanation = vigie.standin.responses()[sent]
    assert explanation["response_type"] == "ephemeral"
    assert "Only an *agent* (or above)" in explanation["text"]
    assert vigie.standin.calls("views.open") == []
    reply = vigie.slack.command_answer(f"ignore {mention_id}", user_id=VIEWER)
    assert "Only an *agent*" in reply["text"]
    assert status(vigie, mention_id) == "new"


def test_ignore_with_reason_and_reopen(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    assert "ignored" in vigie.slack.command_answer(f"ignore {mention_id} spam bot")["text"]
    settle(vigie)
    assert buttons(card(vigie, mention_id)) == ["vigie.reopen"]
    assert "Reason: spam bot" in thread_notes(vigie)[-1]
    assert "is not possible now" in vigie.slack.command_answer(
        f"ignore {mention_id}")["text"]
    assert "reopened" in vigie.slack.command_answer(f"reopen {mention_id}")["text"]


def test_two_approvers_at_once_make_one_approval(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    vigie.slack.command_answer(f"draft {mention_id} We are looking into it.")
    grant(vigie, APPROVER, "approver")
    answers: list[str] = []
    barrier = threading.Barrier(2)

    def approve(user: str) -> None:
        barrier.wait()
        answers.append(vigie.slack.command_answer(f"approve {mention_id} v1",
                                                  user_id=user)["text"])

    threads = [threading.Thread(target=approve, args=(u,)) for u in (APPROVER, ADMIN_ID)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with vigie.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Approval)) == 1
    assert sum("approved." in a for a in answers) == 1, answers


def test_high_risk_draft_needs_an_override_reason(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.command_answer(f"draft {mention_id} We will refund you, call +33 6 12 34 56 78 "
                               "or our lawyer. Card 4111 1111 1111 1111")
    grant(vigie, APPROVER, "approver")
    plain = vigie.slack.command_answer(f"approve {mention_id} v1", user_id=APPROVER)
    assert "approve it anyway only with a reason" in plain["text"]
    assert f"/cm approve {mention_id} v1 legal" in plain["text"]
    ok = vigie.slack.command_answer(f"approve {mention_id} v1 legal validated",
                                    user_id=APPROVER)
    assert ok["text"].endswith("then press Mark replied.")
    with vigie.runtime.sessions() as session:
        approval = session.scalars(select(Approval)).one()
        assert approval.override and approval.reason == "legal validated"


@pytest.mark.parametrize(("language", "saved", "on_card", "in_thread"), [
    ("en", "(risk: medium)", ":warning: risk medium: a ", ":warning: Risk *medium*: a "),
    ("fr", "(risque : moyen)", ":warning: risque moyen : un",
     ":warning: Risque *moyen* : un"),
])
def test_a_draft_risk_level_is_a_word_of_the_reader(vigie_sqlite: VigieApp, language: str,
                                                    saved: str, on_card: str,
                                                    in_thread: str) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.command_answer(f"settings language {language}", user_id=ADMIN_ID)
    vigie.slack.command_answer(f"lang {language}")
    reply = vigie.slack.command_answer(
        f"draft {mention_id} Nous vous remboursons : appelez le 06 12 34 56 78 ou écrivez "
        "à sav@example.com")
    assert saved in reply["text"], reply["text"]
    settle(vigie)
    shown = str(card(vigie, mention_id)["blocks"])
    assert on_card in shown and "risk warn" not in shown and "risque warn" not in shown
    note = next(n for n in reversed(thread_notes(vigie)) if in_thread.split()[1] in n)
    assert in_thread in note and "*warn*" not in note


def test_hostile_mention_renders_safely(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie, text="<!channel> <@U0ADMIN> <http://evil.example|your bank> "
                      + "blah " * 8000, handle="<script>&amp;", name="<<&&>>" * 30)
    message = card(vigie, mention_id)
    assert validate_blocks(message["blocks"], "message") == []
    rendered = str(message["blocks"])
    assert "<!channel>" not in rendered and "<@U0ADMIN>" not in rendered
    assert "<http://evil.example" not in rendered


def test_mentions_listing_with_more_button(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    ids = [seed(vigie, text=f"acme complaint number {n}", handle=f"user{n}") for n in range(13)]
    page = vigie.slack.command_answer("mentions status:new since:7d complaint")
    assert validate_blocks(page["blocks"], "message") == []
    assert f"*#{ids[-1]}*" in str(page["blocks"]) and f"*#{ids[0]}*" not in str(page["blocks"])
    more = page["blocks"][-1]["elements"][0]
    assert more["action_id"] == "vigie.more"
    vigie.slack.block_action("vigie.more", message={"ts": "1.2", "blocks": page["blocks"]})
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
    second = vigie.standin.responses()[-1]
    assert second["replace_original"] is True
    assert f"*#{ids[0]}*" in str(second["blocks"])
    for bad, expected in (("mentions status:nope", "is not a status"),
                          ("mentions since:forever", "is not a duration"),
                          ("mentions colour:red", "is not a filter"),
                          ("show abc", "is not a mention number"),
                          ("show 99999", "no mention #99999"),
                          ("assign 1", "Usage: `/cm assign ID [ID ...] @user`")):
        assert expected in vigie.slack.command_answer(bad)["text"], bad


def test_app_home_is_published(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    with transaction(vigie.runtime.sessions) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        mention.topics = [{"name": "delivery", "terms": ["order", "arrived"]}]
        mention.topic_mask = topic_mask(("delivery",))
    vigie.slack.command_answer(f"assign {mention_id} <@{USER_ID}|alice>")
    vigie.slack.app_home_opened(USER_ID)
    vigie.standin.wait_until(lambda standin: standin.home_view(USER_ID) is not None)
    home = vigie.standin.home_view(USER_ID)
    assert home is not None
    assert validate_blocks(home["blocks"], "home") == []
    assert f"#{mention_id}" in str(home["blocks"])
    # The stand-in accepted the view (slack_sdk's View model); it shows the reason line
    # with the topic, and where the triage calibration stands.
    assert "complaint · delivery · negative · 48k followers" in str(home["blocks"])
    assert "Triage" in str(home["blocks"]) and "`/cm triage`" in str(home["blocks"])


@pytest.mark.parametrize("text", ["role add", "role add <@U1|x> overlord", "role remove bob"])
def test_role_errors(vigie_sqlite: VigieApp, text: str) -> None:
    reply = vigie_sqlite.slack.command_answer(text, user_id=ADMIN_ID)["text"]
    assert "Usage" in reply or "is not a role" in reply or "is not a user" in reply


def test_only_admins_grant_roles_and_the_last_admin_stays(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    reply = vigie.slack.command_answer(f"role add <@{USER_ID}|a> admin")["text"]
    assert "You need the *admin* role" in reply
    reply = vigie.slack.command_answer(f"role add <@{ADMIN_ID}|a> agent",
                                       user_id=ADMIN_ID)["text"]
    assert "without an admin" in reply


def test_role_list_shows_only_grants_and_names_the_default_role(vigie_sqlite: VigieApp
                                                                   ) -> None:
    vigie = vigie_sqlite

    def say(text: str, user_id: str = ADMIN_ID) -> str:
        return str(vigie.slack.command_answer(text, user_id=user_id)["text"])

    mention_id = seed(vigie)
    say("settings default_role viewer")
    say("lang en", USER_ID)  # Vigie keeps her language in a member row nobody granted
    vigie.slack.block_action("vigie.ignore", message_ts=card(vigie, mention_id)["ts"],
                             user_id=USER_ID)
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
    assert "you are *viewer*" in vigie.standin.responses()[-1]["text"]
    grant(vigie, APPROVER, "approver")

    listed = say("role list")
    assert listed.splitlines() == ["*Roles (everyone else has the default role: viewer)*",
                                   f"<@{ADMIN_ID}>: *admin*", f"<@{APPROVER}>: *approver*"]
    assert say(f"role remove <@{USER_ID}|alice>") == (
        f"<@{USER_ID}> has no explicit role (they have the default role, *viewer*).")
    assert say(f"role remove <@{APPROVER}|bob>") == (
        f"<@{APPROVER}> has the default role again: *viewer*.")
    assert f"<@{APPROVER}>" not in say("role list")
    say("settings default_role agent")
    assert say("role list").startswith("*Roles (everyone else has the default role: agent)*")


GONE = "U07DELETED1"


def assigned_to(vigie: VigieApp, mention_id: int) -> str | None:
    with vigie.runtime.sessions() as session:
        return session.get(Mention, mention_id).assignee_user_id  # type: ignore[union-attr]


def test_assign_refuses_bots_deactivated_and_unknown_users(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.standin.set_user(GONE, name="gone", deleted=True)
    vigie.standin.remove_user("U07NOBODY1")

    def assign(user: str) -> str:
        return str(vigie.slack.command_answer(f"assign {mention_id} <@{user}|x>")["text"])

    assert assign(BOT_USER_ID) == ("That is a bot or an app, which cannot answer anyone: "
                                   "assign it to a person.")
    assert "a bot or an app" in assign("USLACKBOT")  # Slack says is_bot false for it
    assert assign(GONE) == "That account is deactivated: assign it to someone active."
    assert assign("U07NOBODY1").startswith("Slack knows no such user in this workspace")
    settle(vigie)
    assert status(vigie, mention_id) == "new" and assigned_to(vigie, mention_id) is None
    assert not [c for c in vigie.standin.calls("conversations.open")
                if GONE in str(c.args.get("users"))]
    assert f"assigned to <@{OTHER_USER_ID}>" in assign(OTHER_USER_ID)


def test_assign_modal_refuses_a_bot_under_the_field(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    refused = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                          values={"assignee": {"user": BOT_USER_ID}}).json()
    assert refused["response_action"] == "errors"
    assert "a bot or an app" in refused["errors"]["assignee"]
    assert assigned_to(vigie, mention_id) is None


def test_assign_refuses_a_viewer_and_says_how_to_grant_agent(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    grant(vigie, VIEWER, "viewer")
    refused = vigie.slack.command_answer(f"assign {mention_id} <@{VIEWER}|v>")["text"]
    assert refused == ("They are *viewer*, so they could not work on it: assign it to an "
                       "*agent* (or above), or an admin can make them one with "
                       "`/cm role add @name agent`.")
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    in_modal = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                           values={"assignee": {"user": VIEWER}}).json()
    # A modal's error is plain text: the same words, without mrkdwn's marks.
    assert in_modal["errors"]["assignee"] == (
        "They are viewer, so they could not work on it: assign it to an agent (or above), or "
        "an admin can make them one with /cm role add @name agent.")
    # Without Slack (the local operator's path) the role still decides.
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    with pytest.raises(ServiceError) as err:
        workflow.do_assign(vigie.runtime.sessions, workspace.id, CLI, mention_id, VIEWER)
    assert err.value.key == "assignee.role"
    # A workspace whose default role is viewer: members nobody granted agent cannot be given
    # work either, until an admin grants it.
    vigie.slack.command_answer("settings default_role viewer", user_id=ADMIN_ID)
    grant(vigie, USER_ID, "agent")
    assert "They are *viewer*" in vigie.slack.command_answer(
        f"assign {mention_id} <@{OTHER_USER_ID}|b>")["text"]
    grant(vigie, OTHER_USER_ID, "agent")
    assert "assigned to" in vigie.slack.command_answer(
        f"assign {mention_id} <@{OTHER_USER_ID}|b>")["text"]
    assert status(vigie, mention_id) == "assigned"


GUEST = "U07GUEST01"
SINGLE_GUEST = "U07GUEST02"
GUEST_REFUSAL = ("They are a guest in this Slack workspace, and a guest may not see the "
                 "channel the card is in: assign it to a member, or an admin can allow this "
                 "guest by giving them a role with `/cm role add @name agent`.")


def test_assign_refuses_a_slack_guest_until_an_admin_gives_them_a_role(
        vigie_sqlite: VigieApp) -> None:
    """A multi- or single-channel guest (users.info is_restricted, is_ultra_restricted) is
    refused, by command and in the modal, until an admin grants them a role: the grant is
    the admin's word that they may see and work the alerts."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    vigie.standin.set_user(SINGLE_GUEST, name="single", guest="single")

    def assign(user: str) -> str:
        return str(vigie.slack.command_answer(f"assign {mention_id} <@{user}|x>")["text"])

    assert assign(GUEST) == GUEST_REFUSAL
    assert assign(SINGLE_GUEST) == GUEST_REFUSAL
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    in_modal = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                           values={"assignee": {"user": GUEST}}).json()
    assert in_modal["errors"]["assignee"] == GUEST_REFUSAL.replace("`", "")
    assert assigned_to(vigie, mention_id) is None
    # An explicit grant lets the guest in; a viewer grant is explicit but still a viewer.
    grant(vigie, GUEST, "agent")
    assert f"assigned to <@{GUEST}>" in assign(GUEST)
    grant(vigie, SINGLE_GUEST, "viewer")
    assert assign(SINGLE_GUEST).startswith("They are *viewer*")
    assert assigned_to(vigie, mention_id) == GUEST


GUEST_DOOR_REFUSAL = (
    "You are a guest in this Slack workspace: Vigie shows guests nothing and lets them do "
    "nothing until an admin gives them a role. Ask an admin: `/cm role add @you viewer` "
    "(or `agent`).")
"""A guest no admin gave a role is refused every request (tests/e2e/test_guests.py), so
taking work themselves is refused before the assignment's own guest check."""


def test_a_slack_guest_cannot_take_a_mention_themselves_either(vigie: VigieApp) -> None:
    """A guest no admin gave a role assigning themselves (`/cm assign ID` with their own
    id, the Assign button) is refused, and no modal opens; a member assigning themselves
    is looked up and goes on; with a role an admin gave them, the guest takes it."""
    mention_id = seed(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    refused = vigie.slack.command_answer(f"assign {mention_id} <@{GUEST}|guest>",
                                         user_id=GUEST)["text"]
    assert refused == GUEST_DOOR_REFUSAL
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"],
                             user_id=GUEST)
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0, timeout=15)
    assert vigie.standin.responses()[-1]["text"] == GUEST_DOOR_REFUSAL
    assert vigie.standin.calls("views.open") == []
    assert assigned_to(vigie, mention_id) is None
    # A member assigning themselves is looked up too, and goes on.
    assert "assigned to" in vigie.slack.command_answer(
        f"assign {mention_id} <@{USER_ID}|alice>")["text"]
    assert USER_ID in [c.args.get("user") for c in vigie.standin.calls("users.info")]
    # With a role an admin gave them, Slack's word no longer stops the guest.
    grant(vigie, GUEST, "agent")
    assert f"assigned to <@{GUEST}>" in vigie.slack.command_answer(
        f"assign {mention_id} <@{GUEST}|guest>", user_id=GUEST)["text"]


def _drafts(vigie: VigieApp, mention_id: int) -> int:
    with vigie.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Draft).where(
            Draft.mention_id == mention_id)) or 0)


def test_a_slack_guest_cannot_take_a_mention_by_drafting_a_reply(vigie: VigieApp) -> None:
    """Drafting a reply to a mention nobody owns makes the drafter its assignee: a guest no
    admin gave a role is refused when they ask for the editor (the card's Draft reply,
    `/cm draft ID`: no editor to type into for nothing) and when they save (`/cm draft ID
    text`, the editor's Save, for a role taken away meanwhile); nothing is saved. With a
    grant, the guest's draft takes it."""
    mention_id = seed(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    by_command = vigie.slack.command_answer(f"draft {mention_id} Sorry Ana, we're on it.",
                                            user_id=GUEST)["text"]
    assert by_command == GUEST_DOOR_REFUSAL
    # The card's Draft reply: refused on the click, before any editor opens.
    vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"],
                             user_id=GUEST)
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0, timeout=15)
    told = vigie.standin.responses()[-1]
    assert (told["text"], told["response_type"]) == (GUEST_DOOR_REFUSAL, "ephemeral")
    assert told.get("replace_original") is False
    # `/cm draft ID` (the editor by command): the same refusal, and no editor after it.
    assert vigie.slack.command_answer(f"draft {mention_id}",
                                      user_id=GUEST)["text"] == GUEST_DOOR_REFUSAL
    assert vigie.standin.calls("views.open") == []
    # A role taken away while the editor is open: its Save still refuses.
    grant(vigie, GUEST, "agent")
    vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"],
                             user_id=GUEST)
    opened = vigie.standin.wait_for("views.open", timeout=15)[-1]
    removed = vigie.slack.command_answer(f"role remove <@{GUEST}|x>", user_id=ADMIN_ID)
    assert "has the default role again" in removed["text"], removed
    (field,) = [b for b in opened.args["view"]["blocks"] if b["type"] == "input"]
    vigie.standin.type_into(opened.response["view"]["id"], field["block_id"], "text",
                            "Sorry Ana, we're on it.")
    in_modal = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                           user_id=GUEST).json()
    assert in_modal["response_action"] == "errors"
    assert in_modal["errors"][field["block_id"]] == GUEST_DOOR_REFUSAL.replace("`", "")
    assert assigned_to(vigie, mention_id) is None and status(vigie, mention_id) == "new"
    assert _drafts(vigie, mention_id) == 0
    # With a role an admin gave them, the guest's draft takes a mention nobody owns.
    other = seed(vigie, text="Still no refund after a month", handle="@bob@mastodon.social")
    grant(vigie, GUEST, "agent")
    assert "saved" in vigie.slack.command_answer(f"draft {other} Sorry Bob, on it.",
                                                 user_id=GUEST)["text"]
    assert assigned_to(vigie, other) == GUEST


def test_a_slack_guest_is_refused_the_draft_editor_in_french(vigie_sqlite: VigieApp) -> None:
    """In a French workspace, the refusal on the card's Draft reply is the French one."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    with transaction(vigie.runtime.sessions) as session:
        workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
        row = session.get(Workspace, workspace.id)
        assert row is not None
        row.locale = "fr"
    vigie.standin.set_user(GUEST, name="invite", guest="single", locale="fr-FR")
    vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"],
                             user_id=GUEST)
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0, timeout=15)
    told = vigie.standin.responses()[-1]
    assert told["text"].startswith("Votre compte est un compte invité dans cet espace Slack")
    assert told["response_type"] == "ephemeral"
    assert vigie.standin.calls("views.open") == []


def test_assign_goes_on_when_slack_cannot_say_who_the_user_is(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    granted_quietly(vigie, OTHER_USER_ID)
    vigie.slack.command_answer(f"show {mention_id}")
    # The first command's locale lookup is done: the next users.info is the assignee's.
    vigie.standin.wait_for("users.info")
    vigie.standin.error_next("users.info", "internal_error")
    reply = vigie.slack.command_answer(f"assign {mention_id} <@{OTHER_USER_ID}|b>")
    assert reply["text"] == f"Mention #{mention_id} assigned to <@{OTHER_USER_ID}>."
    asked = vigie.standin.calls("users.info")[-1]
    assert asked.args["user"] == OTHER_USER_ID and not asked.ok


def test_assign_does_not_wait_out_a_slack_rate_limit(vigie_sqlite: VigieApp) -> None:
    """The look-up runs before Slack's 3-second acknowledgement: one short try (1 s), no
    retry after a 429 (the listener client would wait Retry-After and try twice more);
    the assignment goes on."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    granted_quietly(vigie, OTHER_USER_ID)
    vigie.slack.command_answer(f"show {mention_id}")
    vigie.standin.wait_for("users.info")
    before = len(vigie.standin.calls("users.info"))
    vigie.standin.fail_next("users.info", 429, retry_after=2)
    reply = vigie.slack.command_answer(f"assign {mention_id} <@{OTHER_USER_ID}|b>")
    assert reply["text"] == f"Mention #{mention_id} assigned to <@{OTHER_USER_ID}>."
    assert len(vigie.standin.calls("users.info")) == before + 1  # tried once, not retried


ASSIGNEE_UNCHECKED = (
    "Vigie could not check this person's account with Slack just now (Slack did not "
    "answer), and they may be a guest, so nothing was assigned and nobody was notified. "
    "Please try again in a moment; if Slack stays silent, an admin can vouch for them with "
    "`/cm role add @name agent`.")


def _written(vigie: VigieApp) -> tuple[int, int]:
    """Outbox rows (cards, notes, DMs) and audit rows so far."""
    with vigie.runtime.sessions() as session:
        return (session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
                session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_assign_refuses_whom_slack_could_not_check_and_writes_nothing(
        vigie_sqlite: VigieApp) -> None:
    """Slack failing (an error, a 5xx, a dropped connection) about an assignee it never
    answered for and no admin gave a role: they may be a guest, whom the assignment's DM
    and App Home would show the mention, so they are refused as they would be acting
    themselves, by command (one id or several) and in the modal, saying why and what to
    do; nothing is written (no owner, no note, no DM queued, no audit). Once Slack
    answers, its word decides."""
    vigie = vigie_sqlite
    ids = [seed(vigie, f"Parcel {n} never arrived", handle=f"@u{n}@mastodon.social")
           for n in range(2)]
    _warm_up(vigie, ids[0])
    settle(vigie)
    guest = "U07GUEST03"
    vigie.standin.set_user(guest, name="guest", guest="multi")
    before = _written(vigie)
    vigie.standin.error_next("users.info", "internal_error")
    reply = vigie.slack.command_answer(f"assign {ids[0]} <@{guest}|g>")
    assert reply["text"] == ASSIGNEE_UNCHECKED
    vigie.standin.fail_next("users.info", 503)
    several = vigie.slack.command_answer(f"assign {ids[0]} {ids[1]} <@{guest}|g>")["text"]
    assert "nothing was assigned" in several and "assigned to" not in several
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, ids[0])["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    vigie.standin.fail_next("users.info", 500, disconnect=True)
    in_modal = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                           values={"assignee": {"user": guest}}).json()
    assert in_modal["response_action"] == "errors"
    assert in_modal["errors"]["assignee"] == ASSIGNEE_UNCHECKED.replace("`", "")
    settle(vigie)
    assert [(status(vigie, m), assigned_to(vigie, m)) for m in ids] == [("new", None)] * 2
    assert _written(vigie) == before
    assert not [c for c in vigie.standin.calls() if guest in str(c.args.get("channel"))
                or guest in str(c.args.get("users"))]
    assert [c.args["user"] for c in vigie.standin.calls("users.info")] == [guest] * 3
    # Slack answers again: a guest is refused as a guest, a member is assigned.
    assert vigie.slack.command_answer(f"assign {ids[0]} <@{guest}|g>")["text"] == \
        GUEST_REFUSAL
    assert f"assigned to <@{OTHER_USER_ID}>" in vigie.slack.command_answer(
        f"assign {ids[0]} <@{OTHER_USER_ID}|b>")["text"]


def test_templates_and_voice(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    grant(vigie, APPROVER, "approver")
    denied = vigie.slack.command_answer("template add x complaint en Hi")["text"]
    assert "approver" in denied
    added = vigie.slack.command_answer(
        "template add late complaint en So sorry {author}, we're on it at {brand}!",
        user_id=APPROVER)["text"]
    assert "Template *late* saved" in added
    assert "is not an intent" in vigie.slack.command_answer(
        "template add x moaning en Hi", user_id=APPROVER)["text"]
    assert "*late* · complaint · en" in vigie.slack.command_answer("template list")["text"]
    mention_id = seed(vigie)  # a complaint in English by "Ana"
    vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"])
    vigie.standin.wait_for("views.open")
    modal = vigie.standin.calls("views.open")[-1].args["view"]
    # A Mastodon reply mentions the customer it answers (bot.replies.addressing).
    assert modal["blocks"][1]["element"]["initial_value"].startswith(
        "@ana@mastodon.social So sorry Ana, we're on it")
    assert "removed" in vigie.slack.command_answer("template remove late",
                                                   user_id=APPROVER)["text"]
    assert "No voice guide" in vigie.slack.command_answer("voice")["text"]
    assert "saved" in vigie.slack.command_answer("voice Warm, brief, first names.",
                                                 user_id=ADMIN_ID)["text"]
    assert "Warm, brief" in vigie.slack.command_answer("voice")["text"]


def answer_after_ack(vigie: VigieApp, text: str, user_id: str = USER_ID) -> str:
    """The answer to a command acknowledged first (one naming several mentions): the ack
    says nothing, the answer comes to the command's response URL."""
    before = len(vigie.standin.responses())
    response = vigie.slack.slash_command(text, user_id=user_id)
    assert response.status_code == 200
    ack = response.json() if response.content else {}
    assert not ack.get("text"), f"answered in the ack: {ack}"
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > before, timeout=15)
    return str(vigie.standin.responses()[before]["text"])


def test_ignore_several_ids_ignores_each_and_reports_each(vigie_sqlite: VigieApp) -> None:
    """`/cm ignore 41, #42,43 #44 reason`: every leading id is ignored with the reason (not
    #41 with the reason "#42,43 #44"), and one answer says, id by id, what was done or
    refused."""
    vigie = vigie_sqlite
    first = seed(vigie, "My order never arrived", handle="@ana@mastodon.social")
    second = seed(vigie, "Still no parcel, week two", handle="@bob@mastodon.social")
    third = seed(vigie, "Refund me now please", handle="@cid@mastodon.social")
    vigie.slack.command_answer(f"ignore {third}")
    answer = answer_after_ack(vigie, f"ignore {first}, #{second},{third} #99999 bot wave")
    assert status(vigie, first) == status(vigie, second) == "ignored"
    assert answer.startswith("Done for 2 of 4 mentions:"), answer
    assert f"Mention #{first} ignored." in answer and f"Mention #{second} ignored." in answer
    assert f":x: #{third} not done:" in answer and ":x: #99999 not done:" in answer
    settle(vigie)
    notes = thread_notes(vigie)
    assert sum("Reason: bot wave" in note for note in notes) == 2, notes


def test_a_reason_starting_with_a_number_names_no_other_mention(vigie_sqlite: VigieApp
                                                               ) -> None:
    """`/cm ignore 42 3 duplicates` ignores #42 with the reason "3 duplicates": mention #3,
    which exists, is left as it was (bare numbers are ids only with nothing else after
    them)."""
    vigie = vigie_sqlite
    first = seed(vigie, "My order never arrived", handle="@ana@mastodon.social")
    second = seed(vigie, "Still no parcel, week two", handle="@bob@mastodon.social")
    answer = vigie.slack.command_answer(f"ignore {first} {second} duplicates")["text"]
    assert answer == f"Mention #{first} ignored.", answer
    assert status(vigie, first) == "ignored" and status(vigie, second) == "new"
    settle(vigie)
    assert any(f"Reason: {second} duplicates" in note for note in thread_notes(vigie))
    vigie.slack.command_answer(f"ignore {second} 2024 campaign")
    assert status(vigie, second) == "ignored"
    answer = answer_after_ack(vigie, f"reopen {first} {second}")
    assert answer.startswith("Done for 2 of 2 mentions:"), answer


def test_assign_and_reply_several_ids(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    first = seed(vigie, "My order never arrived", handle="@ana@mastodon.social")
    second = seed(vigie, "Still no parcel, week two", handle="@bob@mastodon.social")
    answer = answer_after_ack(vigie, f"assign {first} {second} <@{USER_ID}|alice>")
    assert status(vigie, first) == status(vigie, second) == "assigned", answer
    refused = answer_after_ack(vigie,
                               f"replied {first} {second} https://mastodon.social/@acme/9")
    assert "goes with one mention" in refused
    assert status(vigie, first) == "assigned"
    answer = answer_after_ack(vigie, f"replied {first},{second}")
    assert status(vigie, first) == status(vigie, second) == "replied", answer
    answer = answer_after_ack(vigie, f"reopen {first} {second}")
    assert answer.startswith("Done for 2 of 2 mentions:"), answer


ANA = "U07ANA0001"


def _assignee_lookups(vigie: VigieApp) -> list[Any]:
    """The ``users.info`` calls about Ana (who types no command: each is a check of her as
    an assignee)."""
    return [c for c in vigie.standin.calls("users.info") if c.args.get("user") == ANA]


def granted_quietly(vigie: VigieApp, user_id: str) -> None:
    """An admin made ``user_id`` an agent (written as `/cm role add` writes it, without its
    look-up): what Vigie sends them unasked (DMs, Home refreshes) asks Slack nothing, as it
    asks about a user with no grant (a guest among them gets nothing)."""
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=user_id, role="agent",
                           granted_by=ADMIN_ID))


def _warm_up(vigie: VigieApp, mention_id: int) -> None:
    """A first command, so its look-up of the user typing it (users.info) is behind us."""
    vigie.slack.command_answer(f"show {mention_id}")
    vigie.standin.wait_for("users.info", timeout=15)
    vigie.standin.clear()


def test_assign_several_ids_asks_slack_about_the_assignee_once(vigie_sqlite: VigieApp
                                                               ) -> None:
    """`/cm assign 41 42 43 @ana`: one users.info about Ana, not one per mention (each
    waits up to a second, and the command must be answered within Slack's three)."""
    vigie = vigie_sqlite
    ids = [seed(vigie, f"Parcel {n} never arrived", handle=f"@u{n}@mastodon.social")
           for n in range(3)]
    _warm_up(vigie, ids[0])
    vigie.slack.command_answer(f"assign {ids[0]} {ids[1]} {ids[2]} <@{ANA}|ana>")
    eventually(lambda: all(status(vigie, mention_id) == "assigned" for mention_id in ids))
    assert len(_assignee_lookups(vigie)) == 1, vigie.standin.calls("users.info")


def test_a_failed_assignee_look_up_is_not_repeated_for_each_id(vigie_sqlite: VigieApp
                                                               ) -> None:
    """Slack could not say who Ana is: the assignment goes on (the role check decides), and
    the next mentions do not ask (and wait) again."""
    vigie = vigie_sqlite
    ids = [seed(vigie, f"Parcel {n} never arrived", handle=f"@u{n}@mastodon.social")
           for n in range(3)]
    granted_quietly(vigie, ANA)
    _warm_up(vigie, ids[0])
    vigie.standin.error_next("users.info", "internal_error")
    vigie.slack.command_answer(f"assign {ids[0]} {ids[1]} {ids[2]} <@{ANA}|ana>")
    eventually(lambda: all(status(vigie, mention_id) == "assigned" for mention_id in ids))
    lookups = _assignee_lookups(vigie)
    assert [call.error for call in lookups] == ["internal_error"], lookups
