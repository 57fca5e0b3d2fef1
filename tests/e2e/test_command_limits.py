"""Expensive `/cm` commands: admins only where they fetch, and rate limited per user and
per workspace with a clear ephemeral answer (issue 19 items 2 and 10)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer

from bot.services.actors import CLI
from bot.services.ratelimit import LLM_DRAFT, Policy, Rate, RateLimiter
from bot.services.sources_admin import do_add_source
from tests.e2e.conftest import ADMIN_ID, VigieApp, start_vigie
from tests.e2e.test_llm_drafting import FakeLLM
from tests.e2e.test_workflow import VIEWER, card, grant, seed
from tests.harness.constants import TEAM_ID
from tests.harness.slack_standin import SlackStandIn

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
       b"<link>https://example.com/</link><description>d</description></channel></rss>")


def answer(vigie: VigieApp, text: str, user_id: str) -> dict[str, Any]:
    """The ack's body, or the response sent after the ack for slow subcommands."""
    response = vigie.slack.slash_command(text, user_id=user_id)
    assert response.status_code == 200
    body: dict[str, Any] = response.json() if response.content else {}
    if body.get("text"):
        return body
    url = parse_qs(response.request.content.decode())["response_url"][0]
    vigie.standin.wait_until(lambda standin: bool(standin.responses(url)))
    later = vigie.standin.responses(url)[0]
    vigie.standin.clear()
    return later


def add_feed(vigie: VigieApp, httpserver: HTTPServer) -> int:
    """An admin-added RSS source on the local server; its id."""
    httpserver.expect_request("/feed").respond_with_data(RSS, content_type="application/xml")
    answer(vigie, "watch add acme acme", ADMIN_ID)
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    view = do_add_source(vigie.runtime.sessions, workspace.id, CLI, kind="rss",
                         watch_name="acme", values={"url": httpserver.url_for("/feed")})
    return view.id


def test_source_test_needs_the_admin_role(vigie_sqlite: VigieApp,
                                          httpserver: HTTPServer) -> None:
    vigie = vigie_sqlite
    source_id = add_feed(vigie, httpserver)
    grant(vigie, VIEWER, "viewer")
    refused = answer(vigie, f"source test {source_id}", VIEWER)
    assert "You need the *admin* role" in refused["text"]
    assert refused.get("response_type", "ephemeral") == "ephemeral"
    assert httpserver.log == [], "nothing was fetched for the viewer"
    tested = answer(vigie, f"source test {source_id}", ADMIN_ID)
    assert f"Source #{source_id}:" in tested["text"]
    assert len(httpserver.log) == 1


def test_role_is_checked_before_the_url(vigie_sqlite: VigieApp) -> None:
    """A viewer learns nothing about an address (the URL check resolves DNS names)."""
    vigie = vigie_sqlite
    answer(vigie, "watch add acme acme", ADMIN_ID)
    grant(vigie, VIEWER, "viewer")
    for url in ("http://127.0.0.1:8080/feed", "http://intranet.invalid/feed"):
        text = answer(vigie, f"source add rss acme <{url}>", VIEWER)["text"]
        assert "You need the *admin* role" in text, text
    # An admin still gets the URL check.
    text = answer(vigie, "source add rss acme <http://127.0.0.1:8080/feed>", ADMIN_ID)["text"]
    assert "Vigie will not fetch `url`" in text


