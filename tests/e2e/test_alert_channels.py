"""A watch's alerts must reach Slack: the channel is checked with Slack when the watch is
created."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_cli import vigie as run_vigie
from tests.e2e.conftest import VigieApp
from tests.e2e.test_listening import admin
from tests.harness.constants import BOT_TOKEN
from tests.harness.slack_standin import SlackStandIn


def test_watch_add_refuses_a_channel_vigie_cannot_post_in(vigie: VigieApp) -> None:
    vigie.standin.set_channel("C07PRIVATE1", is_private=True, is_member=False)
    vigie.standin.set_channel("C07ARCHIVE1", is_archived=True)
    vigie.standin.set_channel("C07PUBLIC01", is_member=False)

    private = admin(vigie, "watch add priv <#C07PRIVATE1|secret> threshold:0 acme")
    assert "cannot post in <#C07PRIVATE1>" in private and "/invite @Vigie" in private
    archived = admin(vigie, "watch add arch <#C07ARCHIVE1|old> threshold:0 acme")
    assert "<#C07ARCHIVE1> is archived" in archived and "another channel" in archived
    assert "No watches yet" in admin(vigie, "watch list")
    # A public channel the bot is not in is fine: chat:write.public posts there.
    assert "Watch *pub* created" in admin(vigie, "watch add pub <#C07PUBLIC01|news> acme")
    refused = admin(vigie, "watch route pub topic:outage <#C07PRIVATE1|secret>")
    assert "cannot post in <#C07PRIVATE1>" in refused
    assert "No topic routes" in admin(vigie, "watch routes")



def test_cli_watch_add_checks_the_channel_only_with_slack(tmp_path: Path,
                                                          slack_standin: SlackStandIn) -> None:
    slack_standin.set_channel("C07PRIVATE1", is_private=True, is_member=False)
    slack = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack_standin.base_url}
    assert run_vigie(tmp_path, "db", "upgrade").returncode == 0
    refused = run_vigie(tmp_path, "watch", "add", "priv", "--query", "acme",
                    "--channel", "C07PRIVATE1", **slack)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "cannot post in C07PRIVATE1" in refused.stderr
    assert "/invite @Vigie" in refused.stderr
    # In console mode (no Slack token) there is no Slack to ask.
    added = run_vigie(tmp_path, "watch", "add", "priv", "--query", "acme",
                  "--channel", "C07PRIVATE1")
    assert added.returncode == 0, added.stderr
