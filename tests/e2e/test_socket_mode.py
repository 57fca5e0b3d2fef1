"""`vigie run` in Socket Mode, end to end: a real process connected to a local Socket Mode
server (tests/harness/socket_mode.py) and the Slack Web API stand-in.

One `vigie run` process serves the whole module (starting one costs seconds); each test
works on its own mentions. Envelopes are built like the HTTP-mode requests of the other
e2e tests; what changes is the transport: acks on the socket, answers in the ack's payload.
Ack latencies are recorded (``Ack.seconds``) and checked against nothing: the machine is
shared, so the tests check that every envelope is acknowledged, and the figures go in reports.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.runtime import Runtime, build_runtime
from bot.services.outbox import KIND_CARD, do_enqueue
from storage import migrations
from storage.db import transaction
from storage.models import Author, Mention, Watch
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, OTHER_USER_ID, TEAM_ID, USER_ID
from tests.harness.slack_requests import find_element
from tests.harness.slack_standin import RESPONSE_URL_METHOD, SlackStandIn
from tests.harness.socket_mode import APP_TOKEN, Ack, SocketModeServer, token_of
from tests.harness.webhooks import webhook_from_answer, webhook_headers

REPO = Path(__file__).resolve().parents[2]
ADMIN_ID = USER_ID  # alice runs the admin commands too


@dataclass
class SocketVigie:
    """A running `vigie run` in Socket Mode and what a test needs to drive it."""

    process: subprocess.Popen[bytes]
    standin: SlackStandIn
    socket: SocketModeServer
    runtime: Runtime
    """This process's view of the same database (to seed mentions and read states)."""
    log: Path
    web_url: str
    """The web front `vigie run` serves on PORT in Socket Mode (webhooks, health)."""

    def log_tail(self) -> str:
        """The end of the child's output (for failure messages)."""
        return self.log.read_text(errors="replace")[-4000:]


