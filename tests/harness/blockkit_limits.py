"""Offline Block Kit checks with Slack's documented limits.

Slack publishes no JSON Schema for Block Kit, so these checks follow the Block Kit
reference (https://docs.slack.dev/reference/block-kit) and agree with the
``*_max_length`` constants in ``slack_sdk.models`` (the self-tests compare them).
They cover what a message, modal or home tab built by Vigie can trip on; they are
not a full schema (rich_text internals, table cells and the like are only checked
for shape).

Errors are strings formatted like the ``errors`` list of an ``invalid_blocks``
response, e.g. ``"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``.
The stand-in prefixes them with ``[ERROR] `` in ``response_metadata.messages``, as
Slack does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final, Literal

Surface = Literal["message", "modal", "home"]
SURFACES: Final[tuple[str, ...]] = ("message", "modal", "home")

# --- Surface-level limits -------------------------------------------------------------
MAX_BLOCKS: Final[dict[str, int]] = {"message": 50, "modal": 100, "home": 100}
MESSAGE_TEXT_MAX: Final = 40_000
#: The text all of a message's blocks may hold together; past it ``chat.postMessage`` and
#: ``chat.update`` answer ``msg_blocks_too_long`` although every block is within its own
#: limit. Slack documents no such limit (only the markdown block's 12,000 characters):
#: it was reported at about 13,200 characters of block text (slackapi/bolt-js issue 2509,
#: labelled server-side-issue) and even at 11,341 characters counted as
#: :func:`blocks_text_length` counts them (slackapi/bolt-js issue 2867), where a Slack
#: maintainer is quoted giving "12,000 text characters with a buffer for block containers".
MESSAGE_BLOCKS_TEXT_MAX: Final = 12_000
VIEW_TITLE_MAX: Final = 24
VIEW_SUBMIT_MAX: Final = 24
VIEW_CLOSE_MAX: Final = 24
VIEW_PRIVATE_METADATA_MAX: Final = 3000
VIEW_CALLBACK_ID_MAX: Final = 255
VIEW_EXTERNAL_ID_MAX: Final = 255

# --- Block limits ---------------------------------------------------------------------
BLOCK_ID_MAX: Final = 255
SECTION_TEXT_MAX: Final = 3000
SECTION_FIELDS_MAX: Final = 10
SECTION_FIELD_TEXT_MAX: Final = 2000
HEADER_TEXT_MAX: Final = 150
CONTEXT_ELEMENTS_MAX: Final = 10
ACTIONS_ELEMENTS_MAX: Final = 25
INPUT_LABEL_MAX: Final = 2000
INPUT_HINT_MAX: Final = 2000
IMAGE_URL_MAX: Final = 3000
IMAGE_ALT_TEXT_MAX: Final = 2000
IMAGE_TITLE_MAX: Final = 2000
MARKDOWN_TEXT_MAX: Final = 12_000
VIDEO_TITLE_MAX: Final = 200
TABLE_ROWS_MAX: Final = 100
TABLE_CELLS_MAX: Final = 20

# --- Element and composition-object limits --------------------------------------------
ACTION_ID_MAX: Final = 255
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2000
URL_MAX: Final = 3000
ACCESSIBILITY_LABEL_MAX: Final = 75
PLACEHOLDER_MAX: Final = 150
PLAIN_TEXT_INPUT_MAX: Final = 3000
OPTION_TEXT_MAX: Final = 75
OPTION_VALUE_MAX: Final = 150
OPTION_DESCRIPTION_MAX: Final = 75
OPTIONS_MAX: Final = 100
OPTION_GROUPS_MAX: Final = 100
OPTION_GROUP_LABEL_MAX: Final = 75
OVERFLOW_OPTIONS_MIN: Final = 1
OVERFLOW_OPTIONS_MAX: Final = 5
CHECKBOX_OPTIONS_MAX: Final = 10
RADIO_OPTIONS_MAX: Final = 10
CONFIRM_TITLE_MAX: Final = 100
CONFIRM_TEXT_MAX: Final = 300
CONFIRM_BUTTON_MAX: Final = 30

_ALL: Final = frozenset(SURFACES)
_MESSAGE_ONLY: Final = frozenset({"message"})

#: Block types Slack accepts, and on which surfaces.
BLOCK_SURFACES: Final[dict[str, frozenset[str]]] = {
    "actions": _ALL,
    "context": _ALL,
    "divider": _ALL,
    "header": _ALL,
    "image": _ALL,
    "input": _ALL,
    "rich_text": _ALL,
    "section": _ALL,
    "video": _ALL,
    "file": _MESSAGE_ONLY,
    "markdown": _MESSAGE_ONLY,
    "table": _MESSAGE_ONLY,
    "call": _MESSAGE_ONLY,
}

_SELECTS: Final = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
    }
)
_MULTI_SELECTS: Final = frozenset("multi_" + s for s in _SELECTS)

#: Interactive elements allowed in an ``actions`` block.
ACTIONS_ELEMENT_TYPES: Final = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
        "rich_text_input",
    }
    | _SELECTS
    | _MULTI_SELECTS
)
#: Elements allowed as a ``section`` accessory.
SECTION_ACCESSORY_TYPES: Final = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "image",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
    }
    | _SELECTS
    | _MULTI_SELECTS
)
#: Elements allowed in an ``input`` block.
INPUT_ELEMENT_TYPES: Final = frozenset(
    {
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "file_input",
        "number_input",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
        "url_text_input",
    }
    | _SELECTS
    | _MULTI_SELECTS
)

_TEXT_TYPES: Final = ("plain_text", "mrkdwn")
_TEXT_KEYS: Final[dict[str, frozenset[str]]] = {
    "plain_text": frozenset({"type", "text", "emoji"}),
    "mrkdwn": frozenset({"type", "text", "verbatim"}),
}
_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE: Final = re.compile(r"^\d{2}:\d{2}$")


def _esc(token: str | int) -> str:
    """Escape one JSON-pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


