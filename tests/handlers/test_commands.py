"""The `/cm` listener: each subcommand answers as Slack delivers it (in the ack, or after it
for slow ones), and a ServiceError comes back as the user's explanation, never the apology."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.commands import parse_command
from handlers.commands.registry import REGISTRY, Reply
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.handlers.conftest import nth_response

APOLOGY = "something went wrong"

# One invocation per subcommand and a piece of its answer: usage errors and refusals
# (ServiceError) as well as plain answers.
INVOCATIONS: dict[str, tuple[str, str]] = {
    "account": ("account list", "No brand accounts"),
    "opp": ("opp dismiss 999", "no opportunity 999"),
    "help": ("help watch", "/cm watch add NAME"),
    "influencers": ("influencers 7d", ""),
    "report": ("report schedule", "monthly report"),
    "watch": ("watch pause nope", "nope"),
    "source": ("source test x", "x"),
    "notify": ("notify status", "DM"),
    "mentions": ("mentions status:new", "No mentions"),
    "show": ("show 999", "#999"),
    "assign": ("assign 999 <@U07ANA0001|ana>", "#999"),
    "draft": ("draft 999", "#999"),
    "approve": ("approve 999 vx", "vx"),
    "reject": ("reject 999 too formal", "#999"),
    "withdraw": ("withdraw 999", "#999"),
    "replied": ("replied 999", "#999"),
    "ignore": ("ignore 999", "#999"),
    "reopen": ("reopen 999", "#999"),
    "role": ("role list", ""),
    "lang": ("lang fr", "français"),
    "forget": ("forget", "/cm forget"),
    "digest": ("digest status", "digest"),
    "stats": ("stats 7d", ""),
    "export": ("export 7d", "DM"),
    "settings": ("settings nope 1", "nope"),
    "sla": ("sla set acme urgent=soon", "soon"),
    "triage": ("triage", "triage"),
    "voice": ("voice", "voice"),
    "template": ("template list", "template"),
}


def test_every_subcommand_has_a_case() -> None:
    assert set(INVOCATIONS) == {sub.name for sub in REGISTRY.all()}


def _answer(vigie: VigieApp, text: str) -> dict[str, Any]:
    response = vigie.slack.slash_command(text, user_id=ADMIN_ID)
    assert response.status_code == 200
    body: dict[str, Any] = response.json() if response.content else {}
    return body if body.get("text") else nth_response(vigie, 1)


@pytest.mark.parametrize("name", sorted(INVOCATIONS))
def test_subcommand_answers(vigie: VigieApp, name: str) -> None:
    text, expected = INVOCATIONS[name]
    sub = REGISTRY.get(name)
    assert sub is not None
    request = parse_command({"text": text}, "en")
    assert not isinstance(request, Reply)
    answer = _answer(vigie, text)
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert APOLOGY not in answer["text"].lower()
    assert expected.lower() in answer["text"].lower(), answer["text"]
    if sub.is_slow(request):
        assert vigie.standin.responses(), "a slow subcommand answers after the ack"


def test_unknown_subcommand_suggests_one(vigie: VigieApp) -> None:
    answer = vigie.slack.command_answer("wach list")
    assert "watch" in answer["text"]


def test_draft_opens_the_editor_after_the_ack(vigie: VigieApp) -> None:
    """`/cm draft ID` answers in the ack, then opens the editor with the same check."""
    from tests.e2e.test_workflow import seed

    mention_id = seed(vigie)
    answer = vigie.slack.command_answer(f"draft {mention_id}")
    assert f"#{mention_id}" in answer["text"]
    (opened,) = vigie.standin.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "vigie.modal.draft"


def test_sla_says_the_clock_starts_when_vigie_found_the_mention(vigie: VigieApp) -> None:
    """`/cm sla` tells the team where the targets count from: a post found late is not
    late on arrival."""
    answer = _answer(vigie, "sla")
    assert "counts from when Vigie found the mention" in answer["text"], answer["text"]
