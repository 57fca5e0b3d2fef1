"""The stand-in is as picky as real Slack (rules listed in slack_standin's docstring)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.harness import slack_requests as sr
from tests.harness.blockkit_limits import MESSAGE_BLOCKS_TEXT_MAX, blocks_text_length
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, USER_ID
from tests.harness.slack_standin import (
    POST_BURST,
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
    TOKEN_ERRORS,
    TRANSIENT_ERRORS,
    ManualClock,
    SlackStandIn,
    manifest_bot_scopes,
)


def _response(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        call()
    return dict(info.value.response.data)  # type: ignore[arg-type]


def _error(call: Any) -> str:
    return str(_response(call)["error"])


MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "draft",
    "title": {"type": "plain_text", "text": "Draft"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {"type": "input", "block_id": "draft", "label": {"type": "plain_text", "text": "Text"},
         "element": {"type": "plain_text_input", "action_id": "text",
                     "initial_value": "template text"}},
    ],
}


def _modal(initial: str, block_id: str = "draft") -> dict[str, Any]:
    view: dict[str, Any] = {**MODAL, "blocks": [dict(MODAL["blocks"][0])]}
    view["blocks"][0]["block_id"] = block_id
    view["blocks"][0]["element"] = {**MODAL["blocks"][0]["element"], "initial_value": initial}
    return view


# ------------------------------------------------------------------ 1. empty text
@pytest.mark.parametrize("kind", ["mrkdwn", "plain_text"])
def test_empty_section_text_is_refused(slack_client: WebClient, kind: str) -> None:
    blocks = [{"type": "section", "text": {"type": kind, "text": ""}}]
    answer = _response(lambda: slack_client.chat_postMessage(
        channel=CHANNEL_ID, text="fallback", blocks=blocks))
    assert answer["error"] == "invalid_blocks"
    assert "/blocks/0/text" in " ".join(answer["errors"])


# ------------------------------------------------------- 2. slack_sdk model validation
def test_blocks_are_checked_with_slack_sdk_models(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    # Not a date: blockkit_limits lets it through, slack_sdk's DatePickerElement does not.
    picker = {"type": "actions", "elements": [
        {"type": "datepicker", "action_id": "due", "initial_date": "2026-13-45"}]}
    answer = _response(lambda: slack_client.chat_postMessage(
        channel=CHANNEL_ID, text="x", blocks=[picker]))
    assert answer["error"] == "invalid_blocks"
    assert "initial_date" in " ".join(answer["errors"])
    view = {**MODAL, "blocks": [picker]}
    assert _error(lambda: slack_client.views_open(
        trigger_id=slack_standin.issue_trigger_id(), view=view)) == "invalid_arguments"


def test_sdk_validation_helpers_see_what_the_models_refuse() -> None:
    from tests.harness.slack_standin import sdk_block_errors, sdk_view_errors

    long_button = {"type": "actions", "elements": [
        {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "go"},
         "value": "v" * 2001}]}
    assert sdk_block_errors([long_button])
    assert sdk_block_errors([{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}]) == []
    assert sdk_view_errors({**MODAL, "title": {"type": "plain_text", "text": "t" * 25}})
    assert sdk_view_errors(MODAL) == []


# ------------------------------------------------ 3. views.update preserves input entry
def test_views_update_keeps_what_the_user_typed(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    trigger = slack_standin.issue_trigger_id()
    view_id = slack_client.views_open(trigger_id=trigger, view=_modal("template"))["view"]["id"]
    slack_standin.type_into(view_id, "draft", "text", "my own words")
    slack_client.views_update(view_id=view_id, view=_modal("LLM suggestion"))
    assert slack_standin.input_value(view_id, "draft", "text") == "my own words"
    assert slack_standin.view(view_id)["state"]["values"]["draft"]["text"]["value"] == (
        "my own words")


def test_typing_leaves_the_view_hash_alone(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    """Typing sends the app nothing and does not change the view's hash: an update sent
    with the hash from views.open still succeeds, so the hash never protects typed text
    (views.update docs: the hash guards against the app's own racing updates)."""
    opened = slack_client.views_open(
        trigger_id=slack_standin.issue_trigger_id(), view=_modal("template"))["view"]
    slack_standin.type_into(opened["id"], "draft", "text", "typed")
    assert slack_standin.view(opened["id"])["hash"] == opened["hash"]
    slack_client.views_update(view_id=opened["id"], hash=opened["hash"],
                              view=_modal("LLM suggestion"))
    assert slack_standin.input_value(opened["id"], "draft", "text") == "typed"


def test_views_update_ignores_a_new_initial_value_for_the_same_input(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    view_id = slack_client.views_open(
        trigger_id=slack_standin.issue_trigger_id(), view=_modal("template"))["view"]["id"]
    slack_client.views_update(view_id=view_id, view=_modal("LLM suggestion"))
    assert slack_standin.input_value(view_id, "draft", "text") == "template"


def test_views_update_with_a_new_block_id_replaces_the_value(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    view_id = slack_client.views_open(
        trigger_id=slack_standin.issue_trigger_id(), view=_modal("template"))["view"]["id"]
    slack_standin.type_into(view_id, "draft", "text", "typed")
    slack_client.views_update(view_id=view_id, view=_modal("LLM suggestion", "draft_2"))
    assert slack_standin.input_value(view_id, "draft_2", "text") == "LLM suggestion"


def test_view_submission_carries_the_inputs_current_value(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    view_id = slack_client.views_open(
        trigger_id=slack_standin.issue_trigger_id(), view=_modal("template"))["view"]["id"]
    untouched = sr.view_submission_payload(view_id=view_id, standin=slack_standin)
    assert untouched["view"]["state"]["values"]["draft"]["text"]["value"] == "template"
    slack_standin.type_into(view_id, "draft", "text", "typed")
    typed = sr.view_submission_payload(view_id=view_id, standin=slack_standin)
    assert typed["view"]["state"]["values"]["draft"]["text"]["value"] == "typed"


def test_type_into_needs_an_existing_input(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    view_id = slack_client.views_open(
        trigger_id=slack_standin.issue_trigger_id(), view=MODAL)["view"]["id"]
    with pytest.raises(KeyError):
        slack_standin.type_into(view_id, "nope", "text", "x")


# ------------------------------------------------------------------- 4. trigger ids
class FakeClock:
    """A monotonic clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_trigger_ids_expire_three_seconds_after_issue() -> None:
    clock = FakeClock()
    with SlackStandIn(clock=clock) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)
        fresh, stale = standin.issue_trigger_id(), standin.issue_trigger_id()
        clock.now += 2.9
        assert client.views_open(trigger_id=fresh, view=MODAL)["ok"]
        clock.now += 0.2
        assert _error(lambda: client.views_open(trigger_id=stale, view=MODAL)) == (
            "expired_trigger_id")
        assert _error(lambda: client.views_open(trigger_id=fresh, view=MODAL)) == (
            "exchanged_trigger_id")


def test_sender_payloads_carry_trigger_ids_the_standin_issued() -> None:
    clock = FakeClock()
    with SlackStandIn(clock=clock) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)
        trigger = sr.block_action_payload("vigie.x", standin=standin)["trigger_id"]
        clock.now += 3.5
        assert _error(lambda: client.views_open(trigger_id=trigger, view=MODAL)) == (
            "expired_trigger_id")


# ------------------------------------------------ 5. history needs a conversation id
def test_history_refuses_user_ids_and_reads_dms_by_their_d_id(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    slack_standin.set_scopes(slack_standin.scopes | {"im:history"})
    posted = slack_client.chat_postMessage(channel=USER_ID, text="reminder")
    assert posted["channel"].startswith("D")
    assert _error(lambda: slack_client.conversations_history(channel=USER_ID)) == (
        "channel_not_found")
    assert _error(lambda: slack_client.conversations_replies(channel=USER_ID, ts="1.2")) == (
        "channel_not_found")
    dm = slack_client.conversations_open(users=USER_ID)["channel"]["id"]
    assert dm == posted["channel"]
    history = slack_client.conversations_history(channel=dm)["messages"]
    assert [m["text"] for m in history] == ["reminder"]


# ------------------------------------------------- 6. bots read only where they are
def test_public_channel_the_bot_is_not_in(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    slack_standin.set_channel("C0OUTSIDE", is_member=False)
    assert slack_client.chat_postMessage(channel="C0OUTSIDE", text="alert")["ok"]
    assert _error(lambda: slack_client.conversations_history(channel="C0OUTSIDE")) == (
        "not_in_channel")
    # conversations.info describes a public channel to channels:read, member or not.
    assert slack_client.conversations_info(channel="C0OUTSIDE")["channel"]["is_member"] is False
    slack_standin.set_scopes(slack_standin.scopes - {"chat:write.public"})
    assert _error(lambda: slack_client.chat_postMessage(channel="C0OUTSIDE", text="x")) == (
        "not_in_channel")


def test_private_channel_the_bot_is_not_in_is_invisible(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    slack_standin.set_channel("G0SECRET", is_member=False)
    assert _error(lambda: slack_client.chat_postMessage(channel="G0SECRET", text="x")) == (
        "channel_not_found")
    assert _error(lambda: slack_client.conversations_history(channel="G0SECRET")) == (
        "channel_not_found")
    assert _error(lambda: slack_client.conversations_info(channel="G0SECRET")) == (
        "channel_not_found")


def test_archived_channel_is_described_but_refuses_posts(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    slack_standin.set_channel("C0ARCHIVED", is_archived=True)
    assert slack_client.conversations_info(channel="C0ARCHIVED")["channel"]["is_archived"]
    assert _error(lambda: slack_client.chat_postMessage(channel="C0ARCHIVED", text="x")) == (
        "is_archived")


# ---------------------------------------------------------------------- 7. scopes
def test_default_scopes_are_the_manifests() -> None:
    scopes = manifest_bot_scopes()
    assert {"chat:write", "chat:write.public", "commands"} <= scopes
    with SlackStandIn() as standin:
        assert standin.scopes == scopes


def test_missing_scope_names_needed_and_provided(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    slack_standin.set_scopes({"chat:write", "commands"})
    dm = slack_client.conversations_open
    answer = _response(lambda: slack_client.users_info(user=USER_ID))
    assert answer == {"ok": False, "error": "missing_scope", "needed": "users:read",
                      "provided": "chat:write,commands"}
    assert _response(lambda: dm(users=USER_ID))["needed"] == "im:write"
    assert _response(lambda: slack_client.conversations_history(channel=CHANNEL_ID))[
        "needed"] == "channels:history"
    assert slack_client.chat_postMessage(channel=CHANNEL_ID, text="still fine")["ok"]


def test_dm_history_needs_im_history(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    slack_standin.set_scopes(slack_standin.scopes - {"im:history"})
    dm = slack_client.conversations_open(users=USER_ID)["channel"]["id"]
    answer = _response(lambda: slack_client.conversations_history(channel=dm))
    assert (answer["error"], answer["needed"]) == ("missing_scope", "im:history")


# ---------------------------------------------------------------------- 8. metadata
@pytest.mark.parametrize("payload", [
    {"mention_id": None},
    {"outer": {"inner": None}},
    {"items": [{"a": 1}, None]},
])
def test_null_metadata_values_are_refused(slack_client: WebClient, payload: Any) -> None:
    metadata = {"event_type": "vigie_message", "event_payload": payload}
    assert _error(lambda: slack_client.chat_postMessage(
        channel=CHANNEL_ID, text="x", metadata=metadata)) == "invalid_metadata_format"


# --------------------------------------------------------- 9/10. errors and tokens
@pytest.mark.parametrize("error", TRANSIENT_ERRORS)
def test_transient_errors_arrive_as_http_200(
    slack_standin: SlackStandIn, slack_client: WebClient, error: str
) -> None:
    slack_standin.error_next("chat.postMessage", error)
    with pytest.raises(SlackApiError) as info:
        slack_client.chat_postMessage(channel=CHANNEL_ID, text="x")
    assert info.value.response.status_code == 200
    assert info.value.response["error"] == error
    assert slack_client.chat_postMessage(channel=CHANNEL_ID, text="x")["ok"]


@pytest.mark.parametrize("error", TOKEN_ERRORS)
def test_dead_tokens(slack_standin: SlackStandIn, slack_client: WebClient, error: str) -> None:
    slack_standin.revoke_token(BOT_TOKEN, error)
    for call in (lambda: slack_client.auth_test(),
                 lambda: slack_client.chat_postMessage(channel=CHANNEL_ID, text="x")):
        assert _error(call) == error
    with pytest.raises(ValueError):
        slack_standin.revoke_token(BOT_TOKEN, "ratelimited")


# ---------------------------------------------------------------------- 11. threads off
def test_a_non_threadable_channel_refuses_thread_replies_only(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    slack_standin.set_channel("C0NOTHREAD", non_threadable=True)
    parent = slack_client.chat_postMessage(channel="C0NOTHREAD", text="card")["ts"]
    assert _error(lambda: slack_client.chat_postMessage(
        channel="C0NOTHREAD", text="note", thread_ts=parent)) == (
        "restricted_action_non_threadable_channel")
    assert [m["text"] for m in slack_standin.messages_in("C0NOTHREAD")] == ["card"]
    slack_standin.set_channel("C0NOTHREAD", non_threadable=False)
    slack_client.chat_postMessage(channel="C0NOTHREAD", text="note", thread_ts=parent)


# --------------------------------------------------- 12. one message a second a channel
def _rate_limited(call: Any) -> tuple[int, str, str | None]:
    with pytest.raises(SlackApiError) as info:
        call()
    response = info.value.response
    return response.status_code, str(response["error"]), response.headers.get("Retry-After")


def test_posts_past_the_burst_are_refused_with_retry_after() -> None:
    clock = ManualClock()
    with SlackStandIn(clock=clock) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)
        for i in range(POST_BURST):
            client.chat_postMessage(channel=CHANNEL_ID, text=f"burst {i}")
        assert _rate_limited(lambda: client.chat_postMessage(
            channel=CHANNEL_ID, text="one too many")) == (429, "ratelimited", "1")
        # Another channel has its own allowance; a thread reply counts in its channel.
        client.chat_postMessage(channel="C0ELSEWHERE", text="elsewhere")
        clock.advance(0.5)
        assert _rate_limited(lambda: client.chat_postMessage(
            channel=CHANNEL_ID, text="still too soon"))[0] == 429
        clock.advance(0.5)
        client.chat_postMessage(channel=CHANNEL_ID, text="a second later")
        assert _rate_limited(lambda: client.chat_postMessage(
            channel=CHANNEL_ID, text="reply", thread_ts=standin.messages_in(CHANNEL_ID)[0]["ts"]
        ))[0] == 429
        assert [m["text"] for m in standin.messages_in(CHANNEL_ID)] == [
            *(f"burst {i}" for i in range(POST_BURST)), "a second later"]
        refused = standin.calls("chat.postMessage", ok=False)
        assert [(c.status, c.error) for c in refused] == [(429, "ratelimited")] * 3


def test_one_message_a_second_goes_through_for_ever() -> None:
    clock = ManualClock()
    with SlackStandIn(clock=clock) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)
        for i in range(3 * POST_BURST):
            clock.advance(1.0)
            client.chat_postMessage(channel=CHANNEL_ID, text=str(i))
        assert len(standin.messages_in(CHANNEL_ID)) == 3 * POST_BURST


def test_a_tighter_limit_for_a_test() -> None:
    clock = ManualClock()
    with SlackStandIn(clock=clock, post_rate=0.25, post_burst=1) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)
        client.chat_postMessage(channel=CHANNEL_ID, text="first")
        assert _rate_limited(lambda: client.chat_postMessage(
            channel=CHANNEL_ID, text="second")) == (429, "ratelimited", "4")
        clock.advance(4.0)
        client.chat_postMessage(channel=CHANNEL_ID, text="second")
        standin.set_post_limit(per_second=1.0, burst=2)  # a fresh, full bucket
        client.chat_postMessage(channel=CHANNEL_ID, text="third")
        client.chat_postMessage(channel=CHANNEL_ID, text="fourth")
        assert _rate_limited(lambda: client.chat_postMessage(
            channel=CHANNEL_ID, text="fifth")) == (429, "ratelimited", "1")
        with pytest.raises(ValueError):
            standin.set_post_limit(per_second=0, burst=1)


def test_the_rate_limit_is_honoured_by_slack_sdk_retries(fast_retries: list[float]) -> None:
    """slack_sdk's RateLimitErrorRetryHandler waits Retry-After (its sleeps are recorded and
    counted as time passed by the stand-in's clock), then the post goes through."""
    started = time.monotonic()
    with SlackStandIn(clock=lambda: time.monotonic() - started + sum(fast_retries),
                      post_rate=0.5, post_burst=1) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url,
                           retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
        client.chat_postMessage(channel=CHANNEL_ID, text="first")
        client.chat_postMessage(channel=CHANNEL_ID, text="second")
        assert [m["text"] for m in standin.messages_in(CHANNEL_ID)] == ["first", "second"]
        assert [c.status for c in standin.calls("chat.postMessage")] == [200, 429, 200]
        assert 2 <= fast_retries[0] < 3  # Retry-After 2 (+ up to 1 s of jitter)


# ------------------------------------------------- 13. a method's rate-limit window
def test_a_rate_limited_method_is_refused_to_everyone_until_retry_after() -> None:
    """Rule 13: once Slack rate limits users.info, every call to it (about anyone) answers
    429 with the seconds left, until they have passed; other methods are not affected."""
    clock = ManualClock()
    with SlackStandIn(clock=clock) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)
        standin.rate_limit("users.info", 30)
        assert _rate_limited(lambda: client.users_info(user=USER_ID)) == (
            429, "ratelimited", "30")
        clock.advance(10.5)
        assert _rate_limited(lambda: client.users_info(user="U07SOMEONE")) == (
            429, "ratelimited", "20")
        client.chat_postMessage(channel=CHANNEL_ID, text="another method")
        clock.advance(19.5)
        assert client.users_info(user=USER_ID)["user"]["id"] == USER_ID
        standin.rate_limit("users.info", 5)
        assert _rate_limited(lambda: client.users_info(user=USER_ID))[0] == 429
        standin.rate_limit("users.info", 0)
        assert client.users_info(user=USER_ID)["ok"]
        assert [c.status for c in standin.calls("users.info")] == [429, 429, 200, 429, 200]


# ---------------------------------------------------- 15. total text of the blocks
def _sections(total_chars: int) -> list[dict[str, Any]]:
    """Sections of at most 2,900 characters holding ``total_chars`` together."""
    blocks, left = [], total_chars
    while left:
        size = min(left, 2900)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "x" * size}})
        left -= size
    return blocks


def test_blocks_past_the_total_text_limit_are_refused(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    assert slack_client.chat_postMessage(channel=CHANNEL_ID, text="t",
                                         blocks=_sections(MESSAGE_BLOCKS_TEXT_MAX))["ok"]
    too_long = _sections(MESSAGE_BLOCKS_TEXT_MAX + 1)
    assert _error(lambda: slack_client.chat_postMessage(
        channel=CHANNEL_ID, text="t", blocks=too_long)) == "msg_blocks_too_long"
    posted = slack_client.chat_postMessage(channel=CHANNEL_ID, text="t", blocks=_sections(10))
    assert _error(lambda: slack_client.chat_update(
        channel=CHANNEL_ID, ts=posted["ts"], text="t", blocks=too_long)) == (
        "msg_blocks_too_long")
    half = _sections(MESSAGE_BLOCKS_TEXT_MAX // 2 + 1)
    assert _error(lambda: slack_client.chat_postMessage(
        channel=CHANNEL_ID, text="t", blocks=half, attachments=[{"blocks": half}])) == (
        "msg_blocks_too_long")
    assert [m["ts"] for m in slack_standin.messages_in(CHANNEL_ID)][-1] == posted["ts"]


def test_the_total_text_limit_can_be_set() -> None:
    with SlackStandIn(blocks_text_max=100) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)
        assert _error(lambda: client.chat_postMessage(
            channel=CHANNEL_ID, text="t", blocks=_sections(101))) == "msg_blocks_too_long"
        assert client.chat_postMessage(channel=CHANNEL_ID, text="t", blocks=_sections(100))["ok"]


def test_blocks_text_length_counts_every_text_string() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "abc"},
               "accessory": {"type": "button", "action_id": "a",
                             "text": {"type": "plain_text", "text": "de"}}},
              {"type": "context", "elements": [{"type": "mrkdwn", "text": "f"}]}]
    assert blocks_text_length(blocks) == 6


