"""A mention's links to the watches it matches, and the cards those watches get.

A post is stored once per workspace. The watch that stores it first has the mention's first
link (made by a database trigger with the mention); another watch whose source delivers the
same post, and whose query matches it, gets its own link here, with its own priority (the
watch's weight) and its own alert decision. A card is posted once per channel: two watches
alerting in one channel share it, and the card names both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.matching.fingerprint import credited_handle
from bot.networks import get_network
from bot.services.topic_channels import alert_channels, topics_of_mask
from storage.bulk import insert_links, one_of
from storage.models import Author, Mention, Watch
from storage.models_topics import TopicRoute
from storage.models_watches import MentionWatch
from storage.reporting_counts import PLACEHOLDERS
from storage.reporting_counts import in_watches as reporting_in_watches
from storage.reporting_sql import beyond_first


def card_dedupe_key(mention_id: int, channel: str) -> str:
    """The outbox key that makes a mention's card go out once per channel."""
    return f"card:{mention_id}:{channel}"


@dataclass(frozen=True, slots=True)
class Known:
    """A stored mention a batch delivered again: its id, and whether the batch's watch
    already holds it."""

    mention_id: int
    linked: bool
    story_id: int | None


def known_mentions(session: Session, workspace_id: int, watch_id: int, network: str,
                   external_ids: Any) -> dict[str, Known]:
    """The stored mentions of ``network`` among ``external_ids`` (a SQL condition on
    ``Mention.external_id``), keyed by external id, with whether ``watch_id`` links them."""
    link = MentionWatch.__table__.alias("link")
    rows = session.execute(
        select(Mention.external_id, Mention.id, link.c.id, Mention.story_id)
        .select_from(Mention)
        .outerjoin(link, and_(link.c.mention_id == Mention.id, link.c.watch_id == watch_id))
        .where(Mention.workspace_id == workspace_id, Mention.network == network,
               external_ids)).all()
    return {str(external_id): Known(int(mention_id), link_id is not None,
                                    None if story_id is None else int(story_id))
            for external_id, mention_id, link_id, story_id in rows}


@dataclass(frozen=True, slots=True)
class PosterKey:
    """Who wrote a post, as near-duplicate checks compare it (``author_key``)."""

    network: str
    handle: str
    """The whole handle, without case or leading ``@`` (``ana@mastodon.social``)."""
    name: str
    """Its first label, before any ``@`` instance (``ana``)."""

    def same_poster(self, other: PosterKey) -> bool:
        """Whether both keys name one poster: on one network, the same whole handle
        (``@john@a.example`` and ``@john@b.example`` are two people), or a handle written
        without its instance (a repost's credit, ``RT @ana``) and the same name; across
        networks, the same name (a cross-post by ``@ana`` on X as ``@ana@mastodon.social``)."""
        if self.network != other.network:
            return self.name == other.name
        if "@" in self.handle and "@" in other.handle:
            return self.handle == other.handle
        return self.name == other.name


def author_key(network: str, handle: str | None) -> PosterKey | None:
    """Who wrote a post, as near-duplicate checks compare it (``PosterKey.same_poster``),
    without case or ``@``; ``None`` on a network of articles and pages (a feed's "author"
    is often its title, and one article two feeds carry must stay one post). An author a
    network could not name (``unknown``) is a poster of their own: never the same as a
    named one."""
    known = get_network(network)
    if not handle or known is None or not known.drafts_replies:
        return None
    whole = handle.strip().lstrip("@").casefold()
    name = whole.partition("@")[0]
    return PosterKey(network, whole, name) if name else None


@dataclass(frozen=True, slots=True)
class KnownText:
    """A stored mention with a batch item's content fingerprint, and who wrote it
    (``author_key``; ``None`` unknown)."""

    known: Known
    author: PosterKey | None


