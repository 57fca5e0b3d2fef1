"""Turns the typed spec a service handed over (``OutgoingMessage.spec``) into the text and
blocks Slack receives; the notifiers call it when they send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, assert_never

from bot.messages.cards import CardSpec
from bot.messages.delivery import MessageSpec, OutgoingMessage
from bot.messages.notes import Note, NoteWithMentions, note_from_json
from bot.messages.opportunities import OpportunitySpec
from bot.slack.cards import build_card
from bot.slack.notes import render_note, render_note_with_mentions
from bot.slack.opportunity_blocks import build_opportunity_card


def render_spec(spec: MessageSpec) -> tuple[str, list[dict[str, Any]] | None]:
    """The fallback text and blocks (None: a text-only message) of ``spec``."""
    if isinstance(spec, Note):
        return render_note(spec), None
    if isinstance(spec, NoteWithMentions):
        return render_note_with_mentions(spec), None
    if isinstance(spec, CardSpec):
        return build_card(spec.view, spec.language)
    if isinstance(spec, OpportunitySpec):
        return build_opportunity_card(spec.view, spec.language)
    assert_never(spec)


def rendered(message: OutgoingMessage) -> OutgoingMessage:
    """``message`` with its spec rendered into ``text`` and ``blocks`` (as is without one)."""
    if message.spec is None:
        return message
    text, blocks = render_spec(message.spec)
    return replace(message, text=text, blocks=blocks, spec=None)


def payload_text(payload: Mapping[str, Any]) -> str:
    """The text of a text-only outbox row's payload: its note rendered, or the text that
    rows written before notes were data carry."""
    note = payload.get("note")
    return render_note(note_from_json(note)) if note else str(payload.get("text", ""))
