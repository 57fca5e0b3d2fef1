"""`/cm influencers [period] | track|untrack @handle NETWORK` and `/cm report month [YYYY-MM]
| schedule [monthly|off]`: parse, then call one service. Both answer after the ack."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import influencers, ratelimit
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.reporting import monthly as report_monthly
from bot.slack.influencer_blocks import build_influencer_blocks
from handlers.commands.parsing import unescape
from handlers.commands.registry import REGISTRY, CommandRequest, Reply

SURFACE = "slash_command"


def _actor(request: CommandRequest) -> Actor:
    return Actor(request.user_id, SURFACE)


def _workspace_id(request: CommandRequest, runtime: Runtime) -> int:
    return runtime.workspaces.ensure(request.team_id).id


def _track(request: CommandRequest, runtime: Runtime, action: str) -> Reply:
    language = request.language
    if len(request.args) != 3:
        return Reply(t(language, "influencers.usage"), did_no_work=True)
    handle, network = unescape(request.args[1]), request.args[2]
    workspace_id = _workspace_id(request, runtime)
    if action == "untrack":
        stored = influencers.do_untrack(runtime.sessions, workspace_id, _actor(request),
                                        handle=handle, network=network)
        return Reply(t(language, "influencers.untracked", handle=stored,
                       network=influencers.network_name(network)))
    stored, added = influencers.do_track(runtime.sessions, workspace_id, _actor(request),
                                         handle=handle, network=network, now=runtime.clock())
    key = "influencers.tracked" if added else "influencers.already_tracked"
    return Reply(t(language, key, handle=stored, network=influencers.network_name(network)))


def _is_listing(request: CommandRequest) -> bool:
    return not request.args or request.args[0].lower() not in {"track", "untrack"}


@REGISTRY.subcommand(
    "influencers", usage="influencers [7d|30d|90d] | track @handle NETWORK | untrack @handle "
                         "NETWORK",
    examples=("influencers", "influencers 90d", "influencers track @alice mastodon"),
    slow=True, rate_limit=lambda r, _: ratelimit.INFLUENCERS if _is_listing(r) else None)
def cmd_influencers(request: CommandRequest, runtime: Runtime) -> Reply:
    """Who talked about the brand most (ranked by reach × engagement × frequency), shown
    only to the requester; track or untrack an author (agents and above)."""
    language = request.language
    try:
        if not _is_listing(request):
            return _track(request, runtime, request.args[0].lower())
        if len(request.args) > 1:
            return Reply(t(language, "influencers.usage"), did_no_work=True)
        report = influencers.get_influencers(
            runtime.sessions, _workspace_id(request, runtime), _actor(request),
            period=request.args[0] if request.args else None, now=runtime.clock(),
            default_timezone=runtime.settings.timezone)
    except ServiceError as err:
        return Reply(err.message(language), did_no_work=True)
    text, blocks = build_influencer_blocks(report, language)
    return Reply(text, blocks)


def _report(request: CommandRequest, runtime: Runtime) -> Reply:
    language = request.language
    args = [arg.lower() for arg in request.args]
    workspace_id = _workspace_id(request, runtime)
    if args[:1] == ["month"] and len(args) <= 2:
        month = request.args[1] if len(args) == 2 else None
        report = report_monthly.do_send_report(
            runtime.sessions, workspace_id, _actor(request), user_id=request.user_id,
            month=month, now=runtime.clock(), default_timezone=runtime.settings.timezone,
            language=language)
        return Reply(t(language, "monthly.queued_dm", month=report.month, total=report.total))
    if args[:1] == ["schedule"] and len(args) == 2 and args[1] in {"monthly", "off"}:
        report_monthly.do_schedule_monthly(runtime.sessions, workspace_id, _actor(request),
                                           channel_id=request.channel_id,
                                           enabled=args[1] == "monthly")
        return Reply(t(language, "monthly.scheduled" if args[1] == "monthly"
                       else "monthly.unscheduled"))
    if args == ["schedule"]:
        on = report_monthly.monthly_schedule(runtime.sessions, workspace_id,
                                             request.channel_id)
        return Reply(t(language, "monthly.status_on" if on else "monthly.status_off"))
    return Reply(t(language, "monthly.usage"), did_no_work=True)


@REGISTRY.subcommand(
    "report", usage="report month [YYYY-MM] | schedule [monthly|off]",
    examples=("report month", "report month 2026-11", "report schedule monthly",
              "report schedule off"),
    slow=True, rate_limit=lambda r, _: ratelimit.REPORT if r.args[:1] and
    r.args[0].lower() == "month" else None)
def cmd_report(request: CommandRequest, runtime: Runtime) -> Reply:
    """The monthly report for management: a PDF in the requester's DM (it names the team
    and authors, so it never lands in a shared channel unless an admin schedules it
    there)."""
    try:
        return _report(request, runtime)
    except ServiceError as err:
        return Reply(err.message(request.language), did_no_work=True)
