"""Hostile input through the real HTTP app: never an unhandled error, always an answer."""

from __future__ import annotations

import logging
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.commands.registry import REGISTRY
from tests.e2e.conftest import ADMIN_ID, VigieApp

NAMES = [sub.name for sub in REGISTRY.all()]
TOKENS = st.one_of(
    st.sampled_from([*NAMES, "add", "list", "remove", "set", "42", "-1", "#7", "0x10",
                             "status:new", "since:9999999w", "<@U123|x>", "<#C1|c>",
                             "<https://127.0.0.1/|x>", "&lt;!channel&gt;", '"', "“", "'",
                             "threshold:999", "urgent=0", "09:00-08:00", "Europe/Nowhere"]),
    st.text(max_size=40),
)


@pytest.fixture
def quiet_errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR, logger="vigie.app")
    return caplog


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(TOKENS, max_size=6), admin=st.booleans())
def test_any_cm_text_gets_a_specific_answer(vigie_sqlite: VigieApp, words: list[str],
                                            admin: bool,
                                            quiet_errors: pytest.LogCaptureFixture) -> None:
    quiet_errors.clear()
    text = " ".join(words)
    response = (vigie_sqlite.slack.slash_command(text, user_id=ADMIN_ID) if admin
                else vigie_sqlite.slack.slash_command(text))
    assert response.status_code == 200
    time.sleep(0.05)  # slow subcommands answer after the ack
    if response.content:
        body = response.json()
        assert body.get("text"), body
        assert "Error id" not in body["text"]
    assert not [r for r in quiet_errors.records if r.name == "vigie.app"], text


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(["vigie.assign", "vigie.draft", "vigie.approve", "vigie.reject",
                               "vigie.replied", "vigie.ignore", "vigie.reopen", "vigie.retry",
                               "vigie.more"]),
       value=st.one_of(st.text(max_size=30), st.sampled_from(["1", "999999", "{}", "[]",
                                                              '{"since": "x"}', "-5"])))
def test_any_button_payload_is_handled(vigie_sqlite: VigieApp, action: str, value: str,
                                       quiet_errors: pytest.LogCaptureFixture) -> None:
    quiet_errors.clear()
    button = {"type": "button", "action_id": action, "value": value,
              "text": {"type": "plain_text", "text": "x"}}
    response = vigie_sqlite.slack.block_action(
        action, value=value,
        message={"ts": "1.2", "blocks": [{"type": "actions", "elements": [button]}]})
    assert response.status_code == 200
    time.sleep(0.05)  # listeners finish after the ack
    assert not [r for r in quiet_errors.records if r.name == "vigie.app"], (action, value)