def known_fingerprints(session: Session, workspace_id: int, watch_id: int,
                       fingerprints: Sequence[str]) -> dict[str, list[KnownText]]:
    """The stored mentions with a content fingerprint among ``fingerprints``, keyed by
    fingerprint, in the order stored, each with whether the watch ``watch_id`` holds it
    (``linked``) and its author: two people posting the same words are two posts."""
    if not fingerprints:
        return {}
    link = MentionWatch.__table__.alias("link")
    found: dict[str, list[KnownText]] = {}
    for fingerprint, mention_id, link_id, story_id, network, handle, text in session.execute(
            select(Mention.fingerprint, Mention.id, link.c.id, Mention.story_id,
                   Mention.network, Author.handle, Mention.text)
            .select_from(Mention)
            .outerjoin(link, and_(link.c.mention_id == Mention.id,
                                  link.c.watch_id == watch_id))
            .outerjoin(Author, Author.id == Mention.author_id)
            .where(Mention.workspace_id == workspace_id,
                   one_of(session, Mention.fingerprint, sorted(set(fingerprints))))
            .order_by(Mention.id)):
        found.setdefault(str(fingerprint), []).append(KnownText(
            Known(int(mention_id), link_id is not None,
                  None if story_id is None else int(story_id)),
            poster_key(str(network), handle, str(text), f"mention:{mention_id}")))
    return found


def poster_key(network: str, handle: str | None, text: str, post: str) -> PosterKey | None:
    """Whose words a post holds, as ``author_key`` says it: a repost's ("RT @eva: ...",
    "... via @eva") are the credited person's, whoever reposted them. A post with no
    author (``handle`` ``None``: a deleted account's, ``Author.anonymous``) on a network of
    people is a poster of its own, named by ``post`` (unique to the post): never the same
    as anyone else, nor as another deleted account."""
    credited = credited_handle(text)
    if credited is None and handle is None:
        known = get_network(network)
        if known is None or not known.drafts_replies:
            return None
        # "\0" names no handle; the whole key is the name, so no "@" in ``post`` splits it.
        own = f"\0anonymous:{post}"
        return PosterKey(network, own, own)
    return author_key(network, credited or handle)


def same_post(stored: list[KnownText], author: PosterKey | None) -> Known | None:
    """Among the stored mentions with an item's text, the one that is the item's own post
    under another id (one the watch holds first, else the first stored), or ``None``: an
    author known on both sides must be the same, so a second customer copying the first
    one's words (a refund request, a boycott call) is a mention of their own, counted and
    answered, not a near duplicate dropped."""
    same = [entry.known for entry in stored
            if author is None or entry.author is None or entry.author.same_poster(author)]
    return next((known for known in same if known.linked), same[0] if same else None)


def do_link(session: Session, watch: Watch, priorities: dict[int, int], now: datetime
            ) -> dict[int, int]:
    """Link the stored mentions of ``priorities`` (mention id -> priority for ``watch``) to
    ``watch`` in one statement; return the links made (mention id -> priority).

    A link another worker made first is skipped (the unique key), so it is made once and its
    alert decided once.
    """
    if not priorities:
        return {}
    ids = sorted(priorities)
    shared = {mention_id: (network, sentiment, published_at, reach) for
              mention_id, network, sentiment, published_at, reach in session.execute(
                  select(Mention.id, Mention.network, Mention.sentiment_label,
                         Mention.published_at, Mention.reach)
                  .where(one_of(session, Mention.id, ids)))}
    rows = [{"workspace_id": watch.workspace_id, "mention_id": mention_id,
             "watch_id": watch.id, "is_first": False, "network": shared[mention_id][0],
             "sentiment": shared[mention_id][1] or "unknown",
             "published_at": shared[mention_id][2], "reach": shared[mention_id][3],
             "priority": priorities[mention_id],
             "alerted": False, "created_at": now}
            for mention_id in ids if mention_id in shared]
    if not rows:
        return {}
    made = insert_links(session, rows)
    return {int(mention_id): int(priority) for mention_id, priority in made}


def stories_in_watch(session: Session, watch_id: int, mention_ids: Sequence[int]
                     ) -> dict[int, int]:
    """Of ``mention_ids``, those in a story whose first post the watch holds too: mention
    id -> that first post's id (its card is the story's in the watch's channel)."""
    if not mention_ids:
        return {}
    rows = session.execute(
        select(Mention.id, Mention.story_id)
        .join(MentionWatch, (MentionWatch.mention_id == Mention.story_id)
              & (MentionWatch.watch_id == watch_id))
        .where(one_of(session, Mention.id, sorted(mention_ids)))).all()
    return {int(mention_id): int(story_id) for mention_id, story_id in rows}


def posted_card(session: Session, mention_id: int, channel: str) -> str | None:
    """The ts of the mention's card already posted in ``channel``, if any."""
    return session.scalar(select(MentionWatch.slack_ts).where(
        MentionWatch.mention_id == mention_id, MentionWatch.slack_channel == channel,
        MentionWatch.slack_ts.is_not(None)).limit(1))