# ------------------------------------------------- 16, 17. response URLs
def _post_json(url: str, body: Any) -> tuple[int, str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_a_response_url_takes_five_messages() -> None:
    with SlackStandIn(clock=FakeClock()) as standin:
        url = standin.new_response_url(channel=CHANNEL_ID, user=USER_ID)
        answers = [_post_json(url, {"text": f"n{i}"}) for i in range(RESPONSE_URL_MAX_USES + 1)]
        assert answers == [(200, "ok")] * RESPONSE_URL_MAX_USES + [(404, "used_url")]
        assert len(standin.ephemerals()) == RESPONSE_URL_MAX_USES


def test_a_response_url_expires_after_thirty_minutes() -> None:
    clock = FakeClock()
    with SlackStandIn(clock=clock) as standin:
        url = standin.new_response_url(channel=CHANNEL_ID, user=USER_ID)
        clock.now += RESPONSE_URL_TTL_SECONDS - 1
        assert _post_json(url, {"text": "in time"}) == (200, "ok")
        clock.now += 2
        assert _post_json(url, {"text": "late"}) == (404, "expired_url")


def test_a_refused_response_url_body_is_not_a_use() -> None:
    with SlackStandIn(clock=FakeClock()) as standin:
        url = standin.new_response_url(channel=CHANNEL_ID, user=USER_ID)
        for _ in range(RESPONSE_URL_MAX_USES + 1):
            assert _post_json(url, {"response_type": "ephemeral"}) == (400, "no_text")
        assert _post_json(url, {"text": "ok"}) == (200, "ok")


def test_response_url_bodies_are_checked_like_post_message() -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3500}}]
    with SlackStandIn(clock=FakeClock()) as standin:
        def fresh() -> str:
            return standin.new_response_url(channel=CHANNEL_ID, user=USER_ID)
        assert _post_json(fresh(), {"text": "t", "blocks": too_long}) == (400, "invalid_blocks")
        assert _post_json(fresh(), {"text": "t", "attachments": [{"blocks": too_long}]}) == (
            400, "invalid_blocks")
        assert _post_json(fresh(), {"replace_original": True}) == (400, "no_text")
        assert _post_json(fresh(), {"delete_original": True}) == (200, "ok")
        assert _post_json(fresh(), {"blocks": _sections(10)}) == (200, "ok")


