"""`/cm voice [text|off]` and `/cm template add|list|remove`."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import voice
from bot.services.permissions import ANYONE, Role
from bot.slack.escape import escape, truncate
from handlers.commands.parsing import text_after, typed_text
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Verb, Verbs


@REGISTRY.subcommand("voice", usage="voice | voice TEXT | voice off",
                     examples=("voice Warm and brief. Use first names. Never promise refunds.",),
                     role=lambda args: Role.ADMIN if args else ANYONE, free_text=True)
def cmd_voice(request: CommandRequest, runtime: Runtime) -> Reply:
    """Show or set the brand's voice guide for LLM drafts."""
    workspace_id, actor = request.workspace_id(runtime), request.actor
    language = request.language
    text = typed_text(request.raw_args).strip()
    if not text:
        current = voice.get_voice(runtime.sessions, workspace_id)
        return Reply(t(language, "voice.current", text=current) if current
                     else t(language, "voice.default"))
    voice.do_set_voice(runtime.sessions, workspace_id, actor,
                       None if text.lower() == "off" else text)
    return Reply(t(language, "voice.saved"))


def _template_list(request: CommandRequest, runtime: Runtime) -> Reply:
    templates = voice.list_templates(runtime.sessions, request.workspace_id(runtime))
    if not templates:
        return Reply(t(request.language, "voice.no_templates"))
    return Reply("\n".join(f"*{escape(tpl.name)}* · {escape(tpl.intent)} · "
                           f"{escape(tpl.language)}: {escape(truncate(tpl.text, 200))}"
                           for tpl in templates))


def _template_add(request: CommandRequest, runtime: Runtime) -> Reply:
    _, name, intent, lang, *_rest = request.args
    text = text_after(request.raw_args, 4)
    voice.do_add_template(runtime.sessions, request.workspace_id(runtime), request.actor,
                          name=name, intent=intent.lower(), language=lang.lower(), text=text)
    return Reply(t(request.language, "voice.template_added", name=name))


def _template_remove(request: CommandRequest, runtime: Runtime) -> Reply:
    voice.do_remove_template(runtime.sessions, request.workspace_id(runtime), request.actor,
                             request.args[1])
    return Reply(t(request.language, "voice.template_removed", name=request.args[1]))


# Canned replies, with the placeholders {author} and {brand}.
REGISTRY.verbs("template", Verbs((
    Verb("add", _template_add, ("NAME INTENT LANG TEXT",), count=(4, None),
         role=Role.APPROVER),
    Verb("list", _template_list, role=ANYONE),
    Verb("remove", _template_remove, ("NAME",), count=(1, 1), role=Role.APPROVER),
), usage_key="voice.usage", default="list", name_each=True),
    examples=("template add late-order complaint en Sorry {author}, we're checking your "
              "order now.", "template list"), module=__name__, free_text=True)
