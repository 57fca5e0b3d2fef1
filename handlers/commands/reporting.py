"""`/cm digest ...`, `/cm stats [period]` and `/cm export [period] [watch]`: parse, then call
one service. All three answer after the ack (charts and files take a moment)."""

from __future__ import annotations

import re

from bot.i18n import day_month, t, tally
from bot.runtime import Runtime
from bot.services import export, ratelimit
from bot.services.mention_search import MentionFilter
from bot.services.permissions import ANYONE, Role
from bot.services.reporting import digest, share_of_voice, sov_export, stats
from bot.services.reporting import schedule as reporting_schedule
from bot.slack.digest_blocks import build_stats_blocks
from bot.slack.opportunity_blocks import build_sov_blocks
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Verb, Verbs
from handlers.commands.workflow import parse_filters, search_args

PERIOD_LIKE = re.compile(r"^\d+[a-z]+$", re.IGNORECASE)
EXPORT_FILTERS = ("watch", "text")
"""The `/cm mentions` filters `/cm export` takes (the period is its own argument)."""


def _schedule_text(request: CommandRequest, config: reporting_schedule.DigestChannel,
                   runtime: Runtime) -> str:
    language = request.language
    if not config.enabled:
        return t(language, "digest.status_off", channel=request.channel_id)
    upcoming = digest.next_digest(runtime.sessions, config, runtime.clock())
    empty = t(language, "digest.empty_skip" if config.skip_empty else "digest.empty_post")
    when = day_month(upcoming.at.astimezone(config.tz), language, clock=True)
    if upcoming.today_done:
        when = t(language, "digest.next_after_today", next=when)
    return t(language, "digest.status_on", channel=request.channel_id,
             time=config.local_time.strftime("%H:%M"), zone=config.timezone_name,
             next=when, empty=empty)


def _digest_now(request: CommandRequest, runtime: Runtime) -> Reply:
    report = digest.do_post_digest_now(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        channel_id=request.channel_id, now=runtime.clock(),
        default_timezone=runtime.settings.timezone)
    return Reply(t(request.language, "digest.posted_now", channel=request.channel_id,
                   count=report.total.current))


def _digest_set(request: CommandRequest, runtime: Runtime) -> Reply:
    rest = request.args[1:]
    config = reporting_schedule.do_set_digest_time(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        channel_id=request.channel_id, local_time=rest[0],
        zone_name=rest[1] if len(rest) > 1 else None,
        default_timezone=runtime.settings.timezone)
    return Reply(_schedule_text(request, config, runtime))


def _digest_off(request: CommandRequest, runtime: Runtime) -> Reply:
    reporting_schedule.do_disable_digest(runtime.sessions, request.workspace_id(runtime),
                                         request.actor, channel_id=request.channel_id)
    return Reply(t(request.language, "digest.turned_off", channel=request.channel_id))


def _digest_empty(request: CommandRequest, runtime: Runtime) -> Reply:
    choice = request.args[1].lower()
    if choice not in {"skip", "post"}:
        return Reply(t(request.language, "digest.usage"))
    reporting_schedule.do_set_digest_skip_empty(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        channel_id=request.channel_id, skip=choice == "skip")
    return Reply(t(request.language, "digest.empty_skip" if choice == "skip"
                   else "digest.empty_post"))


def _digest_status(request: CommandRequest, runtime: Runtime) -> Reply:
    config = reporting_schedule.get_channel_config(
        runtime.sessions, request.workspace_id(runtime), request.channel_id,
        runtime.settings.timezone)
    return Reply(_schedule_text(request, config, runtime))


# The daily digest of this channel: post it now, set its time and zone, turn it off.
REGISTRY.verbs("digest", Verbs((
    Verb("now", _digest_now, count=(0, 0), role=Role.AGENT),
    Verb("set", _digest_set, ("HH:MM [ZONE]",), count=(1, 2), role=Role.ADMIN),
    Verb("off", _digest_off, count=(0, 0), role=Role.ADMIN),
    Verb("empty", _digest_empty, ("skip|post",), count=(1, 1), role=Role.ADMIN),
    Verb("status", _digest_status, count=(0, 0), role=ANYONE),
), usage_key="digest.usage", default="status"),
    examples=("digest now", "digest set 08:30 Europe/Paris", "digest off", "digest empty skip"),
    slow=True,
    rate_limit=lambda r, _: ratelimit.DIGEST_NOW if [a.lower() for a in r.args] == ["now"]
    else None, module=__name__)


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
    workspace_id = request.workspace_id(runtime)
    days, _zone, reports = share_of_voice.get_share_of_voice(
        runtime.sessions, workspace_id, request.actor, period=period, group=group,
        now=runtime.clock(), default_timezone=runtime.settings.timezone)
    share_of_voice.do_share_sov_charts(runtime.sessions, workspace_id,
                                       channel_id=request.user_id, reports=reports,
                                       language=language)
    text, blocks = build_sov_blocks(days, reports, language)
    return Reply(text, blocks)


