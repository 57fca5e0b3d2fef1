"""A small data set whose digest and statistics are counted by hand in the tests.

Workspace zone Europe/Paris. Clocks go back on 2026-10-25 at 01:00 UTC (03:00 CEST ->
02:00 CET), so the digest of 2026-10-25 09:00 covers 25 hours: from 2026-10-24 07:00 UTC
to 2026-10-25 08:00 UTC. Channel C07DIGEST01 carries watches acme (threshold 50, default
SLA) and beta (threshold 70, normal SLA 3000 min); watch other alerts in C07OTHER001.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import Approval, Author, Draft, Mention, Watch, Workspace
from storage.models_spikes import Spike

CHANNEL = "C07DIGEST01"
OTHER_CHANNEL = "C07OTHER001"
TEAM = "T07VIGIE01"
ZONE = "Europe/Paris"
DIGEST_END = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
"""09:00 in Paris (CET) on the day clocks go back."""


def utc(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A UTC instant in 2026."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


@dataclass
class Dataset:
    """Ids of what the data set created, by name."""

    workspace_id: int
    watches: dict[str, int] = field(default_factory=dict)
    mentions: dict[str, int] = field(default_factory=dict)


# name: (created, network, sentiment, watch, priority, status, alerted, intent,
#        first response after (minutes), author, assignee)
MENTIONS: dict[str, tuple] = {  # type: ignore[type-arg]
    "m1": (utc(10, 24, 7), "mastodon", "negative", "acme", 85, "replied", True, None, 30,
           "ana", "U07AGENT02"),
    "m2": (utc(10, 24, 12), "bluesky", "positive", "acme", 40, "new", False, None, None,
           "bob", None),
    "m3": (utc(10, 24, 20), "mastodon", "neutral", "acme", 65, "assigned", True, None, None,
           "ana", "U07AGENT01"),
    "m4": (utc(10, 25, 7, 30), "rss", "negative", "beta", 90, "new", True, None, None,
           "carl", None),
    "m5": (utc(10, 25, 1, 30), "bluesky", "negative", "beta", 20, "new", False, "spam", None,
           "bob", None),
    "m6": (utc(10, 24, 15), "mastodon", "positive", "acme", 55, "replied", True, None, 90,
           None, None),
    "m7": (utc(10, 24, 18), "rss", "neutral", "beta", 30, "ignored", False, None, None,
           "carl", None),
    "m8": (utc(10, 25, 7, 59, 59), "mastodon", "positive", "acme", 10, "new", False, None,
           None, None, None),
    "m9": (utc(10, 25, 8), "mastodon", "negative", "acme", 95, "new", True, None, None,
           None, None),
    "m10": (utc(10, 24, 6, 59, 59), "mastodon", "negative", "acme", 50, "new", False, None,
            None, None, None),
    "m11": (utc(10, 24, 9), "x", "negative", "acme", 70, "replied", True, None, 10, "dan",
            None),
    "m12": (utc(10, 24, 10), "mastodon", "negative", "acme", 75, "closed", True, None, 240,
            "ana", None),
    "m13": (utc(10, 23, 7), "bluesky", "positive", "beta", 50, "drafting", False, None, None,
            None, "U07AGENT01"),
    "m14": (utc(10, 23, 6, 59), "mastodon", "negative", "acme", 82, "awaiting_approval", True,
            None, None, None, "U07AGENT02"),
    "m15": (utc(10, 24, 14), "mastodon", "negative", "other", 99, "new", True, None, None,
            None, None),
    "m16": (utc(10, 24, 22, 30), "mastodon", "neutral", "acme", 5, "new", False, None, None,
            None, None),
}
AUTHORS = {"ana": ("mastodon", 48213), "bob": ("bluesky", 1200), "carl": ("rss", None),
           "dan": ("x", 900000)}


def build_dataset(sessions: sessionmaker[Session]) -> Dataset:
    """Insert the data set; m9 is published at the digest's end instant (so it is excluded).

    Each mention is found the moment it is published (reports count by published time).
    """
    with transaction(sessions) as session:
        workspace = Workspace(team_id=TEAM, timezone=ZONE)
        session.add(workspace)
        session.flush()
        data = Dataset(workspace.id)
        watches = {
            "acme": Watch(workspace_id=workspace.id, name="acme", channel_id=CHANNEL,
                          alert_threshold=50, created_at=utc(1, 1, 0)),
            "beta": Watch(workspace_id=workspace.id, name="beta", channel_id=CHANNEL,
                          alert_threshold=70, sla_normal_minutes=3000, created_at=utc(1, 1, 0)),
            "other": Watch(workspace_id=workspace.id, name="other", channel_id=OTHER_CHANNEL,
                           created_at=utc(1, 1, 0)),
        }
        authors = {name: Author(workspace_id=workspace.id, network=network, handle=f"@{name}",
                                followers=followers, url=f"https://{network}.example/@{name}")
                   for name, (network, followers) in AUTHORS.items()}
        session.add_all([*watches.values(), *authors.values()])
        session.flush()
        data.watches = {name: watch.id for name, watch in watches.items()}
        for name, (created, network, sentiment, watch, priority, status, alerted, intent,
                   response, author, assignee) in MENTIONS.items():
            first = created + timedelta(minutes=response) if response is not None else None
            mention = Mention(
                workspace_id=workspace.id, watch_id=watches[watch].id,
                author_id=authors[author].id if author else None, network=network,
                external_id=name, url=f"https://{network}.example/{name}", text=f"text of {name}",
                published_at=created, sentiment_label=sentiment,
                intent=intent, priority=priority, status=status, alerted=alerted,
                assignee_user_id=assignee, first_response_at=first, replied_at=first,
                slack_channel=CHANNEL if alerted else None,
                slack_ts=f"1761{name[1:]:0>6}.000100" if alerted else None,
                created_at=created, updated_at=created)
            session.add(mention)
            session.flush()
            data.mentions[name] = mention.id
        decisions = [("m1", "U07APPROVA", "approved", utc(10, 24, 7, 20)),
                     ("m14", "U07APPROVA", "rejected", utc(10, 23, 8)),
                     ("m12", "U07APPROVB", "approved", utc(10, 24, 13)),
                     ("m6", "U07APPROVB", "approved", utc(10, 10, 12))]
        for version, (name, approver, decision, when) in enumerate(decisions, start=1):
            draft = Draft(mention_id=data.mentions[name], version=version, text="Thanks!")
            session.add(draft)
            session.flush()
            session.add(Approval(draft_id=draft.id, mention_id=data.mentions[name],
                                 approver_user_id=approver, decision=decision, created_at=when))
        return data


def spike_row(data: Dataset, watch: str, hour_start: datetime, *, kind: str = "volume",
              total: int = 1234, baseline: float = 40.5, negative: int = 617,
              negative_share: float = 0.5, baseline_negative_share: float = 0.1) -> Spike:
    """A spike the detection stored for ``watch`` in the hour from ``hour_start``."""
    return Spike(workspace_id=data.workspace_id, watch_id=data.watches[watch],
                 hour_start=hour_start, kind=kind, total=total, baseline=baseline,
                 negative=negative, negative_share=negative_share,
                 baseline_negative_share=baseline_negative_share,
                 summary=f"{total} mentions vs ~{baseline:.0f} usual")
