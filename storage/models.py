"""SQLAlchemy 2 typed models: the core of DESIGN.md "Data and state".

Every row of Vigie's own data belongs to a workspace. Times are stored as UTC.
Enumerations are stored as short strings so that adding a value is not a schema change.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.matching.query import handle_key

# The other model modules extend Base; importing them here registers their tables for
# Alembic and for anyone who imports the models.
from storage import (
    models_cases,  # noqa: F401
    models_competitors,  # noqa: F401
    models_influencers,  # noqa: F401
    models_notifications,  # noqa: F401
    models_outbox,  # noqa: F401
    models_privacy,  # noqa: F401
    models_replies,  # noqa: F401
    models_reporting,  # noqa: F401
    models_search,  # noqa: F401
    models_sla,  # noqa: F401
    models_spikes,  # noqa: F401
    models_topics,  # noqa: F401
    models_triage,  # noqa: F401
    models_watches,  # noqa: F401
)
from storage.models_base import Base, utcnow
from storage.models_reporting import ANSWERED_SQL, NOT_ACTIONABLE_SQL, OPEN_WORK_SQL


class Role(StrEnum):
    """What a member may do; each role includes the ones below it."""

    VIEWER = "viewer"
    AGENT = "agent"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Position in the hierarchy (viewer 0 ... admin 3)."""
        return list(Role).index(self)


class MentionStatus(StrEnum):
    """The states of DESIGN.md: new -> ... -> replied -> closed, or ignored; a follow-up
    that joined a case is ``follow_up`` (its case's mention carries the work)."""

    NEW = "new"
    ASSIGNED = "assigned"
    DRAFTING = "drafting"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REPLIED = "replied"
    CLOSED = "closed"
    IGNORED = "ignored"
    FOLLOW_UP = "follow_up"
    """The customer wrote again in a case: the post is worked through its case's first
    mention (``bot.services.cases``), never on its own."""


class DraftOrigin(StrEnum):
    """Where a draft's text came from."""

    HUMAN = "human"
    TEMPLATE = "template"
    LLM = "llm"


class OutboxStatus(StrEnum):
    """Delivery state of an outbox row."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Workspace(Base):
    """A Slack workspace (team) and its settings."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    allow_self_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purged_before: Mapped[datetime | None]
    """The latest cut-off of a retention purge that deleted posts of this workspace (None:
    none did); ingest then reads ``purged_posts`` for the new posts of a batch, and does
    not store again a post purged (the counts still hold it; see ``bot.services.privacy``)."""
    uninstalled_at: Mapped[datetime | None]
    """When Slack said Vigie was uninstalled (or its bot token revoked) here, None while
    installed: its sources are not polled and its outbox waits until a reinstall
    (``bot.services.installs``); its data stays, under the retention rules."""


