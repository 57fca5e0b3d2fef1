"""Block Kit limits: offline checks, and the stand-in failing calls as Slack does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models import blocks as sdk
from slack_sdk.models.blocks.basic_components import ConfirmObject, Option, OptionGroup
from slack_sdk.models.views import View

from tests.harness import blockkit_limits as bk
from tests.harness.blockkit_limits import validate_blocks, validate_view
from tests.harness.constants import CHANNEL_ID


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def button(text: str = "Approve", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": "approve", **extra}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def options(n: int, text: str = "Option", value: str = "v") -> list[dict[str, Any]]:
    return [{"text": plain(text), "value": f"{value}{i}" if n > 1 else value} for i in range(n)]


def select(opts: list[dict[str, Any]]) -> dict[str, Any]:
    return actions(
        {
            "type": "static_select",
            "action_id": "pick",
            "placeholder": plain("Pick"),
            "options": opts,
        }
    )


def input_block(element: dict[str, Any], label: str = "Reply") -> dict[str, Any]:
    return {"type": "input", "block_id": "in", "label": plain(label), "element": element}


def modal(**overrides: Any) -> dict[str, Any]:
    view = {"type": "modal", "title": plain("Reply"), "blocks": [section("Hi")]}
    view.update(overrides)
    return view


# (name, builder(n) -> blocks, limit): builder(limit) passes, builder(limit + 1) fails.
BOUNDARIES: list[tuple[str, Callable[[int], list[dict[str, Any]]], int, str]] = [
    ("message blocks", lambda n: [{"type": "divider"}] * n, 50, "/blocks"),
    ("section text", lambda n: [section("x" * n)], 3000, "/blocks/0/text/text"),
    (
        "section fields count",
        lambda n: [{"type": "section", "fields": [mrkdwn("f")] * n}],
        10,
        "/blocks/0/fields",
    ),
    (
        "section field text",
        lambda n: [{"type": "section", "fields": [mrkdwn("x" * n)]}],
        2000,
        "/blocks/0/fields/0/text",
    ),
    (
        "header text",
        lambda n: [{"type": "header", "text": plain("x" * n)}],
        150,
        "/blocks/0/text/text",
    ),
    (
        "context elements",
        lambda n: [{"type": "context", "elements": [mrkdwn("c")] * n}],
        10,
        "/blocks/0/elements",
    ),
    (
        "actions elements",
        lambda n: [
            actions(*[{**button(), "action_id": f"a{i}"} for i in range(n)]),
        ],
        25,
        "/blocks/0/elements",
    ),
    ("button text", lambda n: [actions(button("x" * n))], 75, "/blocks/0/elements/0/text/text"),
    (
        "button value",
        lambda n: [actions(button(value="x" * n))],
        2000,
        "/blocks/0/elements/0/value",
    ),
    (
        "button url",
        lambda n: [actions(button(url="https://e.org/" + "x" * (n - 14)))],
        3000,
        "/blocks/0/elements/0/url",
    ),
    (
        "action_id",
        lambda n: [actions({**button(), "action_id": "x" * n})],
        255,
        "/blocks/0/elements/0/action_id",
    ),
    ("block_id", lambda n: [{**section("s"), "block_id": "x" * n}], 255, "/blocks/0/block_id"),
    (
        "input label",
        lambda n: [input_block({"type": "plain_text_input", "action_id": "t"}, "x" * n)],
        2000,
        "/blocks/0/label/text",
    ),
    (
        "plain_text_input initial_value",
        lambda n: [
            input_block({"type": "plain_text_input", "action_id": "t", "initial_value": "x" * n})
        ],
        3000,
        "/blocks/0/element/initial_value",
    ),
    ("options count", lambda n: [select(options(n))], 100, "/blocks/0/elements/0/options"),
    (
        "option text",
        lambda n: [select(options(1, text="x" * n))],
        75,
        "/blocks/0/elements/0/options/0/text/text",
    ),
    (
        "option value",
        lambda n: [select(options(1, value="x" * n))],
        150,
        "/blocks/0/elements/0/options/0/value",
    ),
]


@pytest.mark.parametrize(
    ("build", "limit", "pointer"),
    [pytest.param(b, limit, p, id=name) for name, b, limit, p in BOUNDARIES],
)
def test_limit_boundaries(
    build: Callable[[int], list[dict[str, Any]]], limit: int, pointer: str
) -> None:
    assert validate_blocks(build(limit)) == []
    errors = validate_blocks(build(limit + 1))
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors


@pytest.mark.parametrize("surface", ["modal", "home"])
def test_views_allow_100_blocks(surface: str) -> None:
    assert validate_blocks([{"type": "divider"}] * 100, surface) == []
    assert validate_blocks([{"type": "divider"}] * 101, surface) == [
        "no more than 100 items allowed [json-pointer:/blocks]"
    ]


def test_message_error_format_matches_slack() -> None:
    assert validate_blocks([section("x" * 3001)]) == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


@pytest.mark.parametrize(
    ("blocks", "needle"),
    [
        ([{"type": "carousel_of_doom"}], "unsupported type: carousel_of_doom"),
        ([{"text": mrkdwn("no type")}], "missing required field: type"),
        (["not an object"], "must provide an object"),
        ([section("")], "must be more than 0 characters"),
        ([{"type": "section", "text": {"type": "markdown", "text": "x"}}], "must be one of"),
        ([{"type": "header", "text": mrkdwn("x")}], "must be plain_text"),
        (
            [{"type": "section", "text": {**mrkdwn("x"), "emoji": True}}],
            "invalid additional property: emoji",
        ),
        ([{"type": "section"}], "must provide either text or fields"),
        (
            [section("a") | {"block_id": "b"}, section("c") | {"block_id": "b"}],
            "duplicate block_id",
        ),
        ([actions(button(), button())], "duplicate action_id"),
        ([actions({"type": "plain_text_input", "action_id": "t"})], "unsupported type"),
        ([actions(button(style="warning"))], "must be one of primary, danger"),
        (
            [actions({"type": "checkboxes", "action_id": "c", "options": options(11)})],
            "no more than 10 items allowed",
        ),
        (
            [actions({"type": "overflow", "action_id": "o", "options": options(6)})],
            "no more than 5 items allowed",
        ),
        (
            [input_block({"type": "datepicker", "action_id": "d", "initial_date": "01/05/2024"})],
            "YYYY-MM-DD",
        ),
        (
            [{"type": "image", "image_url": "https://e.org/i.png"}],
            "missing required field: alt_text",
        ),
        ("not a list", "must be an array"),
    ],
)
def test_rejects(blocks: Any, needle: str) -> None:
    errors = validate_blocks(blocks)
    assert any(needle in e for e in errors), errors


def test_block_types_per_surface() -> None:
    file_block = {"type": "file", "external_id": "ABCD1", "source": "remote"}
    assert validate_blocks([file_block], "message") == []
    assert validate_blocks([file_block], "modal") == [
        "type file is not allowed in a modal [json-pointer:/blocks/0/type]"
    ]
    with pytest.raises(ValueError, match="surface"):
        validate_blocks([], "canvas")


def test_view_limits() -> None:
    assert validate_view(modal()) == []
    text_input = input_block({"type": "plain_text_input", "action_id": "t"})
    cases = {
        "/view/title/text": modal(title=plain("x" * 25)),
        "/view/submit/text": modal(submit=plain("x" * 25)),
        "/view/close/text": modal(close=plain("x" * 25)),
        "/view/private_metadata": modal(private_metadata="x" * 3001),
        "/view/callback_id": modal(callback_id="x" * 256),
        "/view/blocks": modal(blocks=[{"type": "divider"}] * 101),
        "/view]": modal(blocks=[text_input]),  # input blocks need a submit button
        "/view/type": {"type": "sheet", "blocks": []},
    }
    for pointer, view in cases.items():
        errors = validate_view(view)
        assert any(pointer in e for e in errors), (pointer, errors)
    assert validate_view(modal(title=plain("x" * 24), private_metadata="x" * 3000)) == []
    assert validate_view({"type": "home", "blocks": []}, "home") == []
    assert validate_view(modal(), "home") == ["must be home [json-pointer:/view/type]"]


SDK_CONSTANTS = [
    (sdk.SectionBlock.text_max_length, bk.SECTION_TEXT_MAX),
    (sdk.SectionBlock.fields_max_length, bk.SECTION_FIELDS_MAX),
    (sdk.HeaderBlock.text_max_length, bk.HEADER_TEXT_MAX),
    (sdk.ContextBlock.elements_max_length, bk.CONTEXT_ELEMENTS_MAX),
    (sdk.ActionsBlock.elements_max_length, bk.ACTIONS_ELEMENTS_MAX),
    (sdk.InputBlock.label_max_length, bk.INPUT_LABEL_MAX),
    (sdk.InputBlock.hint_max_length, bk.INPUT_HINT_MAX),
    (sdk.Block.block_id_max_length, bk.BLOCK_ID_MAX),
    (sdk.ButtonElement.text_max_length, bk.BUTTON_TEXT_MAX),
    (sdk.ButtonElement.value_max_length, bk.BUTTON_VALUE_MAX),
    (sdk.ButtonElement.url_max_length, bk.URL_MAX),
    (sdk.ButtonElement.action_id_max_length, bk.ACTION_ID_MAX),
    (Option.label_max_length, bk.OPTION_TEXT_MAX),
    (Option.value_max_length, bk.OPTION_VALUE_MAX),
    (OptionGroup.label_max_length, bk.OPTION_GROUP_LABEL_MAX),
    (sdk.StaticSelectElement.options_max_length, bk.OPTIONS_MAX),
    (sdk.OverflowMenuElement.options_max_length, bk.OVERFLOW_OPTIONS_MAX),
    (ConfirmObject.title_max_length, bk.CONFIRM_TITLE_MAX),
    (ConfirmObject.text_max_length, bk.CONFIRM_TEXT_MAX),
    (ConfirmObject.confirm_max_length, bk.CONFIRM_BUTTON_MAX),
    (sdk.ImageBlock.image_url_max_length, bk.IMAGE_URL_MAX),
    (sdk.ImageBlock.alt_text_max_length, bk.IMAGE_ALT_TEXT_MAX),
    (sdk.MarkdownBlock.text_max_length, bk.MARKDOWN_TEXT_MAX),
    (View.title_max_length, bk.VIEW_TITLE_MAX),
    (View.submit_max_length, bk.VIEW_SUBMIT_MAX),
    (View.close_max_length, bk.VIEW_CLOSE_MAX),
    (View.private_metadata_max_length, bk.VIEW_PRIVATE_METADATA_MAX),
    (View.blocks_max_length, bk.MAX_BLOCKS["modal"]),
]


@pytest.mark.parametrize(("sdk_value", "ours"), SDK_CONSTANTS)
def test_constants_agree_with_slack_sdk(sdk_value: int, ours: int) -> None:
    assert sdk_value == ours


def test_blocks_built_with_slack_sdk_models_pass() -> None:
    confirm = ConfirmObject(title="Sure?", text="This posts publicly", confirm="Yes", deny="No")
    card = [
        sdk.HeaderBlock(text="New mention on Mastodon"),
        sdk.SectionBlock(
            text="*@someone*: the app is great",
            fields=["*Sentiment*\npositive", "*Source*\nMastodon"],
            accessory=sdk.OverflowMenuElement(
                action_id="more",
                options=[
                    Option(value="ignore", label="Ignore"),
                    Option(value="mute", label="Mute"),
                ],
            ),
        ),
        sdk.ContextBlock(elements=[sdk.MarkdownTextObject(text="<https://e.org|source>")]),
        sdk.DividerBlock(),
        sdk.ActionsBlock(
            elements=[
                sdk.ButtonElement(text="Reply", action_id="reply", value="42", style="primary"),
                sdk.ButtonElement(text="Dismiss", action_id="dismiss", value="42", confirm=confirm),
                sdk.StaticSelectElement(
                    action_id="assign",
                    placeholder="Assign to",
                    options=[Option(value="U1", label="Alice")],
                ),
                sdk.UserSelectElement(action_id="owner", placeholder="Owner"),
                sdk.DatePickerElement(action_id="due", initial_date="2024-05-01"),
            ]
        ),
    ]
    assert validate_blocks([b.to_dict() for b in card]) == []
    form = View(
        type="modal",
        title="Reply",
        submit="Send",
        close="Cancel",
        callback_id="reply",
        private_metadata="42",
        blocks=[
            sdk.InputBlock(
                block_id="reply",
                label="Your reply",
                element=sdk.PlainTextInputElement(action_id="text", multiline=True, max_length=500),
            ),
            sdk.InputBlock(
                block_id="tone",
                label="Tone",
                optional=True,
                element=sdk.RadioButtonsElement(
                    action_id="tone", options=[Option(value="warm", label="Warm")]
                ),
            ),
        ],
    )
    assert validate_view(form.to_dict()) == []


KEYS = (
    "type",
    "text",
    "block_id",
    "elements",
    "fields",
    "accessory",
    "element",
    "options",
    "label",
    "value",
    "action_id",
    "title",
    "blocks",
    "submit",
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(JSON, st.sampled_from(bk.SURFACES))
def test_never_raises_on_arbitrary_json(blocks: Any, surface: str) -> None:
    assert isinstance(validate_blocks(blocks, surface), list)
    assert isinstance(validate_view(blocks), list)


# ---------------------------------------------------------------- via the stand-in
def _error_of(call: Callable[[], object]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        call()
    return dict(info.value.response.data)


def test_standin_rejects_51_blocks(slack_client: WebClient) -> None:
    error = _error_of(
        lambda: slack_client.chat_postMessage(
            channel=CHANNEL_ID, text="x", blocks=[{"type": "divider"}] * 51
        )
    )
    assert error["error"] == "invalid_blocks"
    assert error["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    assert slack_client.chat_postMessage(
        channel=CHANNEL_ID, text="x", blocks=[{"type": "divider"}] * 50
    )["ok"]


def test_standin_rejects_3001_char_section(slack_client: WebClient) -> None:
    error = _error_of(
        lambda: slack_client.chat_postMessage(
            channel=CHANNEL_ID, text="x", blocks=[section("é" * 3001)]
        )
    )
    assert error["error"] == "invalid_blocks"
    assert error["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


def test_standin_rejects_40001_char_text(slack_client: WebClient) -> None:
    error = _error_of(lambda: slack_client.chat_postMessage(channel=CHANNEL_ID, text="x" * 40_001))
    assert error["error"] == "msg_too_long"
    assert slack_client.chat_postMessage(channel=CHANNEL_ID, text="x" * 40_000)["ok"]


def test_standin_checks_updates_ephemerals_and_views(slack_client: WebClient) -> None:
    ts = slack_client.chat_postMessage(channel=CHANNEL_ID, text="x")["ts"]
    too_long = [section("x" * 3001)]
    update = lambda: slack_client.chat_update(  # noqa: E731
        channel=CHANNEL_ID, ts=ts, text="x", blocks=too_long
    )
    assert _error_of(update)["error"] == "invalid_blocks"
    ephemeral = lambda: slack_client.chat_postEphemeral(  # noqa: E731
        channel=CHANNEL_ID, user="U07CMALICE", text="x", blocks=too_long
    )
    assert _error_of(ephemeral)["error"] == "invalid_blocks"
    view = modal(title=plain("A title longer than 24 chars"))
    error = _error_of(lambda: slack_client.views_open(trigger_id="1.2.3", view=view))
    assert error["error"] == "invalid_arguments"
    assert error["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
