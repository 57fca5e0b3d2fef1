"""`/cm digest ...`, `/cm stats [period]` and `/cm export [period] [watch]`: parse, then call
one service. All three answer after the ack (charts and files take a moment)."""

from __future__ import annotations

import re

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import export, ratelimit
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.mention_search import MentionFilter
from bot.services.reporting import digest, share_of_voice, sov_export, stats
from bot.services.reporting import schedule as reporting_schedule
from bot.services.reporting.periods import at_local, shift_local_days
from bot.slack.digest_blocks import build_stats_blocks
from bot.slack.opportunity_blocks import build_sov_blocks
from handlers.commands.registry import REGISTRY, CommandRequest, Reply
from handlers.commands.workflow import parse_filters

SURFACE = "slash_command"
PERIOD_LIKE = re.compile(r"^\d+[a-z]+$", re.IGNORECASE)
EXPORT_FILTERS = ("watch", "text")
"""The `/cm mentions` filters `/cm export` takes (the period is its own argument)."""


def _actor(request: CommandRequest) -> Actor:
    return Actor(request.user_id, SURFACE)


def _workspace_id(request: CommandRequest, runtime: Runtime) -> int:
    return runtime.workspaces.ensure(request.team_id).id


def _schedule_text(request: CommandRequest, config: reporting_schedule.DigestChannel,
                   runtime: Runtime) -> str:
    language = request.language
    if not config.enabled:
        return t(language, "digest.status_off", channel=request.channel_id)
    now = runtime.clock()
    upcoming = at_local(now.astimezone(config.tz).date(), config.local_time, config.tz)
    if upcoming <= now:
        upcoming = shift_local_days(upcoming, 1, config.tz)
    empty = t(language, "digest.empty_skip" if config.skip_empty else "digest.empty_post")
    return t(language, "digest.status_on", channel=request.channel_id,
             time=config.local_time.strftime("%H:%M"), zone=config.timezone_name,
             next=upcoming.astimezone(config.tz).strftime("%d %b %H:%M"), empty=empty)


def _digest(request: CommandRequest, runtime: Runtime) -> Reply:
    action = request.args[0].lower() if request.args else "status"
    rest = request.args[1:]
    language = request.language
    workspace_id = _workspace_id(request, runtime)
    default_zone = runtime.settings.timezone
    if action == "now" and not rest:
        report = digest.do_post_digest_now(
            runtime.sessions, workspace_id, _actor(request), channel_id=request.channel_id,
            now=runtime.clock(), language=language, default_timezone=default_zone)
        return Reply(t(language, "digest.posted_now", channel=request.channel_id,
                       count=report.total.current))
    if action == "set" and 1 <= len(rest) <= 2:
        config = reporting_schedule.do_set_digest_time(
            runtime.sessions, workspace_id, _actor(request), channel_id=request.channel_id,
            local_time=rest[0], zone_name=rest[1] if len(rest) > 1 else None,
            default_timezone=default_zone)
        return Reply(_schedule_text(request, config, runtime))
    if action == "off" and not rest:
        reporting_schedule.do_disable_digest(runtime.sessions, workspace_id, _actor(request),
                                             channel_id=request.channel_id)
        return Reply(t(language, "digest.turned_off", channel=request.channel_id))
    if action == "empty" and len(rest) == 1 and rest[0].lower() in {"skip", "post"}:
        reporting_schedule.do_set_digest_skip_empty(
            runtime.sessions, workspace_id, _actor(request), channel_id=request.channel_id,
            skip=rest[0].lower() == "skip")
        return Reply(t(language, "digest.empty_skip" if rest[0].lower() == "skip"
                       else "digest.empty_post"))
    if action == "status" and not rest:
        config = reporting_schedule.get_channel_config(
            runtime.sessions, workspace_id, request.channel_id, default_zone)
        return Reply(_schedule_text(request, config, runtime))
    return Reply(t(language, "digest.usage"))


@REGISTRY.subcommand(
    "digest", usage="digest now | set HH:MM [ZONE] | off | empty skip|post | status",
    examples=("digest now", "digest set 08:30 Europe/Paris", "digest off", "digest empty skip"),
    slow=True,
    rate_limit=lambda r, _: ratelimit.DIGEST_NOW if [a.lower() for a in r.args] == ["now"]
    else None)
def cmd_digest(request: CommandRequest, runtime: Runtime) -> Reply:
    """The daily digest of this channel: post it now, set its time and zone, turn it off."""
    try:
        return _digest(request, runtime)
    except ServiceError as err:
        return Reply(err.message(request.language), did_no_work=True)


def _period_and_group(args: list[str]) -> tuple[str | None, str | None] | None:
    """``[period] [group]`` in any order (the share-of-voice commands); None when there is
    anything more."""
    period = group = None
    for arg in args:
        if PERIOD_LIKE.match(arg) and period is None:
            period = arg
        elif group is None:
            group = arg
        else:
            return None
    return period, group


