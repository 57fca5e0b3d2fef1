"""Spike detection per watch over hourly mention counts (pure functions).

The baseline for the current hour is taken from the same hour of day (± a neighbour
hour) on days of the same kind (weekday or weekend) over about two weeks, so a Monday
9 am rush or a quiet Sunday night is not news. Hours of day and weekends are those of
the zone the caller gives (the channel's): a Paris brand's 9 am stays 9 am when the clocks
change, and a Tokyo Monday morning is no UTC Sunday night. It is robust: median plus ``k`` robust
standard deviations (1.4826 × MAD), floored at the Poisson noise of the median so a
flat history does not make every blip a spike. A volume spike also needs a minimum
volume and a minimum ratio to the baseline. A negative-share spike compares the hour's
share of negative mentions with the usual share (binomial z-score plus a minimum
increase): the median of the daily shares over the window, so a past crisis day, with
its huge volume, does not inflate it for two weeks. ``assess_hour`` gives an hour's
figures spike or not (how an event ended); the service makes the spike hours of a
channel one event (``quiet_hours``), and ``detect_spike``'s cooldown serves the callers
without events.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

_HOUR = timedelta(hours=1)
_MAD_TO_SIGMA = 1.4826
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class HourBucket:
    """Mentions counted in the hour starting at ``start`` (UTC); ``negative`` <= ``total``."""

    start: datetime
    total: int
    negative: int = 0


@dataclass(frozen=True, slots=True)
class SpikeConfig:
    """Detection settings; the defaults suit most watches."""

    history_days: int = 14
    """How far back the baseline looks."""
    min_history_days: float = 3.0
    """Less history than this and no decision is taken."""
    neighbour_hours: int = 1
    """Hours either side of the current hour of day that join the baseline sample."""
    k: float = 4.0
    """Robust standard deviations above the median that make a volume spike."""
    min_volume: int = 10
    """A volume spike needs at least this many mentions in the hour."""
    min_ratio: float = 1.5
    """...and at least this multiple of the baseline."""
    negative_min: int = 5
    """A negative-share spike needs at least this many negative mentions in the hour."""
    negative_share_delta: float = 0.25
    """...a share at least this much above the usual share (0.25 = 25 points)."""
    negative_z: float = 4.0
    """...and a binomial z-score at least this high."""
    cooldown_hours: float = 6.0
    """No new alert this soon after the last one (``detect_spike``'s ``last_spike_at``)."""
    quiet_hours: int = 2
    """An event is over after this many complete hours in a row without a spike."""


@dataclass(frozen=True, slots=True)
class SpikeDecision:
    """A detected spike with the numbers that explain it."""

    start: datetime
    volume_spike: bool
    negative_spike: bool
    total: int
    baseline: float
    threshold: float
    negative: int
    negative_share: float
    baseline_negative_share: float
    samples: int

    @property
    def is_spike(self) -> bool:
        """True when the hour is a volume or a negative-share spike."""
        return self.volume_spike or self.negative_spike

    @property
    def kind(self) -> str:
        """``"volume"``, ``"negative_share"`` or ``"volume+negative_share"``."""
        kinds = [k for k, on in (("volume", self.volume_spike), ("negative_share",
                 self.negative_spike)) if on]  # fmt: skip
        return "+".join(kinds)

    @property
    def ratio(self) -> float:
        """Volume over baseline (baseline floored at 1 mention)."""
        return self.total / max(self.baseline, 1.0)

    def summary(self) -> str:
        """E.g. "312 mentions vs ~40 usual for Tue 14:00 UTC (7.8×); 64% negative vs 18% usual"."""
        when = f"{_DAY_NAMES[self.start.weekday()]} {self.start:%H}:00 UTC"
        text = f"{self.total} mentions vs ~{self.baseline:.0f} usual for {when} ({self.ratio:.1f}×)"
        return text + (
            f"; {self.negative_share:.0%} negative vs {self.baseline_negative_share:.0%} usual"
        )


def _utc(moment: datetime) -> datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_index(moment: datetime) -> int:
    """Hours since the Unix epoch (UTC); naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) // 3600


def _local_kind(index: int, zone: tzinfo) -> tuple[int, bool]:
    """The hour of day and whether it is a weekend in ``zone``, of the hour ``index``."""
    local = datetime.fromtimestamp(index * 3600, UTC).astimezone(zone)
    return local.hour, local.weekday() >= 5


def _gap_hours(gaps: Sequence[tuple[datetime, datetime]]) -> set[int]:
    """The hours touched by the spans in ``gaps`` (each ``[start, end)``)."""
    hours: set[int] = set()
    for gap_start, gap_end in gaps:
        last = _hour_index(gap_end - timedelta(microseconds=1))
        hours.update(range(_hour_index(gap_start), last + 1))
    return hours


def _comparable_counts(
    counts: dict[int, int], current: int, first: int, config: SpikeConfig, zone: tzinfo,
    gaps: Sequence[tuple[datetime, datetime]] = (),
) -> list[int]:
    begin = max(current - 24 * config.history_days, first)
    hour_of_day, weekend = _local_kind(current, zone)
    reach = config.neighbour_hours
    # Hours nothing counted (a watch paused) are unknown, not calm.
    unknown = _gap_hours(gaps)
    sample = []
    for index in range(begin, current):
        if index in unknown:
            continue
        hour, index_weekend = _local_kind(index, zone)
        if abs((hour - hour_of_day + 12) % 24 - 12) <= reach and index_weekend == weekend:
            sample.append(counts.get(index, 0))
    return sample


def baseline_sample(
    history: Sequence[HourBucket],
    current_start: datetime,
    config: SpikeConfig,
    since: datetime | None = None,
    zone: tzinfo = UTC,
    gaps: Sequence[tuple[datetime, datetime]] = (),
) -> list[int]:
    """Counts of the comparable hours in the window (hours without a bucket count 0).

    The window is the ``history_days`` before ``current_start``, starting no earlier
    than ``since`` (when counting began; defaults to the earliest bucket given); hours of
    day and weekends are ``zone``'s; the hours ``gaps`` touch (spans nothing was counted
    in) are left out.
    """
    current = _hour_index(current_start)
    counts: dict[int, int] = {}
    for bucket in history:
        index = _hour_index(bucket.start)
        if index < current:
            counts[index] = counts.get(index, 0) + bucket.total
    first = _hour_index(since) if since is not None else min(counts, default=current)
    return _comparable_counts(counts, current, first, config, zone, gaps)


def robust_threshold(sample: Sequence[int], k: float) -> tuple[float, float]:
    """``(median, median + k · sigma)``, sigma from the MAD, floored at sqrt(median)."""
    median = float(statistics.median(sample))
    mad = float(statistics.median(abs(x - median) for x in sample))
    sigma = max(_MAD_TO_SIGMA * mad, math.sqrt(max(median, 1.0)))
    return median, median + k * sigma


def usual_negative_share(days: Iterable[tuple[int, int]]) -> float:
    """The median of the daily negative shares, given ``(total, negative)`` per day.

    Two pseudo-mentions at a 20% share keep a thin day from giving 0% or 100%; days
    without mentions say nothing and are left out (20% when no day has any).
    """
    shares = [(negative + 0.4) / (total + 2.0) for total, negative in days if total]
    return float(statistics.median(shares)) if shares else 0.2


def detect_spike(
    history: Sequence[HourBucket],
    current: HourBucket,
    config: SpikeConfig | None = None,
    *,
    last_spike_at: datetime | None = None,
    since: datetime | None = None,
    zone: tzinfo = UTC,
    gaps: Sequence[tuple[datetime, datetime]] = (),
) -> SpikeDecision | None:
    """A ``SpikeDecision`` when ``current`` is a volume or negative-share spike, else None.

    ``history`` holds the hourly buckets before ``current`` (missing hours count as
    zero from ``since``, or from the earliest bucket); ``last_spike_at`` is when this
    watch last alerted, for the cooldown; ``zone`` gives the hours of day and the
    weekends the baseline compares (the channel's time zone); ``gaps`` the spans nothing
    was counted in (a watch paused), left out of the baseline.
    """
    config = config or SpikeConfig()
    start = _utc(current.start)
    if last_spike_at is not None and start - _utc(last_spike_at) < timedelta(
        hours=config.cooldown_hours
    ):
        return None
    decision = assess_hour(history, current, config, since=since, zone=zone, gaps=gaps)
    return decision if decision is not None and decision.is_spike else None


def assess_hour(
    history: Sequence[HourBucket],
    current: HourBucket,
    config: SpikeConfig | None = None,
    *,
    since: datetime | None = None,
    zone: tzinfo = UTC,
    gaps: Sequence[tuple[datetime, datetime]] = (),
) -> SpikeDecision | None:
    """``current``'s figures against its usual level, spike or not (see ``is_spike``);
    None while the history is too short to tell. Arguments as ``detect_spike``'s."""
    config = config or SpikeConfig()
    start = _utc(current.start)
    current_index = _hour_index(start)
    begin = current_index - 24 * config.history_days
    counts: dict[int, int] = {}
    days: dict[int, tuple[int, int]] = {}
    for bucket in history:
        index = _hour_index(bucket.start)
        if index >= current_index:
            continue
        counts[index] = counts.get(index, 0) + bucket.total
        if index >= begin:
            day = (current_index - 1 - index) // 24
            total, negative = days.get(day, (0, 0))
            days[day] = (total + bucket.total, negative + bucket.negative)
    first = _hour_index(since) if since is not None else min(counts, default=current_index)
    sample = _comparable_counts(counts, current_index, first, config, zone, gaps)
    covered_days = len(sample) / (2 * config.neighbour_hours + 1)
    if covered_days < config.min_history_days * (
            2 / 7 if _local_kind(current_index, zone)[1] else 5 / 7):
        return None
    baseline, threshold = robust_threshold(sample, config.k)
    volume = (
        current.total >= config.min_volume
        and current.total >= threshold
        and current.total >= config.min_ratio * max(baseline, 1.0)
    )
    base_share = usual_negative_share(days.values())
    share = current.negative / current.total if current.total else 0.0
    negative = False
    if current.total and current.negative >= config.negative_min:
        stderr = math.sqrt(base_share * (1.0 - base_share) / current.total)
        z = (share - base_share) / stderr
        negative = share - base_share >= config.negative_share_delta and z >= config.negative_z
    return SpikeDecision(
        start=start,
        volume_spike=volume,
        negative_spike=negative,
        total=current.total,
        baseline=baseline,
        threshold=threshold,
        negative=current.negative,
        negative_share=share,
        baseline_negative_share=base_share,
        samples=len(sample),
    )