class Member(Base):
    """A Slack user's role in a workspace."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT.value)
    locale: Mapped[str | None] = mapped_column(String(16))
    granted_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Watch(Base):
    """A named query bound to a Slack channel, with its alert threshold and SLA."""

    __tablename__ = "watches"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        # Lookups compare lower(name): two names differing only in case are one name
        # (migration 0036), refused by the database even when two adds race. SQLAlchemy
        # cannot reflect it from SQLite: a batch migration that rebuilds the table there
        # loses it unless it creates it again (tests/storage/test_migrations.py checks).
        Index("uq_watches_workspace_id_lower_name", "workspace_id", text("lower(name)"),
              unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text, default="")
    channel_id: Mapped[str] = mapped_column(String(32))
    alert_threshold: Mapped[int] = mapped_column(Integer, default=50)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    sla_urgent_minutes: Mapped[int] = mapped_column(Integer, default=60)
    sla_high_minutes: Mapped[int] = mapped_column(Integer, default=240)
    sla_normal_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default="brand", server_default="brand")
    """``brand`` (the team's own) or ``competitor`` (counted and compared, never alerted)."""
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    sources: Mapped[list[SourceRow]] = relationship(
        back_populates="watch", cascade="all, delete-orphan", passive_deletes=True
    )


class SourceRow(Base):
    """One configured source of a watch: its kind, config, schedule, cursor and health."""

    __tablename__ = "sources"
    __table_args__ = (Index(None, "paused", "next_poll_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    watch_id: Mapped[int] = mapped_column(ForeignKey("watches.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_poll_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_reasons: Mapped[list[Any] | None]
    """``last_error`` as catalogue reasons, ``[[key, params], ...]`` (``source_error.KEY``),
    to show it in the reader's language; None when it has none (``last_error`` is shown)."""
    last_error_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    watch: Mapped[Watch] = relationship(back_populates="sources")


def _handle_key_default(context: Any) -> str | None:
    handle = context.get_current_parameters().get("handle")
    return handle_key(handle) if isinstance(handle, str) else None


class Author(Base):
    """Someone who wrote mentions on one network, with reach and history."""

    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("workspace_id", "network", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(200))
    handle_key: Mapped[str | None] = mapped_column(String(200), default=_handle_key_default)
    """``bot.matching.query.handle_key`` of the handle: what ``from:`` looks authors up by
    (migration 0050); set on every insert, NULL only for rows written by raw SQL."""
    site: Mapped[str | None] = mapped_column(String(100))
    """The site ``handle`` ends with after an ``@`` when it is a feed entry's byline scoped
    to it (``Admin@blog.example``: ``bot.sources.base.Author.site``; migration 0055);
    None for the networks whose handles name one account everywhere."""
    name: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(Text)
    followers: Mapped[int | None] = mapped_column(Integer)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mention(Base):
    """One mention (a post, comment or feed entry) and its place in the reply workflow."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "network", "external_id"),
        # published_at: a since: window is tested on the index entry (migration 0035).
        Index(None, "workspace_id", "status", "id", "published_at"),
        Index(None, "workspace_id", "watch_id", "published_at"),
        Index(None, "workspace_id", "created_at"),
        # (workspace_id, published_at): ix_mentions_influencer_window starts with both.
        Index(None, "workspace_id", "fingerprint"),
        Index(None, "workspace_id", "story_key"),
        # Listings page newest first (ORDER BY id DESC) under one equality filter.
        Index(None, "workspace_id", "id"),
        Index(None, "workspace_id", "assignee_user_id", "id"),
        Index(None, "workspace_id", "sentiment_label", "id"),
        Index(None, "workspace_id", "network", "id"),
        # ``lang:de`` alone: a rare language's mentions newest first (migration 0051).
        Index(None, "workspace_id", "language", "id"),
        Index(None, "story_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watches.id", ondelete="SET NULL"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    network: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)
    """What a comment answers (its thread's or story's title): shown, never matched."""
    aside: Mapped[str | None] = mapped_column(Text)
    """Words of the post outside its text that the network's search reads (a Mastodon image
    description, a poll's options), one a line: matched by a watch's query and the search
    (``bot.matching.query.searched_text``), never read as the author's words."""
    language: Mapped[str | None] = mapped_column(String(8))
    published_at: Mapped[datetime]
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    story_key: Mapped[str | None] = mapped_column(String(64))
    parent_external_id: Mapped[str | None] = mapped_column(String(500))
    engagement: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The author's followers when the mention was stored (0 when unknown): share of voice
    sums it per hour (``mention_hour_counts.reach``)."""
    sentiment: Mapped[float | None] = mapped_column(Float)
    sentiment_label: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(32))
    intent_flags: Mapped[list[Any]] = mapped_column(default=list)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    """Request topics and the terms that raised them (``[{"name", "terms"}]``)."""
    topic_mask: Mapped[int] = mapped_column(Integer, default=0)
    """The same topics as bits (bot.analysis.topics.topic_mask), for filtering."""
    priority: Mapped[int] = mapped_column(Integer, default=0)
    priority_reason: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(24), default=MentionStatus.NEW.value)
    assignee_user_id: Mapped[str | None] = mapped_column(String(32))
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    first_response_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    reply_url: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When Vigie first stored (received) the mention, set once at ingest: its SLA clock and
    response times start there (``bot.services.sla.RECEIVED_AT``)."""
    waiting_since: Mapped[datetime | None]
    """When the wait this mention carries began, when before Vigie received it: a story's
    post that took the story over from its deleted first post (``bot.services.stories``)
    keeps the story's SLA clock. None: ``created_at``."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[Author | None] = relationship()
    watch: Mapped[Watch | None] = relationship()


class Draft(Base):
    """One version of a reply draft for a mention."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("mention_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16), default=DraftOrigin.HUMAN.value)
    author_user_id: Mapped[str | None] = mapped_column(String(32))
    risk_level: Mapped[str | None] = mapped_column(String(8))
    risk_flags: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    target_external_id: Mapped[str | None] = mapped_column(String(500))
    """The customer's post this version was written to answer (the reply target when it
    was saved): approval refuses it once the customer wrote again since. None for drafts
    saved before migration 0065."""


class DraftAuthor(Base):
    """A user whose words are in a draft version (the four-eyes rule refuses them as its
    approver). The writer of the first version and everyone who changed the text since are
    authors; re-saving the text unchanged adds nobody."""

    __tablename__ = "draft_authors"

    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class Approval(Base):
    """The single decision taken on one draft: approved or rejected; an approval becomes
    withdrawn when the mention goes back before its reply went out."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), unique=True
    )
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    approver_user_id: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    draft_version: Mapped[int | None] = mapped_column(Integer)
    """The version the approver decided on (and read), with the SHA-256 of its text."""
    text_hash: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who did what, when, from where and why; written with the change it records."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index(None, "mention_id", "id"),
        Index(None, "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    surface: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """Something that must be posted or updated in Slack, written in the same transaction
    as the change that needs it and delivered by the outbox sender."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at", "id"), Index(None, "channel", "id"),
                      Index(None, "mention_id", "kind"),
                      # The sender reads the waiting rows in the order they go (0056).
                      Index(None, "status", "send_rank", "id"),
                      # A forget's messages quoting the person, of a few kinds since their
                      # first mention: sent rows stay, so no scan of them all (0051).
                      Index(None, "workspace_id", "kind", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    send_rank: Mapped[int] = mapped_column(SmallInteger, default=400, server_default="400")
    """Where the row goes in its channel's queue, lowest first, then by id
    (``bot.services.outbox.send_rank``)."""
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    result_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


POSTGRES_TRIGGER_KEPT_KEYS = frozenset({
    "fk_mentions_author_id_authors",
    "fk_mention_watches_workspace_id_workspaces",
    "fk_mention_search_pending_mention_id_mentions",
    "fk_mentions_watch_id_watches",
    "fk_mention_watches_watch_id_watches",
})
"""Foreign keys the models declare (SQLite has them) that PostgreSQL does not: their per-row
checks cannot fail for the rows ingest writes, and what they do on delete is done by
statement-level triggers (migrations 0033 and 0034 say why, key by key)."""


# Indexes of the mentions and authors tables that reports and influencer views read; their
# partial-index predicates are spelled in storage.models_reporting.
# Open work is a small, shifting part of the table: a partial index keeps counting it and
# finding what is overdue independent of how many mentions were ever stored.
# It holds every column the digest's open-work pass reads (the SLA's received time, the
# topics, the id the SLA's exceptions are listed by), so that pass never visits the table's
# rows; its predicate's own columns come last so SQLite can answer from the index alone.
MENTIONS_OPEN_WORK_INDEX = Index(
    "ix_mentions_open_work", Mention.workspace_id, Mention.status, Mention.watch_id,
    Mention.priority, Mention.published_at, Mention.created_at, Mention.topic_mask,
    Mention.id, Mention.alerted, Mention.intent,
    sqlite_where=text(OPEN_WORK_SQL), postgresql_where=text(OPEN_WORK_SQL),
)
# The most urgent open work first (overdue lines): read in order, no sort, with what the
# SLA compares (watch, received time), so the rows skipped as not overdue are not visited.
MENTIONS_OPEN_BY_URGENCY_INDEX = Index(
    "ix_mentions_open_by_urgency", Mention.workspace_id, Mention.priority.desc(),
    Mention.published_at, Mention.id, Mention.watch_id, Mention.created_at, Mention.status,
    Mention.alerted, Mention.intent,
    sqlite_where=text(OPEN_WORK_SQL), postgresql_where=text(OPEN_WORK_SQL),
)
# The highest priorities of a day (and of a watch below its threshold) without sorting it.
MENTIONS_PRIORITY_INDEX = Index(
    "ix_mentions_priority", Mention.workspace_id, Mention.priority, Mention.published_at,
    Mention.watch_id, Mention.alerted,
)
# Both sets are a small part of a day: counting them through a partial index (and taking
# the day's total from the hourly counts) avoids reading every mention of the day.
MENTIONS_NOT_ACTIONABLE_INDEX = Index(
    "ix_mentions_not_actionable", Mention.workspace_id, Mention.published_at, Mention.watch_id,
    sqlite_where=text(NOT_ACTIONABLE_SQL), postgresql_where=text(NOT_ACTIONABLE_SQL),
)
# It holds every column the answered share and the response times read (whether it
# needed an answer, when it was received): the day's answered rows are not visited.
MENTIONS_ANSWERED_INDEX = Index(
    "ix_mentions_answered", Mention.workspace_id, Mention.published_at, Mention.watch_id,
    Mention.status, Mention.intent, Mention.first_response_at, Mention.alerted,
    Mention.created_at, Mention.id, Mention.replied_at,
    sqlite_where=text(ANSWERED_SQL), postgresql_where=text(ANSWERED_SQL),
)
# Top authors of a window: walk authors by reach and probe each one's mentions in it.
MENTIONS_AUTHOR_INDEX = Index("ix_mentions_author_id_published_at", Mention.author_id,
                              Mention.published_at)
# ``from:`` searches: the workspace's authors with a handle key, then each one's mentions
# newest first (migration 0050).
AUTHORS_HANDLE_KEY_INDEX = Index("ix_authors_workspace_id_handle_key", Author.workspace_id,
                                 Author.handle_key)
MENTIONS_AUTHOR_ID_INDEX = Index("ix_mentions_author_id_id", Mention.author_id, Mention.id)
AUTHORS_REACH_INDEX = Index("ix_authors_workspace_id_followers", Author.workspace_id,
                            Author.followers)
# Influencers and topics of a period: one pass over the period's index entries, no table
# row read (an index-only scan on both engines), whatever the table holds outside it.
MENTIONS_AUTHOR_WINDOW_INDEX = Index(
    "ix_mentions_influencer_window", Mention.workspace_id, Mention.published_at,
    Mention.author_id, Mention.engagement, Mention.sentiment, Mention.topic_mask,
)
# A topic route's digest (that watch's mentions of some topics, over a day): the mentions
# carrying a topic, by mask then time, so a route reads only its topics' masks over the
# window (``topic_mask IN (...)``, each a range), from the index alone. Partial: most
# mentions carry no topic.
TOPIC_WINDOW_SQL = "topic_mask <> 0"
MENTIONS_TOPIC_WINDOW_INDEX = Index(
    "ix_mentions_topic_window", Mention.workspace_id, Mention.topic_mask, Mention.published_at,
    Mention.network, Mention.sentiment_label, Mention.priority, Mention.status, Mention.id,
    sqlite_where=text(TOPIC_WINDOW_SQL), postgresql_where=text(TOPIC_WINDOW_SQL),
)
# One partial index per topic (bit ``i`` of topic_mask for bot.analysis.topics.TOPICS[i]):
# a topic's listing (``topic:billing``) walks its own mentions newest first, however few
# of them there are; no index can answer ``topic_mask & :bit`` for a bound bit. Listings
# spell the same condition with the bit written out (storage.mention_listing), which both
# planners need to see that the index holds every row the query wants.
TOPIC_BITS = {"billing": 1, "delivery": 2, "account": 4, "outage": 8, "quality": 16,
              "churn": 32}


def topic_index_where(bit: int) -> str:
    """The predicate of the partial index for the topic with bit ``bit``."""
    return f"topic_mask & {bit} <> 0"


MENTIONS_TOPIC_INDEXES = tuple(
    Index(f"ix_mentions_topic_{name}", Mention.workspace_id, Mention.id,
          sqlite_where=text(topic_index_where(bit)),
          postgresql_where=text(topic_index_where(bit)))
    for name, bit in TOPIC_BITS.items()
)
