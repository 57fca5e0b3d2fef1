"""Usage and examples of the commands that take a period write it in the reader's units:
``7d|30d`` in English, ``7j|30j`` in French, and each one written there is accepted."""

from __future__ import annotations

import re

import pytest

from bot.i18n import t
from bot.services.export import SLACK_PERIODS
from bot.services.influencers import PERIODS as INFLUENCER_PERIODS
from bot.services.mention_search import period_key
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
