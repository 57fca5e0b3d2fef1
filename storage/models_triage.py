"""Triage learning: the labels the team's actions give, each workspace's calibration of the
alert threshold, and the record of every learning run (what changed and why).

Registered on ``Base.metadata`` by the imports of ``storage.models``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from storage.models_base import Base, utcnow


class TriageLabel(Base):
    """What the team said about one mention's urgency: the latest label wins, except that a
    workflow action never replaces an explicit "Not urgent" / "Should have alerted".

    ``priority`` and ``threshold`` are copied when the label is given, so the calibration
    learns from the decision as it was made even if the watch changes later.
    """

    __tablename__ = "triage_labels"
    __table_args__ = (
        UniqueConstraint("mention_id"),
        Index(None, "workspace_id", "decided_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    positive: Mapped[bool]
    """True: the team wanted it now (acted on it, "Should have alerted")."""
    action: Mapped[str] = mapped_column(String(24))
    """assign, draft, replied, ignore, not_urgent or should_alert."""
    source: Mapped[str] = mapped_column(String(16))
    """``workflow`` (an action on the mention) or ``feedback`` (the explicit buttons)."""
    actor: Mapped[str] = mapped_column(String(32))
    surface: Mapped[str] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    """The watch's own alert threshold when the label was given (before any calibration)."""
    alerted: Mapped[bool]
    decided_at: Mapped[datetime]
    """When the alert decision was made (the mention was stored): the time-ordered split's
    clock."""
    labelled_at: Mapped[datetime] = mapped_column(default=utcnow)


class TriageCalibration(Base):
    """A workspace's learned shift of every watch's alert threshold (points, may be < 0)."""

    __tablename__ = "triage_calibrations"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    offset: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    reset_at: Mapped[datetime | None]
    """When an admin last reset the shift (the clock labels are made by,
    ``TriageLabel.labelled_at``): learning reads only the labels made since, else the next
    run would learn the shift back from the labels the reset set aside."""


class TriageRun(Base):
    """One learning run, reset or switch: its figures and what it changed (or why not).

    ``run_key`` makes the nightly run happen once per workspace and day across workers.
    """

    __tablename__ = "triage_runs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "run_key"),
        Index(None, "workspace_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    run_key: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    """learn, reset, off or on."""
    actor: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    """applied, unchanged, too_few_labels, held_out_worse, held_out_same, off (learning
    skipped), reset, switched_off or switched_on."""
    applied: Mapped[bool] = mapped_column(default=False, server_default=false())
    offset_before: Mapped[int] = mapped_column(Integer)
    offset_after: Mapped[int] = mapped_column(Integer)
    proposed: Mapped[int | None] = mapped_column(Integer)
    """The shift the labels asked for, before the bounded step."""
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Label counts, and precision/recall before and after on the held-out newest labels."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
