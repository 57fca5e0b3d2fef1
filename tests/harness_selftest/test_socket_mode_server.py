"""The Socket Mode server against clients other than Vigie: slack_sdk's built-in client
(what Bolt's SocketModeHandler uses) and a raw websocket client that breaks the rules."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.harness.constants import APP_ID, BOT_TOKEN
from tests.harness.slack_standin import SlackStandIn
from tests.harness.socket_mode import APP_TOKEN, SocketModeServer, token_of


@pytest.fixture
def server() -> Iterator[tuple[SlackStandIn, SocketModeServer]]:
    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as standin, \
            SocketModeServer() as socket:
        socket.attach(standin)
        yield standin, socket


def test_slack_sdk_client_connects_acks_and_reconnects(
        server: tuple[SlackStandIn, SocketModeServer]) -> None:
    standin, socket = server
    # A short ping interval: the client notices a dropped connection on its next check.
    client = SocketModeClient(app_token=APP_TOKEN, ping_interval=1,
                              web_client=WebClient(base_url=standin.base_url))

    def answer(client: SocketModeClient, request: SocketModeRequest) -> None:
        payload = {"text": "pong"} if request.type == "slash_commands" else None
        client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=payload))

    client.socket_mode_request_listeners.append(answer)  # type: ignore[arg-type]
    try:
        client.connect()
        first = socket.wait_connected()
        call = standin.last("apps.connections.open")
        assert token_of(call.headers) == APP_TOKEN and "token" not in call.args
        assert socket.slash_command("ping").text == "pong"
        assert socket.app_home_opened().payload is None
        second = socket.disconnect("refresh_requested")
        assert second.number == first.number + 1 and not first.open
        assert socket.slash_command("ping").link == second.number
        third = socket.drop()
        assert socket.slash_command("ping").link == third.number
        assert len(standin.calls("apps.connections.open")) == 3  # a new URL each time
    finally:
        client.close()
    assert socket.violations == []


def test_hello_comes_first_and_rule_breaking_is_recorded(
        server: tuple[SlackStandIn, SocketModeServer]) -> None:
    _, socket = server
    with connect(socket.new_url()) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == APP_ID
        envelope_id = socket.send("interactive", {"type": "block_actions"})
        envelope = json.loads(ws.recv(timeout=5))
        assert envelope["envelope_id"] == envelope_id
        assert envelope["accepts_response_payload"] is False
        ws.send(json.dumps({"envelope_id": "nope"}))
        ws.send(json.dumps({"envelope_id": envelope_id, "payload": {"text": "x"}}))
        ws.send(json.dumps({"envelope_id": envelope_id}))
        ws.send("hi")
        socket.wait_ack(envelope_id)
        submitted = socket.send("interactive", {
            "type": "view_submission",
            "view": {"blocks": [{"type": "input", "block_id": "draft"}]}})
        json.loads(ws.recv(timeout=5))
        ws.send(json.dumps({"envelope_id": submitted, "payload": {
            "response_action": "errors", "errors": {"text": "too short"}}}))
        socket.wait_ack(submitted)
        ws.close()
    with pytest.raises(InvalidStatus):  # a URL apps.connections.open never issued
        connect(f"ws://127.0.0.1:{socket.port}/link/?ticket=forged&app_id={APP_ID}")
    problems = "\n".join(socket.violations)
    for expected in ("ack for an unknown envelope nope",
                     "carries a payload, but the envelope accepts none",
                     "second ack", "not an ack", "error for 'text', which is not an input",
                     "unknown ticket"):
        assert expected in problems, problems
