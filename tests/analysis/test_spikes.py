from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.spikes import (
    HourBucket,
    SpikeConfig,
    assess_hour,
    baseline_sample,
    detect_spike,
    robust_threshold,
)

MONDAY = datetime(2026, 3, 16, tzinfo=UTC)  # a Monday, 00:00 UTC
HOUR = timedelta(hours=1)


def weekly_history(
    days: int = 14, *, busy: int = 40, quiet: int = 5, weekend: int = 8, negative: float = 0.1
) -> list[HourBucket]:
    """Busy weekday office hours (9-18 UTC), quiet nights, calmer weekends."""
    start = MONDAY - timedelta(days=days)
    out = []
    for h in range(days * 24):
        t = start + h * HOUR
        total = weekend if t.weekday() >= 5 else busy if 9 <= t.hour < 18 else quiet
        total += (h * 7) % 3  # deterministic jitter
        out.append(HourBucket(t, total, round(total * negative)))
    return out


def test_usual_busy_hour_is_not_a_spike() -> None:
    history = weekly_history()
    assert detect_spike(history, HourBucket(MONDAY + 10 * HOUR, 44, 4)) is None


def test_volume_spike_is_explained() -> None:
    history = weekly_history()
    decision = detect_spike(history, HourBucket(MONDAY + 3 * HOUR, 60, 6))
    assert decision is not None
    assert decision.kind == "volume"
    assert decision.baseline == pytest.approx(5, abs=2)
    assert decision.ratio > 8
    assert decision.summary().startswith("60 mentions vs ~")
    assert "Mon 03:00 UTC" in decision.summary()


def test_hour_of_week_matters() -> None:
    history = weekly_history()
    # 44 mentions is normal on a weekday at 10:00 but a spike at 10:00 on a Saturday.
    saturday = MONDAY + timedelta(days=5, hours=10)
    sat_history = weekly_history(days=19)
    assert detect_spike(history, HourBucket(MONDAY + 10 * HOUR, 44)) is None
    assert detect_spike(sat_history, HourBucket(saturday, 44)) is not None


def test_minimum_volume() -> None:
    history = [HourBucket(MONDAY - h * HOUR, 0) for h in range(1, 14 * 24)]
    assert detect_spike(history, HourBucket(MONDAY, 9)) is None
    assert detect_spike(history, HourBucket(MONDAY, 12)) is not None


def test_negative_share_spike() -> None:
    history = weekly_history()
    decision = detect_spike(history, HourBucket(MONDAY + 11 * HOUR, 45, 30))
    assert decision is not None
    assert decision.kind == "negative_share"
    assert decision.negative_share == pytest.approx(30 / 45)
    assert decision.baseline_negative_share == pytest.approx(0.1, abs=0.02)
    assert "67% negative vs 10% usual" in decision.summary()


def test_negative_share_needs_enough_negative_mentions() -> None:
    history = weekly_history()
    assert detect_spike(history, HourBucket(MONDAY + 3 * HOUR, 5, 4)) is None


def test_both_kinds() -> None:
    decision = detect_spike(weekly_history(), HourBucket(MONDAY + 3 * HOUR, 80, 60))
    assert decision is not None and decision.kind == "volume+negative_share"


def test_cooldown() -> None:
    history = weekly_history()
    current = HourBucket(MONDAY + 3 * HOUR, 60)
    assert detect_spike(history, current, last_spike_at=MONDAY) is None
    assert detect_spike(history, current, last_spike_at=MONDAY - timedelta(hours=7)) is not None


def test_too_little_history_takes_no_decision() -> None:
    history = weekly_history(days=2)
    assert detect_spike(history, HourBucket(MONDAY + 3 * HOUR, 500)) is None


def test_missing_hours_count_as_zero_from_since() -> None:
    sparse = [HourBucket(MONDAY - timedelta(days=10), 3)]
    sample = baseline_sample(sparse, MONDAY + 3 * HOUR, SpikeConfig(), since=None)
    assert set(sample) == {0}
    assert detect_spike(sparse, HourBucket(MONDAY + 3 * HOUR, 15)) is not None


def test_robust_threshold_has_a_poisson_floor() -> None:
    median, threshold = robust_threshold([4] * 30, k=4.0)
    assert median == 4
    assert threshold == pytest.approx(4 + 4 * 2)


def test_naive_datetimes_are_utc() -> None:
    history = [HourBucket(b.start.replace(tzinfo=None), b.total, b.negative)
               for b in weekly_history()]  # fmt: skip
    assert detect_spike(history, HourBucket((MONDAY + 3 * HOUR).replace(tzinfo=None), 60))


def _with_crisis_day(history: list[HourBucket], current: datetime) -> list[HourBucket]:
    """``history`` with a day of 600 mentions an hour, 90% negative, 3 days before ``current``."""
    begin, end = current - timedelta(days=3, hours=12), current - timedelta(days=2, hours=12)
    return [HourBucket(b.start, 600, 540) if begin <= b.start < end else b for b in history]


def test_usual_negative_share_ignores_a_past_crisis() -> None:
    current = MONDAY + 11 * HOUR
    history = _with_crisis_day(weekly_history(), current)
    decision = detect_spike(history, HourBucket(current, 45, 30))
    assert decision is not None and decision.negative_spike
    assert decision.baseline_negative_share == pytest.approx(0.1, abs=0.02)
    assert "67% negative vs 10% usual" in decision.summary()


def test_negative_wave_at_normal_volume_after_a_crisis() -> None:
    current = MONDAY + 11 * HOUR
    history = _with_crisis_day(weekly_history(), current)
    decision = detect_spike(history, HourBucket(current, 40, 30))
    assert decision is not None and decision.kind == "negative_share"


def test_assess_hour_gives_a_calm_hours_figures() -> None:
    decision = assess_hour(weekly_history(), HourBucket(MONDAY + 3 * HOUR, 6, 1))
    assert decision is not None and not decision.is_spike
    assert (decision.total, decision.baseline) == (6, pytest.approx(5, abs=2))
    assert assess_hour(weekly_history(days=2), HourBucket(MONDAY + 3 * HOUR, 6)) is None
