"""Stories whose posts are deleted (a forget, a retention purge).

A story is one link several posts carry (``bot.services.ingest``): its first post, in the
watch that stored them, holds the story's card and its place in open work and the SLA; the
posts that joined it (``Mention.story_id``) have neither, their alert decision made the
story's card urgent instead. So, before posts of a story are deleted:

- a story whose first post stays keeps it (a forget re-renders its card without them:
  ``bot.services.forget_messages``);
- a story whose first post goes keeps a first post: the earliest of its posts left takes
  its place (the others join it), and, while the story was still open work (its first
  post not replied, closed or ignored), what is left goes through the alert decision again,
  as ingest takes it (each watch's threshold, a tracked influencer's post, never a
  backfilled post nor a case's follow-up): the new first post gets the card, in the
  channels where the posts left alert. A story that alerted only for the post that went
  waits for the digest, as it would have without that post. A card already queued or
  posted for the new first post is not posted again: it is shared and re-rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.services import backfill, cases, influencers
from bot.services.outbox import KIND_CARD, KIND_UPDATE_CARD, do_enqueue
from bot.services.topic_channels import channel_picker
from bot.services.triage_learning import alert_threshold
from bot.services.watch_links import (
    card_dedupe_key,
    do_mark_alerting,
    do_share_card,
    posted_card,
)
from storage.bulk import one_of
from storage.models import Mention, MentionStatus, OutboxMessage, Watch
from storage.models_competitors import WATCH_COMPETITOR
from storage.models_watches import MentionWatch

_OPEN = (MentionStatus.NEW.value, MentionStatus.ASSIGNED.value, MentionStatus.DRAFTING.value,
         MentionStatus.AWAITING_APPROVAL.value, MentionStatus.APPROVED.value)
"""A story's first post in one of these is still open work (``workflow.OPEN``)."""


def do_keep_stories(session: Session, mention_ids: Sequence[int], *,
                    staying: Any = None) -> None:
    """Before the mentions ``mention_ids`` are deleted (in the caller's transaction): the
    stories they are in keep their other posts carded (see the module docstring).

    ``staying``: a condition on ``Mention`` the posts left must meet to take a
    story over (a purge in batches: the posts the next batch deletes do not)."""
    ids = sorted(set(mention_ids))
    if not ids:
        return
    left = select(Mention.id, Mention.story_id).where(
        one_of(session, Mention.story_id, ids), ~one_of(session, Mention.id, ids))
    if staying is not None:
        left = left.where(staying)
    orphans: dict[int, list[int]] = {}
    for mention_id, story_id in session.execute(left.order_by(Mention.id)):
        orphans.setdefault(int(story_id), []).append(int(mention_id))
    for first, posts in sorted(orphans.items()):
        _take_over(session, first, posts)


def _take_over(session: Session, gone: int, posts: list[int]) -> None:
    """``posts[0]`` becomes the first post of the story ``gone`` was first of, the other
    ``posts`` join it; the card follows the decision on ``posts`` if the story was open."""
    head, rest = posts[0], posts[1:]
    session.execute(update(Mention).where(Mention.id == head).values(story_id=None)
                    .execution_options(synchronize_session=False))
    if rest:
        session.execute(update(Mention).where(one_of(session, Mention.id, rest))
                        .values(story_id=head).execution_options(synchronize_session=False))
    workspace_id, status = session.execute(select(Mention.workspace_id, Mention.status)
                                           .where(Mention.id == gone)).one()
    if status in _OPEN:
        _decide(session, int(workspace_id), head, posts)
    card = session.execute(select(Mention.slack_channel, Mention.slack_ts)
                           .where(Mention.id == head)).one()
    if card.slack_channel and card.slack_ts:
        # Its own card (a watch without the old first post gave it one) is the story's now.
        do_enqueue(session, workspace_id=int(workspace_id), kind=KIND_UPDATE_CARD,
                   channel=str(card.slack_channel), mention_id=head)


def _decide(session: Session, workspace_id: int, head: int, posts: list[int]) -> None:
    """Each watch of ``posts`` decides again whether they alert, as ingest would: a card in
    its channel (or its topic route's) for the story's first post ``head`` when the watch
    holds it, else for the post itself; a post that has its own card there keeps it."""
    links: dict[int, dict[int, int]] = {}
    for mention_id, watch_id, priority in session.execute(
            select(MentionWatch.mention_id, MentionWatch.watch_id, MentionWatch.priority)
            .where(one_of(session, MentionWatch.mention_id, posts))):
        links.setdefault(int(watch_id), {})[int(mention_id)] = int(priority)
    silent = cases.follow_ups_among(session, posts) | backfill.quiet_among(session, posts)
    loud = influencers.tracked_posts(session, workspace_id, dict(session.execute(
        select(Mention.id, Mention.author_id).where(one_of(session, Mention.id, posts)))
        .tuples().all()))
    for watch in session.scalars(select(Watch).where(Watch.id.in_(sorted(links)))
                                 .order_by(Watch.id)):
        if watch.paused:
            continue
        held = links[watch.id]
        threshold = alert_threshold(session, watch)
        channel_for = channel_picker(session, watch, {})
        wanted: list[tuple[int, str]] = []
        for mention_id in sorted(held):
            if mention_id in silent or not (mention_id in loud or (
                    watch.kind != WATCH_COMPETITOR and held[mention_id] >= threshold)):
                continue
            channel = channel_for(mention_id)
            if head in held and mention_id != head and not _carded(session, mention_id,
                                                                   channel):
                mention_id = head
            wanted.append((mention_id, channel))
        for mention_id, channel in dict.fromkeys(wanted):
            key = card_dedupe_key(mention_id, channel)
            if not _carded(session, mention_id, channel):
                do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD, channel=channel,
                           mention_id=mention_id, dedupe_key=key)
            elif (ts := posted_card(session, mention_id, channel)) is not None:
                do_share_card(session, mention_id, watch.id, channel, ts)
            do_mark_alerting(session, watch.id, [mention_id])


def _carded(session: Session, mention_id: int, channel: str) -> bool:
    """Whether the mention's card in ``channel`` is queued or posted already."""
    return session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.dedupe_key == card_dedupe_key(mention_id, channel)).limit(1)) is not None