def test_reddit_bases_are_checked_at_save_time(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    answer(vigie, "watch add acme acme", ADMIN_ID)
    for setting in ("api_base", "rss_base", "auth_url"):
        text = answer(vigie, f"source add reddit acme mode=rss query=acme "
                             f"{setting}=<http://169.254.169.254/latest>", ADMIN_ID)["text"]
        assert f"Vigie will not fetch `{setting}`" in text, text
    assert "No sources yet" in answer(vigie, "source list", ADMIN_ID)["text"]


def test_source_test_is_rate_limited_per_user(vigie_sqlite: VigieApp,
                                              httpserver: HTTPServer) -> None:
    vigie = vigie_sqlite
    source_id = add_feed(vigie, httpserver)
    for _ in range(3):
        assert f"Source #{source_id}:" in answer(vigie, f"source test {source_id}",
                                                 ADMIN_ID)["text"]
    response = vigie.slack.slash_command(f"source test {source_id}", user_id=ADMIN_ID)
    body = response.json()  # refused in the ack itself: no listener thread is used
    assert body["response_type"] == "ephemeral"
    assert "You ran `/cm source test` too often: try again in" in body["text"]
    seconds = int(body["text"].split("try again in ")[1].split(" ")[0])
    assert 1 <= seconds <= 20
    assert len(httpserver.log) == 3
    # Other subcommands are not limited.
    assert "source(s)" in answer(vigie, "source list", ADMIN_ID)["text"]


def test_digest_now_is_limited_but_digest_status_is_not(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    # A digest goes only where a watch alerts: this one, typed here, alerts here.
    assert "acme" in answer(vigie, "watch add acme acme", ADMIN_ID)["text"]
    vigie.runtime.limiter = RateLimiter(clock=lambda: 0.0)
    for _ in range(2):
        assert "on its way" in answer(vigie, "digest now", ADMIN_ID)["text"]
    assert "too often" in answer(vigie, "DIGEST now", ADMIN_ID)["text"]
    for _ in range(3):
        assert "too often" not in answer(vigie, "digest status", ADMIN_ID)["text"]


def test_workspace_limit_applies_across_users(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    vigie.runtime.limiter = RateLimiter(clock=lambda: 0.0)
    users = [ADMIN_ID] + [f"U07USER{n:04d}" for n in range(5)]
    results = [answer(vigie, "stats", user)["text"] for user in users for _ in range(4)]
    refusals = [text for text in results if "too often" in text]
    assert len(results) - len(refusals) == 20, "20 stats a minute per workspace"
    assert "ran too often in this workspace" in refusals[-1]


@pytest.fixture
def vigie_with_llm(sqlite_url: str, slack_standin: SlackStandIn, httpserver: HTTPServer
                   ) -> Iterator[VigieApp]:
    """Vigie on SQLite with an LLM stand-in on the local server."""
    yield from start_vigie(sqlite_url, slack_standin, llm_base_url=httpserver.url_for("/v1"),
                           llm_model="test-model", llm_api_key="sk-test-key-not-real-000000")


def test_llm_drafts_are_rate_limited(vigie_with_llm: VigieApp, httpserver: HTTPServer) -> None:
    vigie = vigie_with_llm
    vigie.runtime.limiter = RateLimiter(
        {LLM_DRAFT: Policy(user=Rate(1, 60), workspace=Rate(10, 60))}, clock=lambda: 0.0)
    llm = FakeLLM(httpserver, "Hi Ana, we are on it.")
    mention_id = seed(vigie)
    ts = card(vigie, mention_id)["ts"]
    vigie.slack.block_action("vigie.draft", message_ts=ts)
    vigie.standin.wait_for("views.update", timeout=15)
    assert len(llm.prompts) == 1
    vigie.standin.clear()
    vigie.slack.block_action("vigie.draft", message_ts=ts)
    vigie.standin.wait_for("views.open")
    opened = json.dumps(vigie.standin.calls("views.open")[-1].args["view"])
    assert "Too many suggestions asked" in opened
    assert len(llm.prompts) == 1, "no second LLM call"


def test_a_viewers_refused_source_tests_leave_the_workspace_budget_alone(
    vigie_sqlite: VigieApp, httpserver: HTTPServer
) -> None:
    vigie = vigie_sqlite
    source_id = add_feed(vigie, httpserver)
    grant(vigie, VIEWER, "viewer")
    for _ in range(12):
        text = answer(vigie, f"source test {source_id}", VIEWER)["text"]
        assert "You need the *admin* role" in text
    assert f"Source #{source_id}:" in answer(vigie, f"source test {source_id}", ADMIN_ID)["text"]