def eventually(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Poll ``predicate`` until it is true (work the child does after an ack)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def free_port() -> int:
    """A loopback port nothing listens on (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _child_env(db_url: str, standin: SlackStandIn, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "VIGIE_")) and k != "PORT"}
    env.update(
        PORT=str(port), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1",
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=standin.base_url,
        VIGIE_DATABASE_URL=db_url, VIGIE_ADMINS=ADMIN_ID, VIGIE_LOG_LEVEL="INFO",
        VIGIE_OUTBOX_TICK_SECONDS="0.2", VIGIE_POLL_TICK_SECONDS="3600",
    )
    return env


@pytest.fixture(scope="module")
def vigie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketVigie]:
    """`vigie run` with SLACK_BOT_TOKEN + SLACK_APP_TOKEN on SQLite, connected."""
    tmp = tmp_path_factory.mktemp("socket-mode")
    db_url = f"sqlite:///{tmp / 'vigie.db'}"
    migrations.upgrade(db_url, "head")
    log = tmp / "vigie-run.log"
    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as standin, \
            SocketModeServer() as socket:
        socket.attach(standin)
        runtime = build_runtime(load_settings(
            database_url=db_url, slack_bot_token=BOT_TOKEN, slack_api_url=standin.base_url))
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp,
                                       env=_child_env(db_url, standin, port), stdout=out,
                                       stderr=subprocess.STDOUT)
        app = SocketVigie(process, standin, socket, runtime, log, f"http://127.0.0.1:{port}")
        try:
            try:
                link = socket.wait_connected(timeout=60)
            except AssertionError:
                raise AssertionError("vigie run never connected:\n" + app.log_tail()) from None
            yield app
            # `docker stop` and process managers send SIGTERM: Vigie closes its socket and
            # the scheduler and exits 0, as on Ctrl-C (checked here to start one process
            # less; it was killed by the signal before).
            link = socket.current()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, app.log_tail()
            assert "Vigie stopped." in app.log_tail()
            socket.wait_closed(link)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=15)
            runtime.close()


@pytest.fixture(autouse=True)
def _protocol_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test on the shared process ends with it still running and no protocol error
    on the socket."""
    yield
    if "vigie" in request.fixturenames:
        vigie: SocketVigie = request.getfixturevalue("vigie")
        assert vigie.socket.violations == [], vigie.socket.violations
        assert vigie.process.poll() is None, "vigie run exited:\n" + vigie.log_tail()


def seed(vigie: SocketVigie, text: str) -> int:
    """A stored mention whose card the child posts (through its outbox)."""
    runtime = vigie.runtime
    workspace = runtime.workspaces.ensure(TEAM_ID)
    with transaction(runtime.sessions) as session:
        watch = session.scalar(select(Watch).where(Watch.name == "seeded"))
        if watch is None:
            watch = Watch(workspace_id=workspace.id, name="seeded", channel_id=CHANNEL_ID)
            session.add(watch)
        author = Author(workspace_id=workspace.id, network="mastodon",
                        handle=f"@ana{time.monotonic_ns()}@mastodon.social", name="Ana",
                        followers=48_213)
        session.add(author)
        session.flush()
        mention = Mention(
            workspace_id=workspace.id, watch_id=watch.id, author_id=author.id,
            network="mastodon", external_id=f"sm-{time.monotonic_ns()}",
            url="https://mastodon.social/@ana/1", text=text,
            published_at=datetime(2026, 11, 21, 8, tzinfo=UTC), priority=74,
            priority_reason="complaint · negative", sentiment_label="negative",
            intent="complaint", language="en")
        session.add(mention)
        session.flush()
        do_enqueue(session, workspace_id=workspace.id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention.id, dedupe_key=f"card:{mention.id}")
        return mention.id


def mention(vigie: SocketVigie, mention_id: int) -> Mention:
    with vigie.runtime.sessions() as session:
        found = session.get(Mention, mention_id)
        assert found is not None
        return found


def card(vigie: SocketVigie, mention_id: int) -> dict[str, Any]:
    """The card the child posted for ``mention_id``, as the stand-in holds it."""
    eventually(lambda: mention(vigie, mention_id).slack_ts)
    ts = mention(vigie, mention_id).slack_ts
    message = vigie.standin.message(CHANNEL_ID, str(ts))
    assert message is not None
    return message


def acked(ack: Ack, *, payload: bool) -> Ack:
    """``ack`` came back, with or without an answer as expected."""
    assert (ack.payload is not None) is payload, ack
    return ack


def test_connects_with_the_app_token_and_calls_the_web_api_with_the_bot_token(
        vigie: SocketVigie) -> None:
    opens = vigie.standin.calls("apps.connections.open", ok=True)
    assert opens and all(token_of(call.headers) == APP_TOKEN for call in opens)
    others = [call for call in vigie.standin.calls() if call.method not in
              ("apps.connections.open", RESPONSE_URL_METHOD)]
    assert others and all(token_of(call.headers) == BOT_TOKEN for call in others), [
        (call.method, token_of(call.headers)[:5]) for call in others]
    assert vigie.standin.calls("auth.test", ok=True)  # the bot token is checked at start
    eventually(lambda: "connected to Slack in Socket Mode" in vigie.log.read_text())


def test_slash_commands_answer_in_the_ack(vigie: SocketVigie) -> None:
    help_ack = acked(vigie.socket.slash_command("help"), payload=True)
    assert "`/cm watch`" in help_ack.text

    # `watch add` checks the channel with Slack: acknowledged first, answered after.
    before = len(vigie.standin.responses())
    acked(vigie.socket.slash_command(
        f"watch add acme <#{CHANNEL_ID}|vigie-feed> threshold:40 acme OR \"acme app\" -jobs",
        user_id=ADMIN_ID), payload=False)
    eventually(lambda: len(vigie.standin.responses()) > before)
    added = vigie.standin.responses()[before]["text"]
    assert "Watch *acme* created" in added, added
    listed = acked(vigie.socket.slash_command("watch list"), payload=True)
    assert "acme" in str(listed.payload)
    refused = acked(vigie.socket.slash_command("watch add other x", user_id=OTHER_USER_ID),
                    payload=True)
    assert "admin" in refused.text.lower(), refused
    unknown = acked(vigie.socket.slash_command("wach"), payload=True)
    assert "watch" in unknown.text
    # The word "payload" broke slash commands in HTTP mode (bot/slack/bolt_wsgi.py); over
    # the socket the form arrives already parsed.
    assert "is not a mention number" in vigie.socket.slash_command("show payload").text

    # A slow subcommand acks at once and answers through the response URL.
    vigie.standin.clear()
    slow = acked(vigie.socket.slash_command("source list"), payload=False)
    assert slow.payload is None
    vigie.standin.wait_for(RESPONSE_URL_METHOD, timeout=20)
    answer = vigie.standin.responses()[-1]
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert answer["text"]


def _answer(vigie: SocketVigie, ack: Ack) -> str:
    """A slash command's answer: in the ack, or (slow ones) through the response URL."""
    if ack.payload is not None:
        return ack.text
    eventually(lambda: bool(vigie.standin.responses()))
    return str(vigie.standin.responses()[-1]["text"])


def test_webhooks_and_health_are_served_on_port_in_socket_mode(vigie: SocketVigie) -> None:
    """Socket Mode has no Slack HTTP endpoint, but a webhook source still needs one: the
    web front listens on PORT (real HTTP on loopback), without /slack/events."""
    health = httpx.get(f"{vigie.web_url}/healthz", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert httpx.post(f"{vigie.web_url}/slack/events", content=b"{}",
                      timeout=10).status_code == 404  # Slack events come over the socket
    log = vigie.log.read_text()
    # This machine only, by default: Socket Mode is chosen to need no inbound port.
    assert "Webhooks and health checks on http://127.0.0.1:" in log
    assert "VIGIE_SOCKET_MODE_WEB_HOST=0.0.0.0" in log

    before = len(vigie.standin.responses())
    acked(vigie.socket.slash_command(f"watch add hooks <#{CHANNEL_ID}|vigie-feed> threshold:0",
                                     user_id=ADMIN_ID), payload=False)
    eventually(lambda: len(vigie.standin.responses()) > before)  # added, after the ack
    vigie.standin.clear()
    source_id, secret = webhook_from_answer(_answer(vigie, vigie.socket.slash_command(
        "source add webhook hooks", user_id=ADMIN_ID)))
    body = json.dumps([{"id": "hook-1", "url": "https://forum.example/t/1",
                        "author": {"handle": "zed"}, "text": "hooks: my parcel never came",
                        "published_at": "2026-11-20T10:00:00Z"}]).encode()
    forged = httpx.post(f"{vigie.web_url}/ingest/{source_id}", content=body, timeout=10,
                        headers=webhook_headers("not-the-secret", body))
    assert forged.status_code == 401
    stored = httpx.post(f"{vigie.web_url}/ingest/{source_id}", content=body, timeout=10,
                        headers=webhook_headers(secret, body))
    assert stored.status_code == 200 and stored.json()["stored"] == 1, stored.text
    with vigie.runtime.sessions() as session:
        assert session.scalar(select(Mention.text).where(Mention.external_id == "hook-1")) \
            == "hooks: my parcel never came"


def test_card_buttons_and_modals_over_the_socket(vigie: SocketVigie) -> None:
    mention_id = seed(vigie, "My order never arrived, this is a scam")
    message = card(vigie, mention_id)
    assert validate_blocks(message["blocks"], "message") == []

    # Assign: the button opens the assign modal, its submission assigns.
    vigie.standin.clear()
    acked(vigie.socket.block_action("vigie.assign", message_ts=message["ts"]), payload=False)
    opened = vigie.standin.wait_for("views.open", timeout=20)[-1]
    assert opened.ok, opened.response
    assert opened.args["view"]["callback_id"] == "vigie.modal.assign"
    acked(vigie.socket.view_submission(view_id=opened.response["view"]["id"],
                                       values={"assignee": {"user": OTHER_USER_ID}}),
          payload=False)
    assert mention(vigie, mention_id).status == "assigned"
    assert mention(vigie, mention_id).assignee_user_id == OTHER_USER_ID
    vigie.standin.wait_for("chat.update", timeout=20)  # the card is re-rendered
    eventually(lambda: any(f"<@{OTHER_USER_ID}>" in str(c.args.get("text"))
                           for c in vigie.standin.calls("chat.postMessage", ok=True)
                           if c.args.get("thread_ts") == message["ts"]))

    # Draft: the editor opens; an empty draft is refused in the ack; a real one is saved.
    vigie.standin.clear()
    acked(vigie.socket.block_action("vigie.draft", message_ts=message["ts"]), payload=False)
    editor = vigie.standin.wait_for("views.open", timeout=20)[-1]
    assert editor.ok and editor.args["view"]["callback_id"] == "vigie.modal.draft"
    view_id = editor.response["view"]["id"]
    block_id = editor.args["view"]["blocks"][1]["block_id"]  # draft.<digest of the text>
    vigie.standin.type_into(view_id, block_id, "text", "   ")
    refused = acked(vigie.socket.view_submission(view_id=view_id), payload=True)
    assert refused.payload is not None and refused.payload["response_action"] == "errors"
    assert block_id in refused.payload["errors"]
    vigie.standin.type_into(view_id, block_id, "text", "Sorry Ana, we are on it.")
    acked(vigie.socket.view_submission(view_id=view_id), payload=False)
    assert mention(vigie, mention_id).status == "awaiting_approval"

    # Approving her own draft is refused: the reason goes to the response URL, ephemeral.
    eventually(lambda: find_element(
        (vigie.standin.message(CHANNEL_ID, message["ts"]) or {}).get("blocks") or [],
        "vigie.approve"))  # the card shows Approve once the outbox has updated it
    vigie.standin.clear()
    acked(vigie.socket.block_action("vigie.approve", message_ts=message["ts"]), payload=False)
    vigie.standin.wait_for(RESPONSE_URL_METHOD, timeout=20)
    refusal = vigie.standin.responses()[-1]
    assert refusal["response_type"] == "ephemeral" and "four-eyes" in refusal["text"]
    assert mention(vigie, mention_id).status == "awaiting_approval"


def test_app_home_opened_publishes_the_home_tab(vigie: SocketVigie) -> None:
    mention_id = seed(vigie, "Still waiting for my refund")
    card(vigie, mention_id)
    assert acked(vigie.socket.slash_command(f"assign {mention_id} <@{USER_ID}|alice>"),
                 payload=True).text.endswith(f"assigned to <@{USER_ID}>.")

    def published_for(user_id: str) -> list[Any]:
        return [call for call in vigie.standin.calls("views.publish", ok=True)
                if call.args.get("user_id") == user_id]

    acked(vigie.socket.app_home_opened(USER_ID), payload=False)
    eventually(lambda: any(f"#{mention_id}" in str(call.args["view"]["blocks"])
                           for call in published_for(USER_ID)))
    # Someone nothing else concerns: only the event can publish their Home.
    newcomer = "U07CMDAVE1"
    vigie.standin.set_user(newcomer, name="dave")
    acked(vigie.socket.app_home_opened(newcomer), payload=False)
    eventually(lambda: published_for(newcomer))
    home = published_for(newcomer)[-1].args["view"]
    assert home["type"] == "home"
    assert validate_blocks(home["blocks"], "home") == []


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
def test_disconnect_message_makes_the_app_reconnect(vigie: SocketVigie, reason: str) -> None:
    before = len(vigie.standin.calls("apps.connections.open", ok=True))
    old = vigie.socket.current()
    new = vigie.socket.disconnect(reason)
    assert new.number > old.number and not old.open
    opens = vigie.standin.calls("apps.connections.open", ok=True)
    assert len(opens) > before  # a fresh URL each time
    assert token_of(opens[-1].headers) == APP_TOKEN
    ack = acked(vigie.socket.slash_command("help"), payload=True)
    assert ack.link == new.number


def test_dropped_connection_is_reopened(vigie: SocketVigie) -> None:
    old = vigie.socket.current()
    new = vigie.socket.drop()
    assert new.number > old.number
    ack = acked(vigie.socket.slash_command("watch list"), payload=True)
    assert ack.link == new.number


class _Streams:
    """A child's stdout and stderr, drained by threads so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None and process.stderr is not None
        self._out: list[str] = []
        self._err: list[str] = []
        self._threads = [threading.Thread(target=self._out.extend, args=(process.stdout,),
                                          daemon=True),
                         threading.Thread(target=self._err.extend, args=(process.stderr,),
                                          daemon=True)]
        for thread in self._threads:
            thread.start()

    def wait_for(self, line: str, timeout: float) -> None:
        """Wait until stdout holds ``line``; fail the test past ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not any(line in seen for seen in list(self._out)):
            assert time.monotonic() < deadline, f"never printed {line!r}: {self._out}"
            time.sleep(0.05)

    def read_all(self) -> tuple[str, str]:
        """Everything the child wrote, once it exited."""
        for thread in self._threads:
            thread.join(15)
        return "".join(self._out), "".join(self._err)


def _start(tmp: Path, standin: SlackStandIn, port: int | None = None
           ) -> subprocess.Popen[str]:
    db_url = f"sqlite:///{tmp / 'vigie.db'}"
    migrations.upgrade(db_url, "head")
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp,
                            env=_child_env(db_url, standin, port or free_port()),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_port_in_use_stops_socket_mode_with_one_clear_line(tmp_path: Path) -> None:
    """PORT was set on purpose: webhooks that cannot be served must not fail silently."""
    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as standin, \
            SocketModeServer() as server, socket.socket() as taken:
        server.attach(standin)
        taken.bind(("127.0.0.1", 0))  # where `vigie run` listens by default
        taken.listen()
        port = int(taken.getsockname()[1])
        process = _start(tmp_path, standin, port)
        try:
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=15)
    assert process.returncode == 2, (out, err)
    assert "Traceback" not in err, err
    assert f"Cannot serve webhooks and /healthz on PORT {port}" in err
    assert "set PORT to a free port" in err and server.links == []


def test_a_refused_app_token_at_start_is_one_clear_line(tmp_path: Path) -> None:
    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as standin, \
            SocketModeServer() as socket:
        socket.attach(standin)
        standin.valid_tokens = frozenset({BOT_TOKEN})  # Slack does not know this app token
        process = _start(tmp_path, standin)
        try:
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=15)
    assert process.returncode == 2, (out, err)
    assert "Traceback" not in err, err
    assert "connected" not in out
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in err
    assert "connections:write" in err and "xapp-" in err
    assert APP_TOKEN not in out + err
    assert socket.links == []


def test_slack_unreachable_at_start_is_one_warning_then_a_connection(tmp_path: Path) -> None:
    """A connection that drops at start warns (it exited 2 before) and is tried again."""
    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as standin, \
            SocketModeServer() as socket:
        socket.attach(standin)
        # The connection drops on every try (slack_sdk retries twice), then Slack is back.
        standin.fail_next("apps.connections.open", 500, count=5, disconnect=True)
        process = _start(tmp_path, standin)
        api_url = standin.base_url
        streams = _Streams(process)
        try:
            socket.wait_connected(timeout=60)
            # The socket server sees the handshake before Vigie says it is connected: a
            # SIGTERM between the two stopped it before the line (a flaky failure).
            streams.wait_for("Vigie is connected to Slack in Socket Mode.", timeout=30)
            assert process.poll() is None
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=15)
        out, err = streams.read_all()
    assert process.returncode == 0, (out, err)
    assert "Traceback" not in err, err
    assert f"cannot reach {api_url} to open the Socket Mode connection" in err
    assert "Vigie is connected to Slack in Socket Mode." in out
    assert APP_TOKEN not in out + err