class _Checker:
    """Walks blocks and collects errors; one instance per message or view."""

    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    # -- reporting -----------------------------------------------------------------
    def err(self, ptr: str, msg: str) -> None:
        self.errors.append(f"{msg} [json-pointer:{ptr}]")

    # -- primitives ----------------------------------------------------------------
    def string(
        self,
        obj: dict[str, Any],
        key: str,
        ptr: str,
        *,
        max_len: int | None = None,
        required: bool = False,
        min_len: int = 0,
    ) -> str | None:
        p = f"{ptr}/{_esc(key)}"
        if key not in obj or obj[key] is None:
            if required:
                self.err(ptr, f"missing required field: {key}")
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.err(p, "must be a string")
            return None
        if len(value) < min_len:
            self.err(p, f"must be more than {min_len - 1} characters")
        if max_len is not None and len(value) > max_len:
            self.err(p, f"must be less than {max_len + 1} characters")
        return value

    def boolean(self, obj: dict[str, Any], key: str, ptr: str) -> None:
        if key in obj and not isinstance(obj[key], bool):
            self.err(f"{ptr}/{_esc(key)}", "must be a boolean")

    def array(
        self,
        obj: dict[str, Any],
        key: str,
        ptr: str,
        *,
        max_items: int | None = None,
        min_items: int = 0,
        required: bool = False,
    ) -> list[Any]:
        p = f"{ptr}/{_esc(key)}"
        if key not in obj or obj[key] is None:
            if required:
                self.err(ptr, f"missing required field: {key}")
            return []
        value = obj[key]
        if not isinstance(value, list):
            self.err(p, "must be an array")
            return []
        if len(value) < min_items:
            self.err(p, f"must provide at least {min_items} items")
        if max_items is not None and len(value) > max_items:
            self.err(p, f"no more than {max_items} items allowed")
        return value

    def obj(self, value: Any, ptr: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.err(ptr, "must provide an object")
            return None
        return value

    def text(
        self,
        parent: dict[str, Any],
        key: str,
        ptr: str,
        *,
        max_len: int,
        required: bool = True,
        plain_only: bool = False,
    ) -> None:
        """Check a text composition object at ``parent[key]``."""
        if key not in parent or parent[key] is None:
            if required:
                self.err(ptr, f"missing required field: {key}")
            return
        self.text_object(parent[key], f"{ptr}/{_esc(key)}", max_len=max_len, plain_only=plain_only)

    def text_object(self, value: Any, ptr: str, *, max_len: int, plain_only: bool = False) -> None:
        t = self.obj(value, ptr)
        if t is None:
            return
        kind = t.get("type")
        if kind not in _TEXT_TYPES:
            self.err(f"{ptr}/type", f"must be one of {', '.join(_TEXT_TYPES)}")
            return
        if plain_only and kind != "plain_text":
            self.err(f"{ptr}/type", "must be plain_text")
        for extra in sorted(set(t) - _TEXT_KEYS[kind]):
            self.err(f"{ptr}/{_esc(extra)}", f"invalid additional property: {extra}")
        self.string(t, "text", ptr, max_len=max_len, required=True, min_len=1)
        self.boolean(t, "emoji", ptr)
        self.boolean(t, "verbatim", ptr)

    # -- blocks --------------------------------------------------------------------
    def blocks(self, blocks: Any, ptr: str) -> None:
        if not isinstance(blocks, list):
            self.err(ptr, "must be an array")
            return
        limit = MAX_BLOCKS[self.surface]
        if len(blocks) > limit:
            self.err(ptr, f"no more than {limit} items allowed")
        for i, block in enumerate(blocks):
            self.block(block, f"{ptr}/{i}")

    def block(self, value: Any, ptr: str) -> None:
        b = self.obj(value, ptr)
        if b is None:
            return
        kind = b.get("type")
        if not isinstance(kind, str):
            self.err(ptr, "missing required field: type")
            return
        surfaces = BLOCK_SURFACES.get(kind)
        if surfaces is None:
            self.err(f"{ptr}/type", f"unsupported type: {kind}")
            return
        if self.surface not in surfaces:
            self.err(f"{ptr}/type", f"type {kind} is not allowed in a {self.surface}")
            return
        block_id = self.string(b, "block_id", ptr, max_len=BLOCK_ID_MAX, min_len=1)
        if block_id is not None:
            if block_id in self.block_ids:
                self.err(f"{ptr}/block_id", f"duplicate block_id: {block_id}")
            self.block_ids.add(block_id)
        getattr(self, f"block_{kind}")(b, ptr)

    def block_section(self, b: dict[str, Any], ptr: str) -> None:
        if b.get("text") is None and b.get("fields") is None:
            self.err(ptr, "must provide either text or fields")
        self.text(b, "text", ptr, max_len=SECTION_TEXT_MAX, required=False)
        fields = self.array(b, "fields", ptr, max_items=SECTION_FIELDS_MAX, min_items=1)
        for i, field in enumerate(fields):
            self.text_object(field, f"{ptr}/fields/{i}", max_len=SECTION_FIELD_TEXT_MAX)
        if b.get("accessory") is not None:
            self.element(b["accessory"], f"{ptr}/accessory", SECTION_ACCESSORY_TYPES, set())
        self.boolean(b, "expand", ptr)

    def block_divider(self, b: dict[str, Any], ptr: str) -> None:
        pass

    def block_header(self, b: dict[str, Any], ptr: str) -> None:
        self.text(b, "text", ptr, max_len=HEADER_TEXT_MAX, plain_only=True)

    def block_image(self, b: dict[str, Any], ptr: str) -> None:
        self.image_source(b, ptr)
        self.text(b, "title", ptr, max_len=IMAGE_TITLE_MAX, required=False, plain_only=True)

    def image_source(self, b: dict[str, Any], ptr: str) -> None:
        if b.get("image_url") is None and b.get("slack_file") is None:
            self.err(ptr, "must provide either image_url or slack_file")
        self.string(b, "image_url", ptr, max_len=IMAGE_URL_MAX, min_len=1)
        self.string(b, "alt_text", ptr, max_len=IMAGE_ALT_TEXT_MAX, required=True)

    def block_context(self, b: dict[str, Any], ptr: str) -> None:
        elements = self.array(
            b, "elements", ptr, max_items=CONTEXT_ELEMENTS_MAX, min_items=1, required=True
        )
        for i, el in enumerate(elements):
            p = f"{ptr}/elements/{i}"
            e = self.obj(el, p)
            if e is None:
                continue
            if e.get("type") == "image":
                self.image_source(e, p)
            else:
                self.text_object(e, p, max_len=SECTION_TEXT_MAX)

    def block_actions(self, b: dict[str, Any], ptr: str) -> None:
        elements = self.array(
            b, "elements", ptr, max_items=ACTIONS_ELEMENTS_MAX, min_items=1, required=True
        )
        seen: set[str] = set()
        for i, el in enumerate(elements):
            self.element(el, f"{ptr}/elements/{i}", ACTIONS_ELEMENT_TYPES, seen)

    def block_input(self, b: dict[str, Any], ptr: str) -> None:
        self.text(b, "label", ptr, max_len=INPUT_LABEL_MAX, plain_only=True)
        self.text(b, "hint", ptr, max_len=INPUT_HINT_MAX, required=False, plain_only=True)
        if b.get("element") is None:
            self.err(ptr, "missing required field: element")
        else:
            self.element(b["element"], f"{ptr}/element", INPUT_ELEMENT_TYPES, set())
        self.boolean(b, "optional", ptr)
        self.boolean(b, "dispatch_action", ptr)

    def block_file(self, b: dict[str, Any], ptr: str) -> None:
        self.string(b, "external_id", ptr, required=True, min_len=1)
        if b.get("source") != "remote":
            self.err(f"{ptr}/source", "must be remote")

    def block_markdown(self, b: dict[str, Any], ptr: str) -> None:
        self.string(b, "text", ptr, max_len=MARKDOWN_TEXT_MAX, required=True, min_len=1)

    def block_rich_text(self, b: dict[str, Any], ptr: str) -> None:
        for i, el in enumerate(self.array(b, "elements", ptr, required=True)):
            e = self.obj(el, f"{ptr}/elements/{i}")
            if e is not None and not isinstance(e.get("type"), str):
                self.err(f"{ptr}/elements/{i}", "missing required field: type")

    def block_video(self, b: dict[str, Any], ptr: str) -> None:
        self.string(b, "alt_text", ptr, required=True, min_len=1)
        self.text(b, "title", ptr, max_len=VIDEO_TITLE_MAX, plain_only=True)
        self.string(b, "video_url", ptr, max_len=URL_MAX, required=True, min_len=1)
        self.string(b, "thumbnail_url", ptr, max_len=URL_MAX, required=True, min_len=1)

    def block_table(self, b: dict[str, Any], ptr: str) -> None:
        rows = self.array(b, "rows", ptr, max_items=TABLE_ROWS_MAX, min_items=1, required=True)
        for i, row in enumerate(rows):
            if not isinstance(row, list):
                self.err(f"{ptr}/rows/{i}", "must be an array")
            elif len(row) > TABLE_CELLS_MAX:
                self.err(f"{ptr}/rows/{i}", f"no more than {TABLE_CELLS_MAX} items allowed")

    def block_call(self, b: dict[str, Any], ptr: str) -> None:
        self.string(b, "call_id", ptr, required=True, min_len=1)

    # -- elements ------------------------------------------------------------------
    def element(self, value: Any, ptr: str, allowed: frozenset[str], seen: set[str]) -> None:
        e = self.obj(value, ptr)
        if e is None:
            return
        kind = e.get("type")
        if not isinstance(kind, str):
            self.err(ptr, "missing required field: type")
            return
        if kind not in allowed:
            self.err(f"{ptr}/type", f"unsupported type: {kind}")
            return
        if kind == "image":
            self.image_source(e, ptr)
            return
        action_id = self.string(e, "action_id", ptr, max_len=ACTION_ID_MAX, min_len=1)
        if action_id is not None:
            if action_id in seen:
                self.err(f"{ptr}/action_id", f"duplicate action_id: {action_id}")
            seen.add(action_id)
        if "confirm" in e and e["confirm"] is not None:
            self.confirm(e["confirm"], f"{ptr}/confirm")
        self.text(e, "placeholder", ptr, max_len=PLACEHOLDER_MAX, required=False, plain_only=True)
        self.boolean(e, "focus_on_load", ptr)
        handler = getattr(self, f"element_{kind}", None)
        if handler is not None:
            handler(e, ptr)
        elif kind in _SELECTS or kind in _MULTI_SELECTS:
            self.select(e, ptr, kind)

    def element_button(self, e: dict[str, Any], ptr: str) -> None:
        self.text(e, "text", ptr, max_len=BUTTON_TEXT_MAX, plain_only=True)
        self.string(e, "value", ptr, max_len=BUTTON_VALUE_MAX)
        self.string(e, "url", ptr, max_len=URL_MAX, min_len=1)
        self.string(e, "accessibility_label", ptr, max_len=ACCESSIBILITY_LABEL_MAX, min_len=1)
        if "style" in e and e["style"] not in ("primary", "danger"):
            self.err(f"{ptr}/style", "must be one of primary, danger")

    def element_workflow_button(self, e: dict[str, Any], ptr: str) -> None:
        self.text(e, "text", ptr, max_len=BUTTON_TEXT_MAX, plain_only=True)
        if e.get("workflow") is None:
            self.err(ptr, "missing required field: workflow")

    def element_overflow(self, e: dict[str, Any], ptr: str) -> None:
        options = self.array(
            e,
            "options",
            ptr,
            max_items=OVERFLOW_OPTIONS_MAX,
            min_items=OVERFLOW_OPTIONS_MIN,
            required=True,
        )
        self.options(options, f"{ptr}/options", plain_only=True, allow_url=True)

    def element_checkboxes(self, e: dict[str, Any], ptr: str) -> None:
        options = self.array(
            e, "options", ptr, max_items=CHECKBOX_OPTIONS_MAX, min_items=1, required=True
        )
        self.options(options, f"{ptr}/options", plain_only=False)
        for i, opt in enumerate(self.array(e, "initial_options", ptr)):
            self.option(opt, f"{ptr}/initial_options/{i}", plain_only=False)

    def element_radio_buttons(self, e: dict[str, Any], ptr: str) -> None:
        options = self.array(
            e, "options", ptr, max_items=RADIO_OPTIONS_MAX, min_items=1, required=True
        )
        self.options(options, f"{ptr}/options", plain_only=False)
        if e.get("initial_option") is not None:
            self.option(e["initial_option"], f"{ptr}/initial_option", plain_only=False)

    def element_plain_text_input(self, e: dict[str, Any], ptr: str) -> None:
        self.string(e, "initial_value", ptr, max_len=PLAIN_TEXT_INPUT_MAX)
        self.boolean(e, "multiline", ptr)
        for key, low in (("min_length", 0), ("max_length", 1)):
            if key in e:
                n = e[key]
                ok = isinstance(n, int) and not isinstance(n, bool)
                if not ok or not low <= n <= PLAIN_TEXT_INPUT_MAX:
                    self.err(
                        f"{ptr}/{key}",
                        f"must be an integer between {low} and {PLAIN_TEXT_INPUT_MAX}",
                    )

    def element_email_text_input(self, e: dict[str, Any], ptr: str) -> None:
        self.string(e, "initial_value", ptr, max_len=PLAIN_TEXT_INPUT_MAX)

    def element_url_text_input(self, e: dict[str, Any], ptr: str) -> None:
        self.string(e, "initial_value", ptr, max_len=URL_MAX)

    def element_number_input(self, e: dict[str, Any], ptr: str) -> None:
        if not isinstance(e.get("is_decimal_allowed"), bool):
            self.err(ptr, "missing required field: is_decimal_allowed")

    def element_datepicker(self, e: dict[str, Any], ptr: str) -> None:
        date = self.string(e, "initial_date", ptr)
        if date is not None and not _DATE_RE.match(date):
            self.err(f"{ptr}/initial_date", "must match format YYYY-MM-DD")

    def element_timepicker(self, e: dict[str, Any], ptr: str) -> None:
        time = self.string(e, "initial_time", ptr)
        if time is not None and not _TIME_RE.match(time):
            self.err(f"{ptr}/initial_time", "must match format HH:mm")

    def select(self, e: dict[str, Any], ptr: str, kind: str) -> None:
        if kind.endswith("static_select"):
            has_options = e.get("options") is not None
            has_groups = e.get("option_groups") is not None
            if has_options == has_groups:
                self.err(ptr, "must provide exactly one of options or option_groups")
            options = self.array(e, "options", ptr, max_items=OPTIONS_MAX)
            self.options(options, f"{ptr}/options", plain_only=True)
            groups = self.array(e, "option_groups", ptr, max_items=OPTION_GROUPS_MAX)
            for i, group in enumerate(groups):
                p = f"{ptr}/option_groups/{i}"
                g = self.obj(group, p)
                if g is None:
                    continue
                self.text(g, "label", p, max_len=OPTION_GROUP_LABEL_MAX, plain_only=True)
                opts = self.array(g, "options", p, max_items=OPTIONS_MAX, required=True)
                self.options(opts, f"{p}/options", plain_only=True)
        if e.get("initial_option") is not None:
            self.option(e["initial_option"], f"{ptr}/initial_option", plain_only=True)
        for i, opt in enumerate(self.array(e, "initial_options", ptr)):
            self.option(opt, f"{ptr}/initial_options/{i}", plain_only=True)

    # -- composition objects -------------------------------------------------------
    def options(
        self, options: Iterable[Any], ptr: str, *, plain_only: bool, allow_url: bool = False
    ) -> None:
        for i, opt in enumerate(options):
            self.option(opt, f"{ptr}/{i}", plain_only=plain_only, allow_url=allow_url)

    def option(self, value: Any, ptr: str, *, plain_only: bool, allow_url: bool = False) -> None:
        o = self.obj(value, ptr)
        if o is None:
            return
        self.text(o, "text", ptr, max_len=OPTION_TEXT_MAX, plain_only=plain_only)
        self.string(o, "value", ptr, max_len=OPTION_VALUE_MAX, required=True)
        self.text(
            o,
            "description",
            ptr,
            max_len=OPTION_DESCRIPTION_MAX,
            required=False,
            plain_only=plain_only,
        )
        if allow_url:
            self.string(o, "url", ptr, max_len=URL_MAX, min_len=1)
        elif "url" in o:
            self.err(f"{ptr}/url", "invalid additional property: url")

    def confirm(self, value: Any, ptr: str) -> None:
        c = self.obj(value, ptr)
        if c is None:
            return
        self.text(c, "title", ptr, max_len=CONFIRM_TITLE_MAX, plain_only=True)
        self.text(c, "text", ptr, max_len=CONFIRM_TEXT_MAX)
        self.text(c, "confirm", ptr, max_len=CONFIRM_BUTTON_MAX, plain_only=True)
        self.text(c, "deny", ptr, max_len=CONFIRM_BUTTON_MAX, plain_only=True)
        if "style" in c and c["style"] not in ("primary", "danger"):
            self.err(f"{ptr}/style", "must be one of primary, danger")


def _check_surface(surface: str) -> None:
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {SURFACES}, not {surface!r}")


def validate_blocks(
    blocks: Any, surface: str = "message", *, pointer: str = "/blocks"
) -> list[str]:
    """Check a ``blocks`` array against Slack's limits for ``surface``.

    Args:
        blocks: the decoded ``blocks`` value (anything: malformed input is reported,
            never raised).
        surface: ``"message"``, ``"modal"`` or ``"home"``; sets the block count limit
            (50 or 100) and which block types are allowed.
        pointer: JSON pointer of ``blocks`` in the request, used in the messages
            (``"/view/blocks"`` for views).

    Returns:
        Error strings like ``"no more than 50 items allowed [json-pointer:/blocks]"``;
        empty when the blocks are acceptable.
    """
    _check_surface(surface)
    checker = _Checker(surface)
    checker.blocks(blocks, pointer)
    return checker.errors


def validate_message_text(text: Any) -> list[str]:
    """Check a message's top-level ``text`` (at most 40,000 characters).

    Slack answers ``msg_too_long`` rather than ``invalid_blocks`` for this one.
    """
    if text is None:
        return []
    if not isinstance(text, str):
        return ["must be a string [json-pointer:/text]"]
    if len(text) > MESSAGE_TEXT_MAX:
        return [f"must be less than {MESSAGE_TEXT_MAX + 1} characters [json-pointer:/text]"]
    return []


def blocks_text_length(blocks: Any) -> int:
    """The characters of every ``text`` string anywhere in ``blocks`` (text objects, rich
    text elements, button labels...), the measure of slackapi/bolt-js issue 2867."""
    if isinstance(blocks, dict):
        return sum(len(v) if k_ == "text" and isinstance(v, str) else blocks_text_length(v)
                   for k_, v in blocks.items())
    if isinstance(blocks, list):
        return sum(blocks_text_length(v) for v in blocks)
    return 0


def validate_view(view: Any, surface: str | None = None, *, pointer: str = "/view") -> list[str]:
    """Check a modal or home-tab view object (title, buttons, metadata and blocks).

    Args:
        view: the decoded ``view`` argument of ``views.open``/``push``/``update``/``publish``.
        surface: ``"modal"`` or ``"home"`` to require that view type; ``None`` takes it
            from ``view["type"]``.
        pointer: JSON pointer of the view in the request.

    Returns:
        Error strings (empty when the view is acceptable).
    """
    checker = _Checker("modal")
    v = checker.obj(view, pointer)
    if v is None:
        return checker.errors
    kind = v.get("type")
    expected = surface or kind
    if kind not in ("modal", "home") or (surface is not None and kind != surface):
        want = surface or "modal or home"
        checker.err(f"{pointer}/type", f"must be {want}")
        return checker.errors
    assert isinstance(expected, str)
    checker.surface = expected
    if kind == "modal":
        checker.text(v, "title", pointer, max_len=VIEW_TITLE_MAX, plain_only=True)
        checker.text(v, "submit", pointer, max_len=VIEW_SUBMIT_MAX, required=False, plain_only=True)
        checker.text(v, "close", pointer, max_len=VIEW_CLOSE_MAX, required=False, plain_only=True)
        blocks = v.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and v.get("submit") is None:
            checker.err(pointer, "missing required field: submit (the view has input blocks)")
        for key in ("clear_on_close", "notify_on_close", "submit_disabled"):
            checker.boolean(v, key, pointer)
    checker.string(v, "private_metadata", pointer, max_len=VIEW_PRIVATE_METADATA_MAX)
    checker.string(v, "callback_id", pointer, max_len=VIEW_CALLBACK_ID_MAX)
    checker.string(v, "external_id", pointer, max_len=VIEW_EXTERNAL_ID_MAX)
    if "blocks" not in v:
        checker.err(pointer, "missing required field: blocks")
    else:
        checker.blocks(v["blocks"], f"{pointer}/blocks")
    return checker.errors
