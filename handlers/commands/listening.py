"""`/cm watch ...` and `/cm source ...`: parse, then call one service."""

from __future__ import annotations

import re

from bot import verbs
from bot.i18n import t
from bot.runtime import Runtime
from bot.services import competitors, ratelimit, sources_admin, topic_routes, watches
from bot.services.errors import ServiceError
from bot.services.http_clients import http_factory
from bot.services.permissions import ANYONE, Role
from bot.slack.admin_views import (
    build_source_list,
    build_source_test,
    build_watch_list,
    threshold_words,
)
from bot.slack.escape import escape
from bot.slack.help import source_settings_lines
from handlers.commands import competitors as competitor_commands
from handlers.commands.parsing import (
    SMART_QUOTES,
    channel_id_of,
    number_of,
    setting_value,
    setting_words,
    typed_text,
    unescape,
    unquoted,
    url_of,
)
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Verb, Verbs

PLAIN_CHANNEL = re.compile(r"#[^\s#<>\"]+")
"""A ``#name`` Slack left as text: it sends a channel it knows as ``<#C…|name>``."""

WATCH_ADD = re.compile(r"^add\s+(?P<name>\S+)"
                       r"(?P<opts>(?:\s+(?:<#[^>]+>|(?:threshold|kind|group):\S+))*)"
                       r"(?:\s+(?P<query>.*))?$", re.DOTALL | re.IGNORECASE)
WATCH_OPTION = re.compile(r"(?:threshold|kind|group):[^\s\"]+", re.IGNORECASE)
"""An option of ``watch add`` (not a query field: those are lang:, from: and source:)."""
QUOTED_OR_WORD = re.compile(r'"[^"]*"?|[^\s"]+')
LAST_WORD = re.compile(r"(?P<head>.*\S)\s+(?P<last>\S+)", re.DOTALL)
QUERY_OPERATORS = frozenset({"OR", "AND", "NOT"})
"""The query language's operators (upper case): a channel after one is a query term."""


def _after_query(query: str, named_channel: bool) -> tuple[str, list[str]]:
    """``query`` without the options (and, when no channel was named before the query, the
    channel Slack linked) written after it, and those, in order. Only whole words at the
    very end, outside quotes and brackets, count: ``"acme threshold:30"`` is searched as
    written, and so is a channel after an operator (``bug OR <#C…|panne>`` searches
    #panne: Slack links a hashtag typed in a query when a channel has that name)."""
    found: list[str] = []
    channel_found = named_channel
    query = query.rstrip()
    while match := LAST_WORD.fullmatch(query):
        head, last = match.group("head"), match.group("last")
        plain = head.translate(SMART_QUOTES)
        if plain.count('"') % 2 or plain.count("(") > plain.count(")"):
            break  # inside a phrase or a group that is not closed yet
        if WATCH_OPTION.fullmatch(last.translate(SMART_QUOTES)):
            found.insert(0, last)
        elif (not channel_found and last.startswith("<#") and channel_id_of(last)
              and head.split()[-1] not in QUERY_OPERATORS):
            found.insert(0, last)
            channel_found = True
        else:
            break
        query = head
    return query, found


def _option_in_query(query: str) -> str | None:
    """The first unquoted ``watch add`` option left inside ``query``, else None."""
    for word in QUOTED_OR_WORD.findall(query.translate(SMART_QUOTES)):
        if WATCH_OPTION.match(word.lstrip("-(")):
            return word
    return None


