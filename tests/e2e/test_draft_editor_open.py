"""The draft editor, opened by `/cm draft ID` or a card's Draft button: its answer never
says it is open before Slack opened it, a refusal is explained with what to do, and a post
that escaping lengthens (600 ``&``) still opens it."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import VigieApp
from tests.e2e.test_workflow import APPROVER, card, grant, seed, settle
from tests.handlers.conftest import nth_response


def _answer_text(vigie: VigieApp, text: str) -> str:
    return str(vigie.slack.command_answer(text)["text"])


def _after_answer(vigie: VigieApp, sent: int, answer: str) -> list[dict[str, Any]]:
    """The messages sent to response URLs after the first ``sent``, except a command's own
    ``answer`` (which, when the command was acknowledged empty, came that way too)."""
    return [r for r in vigie.standin.responses()[sent:] if r.get("text") != answer]


def _next_after_answer(vigie: VigieApp, sent: int, answer: str) -> dict[str, Any]:
    """The first of :func:`_after_answer`, waiting for it."""
    vigie.standin.wait_until(lambda _: bool(_after_answer(vigie, sent, answer)), timeout=15)
    return _after_answer(vigie, sent, answer)[0]


def test_cm_draft_says_the_editor_opens_and_nothing_more_when_it_does(
        vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    sent = len(vigie.standin.responses())
    ack = _answer_text(vigie, f"draft {mention_id}")
    assert ack == f"Opening the draft editor for #{mention_id}…"
    (opened,) = vigie.standin.wait_for("views.open", timeout=15)
    assert opened.ok, opened.error
    assert _after_answer(vigie, sent, ack) == []


def test_cm_draft_explains_an_expired_trigger_and_to_try_again(vigie_sqlite: VigieApp
                                                                ) -> None:
    """Slack gives 3 seconds to open a modal: the ack said the editor was open while
    views.open failed, and the failure was only logged."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.standin.error_next("views.open", "expired_trigger_id")
    sent = len(vigie.standin.responses())
    ack = _answer_text(vigie, f"draft {mention_id}")
    assert "is open" not in ack, ack
    answer = _next_after_answer(vigie, sent, ack)
    assert answer["text"] == (
        f":warning: The draft editor for #{mention_id} did not open: Slack allows 3 seconds "
        f"to open it and the time ran out. Run `/cm draft {mention_id}` again.")
    assert answer["response_type"] == "ephemeral"


