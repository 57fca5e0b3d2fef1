"""The stand-in answers slack_sdk's WebClient like the Slack Web API."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from tests.harness.constants import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
)
from tests.harness.slack_standin import (
    RESPONSE_URL_METHOD,
    UPLOAD_METHOD,
    ManualClock,
    SlackStandIn,
    StandInTimeout,
)

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*New mention*"}}
METADATA = {"event_type": "vigie_card", "event_payload": {"mention_id": 42}}


def _error(call: object) -> str:
    with pytest.raises(SlackApiError) as info:
        call()  # type: ignore[operator]
    return str(info.value.response["error"])


def test_base_url_looks_like_slack(slack_standin: SlackStandIn) -> None:
    assert slack_standin.base_url.startswith("http://127.0.0.1:")
    assert slack_standin.base_url.endswith("/api/")


def test_post_message_is_recorded_with_decoded_blocks(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    response = slack_client.chat_postMessage(
        channel=CHANNEL_ID, text="New mention", blocks=[SECTION], metadata=METADATA
    )

    call = slack_standin.last("chat.postMessage")
    assert call.ok
    assert call.args["channel"] == CHANNEL_ID
    assert call.args["blocks"] == [SECTION]
    assert call.args["metadata"] == METADATA
    assert call.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert response["channel"] == CHANNEL_ID
    assert response["ts"] == "1700000000.000100"
    message = response["message"]
    assert message["text"] == "New mention"
    assert message["metadata"] == METADATA
    assert message["bot_id"] == BOT_ID
    assert message["user"] == BOT_USER_ID
    assert message["blocks"][0]["text"] == SECTION["text"]
    assert message["blocks"][0]["block_id"]  # Slack assigns one


def test_form_encoded_blocks_are_decoded_too(slack_standin: SlackStandIn) -> None:
    # chat.postMessage via api_call(params=...) sends a form with JSON-encoded blocks.
    client = WebClient(token=BOT_TOKEN, base_url=slack_standin.base_url)
    client.api_call(
        "chat.postMessage",
        params={"channel": CHANNEL_ID, "text": "hi", "blocks": '[{"type": "divider"}]'},
    )
    call = slack_standin.last("chat.postMessage")
    assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert call.args["blocks"] == [{"type": "divider"}]


def test_get_with_query_parameters(slack_standin: SlackStandIn) -> None:
    url = f"{slack_standin.base_url}users.info?user={USER_ID}&include_locale=true"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {BOT_TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert b'"locale": "en-US"' in response.read()
    assert slack_standin.last("users.info").http_method == "GET"


def test_ts_are_unique_and_increasing() -> None:
    clock = ManualClock()
    with SlackStandIn(clock=clock) as standin:
        client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)
        ts = []
        for i in range(5):
            clock.advance(1.0)  # one message a second, as Slack allows in a channel
            ts.append(client.chat_postMessage(channel=CHANNEL_ID, text=str(i))["ts"])
    assert ts == sorted(ts, key=float)
    assert len(set(ts)) == 5


def test_auth(slack_standin: SlackStandIn) -> None:
    good = WebClient(token=BOT_TOKEN, base_url=slack_standin.base_url).auth_test()
    assert good["team_id"] == TEAM_ID
    assert good["user_id"] == BOT_USER_ID
    assert good["bot_id"] == BOT_ID
    assert good["url"] == "https://vigie-test.slack.com/"
    assert _error(WebClient(base_url=slack_standin.base_url).auth_test) == "not_authed"
    wrong = WebClient(token="xoxb-wrong", base_url=slack_standin.base_url)
    assert _error(wrong.auth_test) == "invalid_auth"
    slack_standin.revoke_token(BOT_TOKEN)
    assert _error(good_client(slack_standin).auth_test) == "token_revoked"
    assert [c.ok for c in slack_standin.calls("auth.test")] == [True, False, False, False]


def good_client(standin: SlackStandIn) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=standin.base_url)


def test_any_xox_token_when_not_configured() -> None:
    with SlackStandIn(valid_tokens=None) as standin:
        assert WebClient(token="xoxb-anything", base_url=standin.base_url).auth_test()["ok"]


def test_unknown_method_is_recorded(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    assert _error(lambda: slack_client.api_call("chat.nope")) == "unknown_method"
    assert slack_standin.last("chat.nope").error == "unknown_method"


def test_custom_handler(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    slack_standin.on("reactions.add", lambda args: {"ok": True, "seen": args["name"]})
    assert slack_client.reactions_add(channel=CHANNEL_ID, name="eyes", timestamp="1.2")["seen"]


def test_update_delete_permalink(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    ts = slack_client.chat_postMessage(
        channel=CHANNEL_ID, text="v1", blocks=[SECTION], metadata=METADATA
    )["ts"]
    updated = slack_client.chat_update(channel=CHANNEL_ID, ts=ts, text="v2")
    assert updated["text"] == "v2"
    (message,) = slack_standin.messages_in(CHANNEL_ID)
    assert message["text"] == "v2"
    assert message["blocks"][0]["text"] == SECTION["text"]  # kept: blocks not sent
    assert message["metadata"] == METADATA  # kept too
    assert "edited" in message

    link = slack_client.chat_getPermalink(channel=CHANNEL_ID, message_ts=ts)["permalink"]
    assert link == f"https://vigie-test.slack.com/archives/{CHANNEL_ID}/p{ts.replace('.', '')}"

    slack_client.chat_delete(channel=CHANNEL_ID, ts=ts)
    assert slack_standin.messages_in(CHANNEL_ID) == []
    assert len(slack_standin.messages_in(CHANNEL_ID, include_deleted=True)) == 1
    assert _error(lambda: slack_client.chat_update(channel=CHANNEL_ID, ts=ts, text="x")) == (
        "message_not_found"
    )


def test_post_ephemeral(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    response = slack_client.chat_postEphemeral(channel=CHANNEL_ID, user=USER_ID, text="psst")
    assert response["message_ts"]
    (ephemeral,) = slack_standin.ephemerals(user=USER_ID)
    assert ephemeral["text"] == "psst"
    assert slack_standin.messages_in(CHANNEL_ID) == []


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_channel_errors(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    slack_standin.set_channel("C0OUTSIDE", is_member=False)
    slack_standin.set_channel("C0ARCHIVE", is_archived=True)
    slack_standin.remove_channel("C0GONE")
    post = slack_client.chat_postMessage
    # The manifest grants chat:write.public: posting in a public channel needs no invite.
    assert post(channel="C0OUTSIDE", text="x")["ok"] is True
    assert _error(lambda: post(channel="C0ARCHIVE", text="x")) == "is_archived"
    assert _error(lambda: post(channel="C0GONE", text="x")) == "channel_not_found"
    assert _error(lambda: post(channel=CHANNEL_ID, text="")) == "no_text"
    assert _error(lambda: post(channel=CHANNEL_ID, text="x", metadata={"a": 1})) == (
        "invalid_metadata_format"
    )


def test_history_returns_posted_messages_with_metadata(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    first = slack_client.chat_postMessage(channel=CHANNEL_ID, text="one", metadata=METADATA)
    slack_client.chat_postMessage(channel=CHANNEL_ID, text="reply", thread_ts=first["ts"])
    slack_client.chat_postMessage(channel=CHANNEL_ID, text="two")
    slack_client.chat_postMessage(channel="C0OTHER", text="elsewhere")

    with_metadata = slack_client.conversations_history(
        channel=CHANNEL_ID, include_all_metadata=True
    )
    assert [m["text"] for m in with_metadata["messages"]] == ["two", "one"]  # newest first
    assert with_metadata["messages"][1]["metadata"] == METADATA
    assert with_metadata["messages"][1]["reply_count"] == 1

    plain = slack_client.conversations_history(channel=CHANNEL_ID)
    assert all("metadata" not in m for m in plain["messages"])

    page1 = slack_client.conversations_history(channel=CHANNEL_ID, limit=1)
    assert page1["has_more"] is True
    cursor = page1["response_metadata"]["next_cursor"]
    page2 = slack_client.conversations_history(channel=CHANNEL_ID, limit=1, cursor=cursor)
    assert [m["text"] for m in page2["messages"]] == ["one"]
    assert page2["has_more"] is False

    oldest = slack_client.conversations_history(channel=CHANNEL_ID, oldest=first["ts"])
    assert [m["text"] for m in oldest["messages"]] == ["two"]

    replies = slack_client.conversations_replies(channel=CHANNEL_ID, ts=first["ts"])
    assert [m["text"] for m in replies["messages"]] == ["one", "reply"]
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["one", "reply", "two"]


def test_seed_message_for_recovery_scenarios(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    seeded = slack_standin.seed_message(CHANNEL_ID, text="already there", metadata=METADATA)
    history = slack_client.conversations_history(channel=CHANNEL_ID, include_all_metadata=True)
    assert history["messages"][0]["ts"] == seeded["ts"]
    assert history["messages"][0]["metadata"] == METADATA
    slack_client.chat_update(channel=CHANNEL_ID, ts=seeded["ts"], text="edited")


def test_users_info_locale_and_tz(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    slack_standin.set_user("U0FRANCOIS", name="francois", locale="fr-FR", tz="Europe/Paris")
    user = slack_client.users_info(user="U0FRANCOIS", include_locale=True)["user"]
    assert user["locale"] == "fr-FR"
    assert user["tz"] == "Europe/Paris"
    assert user["tz_offset"] in (3600, 7200)
    assert user["name"] == "francois"
    # Like Slack: no locale unless asked for.
    assert "locale" not in slack_client.users_info(user="U0FRANCOIS")["user"]
    slack_standin.remove_user("U0GONE")
    assert _error(lambda: slack_client.users_info(user="U0GONE")) == "user_not_found"


def test_users_info_says_who_is_a_guest_as_slack_documents(
        slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    """https://api.slack.com/types/user: is_restricted marks any guest, is_ultra_restricted
    (with it) a single-channel guest; a full member has both false."""
    slack_standin.set_user("U0MULTI", guest="multi")
    slack_standin.set_user("U0SINGLE", guest="single")

    def flags(user_id: str) -> tuple[bool, bool]:
        user = slack_client.users_info(user=user_id)["user"]
        return user["is_restricted"], user["is_ultra_restricted"]

    assert flags("U0MULTI") == (True, False)
    assert flags("U0SINGLE") == (True, True)
    assert flags(USER_ID) == (False, False)


def test_conversations_open_and_info(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    dm = slack_client.conversations_open(users=USER_ID)["channel"]["id"]
    assert dm.startswith("D")
    again = slack_client.conversations_open(users=[USER_ID])
    assert again["channel"]["id"] == dm
    assert again["already_open"] is True
    # Posting to a user id lands in the DM, as on Slack.
    assert slack_client.chat_postMessage(channel=USER_ID, text="hello")["channel"] == dm
    assert [m["text"] for m in slack_standin.messages_in(dm)] == ["hello"]
    slack_standin.set_scopes(slack_standin.scopes | {"im:read"})  # not in Vigie's manifest
    assert slack_client.conversations_info(channel=dm)["channel"]["is_im"] is True
    info = slack_client.conversations_info(channel=CHANNEL_ID, include_locale=True)["channel"]
    assert info["name"] == "vigie-feed"
    assert info["is_member"] is True
    assert info["locale"] == "en-US"


MODAL = {
    "type": "modal",
    "callback_id": "reply_modal",
    "private_metadata": '{"mention": 42}',
    "title": {"type": "plain_text", "text": "Reply"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reply",
            "label": {"type": "plain_text", "text": "Your reply"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        }
    ],
}


def test_views(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    opened = slack_client.views_open(trigger_id="123.456.abc", view=MODAL)["view"]
    assert opened["id"].startswith("V")
    assert opened["hash"]
    assert opened["callback_id"] == "reply_modal"
    assert opened["private_metadata"] == MODAL["private_metadata"]
    assert opened["state"] == {"values": {}}
    assert slack_standin.last("views.open").args["view"] == MODAL

    # A trigger id can be exchanged once.
    assert _error(lambda: slack_client.views_open(trigger_id="123.456.abc", view=MODAL)) == (
        "exchanged_trigger_id"
    )
    assert _error(lambda: slack_client.views_open(trigger_id="", view=MODAL)) == (
        "invalid_arguments"
    )

    changed = {**MODAL, "title": {"type": "plain_text", "text": "Sent"}}
    updated = slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)
    assert updated["view"]["title"]["text"] == "Sent"
    assert updated["view"]["hash"] != opened["hash"]
    stale = lambda: slack_client.views_update(  # noqa: E731
        view_id=opened["id"], hash=opened["hash"], view=changed
    )
    assert _error(stale) == "hash_conflict"
    assert slack_standin.view(opened["id"])["title"]["text"] == "Sent"

    pushed = slack_client.views_push(trigger_id="123.456.def", view=MODAL)["view"]
    assert pushed["id"] != opened["id"]


def test_views_publish(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    home = {"type": "home", "blocks": [SECTION]}
    view = slack_client.views_publish(user_id=USER_ID, view=home)["view"]
    assert view["type"] == "home"
    assert slack_standin.home_view(USER_ID)["id"] == view["id"]  # type: ignore[index]
    again = slack_client.views_publish(user_id=USER_ID, view=home)["view"]
    assert again["id"] == view["id"]
    assert _error(lambda: slack_client.views_publish(user_id=USER_ID, view=MODAL)) == (
        "invalid_arguments"
    )


def test_files_upload_v2_end_to_end(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    data = b"date,mentions\n2024-05-01,12\n"
    response = slack_client.files_upload_v2(
        channel=CHANNEL_ID,
        content=data,
        filename="report.csv",
        title="Weekly report",
        initial_comment="Here is the weekly report",
    )

    assert response["file"]["name"] == "report.csv"
    assert response["file"]["title"] == "Weekly report"
    assert [c.method for c in slack_standin.calls()] == [
        "files.getUploadURLExternal",
        UPLOAD_METHOD,
        "files.completeUploadExternal",
    ]
    (uploaded,) = slack_standin.files()
    assert uploaded.data == data
    assert uploaded.filename == "report.csv"
    assert uploaded.length == len(data)
    assert uploaded.channels == [CHANNEL_ID]
    assert uploaded.initial_comment == "Here is the weekly report"
    assert slack_standin.calls(UPLOAD_METHOD)[0].body == data
    # The share shows up in the history, not among messages_in() by default.
    assert slack_standin.messages_in(CHANNEL_ID) == []
    (share,) = slack_standin.messages_in(CHANNEL_ID, include_file_shares=True)
    assert share["files"][0]["id"] == uploaded.file_id


def test_files_delete_unshares_the_file(slack_standin: SlackStandIn,
                                        slack_client: WebClient) -> None:
    """Rule 20: a deleted file is gone from the channel's history; deleting it again, or
    an id Slack never gave, is refused."""
    slack_client.files_upload_v2(channel=CHANNEL_ID, content=b"abc", filename="a.csv")
    (uploaded,) = slack_standin.files()

    assert slack_client.files_delete(file=uploaded.file_id)["ok"] is True

    assert slack_standin.files() == []
    assert [f.file_id for f in slack_standin.files(include_deleted=True)] == [uploaded.file_id]
    assert slack_standin.messages_in(CHANNEL_ID, include_file_shares=True) == []
    assert slack_client.conversations_history(channel=CHANNEL_ID)["messages"] == []
    assert _error(lambda: slack_client.files_delete(file=uploaded.file_id)) == "file_deleted"
    assert _error(lambda: slack_client.files_delete(file="F0NOSUCHFILE")) == "file_not_found"


def test_files_are_shared_only_where_the_bot_is_a_member(
        slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    """Rule 21: chat:write.public posts a message in a public channel the bot is not in,
    but a file is refused there (``not_in_channel``), and in a private one it is not in
    (``channel_not_found``); the file is shared nowhere."""
    slack_standin.set_channel("C0PUBLICOUT", is_member=False)
    slack_standin.set_channel("G0PRIVATEOUT", is_private=True, is_member=False)
    assert slack_client.chat_postMessage(channel="C0PUBLICOUT", text="hi")["ok"] is True

    def share(channel: str) -> object:
        return lambda: slack_client.files_upload_v2(channel=channel, content=b"abc",
                                                    filename="a.png")

    assert _error(share("C0PUBLICOUT")) == "not_in_channel"
    assert _error(share("G0PRIVATEOUT")) == "channel_not_found"
    assert slack_standin.files() == []
    assert [m["text"] for m in slack_standin.messages_in(
        "C0PUBLICOUT", include_file_shares=True)] == ["hi"]


def test_conversations_join_as_slack_documents(slack_standin: SlackStandIn,
                                               slack_client: WebClient) -> None:
    """Rule 22: the bot joins a public channel (then shares files there); a private one is
    ``method_not_supported_for_channel_type``, an archived one ``is_archived``, an unknown
    one ``channel_not_found``; without ``channels:join``, ``missing_scope``."""
    slack_standin.set_channel("C0PUBLICOUT", is_member=False)
    slack_standin.set_channel("G0PRIVATEOUT", is_private=True, is_member=False)
    slack_standin.set_channel("C0ARCHIVED1", is_member=False, is_archived=True)
    slack_standin.remove_channel("C0GONE0001")

    joined = slack_client.conversations_join(channel="C0PUBLICOUT")
    assert joined["channel"]["id"] == "C0PUBLICOUT" and joined["channel"]["is_member"] is True
    assert "warning" not in joined.data
    assert slack_client.conversations_join(channel="C0PUBLICOUT")["warning"] == \
        "already_in_channel"
    slack_client.files_upload_v2(channel="C0PUBLICOUT", content=b"abc", filename="a.png")
    assert [f.channels for f in slack_standin.files()] == [["C0PUBLICOUT"]]

    def join(channel: str) -> object:
        return lambda: slack_client.conversations_join(channel=channel)

    assert _error(join("G0PRIVATEOUT")) == "method_not_supported_for_channel_type"
    assert _error(join("C0ARCHIVED1")) == "is_archived"
    assert _error(join("C0GONE0001")) == "channel_not_found"
    slack_standin.set_scopes(slack_standin.scopes - {"channels:join"})
    slack_standin.set_channel("C0OTHEROUT1", is_member=False)
    assert _error(join("C0OTHEROUT1")) == "missing_scope"


def test_complete_without_upload_fails(slack_client: WebClient) -> None:
    file_id = slack_client.files_getUploadURLExternal(filename="a.txt", length=3)["file_id"]
    complete = lambda: slack_client.files_completeUploadExternal(  # noqa: E731
        files=[{"id": file_id, "title": "a"}], channel_id=CHANNEL_ID
    )
    assert _error(complete) == "file_not_found"


def test_wait_for_across_threads(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    def later() -> None:
        for i in range(3):
            slack_client.chat_postMessage(channel=CHANNEL_ID, text=str(i))

    thread = threading.Timer(0.05, later)
    thread.start()
    calls = slack_standin.wait_for("chat.postMessage", count=3, timeout=5)
    thread.join()
    assert [c.args["text"] for c in calls] == ["0", "1", "2"]
    slack_standin.wait_until(lambda s: len(s.messages_in(CHANNEL_ID)) == 3, timeout=1)
    with pytest.raises(StandInTimeout, match=r"views\.open"):
        slack_standin.wait_for("views.open", timeout=0.05)


def test_clear_and_reset(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    slack_client.chat_postMessage(channel=CHANNEL_ID, text="x")
    slack_standin.clear()
    assert slack_standin.calls() == []
    assert len(slack_standin.messages_in(CHANNEL_ID)) == 1
    slack_standin.reset()
    assert slack_standin.messages_in(CHANNEL_ID) == []
    with pytest.raises(AssertionError, match=r"no chat\.postMessage call"):
        slack_standin.last("chat.postMessage")


def test_blocks_validate(slack_client: WebClient) -> None:
    assert slack_client.blocks_validate(blocks=[SECTION])["ok"]
    with pytest.raises(SlackApiError) as info:
        slack_client.blocks_validate(blocks=[{"type": "header", "text": SECTION["text"]}])
    (error,) = info.value.response["errors"]
    assert error["pointer"] == "/0/text/type"


def test_upload_url_failure(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    slack_standin.fail_next(UPLOAD_METHOD, status=500)
    with pytest.raises((SlackRequestError, urllib.error.HTTPError)):
        slack_client.files_upload_v2(channel=CHANNEL_ID, content=b"x", filename="x.txt")
    assert slack_standin.files() == []


def test_response_urls(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    ts = slack_client.chat_postMessage(channel=CHANNEL_ID, text="card", blocks=[SECTION])["ts"]
    bound = slack_standin.new_response_url(channel=CHANNEL_ID, user=USER_ID, message_ts=ts)

    assert httpx.post(bound, json={"text": "only you"}).text == "ok"
    assert slack_standin.ephemerals(user=USER_ID)[0]["text"] == "only you"

    httpx.post(bound, json={"replace_original": True, "text": "done", "blocks": []})
    assert slack_standin.message(CHANNEL_ID, ts)["text"] == "done"  # type: ignore[index]

    httpx.post(bound, json={"response_type": "in_channel", "text": "for all"})
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["done", "for all"]

    too_big = {"blocks": [{"type": "divider"}] * 51}
    assert httpx.post(bound, json=too_big).status_code == 400
    assert httpx.post(bound, content=b"{not json", headers={"content-type": "application/json"})
    httpx.post(bound, json={"delete_original": True})
    assert slack_standin.message(CHANNEL_ID, ts) is None

    assert len(slack_standin.responses(bound)) == 4  # the 2 rejected posts are not included
    assert len(slack_standin.calls(RESPONSE_URL_METHOD)) == 6


def test_ts_can_follow_the_clock(slack_standin: SlackStandIn, slack_client: WebClient) -> None:
    """``ts_from_clock``: a message's ts is the clock's time then, unique and increasing."""
    slack_standin.ts_from_clock = True
    slack_standin.clock = lambda: 1_800_000_000.5
    first = slack_client.chat_postMessage(channel=CHANNEL_ID, text="a")["ts"]
    second = slack_client.chat_postMessage(channel=CHANNEL_ID, text="b")["ts"]
    assert (first, second) == ("1800000000.500000", "1800000000.500100")
