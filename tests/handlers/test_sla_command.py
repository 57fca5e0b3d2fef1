"""`/cm sla`: the business hours it shows are the ones the checks count in, in the
reader's language, and `sla hours` takes the workspace's zone and French day names."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import answer_after_ack


def _say(vigie: VigieApp, text: str) -> str:
    answer: str = vigie.slack.command_answer(text, user_id=ADMIN_ID)["text"]
    return answer


@pytest.mark.parametrize(("language", "around_the_clock"), [
    ("en", "Counted around the clock (Europe/Paris)."),
    ("fr", "Comptés 24 h/24 (Europe/Paris)."),
])
def test_sla_shows_the_workspace_time_zone(vigie: VigieApp, language: str,
                                           around_the_clock: str) -> None:
    _say(vigie, f"lang {language}")
    _say(vigie, "settings timezone Europe/Paris")
    assert around_the_clock in _say(vigie, "sla")


@pytest.mark.parametrize(("language", "typed", "shown"), [
    ("en", "mon-fri", "Counted in business hours: 09:00-18:00, mon,tue,wed,thu,fri, "
                      "Europe/Paris."),
    ("fr", "lun-ven", "Comptés en heures ouvrées : 09:00-18:00, lun,mar,mer,jeu,ven, "
                      "Europe/Paris."),
    ("fr", "mon-fri", "Comptés en heures ouvrées : 09:00-18:00, lun,mar,mer,jeu,ven, "
                      "Europe/Paris."),
])
def test_sla_hours_without_a_zone_take_the_workspace_zone(vigie: VigieApp, language: str,
                                                          typed: str, shown: str) -> None:
    _say(vigie, f"lang {language}")
    _say(vigie, "settings timezone Europe/Paris")
    assert _say(vigie, f"sla hours 09:00-18:00 {typed}") in ("SLA updated.", "Délais mis à jour.")
    assert shown in _say(vigie, "sla")


def test_sla_hours_follow_a_later_change_of_the_workspace_zone(vigie: VigieApp) -> None:
    _say(vigie, "lang fr")
    _say(vigie, "sla hours 09:00-18:00 lun-ven")
    _say(vigie, "settings timezone America/New_York")
    assert "America/New_York." in _say(vigie, "sla")
    _say(vigie, "sla hours 09:00-18:00 lun,mer Asia/Tokyo")
    _say(vigie, "settings timezone Europe/Paris")
    assert "lun,mer, Asia/Tokyo." in _say(vigie, "sla")


def test_sla_hours_off_keep_the_workspace_zone(vigie: VigieApp) -> None:
    _say(vigie, "settings timezone Europe/Paris")
    _say(vigie, "sla hours 09:00-18:00 mon-fri Asia/Tokyo")
    _say(vigie, "sla hours off")
    assert "Counted around the clock (Europe/Paris)." in _say(vigie, "sla")


def test_sla_bad_days_are_explained_in_french(vigie: VigieApp) -> None:
    _say(vigie, "lang fr")
    assert "utilisez lun-ven" in _say(vigie, "sla hours 09:00-18:00 lundi-vendredi")


def test_sla_set_refuses_targets_out_of_order_and_a_level_given_twice(
        vigie: VigieApp) -> None:
    assert "orange" in answer_after_ack(vigie, "watch add orange orange", ADMIN_ID)
    answer = _say(vigie, "sla set orange urgent=600 high=30 normal=5")
    assert answer.startswith(
        "Nothing was changed: `urgent=600` would be longer than `high=30`.")
    assert "urgent ≤ high ≤ normal" in answer
    assert _say(vigie, "sla set orange urgent=30 urgent=90") == (
        "`urgent=` is given twice (`urgent=30`, then `urgent=90`): give each level once."
        " Nothing was changed.")
    assert "*orange*: urgent 60 min · high 240 min · normal 1440 min" in _say(vigie, "sla")
    _say(vigie, "lang fr")
    assert _say(vigie, "sla set orange high=30 HIGH=45") == (
        "`high=` est donné deux fois (`high=30`, puis `HIGH=45`) : donnez chaque niveau une"
        " seule fois. Rien n'a été changé.")
    assert _say(vigie, "sla set orange urgent=30 urgent=30 high=120") == "Délais mis à jour."
    assert "*orange* : urgent 30 min · élevé 120 min · normal 1440 min" in _say(vigie, "sla")
