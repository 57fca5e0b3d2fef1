"""Turns the typed spec a service handed over (``OutgoingMessage.spec``) into the text and
blocks Slack receives; the notifiers call it when they send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, assert_never

from bot.messages.cards import CardSpec
from bot.messages.delivery import MessageSpec, OutgoingMessage
from bot.messages.digest import DigestSpec
from bot.messages.notes import Note, NoteWithMentions
from bot.messages.opportunities import OpportunitySpec
from bot.messages.spikes import SpikeAlertSpec
from bot.messages.stored import payload_spec
from bot.slack.cards import build_card
from bot.slack.digest_blocks import build_digest_blocks
from bot.slack.notes import render_note, render_note_with_mentions
from bot.slack.opportunity_blocks import build_opportunity_card
from bot.slack.spike_blocks import build_spike_alert


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
    if isinstance(spec, SpikeAlertSpec):
        return build_spike_alert(spec)
    if isinstance(spec, DigestSpec):
        return build_digest_blocks(spec.report, spec.language)
    assert_never(spec)


def rendered(message: OutgoingMessage) -> OutgoingMessage:
    """``message`` with its spec rendered into ``text`` and ``blocks`` (as is without one)."""
    if message.spec is None:
        return message
    text, blocks = render_spec(message.spec)
    return replace(message, text=text, blocks=blocks, spec=None)


def render_payload(payload: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
    """The text and blocks an outbox row's payload sends: its spec rendered, or the text and
    blocks that rows written before specs were data carry."""
    spec = payload_spec(dict(payload))
    if spec is None:
        return str(payload.get("text", "")), payload.get("blocks")
    return render_spec(spec)


def payload_text(payload: Mapping[str, Any]) -> str:
    """The text an outbox row's payload sends (see ``render_payload``)."""
    return render_payload(payload)[0]