def _watch_add(request: CommandRequest, runtime: Runtime) -> Reply:
    """`watch add NAME [#channel] [options] QUERY [#channel] [options]`: the channel and
    the options (threshold:, kind:, group:) go before the query or after it. After it, a
    channel Slack linked (``<#C…|name>``) is the alert channel when none was named before
    (the answer says so, and how to search the hashtag instead); a ``#name`` Slack left as
    text is a hashtag searched (the answer says so too)."""
    match = WATCH_ADD.match(request.raw_args)
    if not match:
        return Reply(t(request.language, "admin.watch_usage"))
    language, name = request.language, match.group("name")
    channel, threshold = request.channel_id, 50
    kind, group = competitors.WATCH_BRAND, None
    before = (match.group("opts") or "").split()
    named_channel = any(option.startswith("<#") for option in before)
    raw_query, after = _after_query(match.group("query") or "", named_channel)
    notes: list[str] = []
    given: dict[str, str] = {}
    for option in before + after:
        key, _, value = option.partition(":")
        key = key.lower()
        if option.startswith("<#"):
            channel = channel_id_of(option) or channel
            if option in after:
                label = typed_text(option)
                notes.append(t(language, "admin.watch_channel_after_query",
                               channel=channel, hashtag=label if label[:1] == "#" else "#…"))
            continue
        if key in given and given[key].lower() != option.lower():
            raise ServiceError("watch.repeated_option", name=key, first=given[key][:40],
                               second=option[:40])
        given.setdefault(key, option)
        if key == "kind":
            kind = competitors.parse_kind(unescape(value))
        elif key == "group":
            group = unescape(value)
        else:
            number = number_of(value)
            if number is None:
                raise ServiceError("watch.bad_threshold", value=value)
            threshold = number
    words = raw_query.split()
    if not named_channel and words and PLAIN_CHANNEL.fullmatch(words[0]):
        # In the channel's place, a #name Slack did not link is a channel it does not know
        # (a typo): alerting here with "#name" searched would be a silent surprise. A
        # hashtag to search goes after a word, after a channel, or in quotes.
        raise ServiceError("watch.unknown_channel", channel=words[0][:80], name=name,
                           rest="".join(f" {word}" for word in words[1:] + after)[:200])
    stray = _option_in_query(raw_query)
    if stray is not None:
        raise ServiceError("watch.option_in_query", option=unescape(stray)[:40], name=name)
    if (not named_channel and not any(option.startswith("<#") for option in after)
            and len(words) > 1 and PLAIN_CHANNEL.fullmatch(words[-1])):
        # No channel named: a #name Slack left as text at the end is a hashtag searched,
        # though it may have been meant as the channel: the answer says which it is.
        notes.append(t(language, "admin.watch_hashtag_after_query", hashtag=words[-1][:80]))
    # As typed: Slack sends a typed acme.com as <http://acme.com|acme.com>, #panne as <#C…|panne>.
    query = typed_text(raw_query).translate(SMART_QUOTES).strip()
    view = watches.do_add_watch(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        name=name, query=query, channel_id=channel, alert_threshold=threshold,
        kind=kind, group=group, notifier=runtime.notifier, team_id=request.team_id,
        language=request.language)
    if view.kind == competitors.WATCH_COMPETITOR:
        return Reply(" ".join([t(language, "compete.watch_added", name=view.name,
                                 description=view.query_description,
                                 channel=view.channel_id, group=view.group or "-"),
                               *notes]))
    added = t(language, "admin.watch_added", name=view.name,
              description=view.query_description, channel=view.channel_id,
              threshold=threshold_words(view.alert_threshold, view.learned_shift, language))
    if view.group:
        added += " " + t(language, "compete.in_group", group=view.group)
    if view.not_member:
        notes.append(t(language, "admin.watch_charts_need_member", channel=view.channel_id))
    return Reply(" ".join([added, *notes]))


def _watch_routes(request: CommandRequest, runtime: Runtime, action: str) -> Reply | None:
    """`watch route NAME topic:T #channel`, `watch unroute NAME topic:T`, `watch routes
    [NAME]`; None when the arguments fit none of them."""
    args, language = request.args[1:], request.language
    workspace_id = request.workspace_id(runtime)
    if action == "routes" and len(args) <= 1:
        routes = topic_routes.list_routes(runtime.sessions, workspace_id,
                                          args[0] if args else None)
        if not routes:
            return Reply(t(language, "topics.no_routes"))
        return Reply("\n".join(t(language, "topics.route_line", watch=r.watch,
                                 topic=t(language, f"topics.{r.topic}"), channel=r.channel_id)
                               for r in routes))
    expected = 3 if action == "route" else 2
    if len(args) != expected or not args[1].lower().startswith("topic:"):
        return None
    topic = unescape(args[1].split(":", 1)[1])
    if action == "route":
        channel = channel_id_of(args[2]) or unescape(args[2])
        view = topic_routes.do_add_route(runtime.sessions, workspace_id, request.actor,
                                         watch_name=args[0], topic=topic, channel_id=channel,
                                         notifier=runtime.notifier, team_id=request.team_id)
        return Reply(t(language, "topics.route_added", watch=view.watch,
                       topic=t(language, f"topics.{view.topic}"), channel=view.channel_id))
    view = topic_routes.do_remove_route(runtime.sessions, workspace_id, request.actor,
                                        watch_name=args[0], topic=topic)
    return Reply(t(language, "topics.route_removed", watch=view.watch,
                   topic=t(language, f"topics.{view.topic}"), channel=view.channel_id))


def _watch_list(request: CommandRequest, runtime: Runtime) -> Reply:
    views = watches.list_watches(runtime.sessions, request.workspace_id(runtime),
                                 request.language)
    return Reply(*build_watch_list(views, request.language))


