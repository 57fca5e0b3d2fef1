"""Usage and examples of the commands that take a period write it in the reader's units:
``7d|30d`` in English, ``7j|30j`` in French, and each one written there is accepted."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.i18n import t
from bot.services.errors import ServiceError
from bot.services.export import SLACK_PERIODS
from bot.services.influencers import PERIODS as INFLUENCER_PERIODS
from bot.services.mention_search import parse_duration, period_key
from bot.services.reporting.share_of_voice import PERIODS as SOV_PERIODS
from bot.services.reporting.stats import PERIODS as STATS_PERIODS

KEYS = ("cmd.stats.usage", "cmd.stats.examples", "cmd.export.usage", "cmd.export.examples",
        "export.usage", "cmd.influencers.usage", "cmd.influencers.examples",
        "influencers.usage")
ACCEPTED = {*SLACK_PERIODS, *SOV_PERIODS, *STATS_PERIODS, *INFLUENCER_PERIODS}
_PERIOD = re.compile(r"(?<![\w:])(\d+)([a-z]+)\b")


@pytest.mark.parametrize(("language", "unit"), [("en", "d"), ("fr", "j")])
@pytest.mark.parametrize("key", KEYS)
def test_periods_in_usage_are_in_the_readers_units(key: str, language: str, unit: str) -> None:
    periods = [m.group(0) for m in _PERIOD.finditer(t(language, key))]
    assert periods, key
    for period in periods:
        assert period.endswith(unit), (key, period)
        assert period_key(period) in ACCEPTED, (key, period)


@pytest.mark.parametrize("typed", ["30s", "1S", " 2s "])
@pytest.mark.parametrize("parse", [parse_duration, period_key])
def test_a_bare_s_is_refused_by_every_period_parser(parse: Callable[[str], object],
                                                    typed: str) -> None:
    with pytest.raises(ServiceError) as refused:
        parse(typed)
    assert refused.value.key == "mentions.seconds_unit"
    amount = typed.strip()[:-1]
    assert f"`{amount}w` (or `{amount}sem`)" in refused.value.message("en")
    assert f"`{amount}sem` (ou `{amount}w`)" in refused.value.message("fr")
    assert f"{amount}w (or {amount}sem)" in refused.value.message(plain=True)


@pytest.mark.parametrize("typed", ["2w", "2sem", "2W", "2SEM"])
def test_weeks_are_read_in_either_language(typed: str) -> None:
    assert parse_duration(typed) == timedelta(weeks=2)
    assert period_key(typed) == "14d"
