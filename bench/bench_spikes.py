"""Spike detection on synthetic hourly series with injected spikes: recall and false alarms.

Usage: python bench/bench_spikes.py [--weeks 8] [--seeds 5] [--json]
Each series has daily and weekly seasonality (busy afternoons, quiet nights, calmer
weekends), Poisson counts and a drifting negative share (~15%); two weeks of warm-up
precede the scored weeks. Injected, at random non-overlapping times (two of each kind
per week):
- strong volume spikes: x3-x6 the expected volume (at least +10 mentions) for 1-3 h;
- moderate volume spikes: x2-x2.5 (at least +6) for 1-3 h;
- negative spikes: x1-x1.5 the volume with 50-80% negative mentions for 2-4 h.
Every hour is checked with ``detect_spike`` (default config, cooldown honoured, history
= the 14 days before). A spike counts as found when an alert falls inside it; any other
alert is a false alarm. Prints, per mean hourly volume: recall per kind, false alarms
per week and the mean delay to detection, then the same without the hour-of-day
baseline (all hours of the day pooled) for contrast. Seeded, so runs repeat exactly.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.analysis.spikes import HourBucket, SpikeConfig, detect_spike  # noqa: E402

VOLUMES = (2, 10, 50, 300)
WARMUP_WEEKS = 2
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)
# Relative volume per hour of day (UTC), mean 1: quiet nights, busy afternoons.
DAILY = [0.25, 0.2, 0.15, 0.15, 0.2, 0.3, 0.5, 0.8, 1.1, 1.3, 1.4, 1.5,
         1.5, 1.5, 1.6, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 0.9, 0.6, 0.4]  # fmt: skip
_DAILY_MEAN = sum(DAILY) / 24
WEEKEND = 0.7


@dataclass
class Injected:
    """One injected spike: kind, first hour index, length in hours."""

    kind: str
    start: int
    hours: int
    found_at: int | None = None


@dataclass
class Score:
    """Tallies of one detector over several series."""

    injected: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    delays: list[int] = field(default_factory=list)
    false_alarms: int = 0
    false_by_kind: dict[str, int] = field(default_factory=dict)
    weeks: float = 0.0


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth below 30, normal approximation above)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def expected(volume: float, hour: datetime) -> float:
    """Seasonal expected count at ``hour`` for a watch of mean hourly ``volume``."""
    weekly = WEEKEND if hour.weekday() >= 5 else 1.0
    return volume * DAILY[hour.hour] / _DAILY_MEAN * weekly


def plan_spikes(rng: random.Random, weeks: int) -> list[Injected]:
    """Two spikes of each kind per scored week, non-overlapping, 24 h apart at least."""
    first = WARMUP_WEEKS * 168
    last = (WARMUP_WEEKS + weeks) * 168 - 6
    kinds = ["strong", "moderate", "negative"] * (2 * weeks)
    rng.shuffle(kinds)
    spikes: list[Injected] = []
    for kind in kinds:
        for _ in range(200):
            start = rng.randrange(first, last)
            if all(abs(start - s.start) >= 24 for s in spikes):
                hours = rng.randint(2, 4) if kind == "negative" else rng.randint(1, 3)
                spikes.append(Injected(kind, start, hours))
                break
    return sorted(spikes, key=lambda s: s.start)


def make_series(
    rng: random.Random, volume: float, weeks: int, spikes: list[Injected]
) -> list[HourBucket]:
    """Hourly buckets with seasonality, noise, share drift and the injected spikes."""
    by_hour = {s.start + i: s for s in spikes for i in range(s.hours)}
    buckets = []
    share = 0.15
    for h in range((WARMUP_WEEKS + weeks) * 168):
        hour = START + h * HOUR
        if h % 24 == 0:
            share = min(0.3, max(0.05, share + rng.gauss(0, 0.02)))
        lam = expected(volume, hour)
        neg_share = share
        spike = by_hour.get(h)
        if spike is not None:
            if spike.kind == "strong":
                lam = max(lam * rng.uniform(3, 6), lam + 10)
            elif spike.kind == "moderate":
                lam = max(lam * rng.uniform(2, 2.5), lam + 6)
            else:
                lam = max(lam * rng.uniform(1, 1.5), 8.0)
                neg_share = rng.uniform(0.5, 0.8)
        total = poisson(rng, lam)
        negative = sum(1 for _ in range(total) if rng.random() < neg_share)
        buckets.append(HourBucket(hour, total, negative))
    return buckets


def run_detector(
    buckets: list[HourBucket], spikes: list[Injected], config: SpikeConfig, score: Score
) -> None:
    """Check every scored hour; tally found spikes and false alarms."""
    by_hour = {s.start + i: s for s in spikes for i in range(s.hours)}
    history_hours = config.history_days * 24
    last: datetime | None = None
    for h in range(WARMUP_WEEKS * 168, len(buckets)):
        decision = detect_spike(
            buckets[h - history_hours : h], buckets[h], config, last_spike_at=last
        )
        if decision is None:
            continue
        last = buckets[h].start
        spike = by_hour.get(h)
        if spike is None:
            score.false_alarms += 1
            kind = decision.kind
            score.false_by_kind[kind] = score.false_by_kind.get(kind, 0) + 1
        elif spike.found_at is None:
            spike.found_at = h
    for spike in spikes:
        score.injected[spike.kind] = score.injected.get(spike.kind, 0) + 1
        if spike.found_at is not None:
            score.found[spike.kind] = score.found.get(spike.kind, 0) + 1
            score.delays.append(spike.found_at - spike.start)
        spike.found_at = None
    score.weeks += (len(buckets) - WARMUP_WEEKS * 168) / 168


def summarize(score: Score) -> dict[str, object]:
    """Recall per kind, false alarms per week, mean delay in hours."""
    recall = {
        kind: round(score.found.get(kind, 0) / n, 3) for kind, n in sorted(score.injected.items())
    }
    return {
        "recall": recall,
        "false_alarms_per_week": round(score.false_alarms / score.weeks, 3),
        "false_alarms_by_kind": dict(sorted(score.false_by_kind.items())),
        "mean_delay_h": round(sum(score.delays) / len(score.delays), 2) if score.delays else None,
        "spikes": dict(sorted(score.injected.items())),
        "weeks": round(score.weeks, 1),
    }


def main() -> None:
    """Run all scenarios and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=8, help="scored weeks per series")
    parser.add_argument("--seeds", type=int, default=5, help="series per volume")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    detectors = {
        "hour-of-week baseline (default)": SpikeConfig(),
        "all hours pooled (no hour-of-day)": SpikeConfig(neighbour_hours=12),
    }
    results: dict[str, dict[str, object]] = {}
    started = time.perf_counter()
    calls = 0
    for name, config in detectors.items():
        results[name] = {}
        for volume in VOLUMES:
            score = Score()
            for seed in range(args.seeds):
                rng = random.Random(f"{volume}-{seed}")
                spikes = plan_spikes(rng, args.weeks)
                buckets = make_series(rng, volume, args.weeks, spikes)
                run_detector(buckets, spikes, config, score)
                calls += len(buckets) - WARMUP_WEEKS * 168
            results[name][f"{volume}/h"] = summarize(score)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps({"detectors": results, "detect_spike_calls": calls}, indent=2))
        return
    for name, by_volume in results.items():
        print(f"== {name}")
        print(f"{'volume':>8} {'strong':>7} {'moderate':>9} {'negative':>9} {'FA/week':>8} "
              f"{'delay h':>8}")  # fmt: skip
        for volume, s in by_volume.items():
            recall = s["recall"]
            assert isinstance(recall, dict)
            print(
                f"{volume:>8} {recall.get('strong', 0):>7.2f} {recall.get('moderate', 0):>9.2f} "
                f"{recall.get('negative', 0):>9.2f} {s['false_alarms_per_week']:>8.2f} "
                f"{s['mean_delay_h'] if s['mean_delay_h'] is not None else '-':>8}"
            )
    print(f"{args.seeds} series x {args.weeks} weeks per volume; "
          f"{calls} detect_spike calls, {elapsed / calls * 1e3:.3f} ms each")  # fmt: skip


if __name__ == "__main__":
    main()
