"""Who may run each `/cm` verb is declared once, in the command table, next to its argument
spec and help; the services check the same role again for their other callers. These tests
hold the two to one rule: for every verb, a member one rank below the declared role is refused
by the service with the very text the table gives, and a member with the role is not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.i18n import has, t
from bot.services.errors import Forbidden
from bot.services.permissions import ANYONE, Role
from handlers.commands import parse_command
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Subcommand, Verbs
from tests.e2e.conftest import ADMIN_ID, VigieApp, start_vigie
from tests.e2e.test_workflow import APPROVER, VIEWER, answer_after_ack, grant, seed
from tests.harness.constants import CHANNEL_ID, TEAM_ID
from tests.harness.slack_standin import SlackStandIn

AGENT = "U07AGENT01"
"""A member nobody granted a role: the default, agent."""
MEMBERS = {Role.VIEWER: VIEWER, Role.AGENT: AGENT, Role.APPROVER: APPROVER, Role.ADMIN: ADMIN_ID}

# One invocation per verb (per branch of a role that depends on the arguments), written so
# that the service reaches its own role check: valid arguments, the seeded watch "acme" and
# mention {mention}.
INVOCATIONS = (
    "help", "help watch",
    "account list", "account add x @acmecare", "account remove x @acmecare",
    "opp list", "opp assign 999", "opp draft 999 Hi there", "opp contacted 999",
    "opp dismiss 999", "opp reopen 999",
    "influencers 7d", "influencers track @alice mastodon", "influencers untrack @alice mastodon",
    "report month", "report schedule", "report schedule monthly", "report schedule off",
    "watch add rival rival", "watch list", "watch pause acme", "watch resume acme",
    "watch remove acme", "watch threshold acme 60", "watch kind acme competitor",
    "watch channel acme <#C0123ABCD|social>",
    "watch group list",
    "watch group create g acme", "watch group add g acme", "watch group drop g acme",
    "watch group conquest g on", "watch group delete g",
    "watch route acme topic:billing <#C07OPS0001|ops>", "watch unroute acme topic:billing",
    "watch routes",
    "source add rss acme https://news.example.com/feed.xml", "source list", "source test 999",
    "source pause 999", "source resume 999", "source remove 999",
    "notify status",
    "mentions", "show {mention}", "assign {mention} <@U07ANA0001|ana>",
    "draft {mention} Sorry to hear that", "approve {mention} v1", "reject {mention} too formal",
    "withdraw {mention}", "replied {mention}", "ignore {mention}", "reopen {mention}",
    "role list", "role add <@U07DUMMY01|d> agent", "role remove <@U07DUMMY01|d>",
    "lang en", "forget @nobody@mastodon.social",
    "forget undo @nobody@mastodon.social",
    "digest status", "digest now", "digest set 08:30", "digest off", "digest empty skip",
    "stats 7d", "stats sov", "export 7d", "export sov",
    "settings", "settings four_eyes on",
    "sla", "sla set acme urgent=30", "sla hours 09:00-18:00 mon-fri UTC", "sla hours off",
    "triage", "triage learn", "triage reset", "triage off", "triage on",
    "voice", "voice Warm and brief", "voice off",
    "template list", "template add late complaint en Sorry {{author}}",
    "template remove late",
)


def _request(text: str, user_id: str, mention_id: int) -> tuple[Subcommand, CommandRequest]:
    payload = {"text": text.format(mention=mention_id), "team_id": TEAM_ID, "user_id": user_id,
               "channel_id": CHANNEL_ID}
    request = parse_command(payload, "en")
    assert not isinstance(request, Reply), text
    sub = REGISTRY.get(request.name)
    assert sub is not None, text
    return sub, request


def _below(role: Role) -> Role:
    return list(Role)[role.rank - 1]


def test_every_verb_declares_a_role_and_has_an_invocation() -> None:
    """A verb added without a role fails at import (``role`` is required); one added without
    an invocation here fails this test."""
    covered: set[tuple[str, str]] = set()
    for text in INVOCATIONS:
        sub, request = _request(text, VIEWER, 1)
        verb = sub.role.chosen(request) if isinstance(sub.role, Verbs) else None
        covered.add((sub.name, verb.name if verb is not None else ""))
    expected = {(sub.name, verb.name) for sub in REGISTRY.all() if isinstance(sub.role, Verbs)
                for verb in sub.role.items}
    expected |= {(sub.name, "") for sub in REGISTRY.all() if not isinstance(sub.role, Verbs)}
    assert expected <= covered, expected - covered


@pytest.fixture
def members(db_url: str, slack_standin: SlackStandIn) -> Iterator[tuple[VigieApp, int]]:
    """Vigie with a member of each role, the watch "acme" and a mention; its id."""
    for vigie in start_vigie(db_url, slack_standin):
        mention_id = seed(vigie)
        grant(vigie, VIEWER, "viewer")
        grant(vigie, APPROVER, "approver")
        yield vigie, mention_id


def test_the_services_refuse_below_the_declared_role_with_the_tables_text(
    members: tuple[VigieApp, int],
) -> None:
    """The listener is called past the table's check: the refusal comes from the service."""
    vigie, mention_id = members
    checked, wrong = 0, []
    for text in INVOCATIONS:
        sub, request = _request(text, VIEWER, mention_id)
        needed = sub.role_for(request)
        if needed == ANYONE:
            continue
        below = _below(needed)
        sub, request = _request(text, MEMBERS[below], mention_id)
        button = f"card.button_{sub.name}"  # the action as the card's button names it
        action = t("en", button) if has(button) else sub.name
        expected = t("en", sub.refusal, needed=needed.value, role=below.value, action=action)
        try:
            sub.listener(request, vigie.runtime)
            wrong.append(f"{text}: not refused")
        except Forbidden as err:
            if err.message("en") != expected:
                wrong.append(f"{text}: {err.message('en')}")
        except Exception as err:  # noqa: BLE001  (collected: every mismatch at once)
            wrong.append(f"{text}: {err!r}")
        checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked > 40


