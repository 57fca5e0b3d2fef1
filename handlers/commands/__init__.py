"""The `/cm` slash command: parse, find the subcommand in the registry, ack, run it."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.i18n import t
from bot.runtime import Runtime
from bot.services.errors import ServiceError
from handlers.commands.parsing import ArgumentError, split_args
from handlers.commands.registry import REGISTRY, CommandRequest, Reply
from handlers.context import locale_lookup, user_context


def load_subcommands() -> list[str]:
    """Import every module of this package, in name order (the order help lists them in):
    each registers its subcommands on import, so none can be silently left out. Returns
    the modules' names."""
    names = [info.name for info in pkgutil.iter_modules(__path__)]
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


load_subcommands()


def parse_command(command: dict[str, Any], language: str, client: Any = None
                  ) -> CommandRequest | Reply:
    """Turn Slack's slash-command payload into a request, or an error reply."""
    text = str(command.get("text") or "").strip()
    name, _, rest = text.partition(" ")
    try:
        args = split_args(rest)
    except ArgumentError as err:
        return Reply(t(language, err.key, **err.params))
    return CommandRequest(
        team_id=str(command.get("team_id") or ""),
        user_id=str(command.get("user_id") or ""),
        channel_id=str(command.get("channel_id") or ""),
        language=language,
        name=(name or "help").lower(),
        args=args,
        raw_args=rest.strip(),
        trigger_id=command.get("trigger_id"),
        client=client,
    )


def _rate_limited(action: str | None, request: CommandRequest, runtime: Runtime
                  ) -> Reply | None:
    """The ephemeral refusal when this expensive request is over its rate, else None."""
    if action is None:
        return None
    refusal = runtime.limiter.check(action, request.team_id, request.user_id)
    if refusal is None:
        return None
    label = f"/cm {action.replace('_', ' ')}"
    return Reply(t(request.language, f"ratelimit.{refusal.scope}", action=label,
                   seconds=refusal.retry_after))


def _refund_if_no_work(action: str | None, request: CommandRequest, runtime: Runtime,
                       reply: Reply | None) -> None:
    if action is not None and reply is not None and reply.did_no_work:
        runtime.limiter.refund(action, request.team_id, request.user_id)


def register(app: App, runtime: Runtime) -> None:
    """Attach the `/cm` listener to ``app``."""

    def on_cm(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        language = user_context(runtime, command, "slash_command").language
        parsed = parse_command(command, language, client)
        if isinstance(parsed, Reply):
            ack(**parsed.as_kwargs())
            return
        sub = REGISTRY.get(parsed.name)
        if sub is None:
            suggestion = REGISTRY.suggest(parsed.name)
            key = "help.unknown" if suggestion else "help.unknown_no_suggestion"
            reply = Reply(t(language, key, name=parsed.name, suggestion=suggestion or ""))
            ack(**reply.as_kwargs())
            return
        try:
            sub.authorize(parsed, runtime)
        except ServiceError as err:
            ack(**Reply.for_error(err, language).as_kwargs())
            return
        action = sub.rate_limit(parsed, runtime) if sub.rate_limit is not None else None
        refusal = _rate_limited(action, parsed, runtime)
        if refusal is not None:
            ack(**refusal.as_kwargs())
            return
        if not sub.slow:
            answer = sub.run(parsed, runtime)
            _refund_if_no_work(action, parsed, runtime, answer)
            ack(**(answer.as_kwargs() if answer else {}))
        else:
            ack()
            answer = sub.run(parsed, runtime)
            _refund_if_no_work(action, parsed, runtime, answer)
            if answer is not None:
                respond(**answer.as_kwargs())
        if answer is not None and answer.after is not None:
            answer.after()

    app.command("/cm")(ack=on_cm, lazy=[locale_lookup(runtime)])
