"""Pure renderers for Vigie's modals: assign, draft editor, reject, approve anyway."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Protocol

from bot.i18n import has, network_name, t
from bot.slack.escape import escape, fit_source, slack_len, truncate

ASSIGN = "vigie.modal.assign"
DRAFT = "vigie.modal.draft"
REJECT = "vigie.modal.reject"
OVERRIDE = "vigie.modal.override"
DRAFT_BLOCK = "draft"
SUGGESTION_BLOCK = "suggestion"
USE_SUGGESTION = "vigie.draft_suggestion"
REPLACED = ".use"
BASE_VERSION, BASE_APPROVAL = "draft_version", "approval"
"""The draft editor's metadata keys for what it showed when it opened: the newest draft
version and the standing approval (``bot.services.workflow.DraftBase``)."""


class _Origin(Protocol):
    @property
    def value(self) -> str: ...


class DraftEditor(Protocol):
    """What the draft editor shows (``bot.services.drafting.DraftContext`` has it)."""

    @property
    def mention_id(self) -> int: ...
    @property
    def network(self) -> str: ...
    @property
    def mention_text(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def origin(self) -> _Origin: ...
    @property
    def used(self) -> int: ...
    @property
    def limit(self) -> int | None: ...
    @property
    def risk_keys(self) -> Sequence[str]: ...
    @property
    def follow_up(self) -> bool: ...
    @property
    def answering(self) -> str | None: ...
    @property
    def base_version(self) -> int | None: ...
    @property
    def base_approval(self) -> int | None: ...


def _modal(callback_id: str, title: str, submit: str, language: str, mention_id: int,
           blocks: list[dict[str, Any]], extra: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps({"mention_id": mention_id, **(extra or {})}),
        "title": {"type": "plain_text", "text": truncate(title, 24)},
        "submit": {"type": "plain_text", "text": truncate(submit, 24)},
        "close": {"type": "plain_text", "text": t(language, "modal.cancel")},
        "blocks": blocks,
    }


def _input(block_id: str, label: str, element: dict[str, Any], *, hint: str | None = None,
           optional: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "optional": optional,
                             "label": {"type": "plain_text", "text": truncate(label, 2000)},
                             "element": element}
    if hint:
        block["hint"] = {"type": "plain_text", "text": truncate(hint, 2000)}
    return block


EXCERPT_CHARS = 600
"""How much of the post the draft editor quotes, at most (the card has the rest)."""
SECTION_TEXT_LIMIT = 3000
"""Slack's limit for a section's text (Block Kit reference, section block)."""


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in escape(text).splitlines())


def _excerpt(text: str) -> dict[str, Any]:
    """The post as a quote, cut in the source text so that, escaped (``&`` is five
    characters then) and quoted, it still fits a section."""
    quoted, _cut = fit_source(truncate(text, EXCERPT_CHARS), SECTION_TEXT_LIMIT, _quoted)
    return {"type": "section", "text": {"type": "mrkdwn", "text": quoted or ">"}}


def build_assign_modal(mention_id: int, language: str) -> dict[str, Any]:
    """A user picker."""
    return _modal(ASSIGN, t(language, "modal.assign_title", id=mention_id),
                  t(language, "modal.assign_submit"), language, mention_id, [
                      _input("assignee", t(language, "modal.assign_label"),
                             {"type": "users_select", "action_id": "user"})])


def build_draft_modal(context: DraftEditor, language: str, *, note: str | None = None,
                      suggestion: DraftEditor | None = None, replaced: bool = False
                      ) -> dict[str, Any]:
    """The draft editor: mention excerpt, text pre-filled, length and risk warnings.

    The excerpt is the post the reply answers: the customer's newest in the case when they
    wrote again (``context.follow_up``, said above it).

    ``suggestion``: the LLM's text, shown under the input (which keeps its block_id, so
    Slack keeps what the user typed) with a button that puts it in the input.
    ``replaced``: the input takes a new block_id, so Slack shows ``context.text`` in place
    of what the user typed (the button was pressed).
    """
    limit = (t(language, "modal.draft_count", used=context.used, limit=context.limit,
               network=network_name(context.network, language)) if context.limit else
             t(language, "modal.draft_count_free", used=context.used))
    block_id = draft_block_id(context.text) + (REPLACED if replaced else "")
    blocks: list[dict[str, Any]] = [
        *([_note(t(language, "modal.draft_follow_up"))] if context.follow_up else []),
        _excerpt(context.mention_text),
        _input(block_id, t(language, "modal.draft_label"), {
            "type": "plain_text_input", "action_id": "text", "multiline": True,
            "initial_value": truncate(context.text, 3000), "max_length": 3000,
        }, hint=limit),
    ]
    blocks += risk_warnings(context.risk_keys, language)
    if note:
        blocks.append(_note(note))
    if suggestion is not None:
        blocks.append(suggestion_block(suggestion.text, t(language, "modal.use_suggestion"),
                                       USE_SUGGESTION))
        blocks += risk_warnings(suggestion.risk_keys, language)
    return _modal(DRAFT, t(language, "modal.draft_title", id=context.mention_id),
                  t(language, "modal.draft_submit"), language, context.mention_id, blocks,
                  {"origin": context.origin.value, "suggested": text_digest(context.text),
                   "answering": context.answering, BASE_VERSION: context.base_version,
                   BASE_APPROVAL: context.base_approval})


def risk_warnings(risk_keys: Sequence[str], language: str) -> list[dict[str, Any]]:
    """A draft's risk warnings (``risk.*`` keys) as one context line; none without any."""
    if not risk_keys:
        return []
    return [_note(":warning: " + risk_words(risk_keys, language))]


