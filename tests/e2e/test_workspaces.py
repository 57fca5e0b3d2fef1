"""Every workspace sees only its own data, whatever the command."""

from __future__ import annotations

from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import seed

OTHER_TEAM = "T07OTHERTM"


def test_another_workspace_cannot_read_or_touch_our_data(vigie: VigieApp) -> None:
    mention_id = seed(vigie, text="Our private complaint about the app")
    vigie.slack.slash_command("watch add secretwatch secret", user_id=ADMIN_ID)
    theirs = {"team_id": OTHER_TEAM}
    listing = vigie.slack.slash_command("mentions", **theirs).json()
    assert "Our private complaint" not in str(listing)
    for command in (f"show {mention_id}", f"assign {mention_id} <@U07CMALICE|a>",
                    f"ignore {mention_id}", f"draft {mention_id} hello"):
        reply = vigie.slack.slash_command(command, **theirs).json()["text"]
        assert f"no mention #{mention_id}" in reply, (command, reply)
    assert "secretwatch" not in vigie.slack.slash_command("watch list", **theirs).json()["text"]
    assert "secretwatch" in str(vigie.slack.slash_command("watch list").json())
    mine = vigie.slack.slash_command("mentions").json()
    assert "Our private complaint" in str(mine)
