"""Slack guests (users.info ``is_restricted`` / ``is_ultra_restricted``) have no role in Vigie
until an admin grants one: every command, button, modal and App Home refuses them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.services.actors import CLI
from bot.services.workflow import do_assign, do_simple
from bot.slack.users import AccountCache
from storage.db import transaction
from storage.models import Member
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually, start_vigie
from tests.e2e.test_workflow import ASSIGNEE_UNCHECKED, card, grant, seed, settle, status
from tests.harness.constants import TEAM_ID, USER_ID
from tests.harness.slack_standin import ManualClock, SlackStandIn, StandInTimeout

GUEST = "U07GUEST09"
REFUSAL = ("You are a guest in this Slack workspace: Vigie shows guests nothing and lets "
           "them do nothing until an admin gives them a role. Ask an admin: "
           "`/cm role add @you viewer` (or `agent`).")


def ask(vigie: VigieApp, text: str, user: str) -> str:
    """The answer to `/cm TEXT` from ``user``, in the ack or (slow commands) later."""
    before = len(vigie.standin.responses())
    response = vigie.slack.slash_command(text, user_id=user)
    if response.content and response.json().get("text"):
        return str(response.json()["text"])
    vigie.standin.wait_until(lambda s: len(s.responses()) > before)
    return str(vigie.standin.responses()[-1]["text"])


def press(vigie: VigieApp, action: str, mention_id: int, user: str) -> None:
    """Click a card button as ``user`` (on the card as it now is)."""
    settle(vigie)
    vigie.slack.block_action(action, message_ts=card(vigie, mention_id)["ts"], user_id=user,
                             value=str(mention_id))


def click(vigie: VigieApp, action: str, mention_id: int, user: str) -> dict[str, Any]:
    """Click a card button as ``user``; the ephemeral answer it gets."""
    before = len(vigie.standin.responses())
    press(vigie, action, mention_id, user)
    vigie.standin.wait_until(lambda s: len(s.responses()) > before)
    return vigie.standin.responses()[-1]


def home_text(vigie: VigieApp, user: str) -> str:
    before = len(vigie.standin.calls("views.publish"))
    vigie.slack.app_home_opened(user_id=user)
    eventually(lambda: len(vigie.standin.calls("views.publish")) > before)
    view = vigie.standin.home_view(user)
    assert view is not None
    return str(view["blocks"])


def lookups(vigie: VigieApp, user: str) -> int:
    """users.info calls about ``user`` (the one before the ack also gives their locale:
    there is no other)."""
    return len([c for c in vigie.standin.calls("users.info") if c.args.get("user") == user])


def test_a_guest_without_a_role_is_refused_everywhere(vigie_sqlite: VigieApp) -> None:
    """A single-channel guest reads nothing (show, mentions, export, App Home) and changes
    nothing (ignore, a card button, a modal), and is told how to get a role."""
    vigie = vigie_sqlite
    mention_id = seed(vigie, text="Private-ish complaint: my order 12345 never arrived")
    vigie.standin.set_user(GUEST, name="guest", guest="single")
    for command in (f"show {mention_id}", "mentions", "export 7d", f"ignore {mention_id}",
                    f"replied {mention_id}", "help"):
        assert ask(vigie, command, GUEST) == REFUSAL, command
    assert not [c for c in vigie.standin.calls() if "upload" in c.method]
    refused = click(vigie, "vigie.ignore", mention_id, GUEST)
    assert refused["text"] == REFUSAL and refused["response_type"] == "ephemeral"
    click(vigie, "vigie.assign", mention_id, GUEST)
    assert vigie.standin.calls("views.open") == []
    assert status(vigie, mention_id) == "new"
    # A modal a member opened, submitted by the guest: refused under the field.
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    in_modal = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                           values={"assignee": {"user": USER_ID}},
                                           user_id=GUEST).json()
    assert in_modal["response_action"] == "errors"
    assert "You are a guest in this Slack workspace" in str(in_modal["errors"])
    assert status(vigie, mention_id) == "new"
    home = home_text(vigie, GUEST)
    assert "ask an admin" in home.lower() and "/cm role add @you viewer" in home
    assert "12345" not in home and f"#{mention_id}" not in home and "Assigned to me" not in home


def test_a_multi_channel_guest_too_even_when_members_default_to_viewer(
        vigie_sqlite: VigieApp) -> None:
    """`default_role viewer` is for members: a guest still reads nothing."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    assert "viewer" in ask(vigie, "settings default_role viewer", ADMIN_ID)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    assert ask(vigie, f"show {mention_id}", GUEST) == REFUSAL
    assert ask(vigie, "mentions", GUEST) == REFUSAL


