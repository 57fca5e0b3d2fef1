"""`/cm help [SUBCOMMAND]`."""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import has, t
from bot.runtime import Runtime
from bot.services.permissions import ANYONE
from bot.slack.help import HelpEntry, build_help, build_subcommand_help
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Subcommand


def help_entry(sub: Subcommand, language: str) -> HelpEntry:
    """The help data of a subcommand in ``language``: summary, usage and examples from the
    catalogue (``cmd.NAME.usage``, ``cmd.NAME.examples``, one per line), the English ones
    being the registry's own."""
    base = sub.summary_key.rsplit(".", 1)[0]
    usage = t(language, f"{base}.usage") if has(f"{base}.usage") else sub.usage
    examples = (tuple(t(language, f"{base}.examples").splitlines())
                if has(f"{base}.examples") else sub.examples)
    return HelpEntry(sub.name, usage, t(language, sub.summary_key), examples)


@REGISTRY.subcommand("help", usage="help [COMMAND]", examples=("help", "help watch"),
                     role=ANYONE)
def cmd_help(request: CommandRequest, runtime: Runtime) -> Reply:
    """List every subcommand, or explain one."""
    language = request.language
    if request.args:
        name = request.args[0].lower()
        sub = REGISTRY.get(name)
        if sub is None:
            suggestion = REGISTRY.suggest(name)
            key = "help.unknown_topic" if suggestion else "help.unknown_topic_none"
            return Reply(t(language, key, name=name, suggestion=suggestion or ""))
        entry = help_entry(sub, language)
        if sub.help_details is not None:
            entry = replace(entry, details=sub.help_details(request.args[1:], language))
        text, blocks = build_subcommand_help(entry, language)
        return Reply(text, blocks)
    text, blocks = build_help([help_entry(sub, language) for sub in REGISTRY.all()], language)
    return Reply(text, blocks)
