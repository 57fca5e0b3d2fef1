"""`/cm settings`: the workspace's rules shown, changed by admins only, each change audited."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEvent
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import card, seed, settle, thread_notes
from tests.harness.constants import USER_ID


def say(vigie: VigieApp, text: str, user: str = ADMIN_ID) -> str:
    return str(vigie.slack.command_answer(text, user_id=user)["text"])


def test_settings_are_shown_changed_and_audited(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    shown = say(vigie, "settings")
    for line in ("`four_eyes` on", "`default_role` agent", "`backfill_hours` 48",
                 "`timezone` UTC"):
        assert line in shown
    assert "You need the *admin* role" in say(vigie, "settings default_role viewer", USER_ID)
    changed = say(vigie, "settings default_role viewer")
    assert changed == f"<@{ADMIN_ID}> changed `default_role` from agent to viewer."
    assert say(vigie, "settings default_role viewer") == "`default_role` is already viewer."
    assert "changed `four_eyes` from on to off" in say(vigie, "settings four_eyes off")
    assert "from UTC to Europe/Paris" in say(vigie, "settings timezone Europe/Paris")
    with vigie.runtime.sessions() as session:
        details = [e.detail for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "settings.changed").order_by(AuditEvent.id))]
    assert details == [
        {"setting": "default_role", "before": "agent", "after": "viewer"},
        {"setting": "four_eyes", "before": "on", "after": "off"},
        {"setting": "timezone", "before": "UTC", "after": "Europe/Paris"},
    ]


def test_bad_settings_get_specific_errors(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    assert "`colour` is not a setting: use one of four_eyes" in say(vigie, "settings colour red")
    assert "cannot be the default role" in say(vigie, "settings default_role admin")
    assert "not a number of hours from 0 to 168" in say(vigie, "settings backfill_hours 999")
    assert "not a time zone" in say(vigie, "settings timezone Mars/Olympus")
    assert "not on or off" in say(vigie, "settings four_eyes maybe")
    assert "Usage: `/cm settings`" in say(vigie, "settings four_eyes")


def test_default_role_viewer_keeps_ungranted_members_read_only(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    say(vigie, "settings default_role viewer")
    refused = say(vigie, f"assign {mention_id} <@{USER_ID}|alice>", USER_ID)
    assert "you are *viewer*" in refused
    say(vigie, f"role add <@{USER_ID}|alice> agent")
    assert "assigned" in say(vigie, f"assign {mention_id} <@{USER_ID}|alice>", USER_ID)
    say(vigie, f"role remove <@{USER_ID}|alice>")  # back to the workspace's default
    assert "you are *viewer*" in say(vigie, f"ignore {mention_id}", USER_ID)


def test_four_eyes_refusal_names_the_setting(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    say(vigie, f"role add <@{USER_ID}|alice> approver")
    say(vigie, f"draft {mention_id} Thanks Ana, we are looking into it.", USER_ID)
    refused = say(vigie, f"approve {mention_id} v1", USER_ID)
    assert "`/cm settings four_eyes off`" in refused


def test_channel_language_is_a_workspace_setting(vigie_sqlite: VigieApp) -> None:
    """`/cm lang` is each person's; what Vigie posts in channels follows `language`."""
    vigie = vigie_sqlite
    assert "`language` en" in say(vigie, "settings")
    assert "You need the *admin* role" in say(vigie, "settings language fr", USER_ID)
    assert "not a language Vigie speaks: use one of en, fr" in say(
        vigie, "settings language klingon")
    english = card(vigie, seed(vigie, handle="@before@m.social"))
    assert "Assign" in str(english["blocks"]) and "Attribuer" not in str(english["blocks"])
    assert say(vigie, "settings language fr") == (
        f"<@{ADMIN_ID}> changed `language` from en to fr.")
    assert say(vigie, "settings language fr-FR") == "`language` is already fr."
    mention_id = seed(vigie, handle="@after@m.social")
    french = card(vigie, mention_id)
    assert "Attribuer" in str(french["blocks"]) and "Assign" not in str(french["blocks"])
    # Thread notes are the channel's too, whoever acts (the admin's own answers stay English).
    answer = say(vigie, f"assign {mention_id} <@{USER_ID}|alice>")
    assert "assigned" in answer
    settle(vigie)
    assert thread_notes(vigie)[-1] == f"<@{ADMIN_ID}> a attribué ceci à <@{USER_ID}>."
    assert "`language` fr" in say(vigie, "settings")
    with vigie.runtime.sessions() as session:
        details = [e.detail for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "settings.changed"))]
    assert details == [{"setting": "language", "before": "en", "after": "fr"}]