def risk_words(risk_keys: Sequence[str], language: str) -> str:
    """A draft's risk warnings (``risk.*`` keys) in words, in ``language``."""
    return " · ".join(t(language, key) if has(key) else key for key in risk_keys)


def _note(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 2000)}]}


def suggestion_block(text: str, button: str, action_id: str) -> dict[str, Any]:
    """The LLM's suggestion beside the editor, with the button that puts it in the input.

    Plain text: Slack shows it as written (no mention, link or formatting is parsed), and
    it comes back as written in the button's payload (``suggestion_text``); 3,000 is both
    a section's limit and the input's.
    """
    return {"type": "section", "block_id": SUGGESTION_BLOCK,
            "text": {"type": "plain_text", "text": _fit(text, 3000), "emoji": False},
            "accessory": {"type": "button", "action_id": action_id,
                          "text": {"type": "plain_text", "text": truncate(button, 75)}}}


def _fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` as Slack may count it (UTF-16 units: an emoji is 2)."""
    shown = truncate(text, limit)
    while slack_len(shown) > limit:
        shown = truncate(text, len(shown) - (slack_len(shown) - limit) - 1)
    return shown


def suggestion_text(view: dict[str, Any]) -> str | None:
    """The suggestion a view shows (see ``suggestion_block``), if any."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == SUGGESTION_BLOCK:
            text = (block.get("text") or {}).get("text")
            if not isinstance(text, str) or not text.strip():
                return None
            # Slack is reported to hand text back in interaction payloads with &, < and >
            # as entities (slackapi/bolt-python#513); read them as the characters sent.
            return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return None


def editor_base(metadata: dict[str, Any]) -> tuple[int | None, int | None] | None:
    """The draft version and approval a draft editor's metadata says it showed when it
    opened (each None when there was none); None for an editor opened before editors
    recorded them, whose save is checked against nothing, as then."""
    if BASE_VERSION not in metadata:
        return None
    version, approval = metadata.get(BASE_VERSION), metadata.get(BASE_APPROVAL)
    return (version if isinstance(version, int) and not isinstance(version, bool) else None,
            approval if isinstance(approval, int) and not isinstance(approval, bool) else None)


def draft_block_id(text: str) -> str:
    """The draft input's block_id, derived from the text it is pre-filled with.

    On ``views.update`` Slack keeps an input's current value when its block_id and
    action_id stay the same, and ignores the new ``initial_value`` ("preserving input
    entry"): a new text (the LLM's suggestion replacing the template) needs a new block_id
    to be shown, while re-rendering the same text keeps what the user typed.
    """
    return f"{DRAFT_BLOCK}.{text_digest(text)}"


def text_digest(text: str) -> str:
    """A short digest of a suggestion, to tell on submit whether the user edited it."""
    return hashlib.blake2b(" ".join(text.split()).encode(), digest_size=8).hexdigest()


def build_reason_modal(kind: str, mention_id: int, language: str,
                       extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reject (reason required) or approve anyway (reason required, high-risk draft);
    ``extra`` goes into the metadata (approve anyway: the draft version the approver read)."""
    callback = REJECT if kind == "reject" else OVERRIDE
    return _modal(callback, t(language, f"modal.{kind}_title", id=mention_id),
                  t(language, f"modal.{kind}_submit"), language, mention_id, [
                      _input("reason", t(language, f"modal.{kind}_label"), {
                          "type": "plain_text_input", "action_id": "text", "multiline": True,
                          "max_length": 500})], extra)
