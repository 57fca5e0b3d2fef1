"""What App Home shows a user, as typed data read by ``bot.services.home`` and rendered by
``bot.slack.home``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.messages.influencers import InfluencerLine
from bot.messages.opportunities import HomeOpportunities


@dataclass(frozen=True, slots=True)
class HomeItem:
    """A mention line on the Home tab."""

    id: int
    network: str
    text: str
    url: str
    priority: int
    status: str
    created_at: datetime
    channel: str | None
    ts: str | None
    reason: str | None = None
    intent: str | None = None
    topics: tuple[str, ...] = ()
    direct_to: str | None = None
    language: str | None = None
    language_analysed: bool = True


@dataclass(frozen=True, slots=True)
class HomeTriage:
    """The workspace's triage calibration at a glance (`/cm triage` has the details)."""

    enabled: bool
    offset: int
    last_run_at: datetime | None = None
    last_run_outcome: str | None = None
    last_run_before: int = 0
    last_run_after: int = 0


@dataclass(frozen=True, slots=True)
class HomeSummary:
    """Everything the Home tab shows."""

    role: str
    assigned: list[HomeItem]
    to_approve: list[HomeItem]
    overdue: list[HomeItem]
    counts: dict[str, int]
    triage: HomeTriage | None = None
    opportunities: HomeOpportunities | None = None
    """None: no watch group has conquest on (no section)."""
    influencers: Sequence[InfluencerLine] | None = None
    """The top authors of the last 30 days; None: not read (no section)."""
    assigned_total: int = 0
    """How many open mentions are assigned to the user (``assigned`` holds the first)."""
    to_approve_total: int = 0
    """How many drafts wait for the user's approval (``to_approve`` holds the first)."""
    overdue_total: int = 0
    """How many open mentions are past their SLA, as far as the bounded walk counted."""
    overdue_counted_all: bool = True
    """False: the walk stopped at its bound and more may be late (``overdue_total`` is a
    floor)."""


@dataclass(frozen=True, slots=True)
class HomeSpec:
    """A Home tab to publish: the summary, rendered in ``language`` when published."""

    summary: HomeSummary | None
    """None: the user is a Slack guest no admin gave a role, who is shown no data, only how
    to get a role (the view opening the tab shows them)."""
    language: str