# ------------------------------------- 18. chat.update / chat.delete: whose message, where
def test_update_and_delete_refuse_a_user_id(slack_client: WebClient) -> None:
    posted = slack_client.chat_postMessage(channel=USER_ID, text="dm")
    assert posted["channel"].startswith("D")
    assert _error(lambda: slack_client.chat_update(
        channel=USER_ID, ts=posted["ts"], text="edited")) == "channel_not_found"
    assert _error(lambda: slack_client.chat_delete(
        channel=USER_ID, ts=posted["ts"])) == "channel_not_found"
    assert slack_client.chat_update(channel=posted["channel"], ts=posted["ts"],
                                    text="edited")["ok"]


def test_update_and_delete_refuse_a_message_the_bot_did_not_post(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    theirs = slack_standin.seed_message(CHANNEL_ID, text="a customer wrote this", user=USER_ID)
    assert _error(lambda: slack_client.chat_update(
        channel=CHANNEL_ID, ts=theirs["ts"], text="rewritten")) == "cant_update_message"
    assert _error(lambda: slack_client.chat_delete(
        channel=CHANNEL_ID, ts=theirs["ts"])) == "cant_delete_message"
    assert slack_standin.message(CHANNEL_ID, theirs["ts"])["text"] == "a customer wrote this"
def test_a_shared_file_is_a_file_share_message_of_the_conversation(
        slack_client: WebClient) -> None:
    """Rule 15: read back through conversations.history / replies, with the file's id."""
    parent = slack_client.chat_postMessage(channel=CHANNEL_ID, text="digest")["ts"]
    top = slack_client.files_upload_v2(channel=CHANNEL_ID, filename="a.csv", content=b"a")
    reply = slack_client.files_upload_v2(channel=CHANNEL_ID, filename="b.csv", content=b"b",
                                         thread_ts=parent)
    pending = slack_client.files_getUploadURLExternal(filename="c.csv", length=1)
    history = slack_client.conversations_history(channel=CHANNEL_ID)["messages"]
    shares = [m for m in history if m.get("subtype") == "file_share"]
    assert [f["id"] for m in shares for f in m["files"]] == [top["file"]["id"]]
    replies = slack_client.conversations_replies(channel=CHANNEL_ID, ts=parent)["messages"]
    assert [(m["subtype"], [f["id"] for f in m["files"]]) for m in replies[1:]] == [
        ("file_share", [reply["file"]["id"]])]
    everything = [f["id"] for m in history + replies for f in m.get("files") or []]
    assert pending["file_id"] not in everything


def test_a_file_shows_in_the_history_only_once_slack_has_shared_it() -> None:
    """Rule 19: Slack shares a completed upload asynchronously."""
    clock = ManualClock()
    with SlackStandIn(clock=clock) as slack:
        client = WebClient(token=BOT_TOKEN, base_url=slack.base_url)
        slack.delay_file_shares(30)
        uploaded = client.files_upload_v2(channel=CHANNEL_ID, filename="a.csv", content=b"a")

        def shared() -> list[str]:
            history = client.conversations_history(channel=CHANNEL_ID)["messages"]
            return [f["id"] for m in history for f in m.get("files") or []]

        assert shared() == []
        clock.advance(30)
        assert shared() == [uploaded["file"]["id"]]
