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


def test_a_long_work_list_shows_whole_lines_and_says_how_many_more(vigie_sqlite: VigieApp
                                                                   ) -> None:
    """Twelve long mentions assigned: Home shows the lines that fit whole in a section
    (3,000 characters), then how many more and the `/cm mentions` query listing them."""
    vigie = vigie_sqlite
    ids = []
    for i in range(12):
        ids.append(seed(vigie, handle=f"@u{i}@m.social", text=(
            f"Order {i} never arrived and support keeps ignoring my emails, this is the third "
            f"time I write to you about the parcel that you lost, please answer me now {i}")))
        vigie.slack.slash_command(f"assign {ids[-1]} <@{USER_ID}|alice>", user_id=ADMIN_ID)
    settle(vigie)
    vigie.slack.app_home_opened(user_id=USER_ID)
    eventually(lambda: vigie.standin.home_view(USER_ID) is not None)
    home = vigie.standin.home_view(USER_ID)
    assert home is not None
    assert validate_blocks(home["blocks"], "home") == []
    blocks = home["blocks"]
    start = next(i for i, b in enumerate(blocks)
                 if b["type"] == "header" and b["text"]["text"] == "Assigned to me")
    section, more = blocks[start + 1], blocks[start + 2]
    text = section["text"]["text"]
    assert len(text) <= 3000
    items = text.split("\n• ")
    shown = [int(item.split("|#")[1].split(">")[0]) for item in items]
    # Every item shown is whole: its link, its reason line and its text line.
    lines = text.splitlines()
    assert len(lines) == 3 * len(shown)
    assert [line.startswith("   Order ") for line in lines] == [False, False, True] * len(shown)
    assert more["type"] == "context"
    hidden = len(ids) - len(shown)
    assert hidden > 0
    assert more["elements"][0]["text"] == (
        f"…and {hidden} more assigned to you: `/cm mentions assignee:me` lists every "
        "mention assigned to you.")
    # What Home points to lists them all (ten a page, More shows the next).
    listed = vigie.slack.command_answer("mentions assignee:me", user_id=USER_ID)
    assert listed["text"].startswith("The 10 matching mentions")
    assert "More shows those found before" in listed["text"]
