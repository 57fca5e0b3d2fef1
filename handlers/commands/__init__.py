"""The `/cm` slash command: parse, find the subcommand in the registry, check who asks and
how often, ack; run it in the ack or, when slow, in a Bolt lazy listener. The ack goes out
in time whatever the answer waits on (:class:`TimelyAck`)."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.i18n import t
from bot.runtime import Runtime
from bot.services.errors import ServiceError
from handlers.commands.parsing import ArgumentError, split_args
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Subcommand
from handlers.context import installed_enterprise, user_context
from handlers.errors import apologize

log = logging.getLogger(__name__)


def load_subcommands() -> list[str]:
    """Import every module of this package, in name order (the order help lists them in):
    each registers its subcommands on import, so none can be silently left out. Returns
    the modules' names."""
    names = [info.name for info in pkgutil.iter_modules(__path__)]
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


load_subcommands()


SEARCHES_AS_TYPED = frozenset({"mentions", "export"})
"""Subcommands that hand their words to the query language as typed (``raw_args``): it says
which quote is not closed, and where, in the reader's language."""


def parse_command(command: dict[str, Any], language: str, client: Any = None, *,
                  guest: bool = False, unchecked: bool = False, external: bool = False,
                  enterprise_id: str | None = None) -> CommandRequest | Reply:
    """Turn Slack's slash-command payload into a request, or an error reply (``guest``:
    Slack says the user is a guest; ``unchecked``: Slack could not say; ``external``: of
    another organisation; ``enterprise_id``:
    the installation's Grid org)."""
    text = str(command.get("text") or "").strip()
    name, _, rest = text.partition(" ")
    try:
        args = split_args(rest)
    except ArgumentError as err:
        sub = REGISTRY.get(name)
        if name.lower() not in SEARCHES_AS_TYPED and not (sub is not None and sub.free_text):
            return Reply(t(language, err.key, **err.params))
        # The open quote belongs to the text, read from ``raw_args`` as typed.
        args = rest.split()
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
        guest=guest,
        unchecked=unchecked,
        external=external,
        enterprise_id=enterprise_id,
        typed=f"{command.get('command') or '/cm'} {text}".rstrip(),
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


Later = Callable[[Respond], None]
"""The work the ack left to the lazy listener, given the command's ``respond``."""


