"""Report SQL that is spelled per engine, or verbatim: elapsed seconds, the UTC quarter-hour
of a time, percentiles, and the partial indexes' predicates.

The reporting services (``bot.services.reporting``) build their aggregates from these and
never look at the dialect themselves. Each function returns the exact expression the
reports always used, so the statements (and their plans) are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, func, select, text
from sqlalchemy.orm import Session

from storage.dialect import is_postgresql
from storage.models_reporting import ANSWERED_SQL, NOT_ACTIONABLE_SQL, OPEN_WORK_SQL


def open_work() -> ColumnElement[bool]:
    """Open work, spelled exactly as the partial index's predicate (``OPEN_WORK_SQL``), so
    both engines use that index."""
    return text(OPEN_WORK_SQL)  # type: ignore[return-value]


def answered_indexed() -> ColumnElement[bool]:
    """Answered, spelled exactly as the answered mentions' partial index predicate
    (``ANSWERED_SQL``): a query repeating it reads only answered rows."""
    return text(ANSWERED_SQL)  # type: ignore[return-value]


def beyond_first() -> ColumnElement[bool]:
    """A mention's link beyond its first (``mention_watches``), spelled exactly as the
    partial index ``ix_mention_watches_doubles``'s predicate: SQLite uses that index only
    for ``NOT is_first``, not for ``is_first = 0``."""
    return text("NOT mention_watches.is_first")  # type: ignore[return-value]


def not_alerted_link() -> ColumnElement[bool]:
    """A link (``mention_watches``) whose watch did not alert, spelled exactly as the partial
    index ``ix_mention_watches_waiting``'s predicate (SQLite needs ``NOT alerted``)."""
    return text("NOT mention_watches.alerted")  # type: ignore[return-value]


def not_actionable_indexed() -> ColumnElement[bool]:
    """Ignored or spam, spelled exactly as its partial index predicate
    (``NOT_ACTIONABLE_SQL``)."""
    return text(NOT_ACTIONABLE_SQL)  # type: ignore[return-value]


def seconds_between(session: Session, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in seconds as a SQL expression for the session's engine."""
    if is_postgresql(session):
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def utc_quarter_of_day(session: Session, column: Any) -> Any:
    """The UTC quarter-hour of the day (0-95) of a stored time, as a SQL expression."""
    if is_postgresql(session):
        utc_time = func.timezone("UTC", column)
        return (func.extract("hour", utc_time) * 4
                + func.floor(func.extract("minute", utc_time) / 15))
    return (func.cast(func.strftime("%H", column), Integer()) * 4
            + func.cast(func.strftime("%M", column), Integer()) / 15)


def percentiles(session: Session, value: Any, where: Sequence[ColumnElement[bool]],
                count: int, fractions: tuple[float, ...]) -> tuple[Any, ...]:
    """The ``fractions`` percentiles (``percentile_cont`` semantics) of ``value`` over the
    ``count`` rows matching ``where`` (``count`` > 0): PostgreSQL's ``percentile_cont``,
    else the two ranks around each fraction, interpolated."""
    if is_postgresql(session):
        return tuple(session.execute(
            select(*(func.percentile_cont(fraction).within_group(value)
                     for fraction in fractions))
            .where(*where)
        ).one())
    return _percentiles_by_rank(session, value, where, count, fractions)


def _percentiles_by_rank(session: Session, value: Any, where: Sequence[ColumnElement[bool]],
                         count: int, fractions: tuple[float, ...]) -> tuple[float, ...]:
    # percentile_cont semantics (linear interpolation between closest ranks), computed from
    # the two ranks around each fraction: the database sorts, only a few rows come back.
    ranks: set[int] = set()
    for fraction in fractions:
        position = fraction * (count - 1)
        ranks.update({math.floor(position) + 1, math.ceil(position) + 1})
    ranked = (
        select(value.label("d"), func.row_number().over(order_by=value).label("rn"))
        .where(*where)
    ).subquery()
    values = dict(session.execute(
        select(ranked.c.rn, ranked.c.d).where(ranked.c.rn.in_(sorted(ranks)))).tuples().all())
    results = []
    for fraction in fractions:
        position = fraction * (count - 1)
        low = float(values[math.floor(position) + 1])
        high = float(values[math.ceil(position) + 1])
        results.append(low + (position - math.floor(position)) * (high - low))
    return tuple(results)
