"""`/cm watch group ...`, `/cm watch kind ...` and `/cm opp ...`: parse, then call one service.

`/cm watch` dispatches its `group` and `kind` actions here; `/cm opp` is its own subcommand.
"""

from __future__ import annotations

from bot import verbs
from bot.i18n import t
from bot.runtime import Runtime
from bot.services import competitors, opportunities
from bot.services.errors import ServiceError
from bot.services.permissions import ANYONE, Role
from bot.slack.admin_views import build_group_list
from bot.slack.escape import escape, truncate
from bot.slack.modals import risk_words
from handlers.commands.parsing import number_of, text_after, unescape, user_id_of
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Verb, Verbs


def _group_text(view: competitors.GroupView, key: str, language: str) -> str:
    return t(language, key, name=escape(view.name),
             brands=", ".join(escape(m.name) for m in view.brands) or "-",
             competitors=", ".join(escape(m.name) for m in view.competitors) or "-",
             conquest=t(language, "compete.on" if view.conquest else "compete.off"))


def watch_group(request: CommandRequest, runtime: Runtime) -> Reply:
    """`/cm watch group create|add|drop|conquest|delete|list ...` (ServiceError passes up)."""
    args, language = request.args[2:], request.language
    action = request.args[1].lower() if len(request.args) > 1 else "list"
    workspace_id = request.workspace_id(runtime)
    if action == "list" and not args:
        text, blocks = build_group_list(competitors.list_groups(runtime.sessions,
                                                                workspace_id), language)
        return Reply(text, blocks)
    if action == "create" and len(args) >= 2:
        conquest = False
        names = []
        for arg in args[1:]:
            if arg.lower().startswith("conquest:"):
                conquest = competitors.parse_switch(arg.split(":", 1)[1])
            else:
                names.append(unescape(arg))
        view = competitors.do_create_group(runtime.sessions, workspace_id, request.actor,
                                           name=unescape(args[0]), watch_names=names,
                                           conquest=conquest)
        return Reply(_group_text(view, "compete.group_created", language))
    if action == "add" and len(args) >= 2:
        view = competitors.do_add_to_group(runtime.sessions, workspace_id, request.actor,
                                           name=unescape(args[0]),
                                           watch_names=[unescape(a) for a in args[1:]])
        return Reply(_group_text(view, "compete.group_updated", language))
    if action == "drop" and len(args) == 2:
        view = competitors.do_remove_from_group(runtime.sessions, workspace_id,
                                                request.actor, name=unescape(args[0]),
                                                watch_name=unescape(args[1]))
        return Reply(_group_text(view, "compete.group_updated", language))
    if action == "conquest" and len(args) == 2:
        view = competitors.do_set_conquest(runtime.sessions, workspace_id, request.actor,
                                           name=unescape(args[0]),
                                           enabled=competitors.parse_switch(args[1]))
        return Reply(_group_text(view, "compete.group_updated", language))
    if action == "delete" and len(args) == 1:
        name = competitors.do_delete_group(runtime.sessions, workspace_id, request.actor,
                                           unescape(args[0]))
        return Reply(t(language, "compete.group_deleted", name=escape(name)))
    return Reply(t(language, "compete.group_usage"), did_no_work=True)


def group_role(args: list[str]) -> Role:
    """Who may run `/cm watch group ARGS`: anyone lists, admins change."""
    changes = {"create", "add", "drop", "conquest", "delete"}
    return Role.ADMIN if args and args[0].lower() in changes else ANYONE


def watch_kind(request: CommandRequest, runtime: Runtime) -> Reply:
    """`/cm watch kind NAME brand|competitor` (ServiceError passes up)."""
    if len(request.args) != 3:
        return Reply(t(request.language, "compete.kind_usage"), did_no_work=True)
    kind = competitors.do_set_watch_kind(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        watch_name=unescape(request.args[1]), kind=unescape(request.args[2]))
    return Reply(t(request.language, "compete.kind_set", watch=escape(request.args[1]),
                   kind=t(request.language, f"compete.kind_{kind}")))


def _opportunity_id(request: CommandRequest) -> int:
    value = request.args[1].lstrip("#") if len(request.args) > 1 else ""
    number = number_of(value)
    if number is None:
        raise ServiceError("opp_cmd.bad_id", value=unescape(value)[:40])
    return number


def _list(request: CommandRequest, runtime: Runtime) -> Reply:
    language = request.language
    views = opportunities.list_opportunities(runtime.sessions,
                                             request.workspace_id(runtime))
    if not views:
        return Reply(t(language, "opp.list_empty"))
    lines = [t(language, "opp.list_title", count=len(views))]
    lines += [t(language, "opp.list_line", id=v.id, status=t(language, f"opp.status_{v.status}"),
                reason=t(language, f"opp.reason_short_{v.reason}"),
                competitor=escape(v.competitor or "?"),
                author=escape(truncate(v.author_handle, 60)),
                text=escape(truncate(" ".join(v.text.split()), 120))) for v in views]
    return Reply("\n".join(lines))


def _act(request: CommandRequest, runtime: Runtime) -> Reply:
    """`opp assign|draft|contacted|dismiss|reopen ID ...`: the id is read first."""
    language, action = request.language, request.args[0].lower()
    opportunity_id = _opportunity_id(request)
    assignee = draft = None
    if action == "assign" and len(request.args) > 2:
        assignee = user_id_of(request.args[2])
        if assignee is None or len(request.args) > 3:
            return Reply(t(language, "opp.usage"), did_no_work=True)
    elif action == "draft":
        # The text as typed (spacing, quotes), after "draft ID".
        draft = text_after(request.raw_args, 2)
    elif len(request.args) > 2:
        return Reply(t(language, "opp.usage"), did_no_work=True)
    users = request.directory(runtime)
    outcome = opportunities.do_opportunity_action(
        runtime.sessions, request.workspace_id(runtime), request.actor,
        opportunity_id, action, assignee=assignee, draft=draft, users=users,
        link_allowlist=runtime.settings.reply_link_domains)
    runtime.nudge_outbox()
    done = t(language, "opp.done", id=outcome.id,
             status=t(language, f"opp.status_{outcome.status}"))
    if outcome.risk_keys:
        done += "\n" + t(language, "opp.draft_warnings",
                         warnings=risk_words(outcome.risk_keys, language))
    return Reply(done)


OPP_FORMS = {"assign": "ID [@user]", "draft": "ID TEXT"}
"""How help writes the arguments of the opportunity actions the CLI writes differently (the
others: ``bot.verbs.OPP_SHARED``)."""

# Conquest opportunities: competitors' unhappy customers offered to the team.
REGISTRY.verbs("opp", Verbs((
    Verb("list", _list, count=(0, 0), role=ANYONE),
    *(Verb.shared(verbs.OPP_SHARED[action], _act, role=Role.AGENT)
      if action in verbs.OPP_SHARED
      else Verb(action, _act, (OPP_FORMS[action],), count=(1, None), role=Role.AGENT)
      for action in opportunities.ACTIONS),
), usage_key="opp.usage", default="list"),
    examples=("opp list", "opp assign 12 @ana", "opp draft 12 Hi! Happy to help you switch.",
              "opp contacted 12"), module=__name__, free_text=True)
