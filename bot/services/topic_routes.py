"""Topic routes: a watch's alerts about a topic go to another channel (product bugs to
the product team's channel).

A routed alert goes to the route's channel *instead of* the watch's channel: a card is
the mention's live ticket (its buttons, thread and status), so it lives in one place, the
channel of the team that owns the request. When several of a mention's topics are
routed, the route added first wins. Mentions below the threshold stay in the digest.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.topics import TOPICS
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError, Term
from bot.services.mention_search import topic_of
from bot.services.permissions import require_role
from bot.services.watches import check_alert_channel, get_watch_by_name
from storage.db import transaction
from storage.models import Role, Watch
from storage.models_competitors import WATCH_BRAND
from storage.models_topics import TopicRoute


@dataclass(frozen=True, slots=True)
class RouteView:
    """A route as listed to users."""

    watch: str
    topic: str
    channel_id: str


def do_add_route(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                 watch_name: str, topic: str, channel_id: str, notifier: object = None,
                 team_id: str | None = None) -> RouteView:
    """Send the watch's alerts about ``topic`` to ``channel_id`` (admins; replaces the
    topic's earlier channel). With a Slack ``notifier`` the channel is checked first
    (``check_alert_channel``). The watch's own channel is refused: its alerts go there
    unless routed, and ``do_remove_route`` brings a routed topic back. A competitor's
    watch never alerts, so it has nothing to route: refused."""
    topic = topic_of(topic)
    check_alert_channel(notifier, team_id, channel_id)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        watch = get_watch_by_name(session, workspace_id, watch_name)
        if watch.kind != WATCH_BRAND:
            raise ServiceError("watch.route_competitor", name=watch.name,
                               topic=Term(f"topics.{topic}"), channel=channel_id)
        route = session.scalar(select(TopicRoute).where(
            TopicRoute.watch_id == watch.id, TopicRoute.topic == topic))
        if channel_id == watch.channel_id:
            # Unrouted alerts go there already: a route to it would change nothing, and
            # for a routed topic the way back is to remove its route.
            if route is None:
                raise ServiceError("watch.route_own_channel", name=watch.name,
                                   topic=Term(f"topics.{topic}"), topic_key=topic,
                                   channel=channel_id)
            raise ServiceError("watch.route_own_channel_routed", name=watch.name,
                               topic=Term(f"topics.{topic}"), topic_key=topic,
                               channel=channel_id, routed=route.channel_id)
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
            require_role(session, workspace_id, actor, Role.ADMIN)
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