def test_the_services_let_the_declared_role_through(members: tuple[VigieApp, int]) -> None:
    """Anyone's verbs run for a viewer; the others for a member with exactly the role (other
    refusals, such as an unknown id, are the arguments' business)."""
    vigie, mention_id = members
    wrong = []
    for text in INVOCATIONS:
        sub, request = _request(text, VIEWER, mention_id)
        needed = sub.role_for(request)
        sub, request = _request(text, MEMBERS[needed], mention_id)
        try:
            sub.listener(request, vigie.runtime)
        except Forbidden as err:
            wrong.append(f"{text} as {needed.value}: {err.message('en')}")
        except Exception:  # noqa: BLE001,S110  (not a role refusal: the arguments' business)
            pass
    assert not wrong, "\n".join(wrong)


def test_a_member_below_the_role_hears_the_same_refusal_through_slack(
    members: tuple[VigieApp, int],
) -> None:
    vigie, mention_id = members
    for text, user, expected in (
        ("watch pause acme", VIEWER, "You need the *admin* role for this (you are *viewer*)"),
        (f"approve {mention_id} v1", AGENT, "Only an *approver* (or above) can use *Approve* "
                                            "on a mention; you are *agent*"),
        ("settings four_eyes on", APPROVER, "You need the *admin* role for this (you are "
                                            "*approver*)"),
    ):
        answer = vigie.slack.command_answer(text, user_id=user)
        assert expected in answer["text"], answer
        assert answer.get("response_type", "ephemeral") == "ephemeral"


def test_the_role_is_checked_before_the_arguments_are_read(members: tuple[VigieApp, int]) -> None:
    """A member without the role learns nothing from a command they may not run: not the
    arguments' mistakes, nor whether a mention exists."""
    vigie, _mention_id = members
    for text, user, expected in (
        ("watch add acme threshold:lots acme", VIEWER, "You need the *admin* role"),
        ("source test x", VIEWER, "You need the *admin* role"),
        ("approve 999 vx", AGENT, "Only an *approver* (or above) can use *Approve*"),
        # More arguments than the verb takes: still the verb's role first (found in review).
        ("opp contacted 12 extra", VIEWER, "You need the *agent* role"),
    ):
        answer = vigie.slack.command_answer(text, user_id=user)
        assert expected in answer["text"], (text, answer)
    # Members with the role still hear about their arguments (after the ack: `watch add`
    # checks its channel with Slack).
    assert "lots" in answer_after_ack(vigie, "watch add acme threshold:lots acme", ADMIN_ID)
