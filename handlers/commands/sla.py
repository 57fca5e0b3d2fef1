"""`/cm sla`: show targets; `set WATCH urgent=N ...`; `hours HH:MM-HH:MM DAYS ZONE | off`."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import sla
from bot.services.errors import ServiceError
from bot.services.permissions import ANYONE, Role
from handlers.commands.parsing import number_of
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Verb, Verbs


def _show(request: CommandRequest, runtime: Runtime) -> Reply:
    language = request.language
    hours, watches = sla.describe(runtime.sessions, request.workspace_id(runtime),
                                  runtime.settings.timezone)
    if hours.start is None or hours.end is None:
        when = t(language, "sla.hours_always", tz=hours.timezone)
    else:
        days = ",".join(t(language, f"weekday.{sla.DAYS[d]}") for d in sorted(hours.days))
        when = t(language, "sla.hours_business", start=f"{hours.start:%H:%M}",
                 end=f"{hours.end:%H:%M}", days=days, tz=hours.timezone)
    lines = [f"*{t(language, 'sla.title')}*", when, t(language, "sla.clock")]
    lines += [t(language, "sla.watch_line", watch=name, urgent=u, high=h, normal=n)
              for name, u, h, n in watches]
    return Reply("\n".join(lines))


def _set(request: CommandRequest, runtime: Runtime) -> Reply:
    """`sla set WATCH level=MINUTES ...`; a level given twice with different minutes is
    refused (``sla.repeated_target``), rather than the last one silently winning."""
    targets: dict[str, int] = {}
    typed: dict[str, str] = {}
    for item in request.args[2:]:
        level, _, minutes = item.partition("=")
        number = number_of(minutes)
        if number is None:
            raise ServiceError("sla.bad_target", value=item[:40])
        level = level.lower()
        if level in targets and targets[level] != number:
            raise ServiceError("sla.repeated_target", level=level[:40], first=typed[level],
                               second=item[:40])
        targets[level] = number
        typed.setdefault(level, item[:40])
    sla.do_set_targets(runtime.sessions, request.workspace_id(runtime), request.actor,
                       request.args[1], targets)
    return Reply(t(request.language, "sla.updated"))


def _hours(request: CommandRequest, runtime: Runtime) -> Reply:
    """`sla hours HH:MM-HH:MM DAYS [ZONE]` (no zone: the workspace's) or `sla hours off`."""
    workspace_id = request.workspace_id(runtime)
    if request.args[1:2] == ["off"]:
        sla.do_set_hours(runtime.sessions, workspace_id, request.actor, None, "mon-sun", None)
    elif len(request.args) in (3, 4):
        sla.do_set_hours(runtime.sessions, workspace_id, request.actor, request.args[1],
                         request.args[2], request.args[3] if len(request.args) == 4 else None)
    else:
        return Reply(t(request.language, "sla.usage"))
    return Reply(t(request.language, "sla.updated"))


REGISTRY.verbs("sla", Verbs((
    Verb("", _show, aliases=("show",), role=ANYONE),
    Verb("set", _set, ("WATCH urgent=MIN high=MIN normal=MIN",), count=(2, None),
         role=Role.ADMIN),
    Verb("hours", _hours, ("HH:MM-HH:MM DAYS [ZONE]", "off"), role=Role.ADMIN),
), usage_key="sla.usage", default="", name_each=True),
    examples=("sla", "sla set acme urgent=30 high=120",
              "sla hours 09:00-18:00 mon-fri Europe/Paris"), module=__name__)
