"""Events Vigie has no listener for are acknowledged: Slack retries any answer but a 2xx."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import VigieApp
from tests.harness import slack_requests
from tests.harness.constants import SIGNING_SECRET, USER_ID


@pytest.mark.parametrize("event", [
    {"type": "member_joined_channel", "user": "U07BOT", "channel": "C07X"},
    {"type": "channel_archive", "channel": "C07X", "user": USER_ID},
    {"type": "channel_rename", "channel": {"id": "C07X", "name": "x", "created": 1}},
    {"type": "team_domain_change", "url": "https://x.slack.com", "domain": "x"},
])
def test_an_event_vigie_does_not_use_is_acknowledged(vigie: VigieApp,
                                                      event: dict[str, object]) -> None:
    answer = slack_requests.event(vigie.url, SIGNING_SECRET, event)
    assert answer.status_code == 200, answer.text
    assert vigie.standin.calls("chat.postMessage") == []
