"""Topic routes: a watch's alerts about a topic go to another channel (product bugs to
the product team's channel).

A routed alert goes to the route's channel *instead of* the watch's channel: a card is
the mention's live ticket (its buttons, thread and status), so it lives in one place, the
channel of the team that owns the request. When several of a mention's topics are
routed, the route added first wins. Mentions below the threshold stay in the digest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.topics import TOPICS
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError
from bot.services.mention_search import topic_names_of, topic_of
from bot.services.permissions import require_role
from bot.services.watches import CHANNEL_PATTERN, get_watch_by_name
from storage.db import transaction
from storage.models import Mention, Role, Watch
from storage.models_topics import TopicRoute


@dataclass(frozen=True, slots=True)
class RouteView:
    """A route as listed to users."""

    watch: str
    topic: str
    channel_id: str


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
            names = topic_names_of(session.scalar(
                select(Mention.topics).where(Mention.id == mention_id)))
        return alert_channels(watch.channel_id, routes, names)[0]

    return channel_for


def do_add_route(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                 watch_name: str, topic: str, channel_id: str) -> RouteView:
    """Send the watch's alerts about ``topic`` to ``channel_id`` (admins; replaces the
    topic's earlier channel)."""
    topic = topic_of(topic)
    if not CHANNEL_PATTERN.match(channel_id):
        raise ServiceError("watch.bad_channel", channel=channel_id[:40])
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor.user_id, Role.ADMIN)
        watch = get_watch_by_name(session, workspace_id, watch_name)
        route = session.scalar(select(TopicRoute).where(
            TopicRoute.watch_id == watch.id, TopicRoute.topic == topic))
        if route is None:
            session.add(TopicRoute(workspace_id=workspace_id, watch_id=watch.id, topic=topic,
                                   channel_id=channel_id, created_by=actor.user_id))
        else:
            route.channel_id = channel_id
        record(session, workspace_id, actor, "watch.route_added",
               detail={"watch": watch.name, "topic": topic, "channel": channel_id})
        return RouteView(watch.name, topic, channel_id)


def do_remove_route(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                    watch_name: str, topic: str) -> RouteView:
    """Stop routing the watch's alerts about ``topic`` (admins)."""
    topic = topic_of(topic)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor.user_id, Role.ADMIN)
        watch = get_watch_by_name(session, workspace_id, watch_name)
        route = session.scalar(select(TopicRoute).where(
            TopicRoute.watch_id == watch.id, TopicRoute.topic == topic))
        if route is None:
            raise NotFound("watch.route_not_found", name=watch.name, topic=topic)
        view = RouteView(watch.name, topic, route.channel_id)
        session.delete(route)
        record(session, workspace_id, actor, "watch.route_removed",
               detail={"watch": watch.name, "topic": topic, "channel": route.channel_id})
        return view


def list_routes(sessions: sessionmaker[Session], workspace_id: int,
                watch_name: str | None = None) -> list[RouteView]:
    """The workspace's routes (or one watch's), by watch name then in the order added."""
    with sessions() as session:
        query = (select(Watch.name, TopicRoute.topic, TopicRoute.channel_id)
                 .join(Watch, Watch.id == TopicRoute.watch_id)
                 .where(TopicRoute.workspace_id == workspace_id))
        if watch_name is not None:
            query = query.where(
                TopicRoute.watch_id == get_watch_by_name(session, workspace_id, watch_name).id)
        rows = session.execute(query.order_by(Watch.name, TopicRoute.id)).all()
        return [RouteView(name, topic, channel) for name, topic, channel in rows
                if topic in TOPICS]
