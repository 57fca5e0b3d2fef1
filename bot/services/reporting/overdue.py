"""Open work overdue now, business hours respected: one rule for App Home and the digest.

SQL keeps the ones late on the clock (``queries.overdue_work``: the SLA rule's targets,
counted without business hours, so a superset of the late ones), highest priority first;
each page is then checked by the rule itself (``bot.services.sla.due_times``, business
hours included) until the list is full, so no late mention hides behind older ones
without an SLA. The walk stops after ``OVERDUE_PAGES`` pages: after a long weekend, a
mention late in business time can wait behind a thousand higher-priority ones late only
on the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bot.services.reporting.queries import Scope, overdue_work
from bot.services.sla import due_times
from storage.models import Mention

OVERDUE_PAGE = 100
"""Late-on-the-clock candidates checked by the SLA rule at a time."""
OVERDUE_PAGES = 10
"""At most this many pages per walk."""


@dataclass(frozen=True, slots=True)
class Overdue:
    """What ``overdue_now`` found."""

    first: list[Mention]
    """The first ones late, highest priority first (at most the ``keep`` asked for)."""
    count: int
    """How many late ones the walk found."""
    complete: bool
    """Whether it read every candidate (False: more may be late than it counted)."""


def overdue_now(session: Session, scope: Scope, open_now: ColumnElement[bool],
                now: datetime, *, keep: int) -> Overdue:
    """The mentions of ``open_now`` (the caller's open work in ``scope``) past their SLA at
    ``now``, business hours respected (see the module docstring)."""
    late_on_the_clock = overdue_work(session, scope, now)
    query = (select(Mention)
             .where(open_now, late_on_the_clock)
             .order_by(Mention.priority.desc(), Mention.published_at, Mention.id))
    late: list[Mention] = []
    counted = 0
    offset = 0
    read_all = False
    # Late on the clock but not in business time stays a candidate: bound the walk, so a
    # long weekend's backlog costs at most OVERDUE_PAGES pages. The walk goes on past the
    # first ``keep`` so the caller can say how many more are late.
    for _ in range(OVERDUE_PAGES):
        page = list(session.scalars(query.offset(offset).limit(OVERDUE_PAGE)))
        due = due_times(session, page)
        found = [m for m in page if m.id in due and due[m.id] < now]
        counted += len(found)
        late += found[:max(0, keep - len(late))]
        if len(page) < OVERDUE_PAGE:
            read_all = True
            break
        offset += OVERDUE_PAGE
    return Overdue(late, counted, read_all)
