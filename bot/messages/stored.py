"""Specs as outbox payloads: a row stores its spec as data (``{"note": …}``,
``{"spike": …}`` or ``{"digest": …}``) and is rendered when it is sent. Rows written
before specs were data store their rendered ``text`` and ``blocks``; they have no spec and
are sent as they are."""

from __future__ import annotations

from typing import Any

from bot.messages.digest import DigestSpec, digest_from_json, digest_to_json
from bot.messages.notes import Note, note_from_json, note_to_json
from bot.messages.spikes import SpikeAlertSpec, spike_from_json, spike_to_json

StoredSpec = Note | SpikeAlertSpec | DigestSpec
"""The specs an outbox row's payload can carry."""


def spec_payload(spec: StoredSpec) -> dict[str, Any]:
    """The payload of an outbox row that sends ``spec``."""
    if isinstance(spec, Note):
        return {"note": note_to_json(spec)}
    if isinstance(spec, DigestSpec):
        return {"digest": digest_to_json(spec)}
    return {"spike": spike_to_json(spec)}


def payload_spec(payload: dict[str, Any]) -> StoredSpec | None:
    """The spec an outbox row's payload carries (None: its text and blocks are final)."""
    if payload.get("note"):
        return note_from_json(payload["note"])
    if payload.get("spike"):
        return spike_from_json(payload["spike"])
    if payload.get("digest"):
        return digest_from_json(payload["digest"])
    return None
