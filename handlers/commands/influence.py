"""`/cm influencers [period] | track|untrack @handle NETWORK` and `/cm report month [YYYY-MM]
| schedule [monthly|off]`: parse, then call one service. Both answer after the ack."""

from __future__ import annotations

from bot.i18n import t, tally
from bot.runtime import Runtime
from bot.services import influencers, ratelimit
from bot.services.permissions import ANYONE, Role
from bot.services.reporting import monthly as report_monthly
from bot.slack.influencer_blocks import build_influencer_blocks
from handlers.commands.parsing import typed_handle
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Verb, Verbs


def _track(request: CommandRequest, runtime: Runtime, action: str) -> Reply:
    language = request.language
    if len(request.args) != 3:
        return Reply(t(language, "influencers.usage"), did_no_work=True)
    handle, network = typed_handle(request.args[1]), request.args[2]
    workspace_id = request.workspace_id(runtime)
    if action == "untrack":
        stored = influencers.do_untrack(runtime.sessions, workspace_id, request.actor,
                                        handle=handle, network=network)
        return Reply(t(language, "influencers.untracked", handle=stored,
                       network=influencers.network_name(network)))
    stored, added = influencers.do_track(runtime.sessions, workspace_id, request.actor,
                                         handle=handle, network=network, now=runtime.clock())
    key = "influencers.tracked" if added else "influencers.already_tracked"
    return Reply(t(language, key, handle=stored, network=influencers.network_name(network)))


def _is_listing(request: CommandRequest) -> bool:
    return not request.args or request.args[0].lower() not in {"track", "untrack"}


@REGISTRY.subcommand(
    "influencers", usage="influencers [7d|30d|90d] | track @handle NETWORK | untrack @handle "
                         "NETWORK",
    examples=("influencers", "influencers 90d", "influencers track @alice mastodon"),
    role=lambda args: ANYONE if not args or args[0].lower() not in {"track", "untrack"}
    else Role.AGENT,
    slow=True, rate_limit=lambda r, _: ratelimit.INFLUENCERS if _is_listing(r) else None)
def cmd_influencers(request: CommandRequest, runtime: Runtime) -> Reply:
    """Who talked about the brand most (ranked by reach × engagement × frequency), shown
    only to the requester; track or untrack an author (agents and above)."""
    language = request.language
    if not _is_listing(request):
        return _track(request, runtime, request.args[0].lower())
    if len(request.args) > 1:
        return Reply(t(language, "influencers.usage"), did_no_work=True)
    report = influencers.get_influencers(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        period=request.args[0] if request.args else None, now=runtime.clock(),
        default_timezone=runtime.settings.timezone)
    text, blocks = build_influencer_blocks(report, language)
    return Reply(text, blocks)


def _report_month(request: CommandRequest, runtime: Runtime) -> Reply:
    """A PDF in the requester's DM: it names the team and authors, so it never lands in a
    shared channel unless an admin schedules it there."""
    report = report_monthly.do_send_report(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        user_id=request.user_id, month=request.args[1] if len(request.args) == 2 else None,
        now=runtime.clock(), default_timezone=runtime.settings.timezone,
        language=request.language)
    return Reply(t(request.language, "monthly.queued_dm", month=report.month,
                   total=tally(report.total, request.language)))


def _report_schedule(request: CommandRequest, runtime: Runtime) -> Reply:
    language, workspace_id = request.language, request.workspace_id(runtime)
    if len(request.args) == 1:
        on = report_monthly.monthly_schedule(runtime.sessions, workspace_id,
                                             request.channel_id)
        return Reply(t(language, "monthly.status_on" if on else "monthly.status_off"))
    choice = request.args[1].lower()
    if choice not in {"monthly", "off"}:
        return Reply(t(language, "monthly.usage"), did_no_work=True)
    report_monthly.do_schedule_monthly(runtime.sessions, workspace_id, request.actor,
                                       channel_id=request.channel_id,
                                       enabled=choice == "monthly")
    return Reply(t(language, "monthly.scheduled" if choice == "monthly"
                   else "monthly.unscheduled"))


# The monthly report for management.
REGISTRY.verbs("report", Verbs((
    Verb("month", _report_month, ("[YYYY-MM]",), count=(0, 1), role=ANYONE),
    Verb("schedule", _report_schedule, ("[monthly|off]",), count=(0, 1),
         role=lambda args: Role.ADMIN if args and args[0].lower() in {"monthly", "off"}
         else ANYONE),
), usage_key="monthly.usage"),
    examples=("report month", "report month 2026-11", "report schedule monthly",
              "report schedule off"),
    slow=True, rate_limit=lambda r, _: ratelimit.REPORT if r.args[:1] and
    r.args[0].lower() == "month" else None, module=__name__)