def test_cm_draft_names_slack_s_refusal_in_french(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    assert "français" in _answer_text(vigie, "lang fr")
    vigie.standin.error_next("views.open", "view_too_large")
    sent = len(vigie.standin.responses())
    ack = _answer_text(vigie, f"draft {mention_id}")
    assert ack == f"Ouverture de l'éditeur de brouillon de la n°{mention_id}…"
    answer = _next_after_answer(vigie, sent, ack)["text"]
    assert answer.startswith(
        f":warning: L'éditeur de brouillon de la n°{mention_id} ne s'est pas ouvert : Slack "
        "l'a refusé (`view_too_large`)."), answer
    assert f"`/cm draft {mention_id} votre réponse`" in answer


def test_the_draft_button_opens_the_editor_for_a_post_of_600_ampersands(
        vigie_sqlite: VigieApp) -> None:
    """Escaped, 600 ``&`` are 3000 characters: quoted, the excerpt was 3002, over a
    section's 3000, and Slack refused the editor."""
    vigie = vigie_sqlite
    ts = card(vigie, seed(vigie, text="&" * 600))["ts"]
    vigie.slack.block_action("vigie.draft", message_ts=ts)
    opened = vigie.standin.wait_for("views.open", timeout=15)[-1]
    assert opened.ok, (opened.error, (opened.response or {}).get("response_metadata"))


def test_the_draft_button_explains_an_expired_trigger_and_to_click_again(
        vigie_sqlite: VigieApp) -> None:
    """A Draft click whose views.open failed got the generic apology with an error id for
    the admin, where clicking again is all it takes."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    ts = card(vigie, mention_id)["ts"]
    vigie.standin.error_next("views.open", "expired_trigger_id")
    vigie.slack.block_action("vigie.draft", message_ts=ts)
    answer = nth_response(vigie, 1)
    assert answer["text"] == (
        f":warning: The draft editor for #{mention_id} did not open: Slack allows 3 seconds "
        "to open it and the time ran out. Click *Draft reply* again.")
    assert answer["response_type"] == "ephemeral" and not answer.get("replace_original")


def test_the_draft_button_names_slack_s_refusal_and_the_text_fallback_in_french(
        vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    assert "français" in _answer_text(vigie, "lang fr")
    ts = card(vigie, mention_id)["ts"]
    vigie.standin.error_next("views.open", "view_too_large")
    sent = len(vigie.standin.responses())
    vigie.slack.block_action("vigie.draft", message_ts=ts)
    answer = nth_response(vigie, sent + 1)["text"]
    assert answer.startswith(
        f":warning: L'éditeur de brouillon de la n°{mention_id} ne s'est pas ouvert : Slack "
        "l'a refusé (`view_too_large`). Cliquez de nouveau sur *Rédiger*"), answer
    assert f"`/cm draft {mention_id} votre réponse`" in answer
    assert "Error id" not in answer and "Erreur" not in answer


def test_the_assign_button_explains_an_expired_trigger_and_to_click_again(
        vigie_sqlite: VigieApp) -> None:
    """Assign's views.open refused (the click's trigger id expired) got the generic
    apology, where the Draft button said to click again."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    ts = card(vigie, mention_id)["ts"]
    vigie.standin.error_next("views.open", "expired_trigger_id")
    vigie.slack.block_action("vigie.assign", message_ts=ts)
    answer = nth_response(vigie, 1)
    assert answer["text"] == (
        f":warning: The *Assign* window for #{mention_id} did not open: Slack allows 3 "
        "seconds to open it and the time ran out. Click *Assign* again.")
    assert answer["response_type"] == "ephemeral" and not answer.get("replace_original")


def test_the_reject_button_explains_a_used_trigger_in_french(
        vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.command_answer(f"draft {mention_id} Nous regardons votre commande.")
    grant(vigie, APPROVER, "approver")
    assert "français" in vigie.slack.command_answer("lang fr", user_id=APPROVER)["text"]
    settle(vigie)
    ts = card(vigie, mention_id)["ts"]
    vigie.standin.error_next("views.open", "exchanged_trigger_id")
    vigie.slack.block_action("vigie.reject", message_ts=ts, user_id=APPROVER)
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
    answer = vigie.standin.responses()[-1]["text"]
    assert answer == (
        f":warning: La fenêtre *Refuser* de la n°{mention_id} ne s'est pas ouverte : Slack "
        "laisse 3 secondes pour l'ouvrir et ce délai est passé. Cliquez de nouveau sur "
        "*Refuser*."), answer


def test_approve_anyway_names_slack_s_refusal_and_the_command(vigie_sqlite: VigieApp
                                                               ) -> None:
    """A high-risk draft's Approve opens the reason window: refused, it said nothing
    useful."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.command_answer(f"draft {mention_id} We will refund you, call +33 6 12 34 56 78 "
                               "or our lawyer. Card 4111 1111 1111 1111")
    grant(vigie, APPROVER, "approver")
    settle(vigie)
    seen = card(vigie, mention_id)
    vigie.standin.error_next("views.open", "view_too_large")
    sent = len(vigie.standin.responses())
    vigie.slack.block_action("vigie.approve", message=seen, user_id=APPROVER)
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > sent)
    answer = vigie.standin.responses()[sent]["text"]
    assert answer == (
        f":warning: The *Approve* window for #{mention_id} did not open: Slack refused it "
        "(`view_too_large`). Click *Approve* again; if it fails again, use "
        f"`/cm approve {mention_id} vN confirm your reason` instead and tell your Vigie "
        "admin."), answer