class Handoff:
    """What each `/cm` ack left to do, for the lazy listener of the same command.

    Bolt hands a lazy listener a copy of the request taken before the ack function runs
    (with an HTTP or Socket Mode app they run side by side; on FaaS the lazy one is a new
    invocation), so the decision cannot ride on the request's context. The ack has already
    checked the role and spent the rate-limit token; the lazy listener must neither do it
    again nor guess, so it waits for the ack's word, keyed by the command's trigger id and
    response URL (unique to one invocation). Vigie's web and socket processes run both in
    one process; a FaaS deployment would need a shared store instead.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, tuple[threading.Event, list[Later | None]]] = {}
        self._abandoned: set[str] = set()
        """Keys whose lazy listener stopped waiting: their ack's word, when it comes, is
        not stored (nothing would take it) but handed back to the ack to run itself."""

    @staticmethod
    def key(command: dict[str, Any]) -> str:
        """The invocation's key: Slack gives every slash command its own trigger id and
        response URL; "" when the command has neither (no key is unique to it)."""
        trigger, url = command.get("trigger_id") or "", command.get("response_url") or ""
        return f"{trigger}|{url}" if trigger or url else ""

    def give(self, key: str, later: Later | None) -> bool:
        """The ack's word: ``later`` to run, or None (answered in the ack, or refused).
        False when the lazy listener already gave up waiting: the ack runs ``later``."""
        with self._lock:
            if key in self._abandoned:
                self._abandoned.discard(key)
                return False
            done, box = self._slots.setdefault(key, (threading.Event(), []))
            box.append(later)
        done.set()
        return True

    def take(self, key: str, timeout: float) -> Later | None:
        """The ack's word for ``key``, waiting up to ``timeout`` seconds for it; None when
        it did not come in time (the ack then runs the work itself when it gives it)."""
        with self._lock:
            done, box = self._slots.setdefault(key, (threading.Event(), []))
        done.wait(timeout)
        with self._lock:
            self._slots.pop(key, None)
            if box:  # read under the lock: a word given just after the wait timed out counts
                return box[0]
            self._abandoned.add(key)
            return None


ACK_BUDGET_SECONDS = 2.0
"""How long after the `/cm` listener starts its ack goes out at the latest, empty when the
answer is not ready by then (:class:`TimelyAck`). Slack waits 3000 ms for a command's
answer, after which only the response URL is left (https://api.slack.com/interactivity/
slash-commands, "Delayed responses and multiple responses"), and shows the user a timeout
error (Bolt's "Acknowledging requests": "you only have 3 seconds to respond before Slack
registers a timeout error", https://docs.slack.dev/tools/bolt-python/concepts/acknowledge);
Bolt itself answers 404 three seconds after it took the request. The second left is for
the way to Slack and back and Bolt's work before the listener. Quick subcommands answer in
milliseconds; one that waits on Slack (the caller's users.info, an assignee's, each up to
a second) or on a slow database is answered late through the response URL, not lost."""


class TimelyAck:
    """A command's ack that goes out in time whatever the answer waits on: the answer
    itself when it is given within ``seconds``, else an empty ack then; an answer given
    after it is kept (:meth:`late`) for the response URL."""

    def __init__(self, ack: Ack, seconds: float) -> None:
        self._ack = ack
        self._lock = threading.Lock()
        self._sent = False
        self._late: dict[str, Any] | None = None
        self._started = time.monotonic()
        self._timer = threading.Timer(seconds, self._on_time)
        self._timer.daemon = True
        self._timer.start()

    def _on_time(self) -> None:
        with self._lock:
            if self._sent:
                return
            self._sent = True
        self._ack()

    def __call__(self, **answer: Any) -> None:
        """Acknowledge with ``answer`` (Bolt's ``ack`` arguments), or keep it for the
        response URL when the empty ack already went out."""
        with self._lock:
            late, self._sent = self._sent, True
            if late and answer:
                self._late = answer
        if late:
            log.warning("a /cm answer was ready after %.1f s: acknowledged empty, it goes "
                        "to the response URL", time.monotonic() - self._started)
            return
        self._timer.cancel()
        self._ack(**answer)

    def close(self) -> None:
        """The command's ack function is done: no empty ack after this (an ack function
        that failed before acknowledging is answered by Bolt's error handling)."""
        self._timer.cancel()

    def late(self) -> dict[str, Any] | None:
        """The answer given after the empty ack went out; None when the ack carried it."""
        with self._lock:
            return self._late


HANDOFF_WAIT = 30.0
"""How long the lazy listener waits for its ack (which answers within Slack's 3 seconds, or
has failed and said so)."""


def _follow(answer: Reply | None, respond: Respond) -> None:
    """Run what ``answer`` leaves for after it, and send what that has to say."""
    if answer is None or answer.after is None:
        return
    follow_up = answer.after()
    if follow_up is not None:
        respond(**follow_up.as_kwargs())


def _answer_later(sub: Subcommand, request: CommandRequest, runtime: Runtime,
                  action: str | None) -> Later:
    """A slow subcommand's work: run it, refund a request that did no work, respond."""

    def later(respond: Respond) -> None:
        answer = sub.run(request, runtime)
        _refund_if_no_work(action, request, runtime, answer)
        if answer is not None:
            respond(**answer.as_kwargs())
        _follow(answer, respond)

    return later


def _after_only(answer: Reply) -> Later:
    return lambda respond: _follow(answer, respond)


def _answer_late(answer: dict[str, Any], then: Later | None) -> Later:
    """The answer the ack could not carry in time, sent to the response URL, then ``then``."""

    def later(respond: Respond) -> None:
        respond(**answer)
        if then is not None:
            then(respond)

    return later


def register(app: App, runtime: Runtime) -> None:
    """Attach the `/cm` listener to ``app``: the ack function parses, checks the role and
    the rate limit, and answers a quick subcommand itself; a slow one's work, and what an
    answer leaves for after it (opening a modal), run in the lazy listener."""
    handoff = Handoff()

    def decide(ack: Callable[..., None], command: dict[str, Any], client: WebClient,
               enterprise_id: str | None) -> Later | None:
        ctx = user_context(runtime, command, "slash_command", client,
                           enterprise_id=enterprise_id)
        language = ctx.language
        parsed = parse_command(command, language, client, guest=ctx.actor.guest,
                               unchecked=ctx.actor.unchecked, external=ctx.actor.external,
                               enterprise_id=enterprise_id)
        if isinstance(parsed, Reply):
            ack(**parsed.as_kwargs())
            return None
        sub = REGISTRY.get(parsed.name)
        if sub is None:
            suggestion = REGISTRY.suggest(parsed.name)
            key = "help.unknown" if suggestion else "help.unknown_no_suggestion"
            ack(**Reply(t(language, key, name=parsed.name,
                          suggestion=suggestion or "")).as_kwargs())
            return None
        try:
            sub.authorize(parsed, runtime)
        except ServiceError as err:
            ack(**Reply.for_error(err, language).as_kwargs())
            return None
        action = sub.rate_limit(parsed, runtime) if sub.rate_limit is not None else None
        refusal = _rate_limited(action, parsed, runtime)
        if refusal is not None:
            ack(**refusal.as_kwargs())
            return None
        if sub.is_slow(parsed):
            ack()
            return _answer_later(sub, parsed, runtime, action)
        answer = sub.run(parsed, runtime)
        _refund_if_no_work(action, parsed, runtime, answer)
        ack(**(answer.as_kwargs() if answer else {}))
        return _after_only(answer) if answer is not None and answer.after else None

    def run_later(later: Later, command: dict[str, Any], respond: Respond) -> None:
        try:
            later(respond)
        except Exception as err:  # noqa: BLE001  (Bolt only logs a lazy listener's errors)
            apologize(err, command, respond)

    def on_cm(ack: Ack, command: dict[str, Any], client: WebClient,
              respond: Respond, context: BoltContext) -> None:
        later = None
        timely = TimelyAck(ack, ACK_BUDGET_SECONDS)
        try:
            later = decide(timely, command, client, installed_enterprise(context))
        finally:
            timely.close()
            late = timely.late()
            if late is not None:
                later = _answer_late(late, later)
            key = Handoff.key(command)
            handed = bool(key) and handoff.give(key, later)
            # No key to hand it over by, or its lazy listener gave up waiting (the ack took
            # longer than HANDOFF_WAIT): the work the ack decided on still runs, here.
            if not handed and later is not None and command.get("response_url"):
                run_later(later, command, respond)

    def answer_cm(command: dict[str, Any], respond: Respond) -> None:
        key = Handoff.key(command)
        later = handoff.take(key, HANDOFF_WAIT) if key else None
        if later is not None:
            run_later(later, command, respond)

    app.command("/cm")(ack=on_cm, lazy=[answer_cm])