@REGISTRY.subcommand("stats", usage="stats [7d|30d|90d] | stats sov [1d|7d|30d|90d] [GROUP]",
                     examples=("stats", "stats 30d", "stats sov", "stats sov 30d acme-vs"),
                     role=ANYONE, slow=True, rate_limit=lambda r, _: ratelimit.STATS)
def cmd_stats(request: CommandRequest, runtime: Runtime) -> Reply:
    """Statistics of the workspace over a period, shown only to the requester (the workload
    names people: no pings, nothing shared), with the chart in their DM; `stats sov`: share
    of voice of the watch groups."""
    language = request.language
    if request.args and request.args[0].lower() == "sov":
        return _sov(request, runtime)
    if len(request.args) > 1:
        return Reply(t(language, "stats.usage"), did_no_work=True)
    workspace_id = request.workspace_id(runtime)
    report = stats.get_stats(runtime.sessions, workspace_id, request.actor,
                             period=request.args[0] if request.args else None,
                             now=runtime.clock(), default_timezone=runtime.settings.timezone)
    stats.do_share_stats_chart(runtime.sessions, workspace_id, channel_id=request.user_id,
                               report=report, language=language)
    text, blocks = build_stats_blocks(report, language)
    return Reply(text, blocks)


def _export_sov(request: CommandRequest, runtime: Runtime) -> Reply:
    """`/cm export sov [period] [group]`: the share-of-voice CSV, in the requester's DM."""
    language = request.language
    parsed = _period_and_group(request.args[1:])
    if parsed is None:
        return Reply(t(language, "export.usage"), did_no_work=True)
    period, group = parsed
    rows = sov_export.do_export_sov_to_slack(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        channel_id=request.user_id, period=period, group=group, now=runtime.clock(),
        language=language, default_timezone=runtime.settings.timezone)
    return Reply(t(language, "sov.export_queued", rows=tally(rows, language)))


@REGISTRY.subcommand("export", usage="export [7d|30d] [watch:NAME] [words] | export sov "
                                      "[7d|30d|90d] [GROUP]",
                     examples=("export", "export 30d", "export 7d watch:acme",
                               'export 30d "product recall" -refund', "export sov 30d"),
                     role=lambda args: ANYONE if args[:1] and args[0].lower() == "sov"
                     else Role.AGENT,
                     slow=True, rate_limit=lambda r, _: ratelimit.EXPORT)
def cmd_export(request: CommandRequest, runtime: Runtime) -> Reply:
    """Send a CSV of the period's mentions (status, owner, reply, times) to the requester's
    DM: it names authors and holds full texts, so it never lands in a shared channel.
    ``watch:NAME`` and search words are written as in `/cm mentions`."""
    language = request.language
    if request.args and request.args[0].lower() == "sov":
        return _export_sov(request, runtime)
    period = None
    rest: list[str] = []
    for arg in search_args(request.raw_args):
        if PERIOD_LIKE.match(arg) and period is None and not rest:
            period = arg
        else:
            rest.append(arg)
    filters = parse_filters(rest)
    if any(getattr(filters, name) is not None for name in MentionFilter.__dataclass_fields__
           if name not in EXPORT_FILTERS):
        return Reply(t(language, "export.usage"), did_no_work=True)
    result = export.do_export_to_slack(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        channel_id=request.user_id, period=period, watch=filters.watch,
        now=runtime.clock(), language=language, text=filters.text)
    key = "export.queued_truncated_dm" if result.truncated else "export.queued_dm"
    answer = t(language, key, rows=tally(result.rows, language),
               total=tally(result.total, language))
    if result.watch_named is not None:
        answer += " " + t(language, "export.watch_hint", name=result.watch_named)
    return Reply(answer)
