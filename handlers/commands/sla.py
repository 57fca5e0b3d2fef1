"""`/cm sla`: show targets; `set WATCH urgent=N ...`; `hours HH:MM-HH:MM DAYS ZONE | off`."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import sla
from bot.services.errors import ServiceError
from handlers.commands.parsing import number_of
from handlers.commands.registry import REGISTRY, CommandRequest, Reply


def _show(request: CommandRequest, runtime: Runtime, workspace_id: int) -> Reply:
    language = request.language
    hours, watches = sla.describe(runtime.sessions, workspace_id, runtime.settings.timezone)
    if hours.start is None or hours.end is None:
        when = t(language, "sla.hours_always", tz=hours.timezone)
    else:
        days = ",".join(sla.DAYS[d] for d in sorted(hours.days))
        when = t(language, "sla.hours_business", start=f"{hours.start:%H:%M}",
                 end=f"{hours.end:%H:%M}", days=days, tz=hours.timezone)
    lines = [f"*{t(language, 'sla.title')}*", when]
    lines += [t(language, "sla.watch_line", watch=name, urgent=u, high=h, normal=n)
              for name, u, h, n in watches]
    return Reply("\n".join(lines))


@REGISTRY.subcommand("sla", usage="sla | sla set WATCH urgent=MIN high=MIN normal=MIN | "
                     "sla hours HH:MM-HH:MM DAYS ZONE | sla hours off",
                     examples=("sla", "sla set acme urgent=30 high=120",
                               "sla hours 09:00-18:00 mon-fri Europe/Paris"))
def cmd_sla(request: CommandRequest, runtime: Runtime) -> Reply:
    """Show or change response targets and business hours."""
    language = request.language
    workspace_id = request.workspace_id(runtime)
    actor = request.actor
    action = request.args[0].lower() if request.args else "show"
    if action == "show":
        return _show(request, runtime, workspace_id)
    if action == "set" and len(request.args) >= 3:
        targets: dict[str, int] = {}
        for item in request.args[2:]:
            level, _, minutes = item.partition("=")
            number = number_of(minutes)
            if number is None:
                raise ServiceError("sla.bad_target", value=item[:40])
            targets[level.lower()] = number
        sla.do_set_targets(runtime.sessions, workspace_id, actor, request.args[1], targets)
        return Reply(t(language, "sla.updated"))
    if action == "hours" and request.args[1:2] == ["off"]:
        sla.do_set_hours(runtime.sessions, workspace_id, actor, None, "mon-sun",
                         runtime.settings.timezone)
        return Reply(t(language, "sla.updated"))
    if action == "hours" and len(request.args) == 4:
        sla.do_set_hours(runtime.sessions, workspace_id, actor, request.args[1],
                         request.args[2], request.args[3])
        return Reply(t(language, "sla.updated"))
    return Reply(t(language, "sla.usage"))