def test_a_guest_an_admin_gave_a_role_works_with_that_role(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie, text="Private-ish complaint: my order 12345 never arrived")
    vigie.standin.set_user(GUEST, name="guest", guest="single")
    grant(vigie, GUEST, "viewer")
    assert "12345" in ask(vigie, f"show {mention_id}", GUEST)
    assert "Only an *agent*" in ask(vigie, f"ignore {mention_id}", GUEST)
    assert "Assigned to me" in home_text(vigie, GUEST)
    grant(vigie, GUEST, "agent")
    assert "ignored" in ask(vigie, f"ignore {mention_id}", GUEST).lower()
    assert status(vigie, mention_id) == "ignored"
    press(vigie, "vigie.reopen", mention_id, GUEST)
    eventually(lambda: status(vigie, mention_id) == "new")


def test_a_member_is_unchanged_and_asked_about_once(vigie_sqlite: VigieApp) -> None:
    """A member works as before; Slack is asked about them once for several commands,
    a click and App Home (the answer is kept a while), as it is about a guest."""
    vigie = vigie_sqlite
    mention_id = seed(vigie, text="Private-ish complaint: my order 12345 never arrived")
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    assert "12345" in ask(vigie, f"show {mention_id}", USER_ID)
    assert "1 mention" in ask(vigie, "mentions", USER_ID)
    assert "ignored" in ask(vigie, f"ignore {mention_id}", USER_ID).lower()
    press(vigie, "vigie.reopen", mention_id, USER_ID)
    eventually(lambda: status(vigie, mention_id) == "new")
    assert "Assigned to me" in home_text(vigie, USER_ID)
    for command in (f"show {mention_id}", "mentions", f"ignore {mention_id}"):
        assert ask(vigie, command, GUEST) == REFUSAL
    click(vigie, "vigie.ignore", mention_id, GUEST)
    home_text(vigie, GUEST)
    assert lookups(vigie, USER_ID) == 1
    assert lookups(vigie, GUEST) == 1


FIVE_MINUTES = 300
"""How long Slack's answer about a user is trusted (``bot.slack.users.CACHE_SECONDS``)."""

UNCHECKED = ("Vigie could not check your account with Slack just now (Slack did not "
             "answer), so it did nothing. Please try again in a moment.")


def unchecked(command: str) -> str:
    """The answer to a slash command refused because Slack could not say who typed it:
    the command comes back, to copy and try again."""
    return (UNCHECKED.removesuffix(".") + "; here is your command to copy:\n"
            f"```/cm {command}```")


@pytest.fixture
def clocked(sqlite_url: str, slack_standin: SlackStandIn
            ) -> Iterator[tuple[VigieApp, ManualClock]]:
    """Vigie whose cache of Slack's answers about users runs on a clock the test moves."""
    clock = ManualClock()
    for vigie in start_vigie(sqlite_url, slack_standin, accounts=AccountCache(clock=clock)):
        yield vigie, clock


def test_slack_is_asked_again_once_the_answer_is_five_minutes_old(
        clocked: tuple[VigieApp, ManualClock]) -> None:
    """Two requests a moment apart make one users.info call; five minutes on, Slack is
    asked again, and a member Slack has made a guest since is refused from then on."""
    vigie, clock = clocked
    mention_id = seed(vigie)
    vigie.standin.set_user(GUEST, name="guest")  # a member, for now
    assert f"#{mention_id}" in ask(vigie, f"show {mention_id}", GUEST)
    assert "1 mention" in ask(vigie, "mentions", GUEST)
    assert lookups(vigie, GUEST) == 1
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    clock.advance(FIVE_MINUTES - 1)
    assert f"#{mention_id}" in ask(vigie, f"show {mention_id}", GUEST)  # still the answer kept
    assert lookups(vigie, GUEST) == 1
    clock.advance(1)
    assert ask(vigie, f"show {mention_id}", GUEST) == REFUSAL
    assert lookups(vigie, GUEST) == 2


