"""App Home as Slack shows it: opened by the user, then republished after a change."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_workflow import seed, settle
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import USER_ID


def headers(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def test_a_background_refresh_shows_what_opening_the_tab_shows(vigie_sqlite: VigieApp
                                                                ) -> None:
    """Opening the tab and the refresh after a change render one view (Influencers too)."""
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.app_home_opened(user_id=USER_ID)
    eventually(lambda: vigie.standin.home_view(USER_ID) is not None)
    opened = vigie.standin.home_view(USER_ID)
    assert opened is not None
    assert "Influencers (last 30 days)" in headers(opened)
    published = len(vigie.standin.calls("views.publish"))
    vigie.slack.slash_command(f"assign {mention_id} <@{USER_ID}|alice>", user_id=ADMIN_ID)
    settle(vigie)
    vigie.runtime.deliver()
    eventually(lambda: len(vigie.standin.calls("views.publish")) > published)
    refreshed = vigie.standin.home_view(USER_ID)
    assert refreshed is not None
    assert f"#{mention_id}" in str(refreshed["blocks"])  # the refresh did happen
    assert headers(refreshed) == headers(opened)
    assert validate_blocks(refreshed["blocks"], "home") == []