def alerting_in(session: Session, mention_id: int, channel: str) -> list[int]:
    """The ids of the mention's watches whose card for it goes to ``channel``: the watch's
    own channel, unless a topic route of the mention's topics sends it elsewhere."""
    links = session.execute(
        select(Watch.id, Watch.channel_id).join(MentionWatch, MentionWatch.watch_id == Watch.id)
        .where(MentionWatch.mention_id == mention_id)).all()
    routes: dict[int, list[tuple[str, str]]] = {}
    for watch_id, topic, route_channel in session.execute(
            select(TopicRoute.watch_id, TopicRoute.topic, TopicRoute.channel_id)
            .where(TopicRoute.watch_id.in_([watch_id for watch_id, _ in links]))
            .order_by(TopicRoute.id)):
        routes.setdefault(watch_id, []).append((topic, route_channel))
    topics = topics_of_mask(session.scalar(
        select(Mention.topic_mask).where(Mention.id == mention_id)) or 0) if routes else ()
    return [watch_id for watch_id, watch_channel in links
            if alert_channels(watch_channel, routes.get(watch_id, []), topics)[0] == channel]


def do_mark_alerting(session: Session, watch_id: int, mention_ids: Sequence[int],
                     forced: Sequence[int] = ()) -> None:
    """Record ``watch_id``'s decision to alert on ``mention_ids`` (its links' ``alerted``),
    made when its card is queued: the SLA, and the names on the card, come from the watches
    that decided to alert, never from one that only holds the mention.

    The mentions are marked ``alerted`` too, now: the decision, not Slack's acceptance of
    the card, makes a mention open work with an SLA (``bot.services.reporting.queries``,
    ``bot.services.sla``), so a card held in the outbox (a backlog, a stretch of 429s, a
    paused workspace) hides no work from the digest, App Home or the SLA checks. What needs
    the card itself (its thread's notes, its link) waits for its ts (``slack_ts``).

    ``forced``: those of ``mention_ids`` the watch alerts on whatever its threshold (a
    tracked author's post, a story's or a case's card a later post made urgent); their
    links say so (``alert_forced``), and triage learning takes no label from them. A link
    that alerted already keeps the decision it recorded."""
    if not mention_ids:
        return
    ids = sorted(set(mention_ids))
    loud = set(forced)
    for chosen, is_forced in (([m for m in ids if m not in loud], False),
                              ([m for m in ids if m in loud], True)):
        if chosen:
            session.execute(update(MentionWatch).where(
                MentionWatch.watch_id == watch_id, MentionWatch.alerted.is_(False),
                one_of(session, MentionWatch.mention_id, chosen))
                .values(alerted=True, alert_forced=is_forced)
                .execution_options(synchronize_session=False))
    session.execute(update(Mention).where(
        Mention.alerted.is_(False), one_of(session, Mention.id, ids))
        .values(alerted=True).execution_options(synchronize_session=False))
    for mention_id in ids:  # the caller's loaded mentions read it as stored
        loaded = session.identity_map.get(session.identity_key(Mention, mention_id))
        if isinstance(loaded, Mention):
            set_committed_value(loaded, "alerted", True)


def deciders_in(session: Session, mention_id: int, channel: str) -> list[int]:
    """The watches of ``alerting_in`` (those whose card for the mention goes to
    ``channel``) that decided to alert on it; all of them when none did (a card queued
    before decisions were recorded, or a story's card queued by a post of the story)."""
    watches = alerting_in(session, mention_id, channel)
    decided = list(session.scalars(select(MentionWatch.watch_id).where(
        MentionWatch.mention_id == mention_id, MentionWatch.watch_id.in_(watches),
        MentionWatch.alerted.is_(True))))
    return [watch_id for watch_id in watches if watch_id in decided] or watches


def route_fallbacks(session: Session, mention_id: int, refused: str) -> list[str]:
    """Where the mention's card goes when Slack refuses ``refused`` for good: the own
    channels of the watches (that decided to alert) whose topic route sent it there; none
    when ``refused`` is their own channel (nothing is left to fall back to)."""
    watches = deciders_in(session, mention_id, refused)
    return sorted(set(session.scalars(select(Watch.channel_id).where(
        Watch.id.in_(watches), Watch.channel_id != refused))))