def test_a_user_with_a_grant_and_a_language_costs_slack_no_look_up(
        clocked: tuple[VigieApp, ManualClock]) -> None:
    """An admin's grant decides whatever Slack says, and a stored language wins over the
    Slack locale: once a granted user's language is known (their first request remembers
    their Slack locale), their commands, clicks and App Home ask Slack nothing, however
    long they work, and Slack being out does not stop them."""
    vigie, clock = clocked
    mention_id = seed(vigie)
    agent = "U07AGENT02"
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=agent, role="approver",
                           granted_by=ADMIN_ID))
    vigie.standin.set_user(agent, name="agent", locale="fr-FR")
    assert f"Mention n°{mention_id}" in ask(vigie, f"show {mention_id}", agent)
    assert lookups(vigie, agent) == 1  # for their locale, remembered
    clock.advance(FIVE_MINUTES * 3)
    vigie.standin.fail_next("users.info", 429, retry_after=30, count=5)
    assert "ignorée" in ask(vigie, f"ignore {mention_id}", agent)
    press(vigie, "vigie.reopen", mention_id, agent)
    eventually(lambda: status(vigie, mention_id) == "new")
    assert "Attribuées à moi" in home_text(vigie, agent)
    assert lookups(vigie, agent) == 1


def test_when_slack_cannot_answer_about_a_new_user_they_can_only_try_again(
        vigie_sqlite: VigieApp) -> None:
    """Slack failing (an error, a 5xx, no answer; a rate limit: see below) about a user it
    never answered for: they are not taken for a member. A command is refused with itself
    to copy, a button and a modal do nothing, App Home shows nothing; help stays open.
    Each failure is not kept: the next request asks again, and Slack's answer decides."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    vigie.standin.fail_next("users.info", 502)
    assert ask(vigie, f"ignore {mention_id}", GUEST) == unchecked(f"ignore {mention_id}")
    vigie.standin.error_next("users.info", "internal_error")
    typed = f"draft {mention_id} Sorry for the wait & <the delay>, Ana"
    assert ask(vigie, typed, GUEST) == unchecked(typed.replace("&", "&amp;").replace(
        "<", "&lt;").replace(">", "&gt;"))
    vigie.standin.fail_next("users.info", 500)
    helped = ask(vigie, "help", GUEST)
    assert "/cm mentions" in helped and "could not check" not in helped
    vigie.standin.fail_next("users.info", 500)
    refused = click(vigie, "vigie.ignore", mention_id, GUEST)
    assert refused["text"] == UNCHECKED
    assert status(vigie, mention_id) == "new"
    # A modal a member opened, submitted by the user while Slack is out.
    vigie.slack.block_action("vigie.assign", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open")[-1]
    vigie.standin.error_next("users.info", "service_unavailable")
    in_modal = vigie.slack.view_submission(view_id=opened.response["view"]["id"],
                                           values={"assignee": {"user": USER_ID}},
                                           user_id=GUEST).json()
    assert in_modal["response_action"] == "errors"
    assert "what you typed is still here" in str(in_modal["errors"])
    vigie.standin.fail_next("users.info", 500, count=2)  # opening it, then publishing it
    home = home_text(vigie, GUEST)
    assert "could not check your account with Slack" in home and f"#{mention_id}" not in home
    assert status(vigie, mention_id) == "new"
    assert ask(vigie, f"show {mention_id}", GUEST) == REFUSAL  # Slack answers again


def test_the_user_is_told_in_their_language(vigie_sqlite: VigieApp) -> None:
    """A user who chose French (no role granted) is told in French, command and all."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=GUEST, role="agent",
                           locale="fr"))
    vigie.standin.error_next("users.info", "request_timeout")
    assert ask(vigie, f"ignore {mention_id}", GUEST) == (
        "Vigie n’a pas pu vérifier votre compte auprès de Slack (Slack n’a pas répondu) : "
        "rien n’a été fait. Réessayez dans un instant ; voici votre commande à recopier :\n"
        f"```/cm ignore {mention_id}```")
    assert status(vigie, mention_id) == "new"