def _watch_state(request: CommandRequest, runtime: Runtime) -> Reply:
    """`watch pause|resume|remove NAME`."""
    action, name = request.args[0].lower(), request.args[1]
    workspace_id = request.workspace_id(runtime)
    if action == "remove":
        watches.do_remove_watch(runtime.sessions, workspace_id, request.actor, name)
    else:
        watches.do_set_watch_paused(runtime.sessions, workspace_id, request.actor, name,
                                    action == "pause")
    return Reply(t(request.language, f"admin.watch_{action}d", name=name))


def _watch_threshold(request: CommandRequest, runtime: Runtime) -> Reply:
    """`watch threshold NAME N`."""
    if len(request.args) != 3:
        return Reply(t(request.language, "admin.watch_threshold_usage"))
    threshold = number_of(request.args[2])
    if threshold is None:
        raise ServiceError("watch.bad_threshold", value=request.args[2][:20])
    change = watches.do_set_watch_threshold(runtime.sessions, request.workspace_id(runtime),
                                            request.actor, request.args[1], threshold)
    return Reply(t(request.language, "admin.watch_threshold_set", name=escape(change.name),
                   threshold=threshold_words(change.alert_threshold, change.learned_shift,
                                             request.language), before=change.before))


def _watch_channel(request: CommandRequest, runtime: Runtime) -> Reply:
    """`watch channel NAME #channel`: the watch's alerts go to #channel from now on."""
    if len(request.args) != 3:
        return Reply(t(request.language, "watch.move_usage"))
    channel = channel_id_of(request.args[2]) or unescape(request.args[2])
    move = watches.do_move_watch(runtime.sessions, request.workspace_id(runtime),
                                 request.actor, request.args[1], channel,
                                 notifier=runtime.notifier, team_id=request.team_id)
    text = t(request.language, "admin.watch_moved", name=escape(move.name),
             channel=move.channel_id, before=move.before)
    if move.retargeted:
        text += " " + t(request.language, "admin.watch_moved_cards", before=move.before,
                        channel=move.channel_id, count=move.retargeted)
    if move.not_member:
        text += " " + t(request.language, "admin.watch_charts_need_member",
                        channel=move.channel_id)
    return Reply(text)


def _watch_route(request: CommandRequest, runtime: Runtime) -> Reply:
    """`watch route|unroute|routes ...`, or how to write them."""
    reply = _watch_routes(request, runtime, request.args[0].lower())
    return reply if reply is not None else Reply(t(request.language, "topics.route_usage"))


# add, channel and route check the alert channel with Slack (conversations.info, up to 2 s, after
# the caller's own users.info): answered after the ack.
REGISTRY.verbs("watch", Verbs((
    Verb("add", _watch_add,
         ("NAME [#channel] [threshold:N] [kind:brand|competitor] [group:G] QUERY "
          "[#channel] [threshold:N ...]",),
         role=Role.ADMIN, slow=True),
    Verb("list", _watch_list, role=ANYONE),
    Verb.shared(verbs.WATCH_PAUSE, _watch_state, role=Role.ADMIN),
    Verb.shared(verbs.WATCH_RESUME, _watch_state, role=Role.ADMIN),
    Verb.shared(verbs.WATCH_REMOVE, _watch_state, role=Role.ADMIN),
    Verb("threshold", _watch_threshold, ("NAME N",), role=Role.ADMIN),
    Verb("channel", _watch_channel, ("NAME #channel",), role=Role.ADMIN, slow=True),
    Verb("kind", competitor_commands.watch_kind, ("NAME brand|competitor",), role=Role.ADMIN),
    Verb("group", competitor_commands.watch_group,
         ("create|add|drop|conquest|delete|list ...",), aliases=("groups",),
         role=competitor_commands.group_role),
    Verb("route", _watch_route, ("NAME topic:T #channel",), role=Role.ADMIN, slow=True),
    Verb("unroute", _watch_route, ("NAME topic:T",), role=Role.ADMIN),
    Verb("routes", _watch_route, ("[NAME]",), role=ANYONE),
), usage_key="admin.watch_usage", default="list"),
    examples=('watch add acme #social threshold:40 acme OR "acme app" -jobs lang:fr',
              "watch add acme-fr acme lang:fr threshold:30",
              "watch add rival-a #veille kind:competitor group:acme-vs rivala",
              "watch group create acme-vs acme rival-a conquest:on",
              "watch list", "watch pause acme", "watch route acme topic:outage #product-bugs"),
    module=__name__)


def _source_id(request: CommandRequest) -> int:
    value = request.args[1].lstrip("#") if len(request.args) > 1 else ""
    number = number_of(value)
    if number is None:
        raise ServiceError("admin.bad_id", value=value or "?")
    return number


SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
"""``key=value``; a URL (``https://...?q=x``, ``<https://...>``) never starts like one."""


SEARCH_SETTINGS = frozenset({"query"})
"""Settings read as a network's search, whose inner quotes are phrase quotes
(``setting_value``); every other value is kept as typed."""


def _source_add(request: CommandRequest, runtime: Runtime) -> Reply:
    words = setting_words(request.raw_args)
    if len(words) < 3:
        return Reply(t(request.language, "admin.source_usage"))
    kind, watch_name = (unquoted(word) for word in words[1:3])
    values: dict[str, object] = {}
    for word in words[3:]:
        item = word if SETTING.match(word) else unquoted(word)  # "key=a b" quoted whole
        if SETTING.match(item):
            key, _, value = item.partition("=")
            values[key] = (url_of(unquoted(value)) if key.endswith(sources_admin.URL_SUFFIXES)
                           else setting_value(value) if key in SEARCH_SETTINGS
                           # A secret or a name: kept as typed, but for Slack's escaping.
                           else unescape(unquoted(value)))
        elif "url" not in values and (item.startswith("<") or "/" in item or ":" in item):
            # An address, even mistyped (htps://...): the service says what is wrong with it.
            values["url"] = url_of(item)
        else:
            raise ServiceError("admin.bad_setting", value=unescape(item)[:80])
    view = sources_admin.do_add_source(
        runtime.sessions, request.workspace_id(runtime), request.actor, kind=kind,
        watch_name=watch_name, values=values,
        allow_hosts=runtime.settings.allowed_source_hosts)
    added = "admin.source_added" if view.polled else "admin.source_added_push"
    text = t(request.language, added, id=view.id, kind=view.kind,
             watch=view.watch_name, minutes=view.interval_minutes,
             hours=runtime.settings.backfill_hours)
    if view.new_secret:
        text += "\n" + t(request.language, "admin.webhook_secret", secret=view.new_secret,
                         id=view.id)
    return Reply(text)


def _source_rate_limit(request: CommandRequest, _runtime: Runtime) -> str | None:
    """`source test` counts against the rate (the role is checked before: a viewer's refused
    attempts do not use up the workspace's budget)."""
    return ratelimit.SOURCE_TEST if request.args[:1] and request.args[0].lower() == "test" \
        else None


def _source_list(request: CommandRequest, runtime: Runtime) -> Reply:
    watch_name = request.args[1] if len(request.args) > 1 else None
    views = sources_admin.list_sources(runtime.sessions, request.workspace_id(runtime),
                                       watch_name)
    return Reply(*build_source_list(views, request.language))


def _source_test(request: CommandRequest, runtime: Runtime) -> Reply:
    source_id = _source_id(request)
    result = sources_admin.test_source(runtime.sessions, request.workspace_id(runtime),
                                       request.actor, source_id, http_factory(runtime.settings))
    return Reply(*build_source_test(source_id, result, request.language))


def _source_state(request: CommandRequest, runtime: Runtime) -> Reply:
    """`source pause|resume|remove ID`."""
    action, source_id = request.args[0].lower(), _source_id(request)
    workspace_id = request.workspace_id(runtime)
    if action == "remove":
        sources_admin.do_remove_source(runtime.sessions, workspace_id, request.actor,
                                       source_id)
    else:
        sources_admin.do_set_source_paused(runtime.sessions, workspace_id, request.actor,
                                           source_id, action == "pause")
    return Reply(t(request.language, f"admin.source_{action}d", id=source_id))


def _source_help(args: list[str], language: str) -> tuple[str, ...]:
    """`/cm help source [KIND]`: the settings of each network, or of one."""
    return source_settings_lines(sources_admin.setting_specs(args[0] if args else None),
                                 language)


# Answered after the ack: tests fetch over the network.
REGISTRY.verbs("source", Verbs((
    Verb("add", _source_add, ("KIND WATCH [URL] [key=value ...]",), role=Role.ADMIN),
    Verb("list", _source_list, ("[WATCH]",), role=ANYONE),
    Verb("test", _source_test, ("ID",), role=Role.ADMIN),
    Verb("pause", _source_state, ("ID",), role=Role.ADMIN),
    Verb("resume", _source_state, ("ID",), role=Role.ADMIN),
    Verb("remove", _source_state, ("ID",), role=Role.ADMIN),
), usage_key="admin.source_usage", default="list"),
    examples=("source add rss acme https://news.example.com/feed.xml",
              "source add mastodon acme base_url=https://mastodon.social query=acme",
              "source list", "source test 3"),
    slow=True, rate_limit=_source_rate_limit, module=__name__, help_details=_source_help)
