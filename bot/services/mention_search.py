"""Listing stored mentions with filters (CLI `vigie mentions`, `/cm mentions`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.topics import TOPICS, parse_topic, topic_mask
from bot.services.errors import ServiceError
from bot.services.watch_links import in_watches
from bot.services.watches import get_watch_by_name
from storage.models import Author, Mention, MentionStatus, Watch

DURATION = re.compile(r"^(\d{1,12})([mhdw])$")
LONGEST_PERIOD = timedelta(days=36_500)
"""Periods longer than a century mean "everything" and are cut to one (no date overflow)."""
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SENTIMENTS = ("negative", "neutral", "positive")
MAX_LIMIT = 500


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w`` -> timedelta; ServiceError otherwise. Any length is
    accepted (``10000d``: everything), at most ``LONGEST_PERIOD``."""
    match = DURATION.match(text.strip().lower())
    if not match:
        raise ServiceError("mentions.bad_since", value=text)
    amount, unit = int(match.group(1)), UNITS[match.group(2)]
    longest = LONGEST_PERIOD / timedelta(**{unit: 1})
    return timedelta(**{unit: amount}) if amount < longest else LONGEST_PERIOD


@dataclass(frozen=True, slots=True)
class MentionFilter:
    """Filters of a mention listing; all optional."""

    watch: str | None = None
    since: timedelta | None = None
    status: str | None = None
    sentiment: str | None = None
    network: str | None = None
    assignee: str | None = None
    text: str | None = None
    before_id: int | None = None
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class MentionRow:
    """One mention as listings show it."""

    id: int
    network: str
    external_id: str
    author: str | None
    author_followers: int | None
    text: str
    title: str | None
    url: str
    published_at: datetime
    status: str
    watch: str | None
    language: str | None
    sentiment: float | None
    sentiment_label: str | None
    intent: str | None
    priority: int
    priority_reason: str | None
    assignee: str | None
    topics: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601 UTC)."""
        return {
            "id": self.id, "network": self.network, "external_id": self.external_id,
            "author": self.author, "author_followers": self.author_followers,
            "text": self.text, "title": self.title, "url": self.url,
            "published_at": self.published_at.isoformat(), "status": self.status,
            "watch": self.watch, "language": self.language, "sentiment": self.sentiment,
            "sentiment_label": self.sentiment_label, "intent": self.intent,
            "priority": self.priority, "priority_reason": self.priority_reason,
            "assignee": self.assignee, "topics": list(self.topics),
        }


def _validate(filters: MentionFilter) -> None:
    if filters.status and filters.status not in {s.value for s in MentionStatus}:
        raise ServiceError("mentions.bad_status", value=filters.status,
                           valid=", ".join(s.value for s in MentionStatus))
    if filters.sentiment and filters.sentiment not in SENTIMENTS:
        raise ServiceError("mentions.bad_sentiment", value=filters.sentiment)
    if filters.topic and filters.topic not in TOPICS:
        raise ServiceError("mentions.bad_topic", value=filters.topic, valid=", ".join(TOPICS))


def topic_of(value: str) -> str:
    """The topic a user typed (``billing``, ``Outage``, ``bug``...) or ServiceError."""
    topic = parse_topic(value)
    if topic is None:
        raise ServiceError("mentions.bad_topic", value=value[:40], valid=", ".join(TOPICS))
    return topic


def search_mentions(
    sessions: sessionmaker[Session], workspace_id: int, filters: MentionFilter, *,
    limit: int = 20, now: datetime,
) -> list[MentionRow]:
    """The newest mentions matching ``filters`` (keyset pagination with ``before_id``)."""
    _validate(filters)
    limit = max(1, min(limit, MAX_LIMIT))
    with sessions() as session:
        query = (
            select(Mention, Author.handle, Author.followers, Watch.name)
            .join(Author, Author.id == Mention.author_id, isouter=True)
            .join(Watch, Watch.id == Mention.watch_id, isouter=True)
            .where(Mention.workspace_id == workspace_id)
        )
        watch_name: str | None = None
        if filters.watch:
            # Every mention the watch holds, whichever watch stored it first.
            watch = get_watch_by_name(session, workspace_id, filters.watch)
            query = query.where(in_watches([watch.id]))
            watch_name = watch.name
        if filters.since is not None:
            query = query.where(Mention.published_at >= now - filters.since)
        if filters.status:
            query = query.where(Mention.status == filters.status)
        if filters.sentiment:
            query = query.where(Mention.sentiment_label == filters.sentiment)
        if filters.network:
            query = query.where(Mention.network == filters.network.lower())
        if filters.assignee:
            query = query.where(Mention.assignee_user_id == filters.assignee)
        if filters.text:
            pattern = "%" + filters.text.lower().replace("\\", "\\\\").replace(
                "%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(func.lower(Mention.text).like(pattern, escape="\\"),
                                    func.lower(Mention.title).like(pattern, escape="\\")))
        if filters.topic:
            query = query.where(
                Mention.topic_mask.op("&")(topic_mask([filters.topic])) != 0)
        if filters.before_id is not None:
            query = query.where(Mention.id < filters.before_id)
        rows = session.execute(query.order_by(Mention.id.desc()).limit(limit)).all()
        return [
            MentionRow(
                id=m.id, network=m.network, external_id=m.external_id, author=handle,
                author_followers=followers, text=m.text, title=m.title, url=m.url,
                published_at=m.published_at, status=m.status, watch=watch_name or first,
                language=m.language, sentiment=m.sentiment, sentiment_label=m.sentiment_label,
                intent=m.intent, priority=m.priority, priority_reason=m.priority_reason,
                assignee=m.assignee_user_id, topics=topic_names_of(m.topics),
            )
            for m, handle, followers, first in rows
        ]


def topic_names_of(stored: object) -> tuple[str, ...]:
    """Topic names from a mention's stored ``topics`` (unknown or malformed entries skipped)."""
    if not isinstance(stored, list):
        return ()
    return tuple(item["name"] for item in stored
                 if isinstance(item, dict) and item.get("name") in TOPICS)