def test_when_slack_cannot_answer_its_last_answer_stands(
        clocked: tuple[VigieApp, ManualClock]) -> None:
    """Slack failing about users it answered for before, however long ago: a guest stays
    refused as a guest, a member keeps working."""
    vigie, clock = clocked
    mention_id = seed(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="single")
    assert ask(vigie, f"show {mention_id}", GUEST) == REFUSAL
    assert f"#{mention_id}" in ask(vigie, f"show {mention_id}", USER_ID)
    clock.advance(FIVE_MINUTES * 10)
    vigie.standin.fail_next("users.info", 503, count=2)
    assert ask(vigie, f"show {mention_id}", GUEST) == REFUSAL
    assert "ignored" in ask(vigie, f"ignore {mention_id}", USER_ID).lower()
    assert status(vigie, mention_id) == "ignored"
    assert lookups(vigie, GUEST) == 2 and lookups(vigie, USER_ID) == 2  # Slack was asked


def test_what_vigie_sends_unasked_shows_a_guest_without_a_role_nothing(
        vigie_sqlite: VigieApp) -> None:
    """A mention given to a guest without asking Slack (from the console, or while Slack
    was down) sends them no DM, and the Home refreshed after the change is the one opening
    it shows a guest: no mention data. An admin's grant lets both through."""
    vigie = vigie_sqlite
    mention_id = seed(vigie, text="Private-ish complaint: my order 12345 never arrived")
    settle(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="single")
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    vigie.standin.clear()
    do_assign(vigie.runtime.sessions, workspace_id, CLI, mention_id, GUEST)
    vigie.runtime.deliver()
    assert vigie.standin.messages_in(GUEST) == []
    home = vigie.standin.home_view(GUEST)
    assert home is not None and "/cm role add @you viewer" in str(home["blocks"])
    assert "12345" not in str(home) and f"#{mention_id}" not in str(home)
    grant(vigie, GUEST, "agent")
    do_simple(vigie.runtime.sessions, workspace_id, CLI, mention_id, "ignore")
    do_simple(vigie.runtime.sessions, workspace_id, CLI, mention_id, "reopen")
    vigie.runtime.deliver()
    assert "12345" in str(vigie.standin.messages_in(GUEST))
    home = vigie.standin.home_view(GUEST)
    assert home is not None and f"#{mention_id}" in str(home["blocks"])


