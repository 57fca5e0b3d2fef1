"""`/cm voice [text|off]` and `/cm template add|list|remove`."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import voice
from bot.slack.escape import escape, truncate
from handlers.commands.parsing import unescape
from handlers.commands.registry import REGISTRY, CommandRequest, Reply


@REGISTRY.subcommand("voice", usage="voice | voice TEXT | voice off",
                     examples=("voice Warm and brief. Use first names. Never promise refunds.",))
def cmd_voice(request: CommandRequest, runtime: Runtime) -> Reply:
    """Show or set the brand's voice guide for LLM drafts."""
    workspace_id, actor = request.workspace_id(runtime), request.actor
    language = request.language
    text = unescape(request.raw_args).strip()
    if not text:
        current = voice.get_voice(runtime.sessions, workspace_id)
        return Reply(t(language, "voice.current", text=current) if current
                     else t(language, "voice.default"))
    voice.do_set_voice(runtime.sessions, workspace_id, actor,
                       None if text.lower() == "off" else text)
    return Reply(t(language, "voice.saved"))


@REGISTRY.subcommand("template", usage="template add NAME INTENT LANG TEXT | template list | "
                     "template remove NAME",
                     examples=("template add late-order complaint en Sorry {author}, we're "
                               "checking your order now.", "template list"))
def cmd_template(request: CommandRequest, runtime: Runtime) -> Reply:
    """Manage canned replies (placeholders {author} and {brand})."""
    workspace_id, actor = request.workspace_id(runtime), request.actor
    language = request.language
    action = request.args[0].lower() if request.args else "list"
    if action == "list":
        templates = voice.list_templates(runtime.sessions, workspace_id)
        if not templates:
            return Reply(t(language, "voice.no_templates"))
        return Reply("\n".join(f"*{escape(tpl.name)}* · {escape(tpl.intent)} · "
                               f"{escape(tpl.language)}: {escape(truncate(tpl.text, 200))}"
                               for tpl in templates))
    if action == "add" and len(request.args) >= 5:
        _, name, intent, lang, *_rest = request.args
        text = unescape(request.raw_args).split(None, 4)[4]
        voice.do_add_template(runtime.sessions, workspace_id, actor, name=name,
                              intent=intent.lower(), language=lang.lower(), text=text)
        return Reply(t(language, "voice.template_added", name=name))
    if action == "remove" and len(request.args) == 2:
        voice.do_remove_template(runtime.sessions, workspace_id, actor, request.args[1])
        return Reply(t(language, "voice.template_removed", name=request.args[1]))
    return Reply(t(language, "voice.usage"))
