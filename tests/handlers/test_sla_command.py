"""`/cm sla`: the business hours it shows are the ones the checks count in, in the
reader's language, and `sla hours` takes the workspace's zone and French day names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ADMIN_ID, VigieApp, start_vigie
from tests.e2e.test_workflow import answer_after_ack
from tests.harness.slack_standin import SlackStandIn


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


@pytest.fixture
def vigie_both(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie on SQLite and on PostgreSQL: the hours and targets are checked under a lock
    of the workspace row, which only PostgreSQL takes."""
    yield from start_vigie(db_url, slack_standin)


def test_sla_hours_and_targets_too_long_to_come_due_are_refused(vigie_both: VigieApp) -> None:
    """Hours of one minute on Mondays put even a one-day target more than 400 days away,
    further than the checks count: refused, with the shortest hours that fit or the
    largest target the hours allow, in English and French."""
    vigie = vigie_both
    assert _say(vigie, "sla hours 09:00-09:10 mon") == (
        "Nothing was changed: business hours 09:00-09:10 (mon) give 10 min a week, too few"
        " for the largest target, a new watch's `normal=` target (1440 min): it could come"
        " due more than 400 days later, further than Vigie counts. On these days, open at"
        " least 27 min a day (e.g. `09:00-09:27`), or keep every target at 550 min at most.")
    assert "orange" in answer_after_ack(vigie, "watch add orange orange", ADMIN_ID)
    _say(vigie, "sla set orange normal=2000")
    assert _say(vigie, "sla hours 09:00-09:01 mon") == (
        "Nothing was changed: business hours 09:00-09:01 (mon) give 1 min a week, too few"
        " for the largest target, `normal=2000` of watch *orange*: it could come due more"
        " than 400 days later, further than Vigie counts. On these days, open at least 37"
        " min a day (e.g. `09:00-09:37`), or keep every target at 55 min at most.")
    assert "Counted around the clock" in _say(vigie, "sla")
    assert _say(vigie, "sla hours 09:00-09:37 mon") == "SLA updated."
    _say(vigie, "lang fr")
    assert _say(vigie, "sla set orange urgent=30 normal=2100") == (
        "Rien n'a été changé : `normal=2100` pourrait échoir plus de 400 jours plus tard dans"
        " les heures ouvrées 09:00-09:37 (lun : 37 min par semaine), au-delà de ce que Vigie"
        " compte. Ces heures permettent des délais de 2035 min au plus ; pour celui-ci,"
        " ouvrez au moins 39 min par jour sur ces jours (`/cm sla hours`, par ex."
        " `09:00-09:39`).")
    assert _say(vigie, "sla hours 09:00-09:20 lun").startswith(
        "Rien n'a été changé : les heures ouvrées 09:00-09:20 (lun) donnent 20 min par"
        " semaine, trop peu pour le plus long délai, `normal=2000` de la veille *orange*")
    assert _say(vigie, "sla set orange normal=2035") == "Délais mis à jour."
    assert "*orange* : urgent 60 min · élevé 240 min · normal 2035 min" in _say(vigie, "sla")