def test_the_draft_editor_asks_slack_only_when_the_roles_leave_it_open(
        vigie_sqlite: VigieApp) -> None:
    """Opening the draft editor on a mention nobody owns reads the roles first: an explicit
    role decides (a viewer is refused, an agent may draft, even as a guest) without
    asking Slack at all (their language is known too); a member of the default role, whom
    Slack's word could still refuse, is not let in without it."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    settle(vigie)
    agent, viewer, member = "U07AGENT01", "U07VIEWR01", "U07MEMBR01"
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:  # known: no locale look-up
        for user, role, by in ((agent, "agent", ADMIN_ID), (viewer, "viewer", ADMIN_ID),
                               (member, "agent", None)):
            vigie.standin.set_user(user, name=user.lower())
            session.add(Member(workspace_id=workspace_id, user_id=user, role=role,
                               granted_by=by, locale="en"))

    def open_editor(user: str) -> None:
        before = len(vigie.standin.responses()), len(vigie.standin.calls("views.open"))
        vigie.standin.clear_faults()
        vigie.standin.error_next("users.info", "internal_error")  # any look-up fails
        vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"],
                                 user_id=user)
        vigie.standin.wait_until(lambda s: (len(s.responses()), len(s.calls("views.open")))
                                 != before, timeout=15)

    open_editor(viewer)
    assert "Only an *agent*" in vigie.standin.responses()[-1]["text"]
    assert lookups(vigie, viewer) == 0
    open_editor(agent)
    assert vigie.standin.calls("views.open")
    assert lookups(vigie, agent) == 0
    opened = len(vigie.standin.calls("views.open"))
    open_editor(member)
    assert vigie.standin.responses()[-1]["text"] == UNCHECKED
    assert len(vigie.standin.calls("views.open")) == opened
    assert lookups(vigie, member) == 1
    assert status(vigie, mention_id) == "new"


@pytest.fixture
def one_clock(sqlite_url: str) -> Iterator[tuple[VigieApp, ManualClock]]:
    """Vigie and the Slack stand-in on one clock the test moves: Slack's rate-limit
    windows and the cache of its answers about users."""
    clock = ManualClock()
    with SlackStandIn(clock=clock) as standin:
        yield from ((vigie, clock) for vigie in
                    start_vigie(sqlite_url, standin, accounts=AccountCache(clock=clock)))


def test_a_rate_limit_stops_every_look_up_in_the_workspace_until_retry_after(
        one_clock: tuple[VigieApp, ManualClock]) -> None:
    """Slack rate limits users.info (HTTP 429, Retry-After 30): it counts limits per
    method and workspace, so until 30 s have passed Vigie calls it for nobody there (each
    call would be refused, and hold a request before its ack for nothing). Meanwhile a
    user Slack answered about before keeps its last answer (a member works, a guest stays
    refused); a user it never answered about is refused as unchecked, as an assignee too,
    and their App Home shows nothing. Then Slack is asked again, and answers."""
    vigie, clock = one_clock
    mention_id = seed(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    newcomer = "U07NEWBIE1"
    vigie.standin.set_user(newcomer, name="newbie")
    assert f"#{mention_id}" in ask(vigie, f"show {mention_id}", USER_ID)
    assert ask(vigie, f"show {mention_id}", GUEST) == REFUSAL
    clock.advance(FIVE_MINUTES)  # neither answer is fresh now: Slack would be asked again
    vigie.standin.rate_limit("users.info", 30)
    before = len(vigie.standin.calls("users.info"))
    assert ask(vigie, f"show {mention_id}", GUEST) == REFUSAL  # asked: 429, Retry-After 30
    assert vigie.standin.calls("users.info")[-1].reply_headers["Retry-After"] == "30"
    assert "ignored" in ask(vigie, f"ignore {mention_id}", USER_ID).lower()
    assert ask(vigie, f"show {mention_id}", newcomer) == unchecked(f"show {mention_id}")
    press(vigie, "vigie.reopen", mention_id, USER_ID)
    eventually(lambda: status(vigie, mention_id) == "new")
    assert ask(vigie, f"assign {mention_id} <@{newcomer}|n>", USER_ID) == ASSIGNEE_UNCHECKED
    assert "could not check your account with Slack" in home_text(vigie, newcomer)
    clock.advance(29)
    assert ask(vigie, f"show {mention_id}", newcomer) == unchecked(f"show {mention_id}")
    assert ask(vigie, f"show {mention_id}", GUEST) == REFUSAL
    assert len(vigie.standin.calls("users.info")) == before + 1
    clock.advance(1)
    assert f"#{mention_id}" in ask(vigie, f"show {mention_id}", newcomer)
    assert [c.status for c in vigie.standin.calls("users.info")[before:]] == [429, 200]
    assert status(vigie, mention_id) == "new"


def test_requests_at_the_same_moment_about_a_new_user_make_one_look_up(
        vigie_sqlite: VigieApp) -> None:
    """Two requests of a user Slack was not asked about yet, at the same moment (a double
    click, a command and App Home): the second waits for the first one's users.info and
    shares its answer instead of calling again."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.standin.set_user(GUEST, name="guest", guest="multi")
    held = vigie.standin.hold("users.info")
    answers: list[str] = []
    requests = [threading.Thread(target=lambda text=text: answers.append(
        str(vigie.slack.command_answer(text, user_id=GUEST)["text"])))
        for text in (f"show {mention_id}", "mentions")]
    requests[0].start()
    held.wait_for_arrivals(1)
    requests[1].start()
    # The second request reaches Vigie and waits: for the first call (one call in all),
    # or at the hold, its own call. Released within the look-up's own 1-s timeout.
    with pytest.raises(StandInTimeout):
        held.wait_for_arrivals(2, timeout=0.5)
    held.release()
    for request in requests:
        request.join(timeout=10)
    assert answers == [REFUSAL, REFUSAL]
    assert lookups(vigie, GUEST) == 1
