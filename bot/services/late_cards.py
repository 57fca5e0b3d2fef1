"""A card for a mention that never had one, queued after the fact: open work is what
alerted as a card or was taken up, so a mention that waited for the digest (or was
answered or ignored first) and becomes open work later needs its card to be in any list.

Such a card is not the threshold's decision: the threshold held the mention back, and a
person (reopening it, or clicking "Should have alerted") brought it up. Its outbox row
names the watch whose threshold held it back (``HELD_BACK``), so that triage learning
still judges that watch's decision as "waited" (``held_back_by``) while the card, like any
card, makes the mention open work.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.outbox import KIND_CARD, do_enqueue
from bot.services.topic_channels import channel_picker
from bot.services.watch_links import card_dedupe_key, do_mark_alerting
from storage.models import Mention, OutboxMessage, Watch
from storage.models_competitors import WATCH_BRAND
from storage.models_watches import MentionWatch

HELD_BACK = "held_back"
"""Payload key of a late card's outbox row: the id of the watch whose threshold held the
mention back (the card was queued for it later, not by its decision)."""
LATE_REASON = "late_reason"
"""Payload key of a late card's outbox row: what queued it (``reopen``, ``should_alert``)."""


def card_queued(session: Session, mention_id: int) -> bool:
    """Whether a card of the mention was ever queued (sent, waiting or given up)."""
    return bool(session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.mention_id == mention_id, OutboxMessage.kind == KIND_CARD).limit(1)))


def never_carded(mention: Mention) -> bool:
    """Whether ``mention`` never alerted nor had a card posted (what its row says; a card
    queued before decisions were recorded is ``card_queued``)."""
    return not mention.alerted and not mention.slack_ts


def held_back_by(session: Session, mention_id: int) -> set[int]:
    """The watches whose threshold held the mention back and which got its card only
    later (``queue_late_card``): their alert is no decision of their threshold."""
    payloads = session.scalars(select(OutboxMessage.payload).where(
        OutboxMessage.mention_id == mention_id, OutboxMessage.kind == KIND_CARD))
    return {int(payload[HELD_BACK]) for payload in payloads
            if payload and payload.get(HELD_BACK) is not None}


def queue_card(session: Session, watch: Watch, mention: Mention, *,
               forced: bool = False, late: str | None = None) -> str | None:
    """Queue the card of ``mention`` where ``watch`` sends its alerts (the watch's channel
    or a topic route's) and record the watch's decision to alert on it; the channel, or
    None when its card in that channel was queued already (only the decision is recorded
    then). ``forced``: the card is not the threshold's decision on the mention's own
    priority (``do_mark_alerting``). ``late``: why a card the threshold held back is queued
    now (``queue_late_card``); its row says so (``HELD_BACK``)."""
    channel = channel_picker(session, watch, {})(mention.id)
    do_mark_alerting(session, watch.id, [mention.id], forced=[mention.id] if forced else [])
    payload = None if late is None else {HELD_BACK: watch.id, LATE_REASON: late}
    if do_enqueue(session, workspace_id=mention.workspace_id, kind=KIND_CARD, channel=channel,
                  mention_id=mention.id, payload=payload,
                  dedupe_key=card_dedupe_key(mention.id, channel)) is None:
        return None
    return channel


def queue_late_card(session: Session, mention: Mention, reason: str, *,
                    watch_id: int | None = None) -> str | None:
    """Queue the card of ``mention`` where a watch sends its alerts (``queue_card``), unless
    it has or had one; the channel, or None when none was queued. ``reason`` (``reopen``,
    ``should_alert``) is recorded with the card, which says the watch's threshold held the
    mention back (``HELD_BACK``). The watch is
    ``watch_id`` if given and holding it, else its own, else another brand watch holding
    it; a paused or competitor watch alerts on nothing."""
    if not never_carded(mention) or card_queued(session, mention.id):
        return None
    preferred = watch_id if watch_id is not None else (mention.watch_id or 0)
    watch = session.scalar(
        select(Watch).join(MentionWatch, MentionWatch.watch_id == Watch.id)
        .where(MentionWatch.mention_id == mention.id, Watch.kind == WATCH_BRAND,
               Watch.paused.is_(False))
        .order_by((Watch.id != preferred), (Watch.id != (mention.watch_id or 0)), Watch.id)
        .limit(1))
    if watch is None:
        return None
    return queue_card(session, watch, mention, late=reason)