def do_record_card(session: Session, mention: Mention, channel: str, ts: str,
                   routed_from: str | None = None) -> None:
    """Record a card posted in ``channel``: the links of the watches that alert there
    (``deciders_in``; else the first link) get it and are alerted; the first card is the
    mention's thread. A card that fell back to ``channel`` because Slack refused its topic
    route's channel ``routed_from`` is the card of the watches routed there."""
    watches = deciders_in(session, mention.id, routed_from or channel)
    values = {"slack_channel": channel, "slack_ts": ts, "alerted": True}
    result = session.execute(
        update(MentionWatch).where(MentionWatch.mention_id == mention.id,
                                   MentionWatch.watch_id.in_(watches)).values(**values)
        .execution_options(synchronize_session=False))
    if not result.rowcount:  # type: ignore[attr-defined]
        session.execute(update(MentionWatch).where(
            MentionWatch.mention_id == mention.id, MentionWatch.is_first.is_(True))
            .values(**values).execution_options(synchronize_session=False))
    if mention.slack_ts is None:
        mention.slack_channel = channel
        mention.slack_ts = ts
    mention.alerted = True


def do_share_card(session: Session, mention_id: int, watch_id: int, channel: str,
                  ts: str) -> None:
    """A watch linked after its channel's card was posted shares that card."""
    session.execute(update(MentionWatch).where(
        MentionWatch.mention_id == mention_id, MentionWatch.watch_id == watch_id)
        .values(slack_channel=channel, slack_ts=ts, alerted=True)
        .execution_options(synchronize_session=False))


def other_cards(session: Session, mention_id: int) -> list[tuple[str, str]]:
    """The (channel, ts) of the mention's cards other than its first (its thread's)."""
    first = session.execute(select(Mention.slack_channel, Mention.slack_ts).where(
        Mention.id == mention_id)).one_or_none()
    cards = session.execute(select(MentionWatch.slack_channel, MentionWatch.slack_ts).where(
        MentionWatch.mention_id == mention_id, MentionWatch.slack_ts.is_not(None))
        .distinct().order_by(MentionWatch.slack_channel)).all()
    return [(str(c), str(t)) for c, t in cards
            if first is None or (c, t) != (first[0], first[1])]


def watch_names(session: Session, mention_id: int, channel: str | None) -> list[str]:
    """Names of the mention's watches that alert in ``channel`` (``deciders_in``; all of
    them when None)."""
    query = (select(Watch.name).join(MentionWatch, MentionWatch.watch_id == Watch.id)
             .where(MentionWatch.mention_id == mention_id).order_by(Watch.name))
    if channel is not None:
        query = query.where(Watch.id.in_(deciders_in(session, mention_id, channel)))
    return list(session.scalars(query))


def in_watches(watch_ids: Sequence[int]) -> Any:
    """``Mention.id IN`` the mentions linked to any of ``watch_ids`` (a semi-join: a mention
    of two of them is listed and counted once)."""
    return Mention.id.in_(select(MentionWatch.mention_id).where(
        MentionWatch.watch_id.in_(list(watch_ids))))


def linked_to(watch_ids: Sequence[int]) -> Any:
    """The mentions linked to any of ``watch_ids`` (or, for a placeholder of
    ``storage.reporting_counts``, to a removed watch of its side), decided row by row: the
    mention's first watch (``mentions.watch_id``, its ``is_first`` link's watch) is one of
    them, or it is among the mentions those watches linked beyond their first (listed once
    per statement from the partial index of those links, ``ix_mention_watches_doubles``).

    Same mentions as ``in_watches``, for queries that already read few rows through another
    index (open work, a window): ``in_watches`` lists every link the watches ever had,
    which grows with the table, and a probe per row would be costed (and paid) for every
    mention of other watches."""
    ids = [watch_id for watch_id in watch_ids if watch_id not in PLACEHOLDERS]
    linked = or_(Mention.watch_id.in_(ids), Mention.id.in_(
        select(MentionWatch.mention_id).where(MentionWatch.watch_id.in_(ids), beyond_first())))
    if len(ids) == len(watch_ids):
        return linked
    # A placeholder (a brand scope's removed watches): the links those watches left, of
    # that side, which no longer grow.
    return or_(linked, Mention.id.in_(select(MentionWatch.mention_id).where(
        reporting_in_watches(MentionWatch, [w for w in watch_ids if w in PLACEHOLDERS]))))
