"""Local-time arithmetic for reports: days, windows and UTC offsets in a channel's time zone.

Every report window is expressed in UTC instants computed from local wall-clock times, so
a local day is 23 or 25 hours long on the days clocks change and consecutive daily
digests cover every moment exactly once.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services.errors import Periods, ServiceError
from bot.services.mention_search import period_key

LOCAL_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


def parse_local_time(text: str) -> time:
    """``HH:MM`` (24-hour clock) -> time; ServiceError ``digest.bad_time`` otherwise."""
    match = LOCAL_TIME.match(text.strip())
    if not match:
        raise ServiceError("digest.bad_time", value=text)
    return time(int(match.group(1)), int(match.group(2)))


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Europe/Paris``); ServiceError ``digest.bad_zone``."""
    cleaned = name.strip()
    if not ZONE_NAME.match(cleaned):
        raise ServiceError("digest.bad_zone", value=name)
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError("digest.bad_zone", value=name) from None


def zone_or_default(*names: str | None) -> ZoneInfo:
    """The first of ``names`` that is a valid zone, else UTC."""
    for name in names:
        if name:
            try:
                return zone(name)
            except ServiceError:
                continue
    return ZoneInfo("UTC")


def at_local(day: date, moment: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``moment`` on ``day`` in ``tz``.

    A time skipped by a spring-forward change lands just after the change; a time that
    happens twice (autumn) is taken at its first occurrence.
    """
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which local ``day`` starts in ``tz``."""
    return at_local(day, time(0, 0), tz)


def shift_local_days(moment: datetime, days: int, tz: ZoneInfo) -> datetime:
    """``moment`` moved by ``days`` local days, keeping its wall-clock time (UTC result)."""
    local = moment.astimezone(tz)
    shifted = local.replace(tzinfo=None) + timedelta(days=days)
    return shifted.replace(tzinfo=tz).astimezone(UTC)


def next_at(moment: time, tz: ZoneInfo, now: datetime) -> datetime:
    """The first instant after ``now`` at wall-clock ``moment`` in ``tz`` (UTC): when a
    daily digest at ``moment`` is next due."""
    today = now.astimezone(tz).date()
    upcoming = at_local(today, moment, tz)
    # From the wall-clock time, not today's instant: today's may be a skipped time moved
    # past the change (``scheduled_window``).
    return upcoming if upcoming > now else at_local(today + timedelta(days=1), moment, tz)


def day_window(end: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day ending at ``end``: from the same wall-clock time one day earlier.

    For an instant read off a clock (``now``). A digest scheduled at a wall-clock time
    takes ``scheduled_window``: its end may be a skipped time moved past the change.
    """
    return shift_local_days(end, -1, tz), end.astimezone(UTC)


def scheduled_window(day: date, moment: time, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The day a digest scheduled at wall-clock ``moment`` covers on local ``day``: from
    ``moment`` the day before to ``moment`` on ``day`` (each end by ``at_local``).

    Both ends come from the wall-clock time, not one from the other: on a day a
    spring-forward change skips ``moment`` (02:30 in Paris on the last Sunday of March,
    00:00 in Santiago in September) the end lands after the change (03:30, 01:00), and
    shifting that instant back a day would start the window an hour late, an hour that
    the previous day's digest, ending at the real 02:30, did not cover either.
    """
    return at_local(day - timedelta(days=1), moment, tz), at_local(day, moment, tz)


def local_days(last_day: date, count: int, tz: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """``count`` local days ending with ``last_day``, oldest first, as (day, start, end)."""
    days = [last_day - timedelta(days=offset) for offset in range(count - 1, -1, -1)]
    return [(day, local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz))
            for day in days]


def offset_minutes(moment: datetime, tz: ZoneInfo) -> int:
    """The UTC offset of ``tz`` at ``moment``, in minutes."""
    offset = moment.astimezone(tz).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def offset_segments(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, int]]:
    """Cut [start, end) where the UTC offset of ``tz`` changes: (segment start, offset).

    Checked hour by hour (zones change on the hour or half hour), then narrowed to the
    minute, so a 90-day period costs a few thousand offset look-ups and no database work.
    """
    segments = [(start, offset_minutes(start, tz))]
    probe = start
    step = timedelta(hours=1)
    while probe < end:
        following = min(probe + step, end)
        if offset_minutes(following, tz) != segments[-1][1]:
            low, high = probe, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if offset_minutes(middle, tz) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            change = high.replace(second=0, microsecond=0)
            segments.append((change, offset_minutes(change, tz)))
        probe = following
    return segments


def parse_days(text: str | None, periods: dict[str, int], default: str, error: str) -> int:
    """A period such as ``7d`` (``7j`` or ``1s`` in French; ``default`` when none is given)
    -> days, from ``periods``; ServiceError ``error`` (with the value and the valid ones)
    otherwise."""
    key = period_key(text or default)
    if key not in periods:
        raise ServiceError(error, value=text or "", valid=Periods(periods.values()))
    return periods[key]


def last_days(now: datetime, days: int, timezone: str | None) -> tuple[datetime, datetime]:
    """The last ``days`` local days in ``timezone`` ending ``now`` (today until now): the
    window `/cm stats`, share of voice and influencers count over."""
    tz = zone_or_default(timezone)
    return local_midnight(now.astimezone(tz).date() - timedelta(days=days - 1), tz), now
