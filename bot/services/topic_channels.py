"""Which channel a watch's card for a mention goes to: the watch's own, or the channel of
a topic route (bot/services/topic_routes.py manages the routes). Kept apart from the
route commands so that the card bookkeeping (bot/services/watch_links.py) can use it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.analysis.topics import TOPICS
from storage.models import Mention, Watch
from storage.models_topics import TopicRoute


def topics_of_mask(mask: int) -> tuple[str, ...]:
    """The topic names of a stored ``topic_mask`` (bit ``i`` for ``TOPICS[i]``)."""
    return tuple(name for bit, name in enumerate(TOPICS) if mask & (1 << bit))


def alert_channels(watch_channel: str, routes: Sequence[tuple[str, str]],
                   topics: Collection[str]) -> list[str]:
    """Where a watch's alert goes: the channels of the routes (``(topic, channel)`` in the
    order they were added) whose topic the mention has, without repeats; the watch's
    channel when none applies. The caller posts the card in the first one."""
    routed = [channel for topic, channel in routes if topic in topics]
    return list(dict.fromkeys(routed)) or [watch_channel]


def routes_for_watch(session: Session, watch_id: int) -> list[tuple[str, str]]:
    """The watch's routes as ``(topic, channel)``, oldest first."""
    return [(topic, channel) for topic, channel in session.execute(
        select(TopicRoute.topic, TopicRoute.channel_id)
        .where(TopicRoute.watch_id == watch_id).order_by(TopicRoute.id))]


def channel_picker(session: Session, watch: Watch, topics: Mapping[int, Collection[str]]
                   ) -> Callable[[int], str]:
    """``channel_for(mention_id)``: the channel ``watch``'s card for the mention goes to (its
    own, or a topic route's). The routes are read once, when an alert needs them; a mention
    missing from ``topics`` (one stored earlier, linked to this watch now) has its stored
    topics read."""
    routes: list[tuple[str, str]] | None = None

    def channel_for(mention_id: int) -> str:
        nonlocal routes
        if routes is None:
            routes = routes_for_watch(session, watch.id)
        if not routes:
            return watch.channel_id
        names = topics.get(mention_id)
        if names is None:
            names = topics_of_mask(session.scalar(
                select(Mention.topic_mask).where(Mention.id == mention_id)) or 0)
        return alert_channels(watch.channel_id, routes, names)[0]

    return channel_for