def _sov(request: CommandRequest, runtime: Runtime) -> Reply:
    """`/cm stats sov [period] [group]`: shown only to the requester, charts in their DM."""
    language = request.language
    parsed = _period_and_group(request.args[1:])
    if parsed is None:
        return Reply(t(language, "sov.usage"), did_no_work=True)
    period, group = parsed
    try:
        workspace_id = _workspace_id(request, runtime)
        days, _zone, reports = share_of_voice.get_share_of_voice(
            runtime.sessions, workspace_id, _actor(request), period=period, group=group,
            now=runtime.clock(), default_timezone=runtime.settings.timezone)
        share_of_voice.do_share_sov_charts(runtime.sessions, workspace_id,
                                           channel_id=request.user_id, reports=reports,
                                           language=language)
    except ServiceError as err:
        return Reply(err.message(language), did_no_work=True)
    text, blocks = build_sov_blocks(days, reports, language)
    return Reply(text, blocks)


@REGISTRY.subcommand("stats", usage="stats [7d|30d|90d] | stats sov [1d|7d|30d|90d] [GROUP]",
                     examples=("stats", "stats 30d", "stats sov", "stats sov 30d acme-vs"),
                     slow=True, rate_limit=lambda r, _: ratelimit.STATS)
def cmd_stats(request: CommandRequest, runtime: Runtime) -> Reply:
    """Statistics of the workspace over a period, shown only to the requester (the workload
    names people: no pings, nothing shared), with the chart in their DM; `stats sov`: share
    of voice of the watch groups."""
    language = request.language
    if request.args and request.args[0].lower() == "sov":
        return _sov(request, runtime)
    if len(request.args) > 1:
        return Reply(t(language, "stats.usage"), did_no_work=True)
    try:
        workspace_id = _workspace_id(request, runtime)
        report = stats.get_stats(runtime.sessions, workspace_id, _actor(request),
                                 period=request.args[0] if request.args else None,
                                 now=runtime.clock(), default_timezone=runtime.settings.timezone)
        stats.do_share_stats_chart(runtime.sessions, workspace_id, channel_id=request.user_id,
                                   report=report, language=language)
    except ServiceError as err:
        return Reply(err.message(language), did_no_work=True)
    text, blocks = build_stats_blocks(report, language)
    return Reply(text, blocks)


def _export_sov(request: CommandRequest, runtime: Runtime) -> Reply:
    """`/cm export sov [period] [group]`: the share-of-voice CSV, in the requester's DM."""
    language = request.language
    parsed = _period_and_group(request.args[1:])
    if parsed is None:
        return Reply(t(language, "export.usage"), did_no_work=True)
    period, group = parsed
    try:
        rows = sov_export.do_export_sov_to_slack(
            runtime.sessions, _workspace_id(request, runtime), _actor(request),
            channel_id=request.user_id, period=period, group=group, now=runtime.clock(),
            language=language, default_timezone=runtime.settings.timezone)
    except ServiceError as err:
        return Reply(err.message(language), did_no_work=True)
    return Reply(t(language, "sov.export_queued", rows=rows))


@REGISTRY.subcommand("export", usage="export [7d|30d] [watch:NAME] [words] | export sov "
                                      "[7d|30d|90d] [GROUP]",
                     examples=("export", "export 30d", "export 7d watch:acme",
                               'export 30d "product recall" -refund', "export sov 30d"),
                     slow=True,
                     rate_limit=lambda r, _: ratelimit.EXPORT)
def cmd_export(request: CommandRequest, runtime: Runtime) -> Reply:
    """Send a CSV of the period's mentions (status, owner, reply, times) to the requester's
    DM: it names authors and holds full texts, so it never lands in a shared channel.
    ``watch:NAME`` and search words are written as in `/cm mentions`."""
    language = request.language
    if request.args and request.args[0].lower() == "sov":
        return _export_sov(request, runtime)
    period = None
    rest: list[str] = []
    for arg in request.args:
        if PERIOD_LIKE.match(arg) and period is None and not rest:
            period = arg
        else:
            rest.append(arg)
    try:
        filters = parse_filters(rest)
        if any(getattr(filters, name) is not None for name in MentionFilter.__dataclass_fields__
               if name not in EXPORT_FILTERS):
            return Reply(t(language, "export.usage"), did_no_work=True)
        result = export.do_export_to_slack(
            runtime.sessions, _workspace_id(request, runtime), _actor(request),
            channel_id=request.user_id, period=period, watch=filters.watch,
            now=runtime.clock(), language=language, text=filters.text)
    except ServiceError as err:
        return Reply(err.message(language), did_no_work=True)
    key = "export.queued_truncated_dm" if result.truncated else "export.queued_dm"
    answer = t(language, key, rows=result.rows, total=result.total)
    if result.watch_named is not None:
        answer += " " + t(language, "export.watch_hint", name=result.watch_named)
    return Reply(answer)
