"""The single registry of `/cm` subcommands: names, usage, examples and their listeners.

Help text, dispatch and "did you mean" suggestions all come from here; summaries are
looked up in the string catalogue under ``cmd.<name>.summary``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import t
from bot.runtime import Runtime
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.workflow import StaleDraft
from bot.slack.approval import build_draft_to_approve

SURFACE = "slash_command"


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A parsed `/cm` invocation."""

    team_id: str
    user_id: str
    channel_id: str
    language: str
    name: str
    args: list[str]
    raw_args: str
    trigger_id: str | None = None
    client: Any = None
    """The Slack WebClient, for listeners that open a modal."""

    @property
    def actor(self) -> Actor:
        """Who runs the command, as the services' audit names them."""
        return Actor(self.user_id, SURFACE)

    def workspace_id(self, runtime: Runtime) -> int:
        """The id of the workspace the command comes from."""
        return runtime.workspaces.ensure(self.team_id).id


@dataclass(frozen=True, slots=True)
class Reply:
    """What the user sees: ephemeral unless ``in_channel``."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    in_channel: bool = False
    did_no_work: bool = False
    """A usage error or a refusal: it does not count against the command's rate limit."""
    after: Callable[[], None] | None = None
    """Work to do once this answer has acknowledged the command (opening a modal)."""

    @classmethod
    def for_error(cls, err: ServiceError, language: str) -> Reply:
        """The user's explanation of ``err``; for StaleDraft, with the draft to read first."""
        if isinstance(err, StaleDraft):
            text, blocks = build_draft_to_approve(err.message(language), err.draft, language)
            return cls(text, blocks, did_no_work=True)
        return cls(err.message(language), did_no_work=True)

    def as_kwargs(self) -> dict[str, Any]:
        """Arguments for Bolt's ``ack``/``respond``."""
        kwargs: dict[str, Any] = {
            "text": self.text,
            "response_type": "in_channel" if self.in_channel else "ephemeral",
        }
        if self.blocks is not None:
            kwargs["blocks"] = self.blocks
        return kwargs


Listener = Callable[[CommandRequest, Runtime], Reply | None]
RateLimitKey = Callable[[CommandRequest, Runtime], str | None]
"""The rate-limited action a request is (``bot.services.ratelimit``), or None when free."""


@dataclass(frozen=True, slots=True)
class Verb:
    """One verb of a subcommand, `/cm NAME VERB ARGS`: its argument spec and what it runs.

    ``run`` gets the whole request (``request.args[0]`` is the verb as typed). Who may run
    it is the service's to check (``bot.services.permissions``), not the table's, so the
    rule has one home and the user hears the same refusal from Slack and the terminal.
    """

    name: str
    """The word after the subcommand; "" for the subcommand alone (`/cm sla`)."""
    run: Listener
    forms: tuple[str, ...] = ("",)
    """The arguments after the verb as help shows them, one per alternative."""
    count: tuple[int, int | None] | None = None
    """How many arguments may follow the verb (at least, at most; None: no limit); a request
    outside it gets the usage. None: ``run`` checks its arguments itself."""
    aliases: tuple[str, ...] = ()

    def alternatives(self) -> list[str]:
        """The verb's usage alternatives, without the subcommand's name."""
        return [" ".join(part for part in (self.name, form) if part) for form in self.forms]

    def accepts(self, count: int) -> bool:
        """Whether ``count`` arguments after the verb fit its spec."""
        if self.count is None:
            return True
        least, most = self.count
        return count >= least and (most is None or count <= most)


@dataclass(frozen=True, slots=True)
class Verbs:
    """A subcommand's verbs: dispatched on the first argument, with help generated from
    their argument specs."""

    items: tuple[Verb, ...]
    usage_key: str
    """Catalogue key of the answer to a verb that is unknown or has the wrong arguments."""
    default: str | None = None
    """The verb run when no argument is given (None: the usage)."""
    name_each: bool = False
    """Help repeats the subcommand's name in each alternative (`sla | sla set ...`)."""

    def usage(self, name: str) -> str:
        """The usage line of subcommand ``name``."""
        alternatives = [alt for verb in self.items for alt in verb.alternatives()]
        if self.name_each:
            return " | ".join(" ".join(p for p in (name, alt) if p) for alt in alternatives)
        return " | ".join([f"{name} {alternatives[0]}".strip(), *alternatives[1:]])

    def find(self, word: str) -> Verb | None:
        """The verb called ``word`` (lower case) or one of its aliases."""
        return next((verb for verb in self.items
                     if word == verb.name or word in verb.aliases), None)

    def dispatch(self, request: CommandRequest, runtime: Runtime) -> Reply | None:
        """Run the verb the request names, or answer with the usage."""
        if request.args:
            word = request.args[0].lower()
            verb = self.find(word) if word else None  # "" names the default, never typed
        else:
            verb = self.find(self.default) if self.default is not None else None
        if verb is None or not verb.accepts(max(len(request.args) - 1, 0)):
            return Reply(t(request.language, self.usage_key), did_no_work=True)
        return verb.run(request, runtime)


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One `/cm` subcommand. ``slow`` ones are acknowledged first and answered after."""

    name: str
    usage: str
    listener: Listener
    examples: tuple[str, ...] = ()
    slow: bool = False
    rate_limit: RateLimitKey | None = None
    nudges_outbox: bool = False
    """A success may have queued Slack messages: wake the outbox sender."""

    module: str = ""
    """The module that registered it."""

    def run(self, request: CommandRequest, runtime: Runtime) -> Reply | None:
        """Run the listener; a ServiceError becomes the user's explanation (the one place
        `/cm` catches it)."""
        try:
            reply = self.listener(request, runtime)
        except ServiceError as err:
            return Reply.for_error(err, request.language)
        if self.nudges_outbox:
            runtime.nudge_outbox()
        return reply

    @property
    def summary_key(self) -> str:
        """Catalogue key of the one-line description."""
        return f"cmd.{self.name}.summary"


@dataclass
class CommandRegistry:
    """An ordered set of subcommands."""

    _items: dict[str, Subcommand] = field(default_factory=dict)

    def subcommand(
        self, name: str, *, usage: str, examples: tuple[str, ...] = (), slow: bool = False,
        rate_limit: RateLimitKey | None = None, nudges_outbox: bool = False,
    ) -> Callable[[Listener], Listener]:
        """Decorator registering ``listener`` as `/cm NAME` (``rate_limit``: see RateLimitKey)."""

        def decorate(listener: Listener) -> Listener:
            if name in self._items:
                raise ValueError(f"/cm {name} is registered twice")
            self._items[name] = Subcommand(name, usage, listener, examples, slow, rate_limit,
                                           nudges_outbox, listener.__module__)
            return listener

        return decorate

    def verbs(
        self, name: str, verbs: Verbs, *, examples: tuple[str, ...] = (), slow: bool = False,
        rate_limit: RateLimitKey | None = None, nudges_outbox: bool = False, module: str,
    ) -> None:
        """Register `/cm NAME VERB ...` from its table of verbs (usage generated from it);
        ``module``: the registering module's ``__name__``."""
        if name in self._items:
            raise ValueError(f"/cm {name} is registered twice")
        self._items[name] = Subcommand(name, verbs.usage(name), verbs.dispatch, examples, slow,
                                       rate_limit, nudges_outbox, module)

    def get(self, name: str) -> Subcommand | None:
        """The subcommand called ``name`` (case-insensitive), if any."""
        return self._items.get(name.lower())

    def all(self) -> list[Subcommand]:
        """Every subcommand, in registration order."""
        return list(self._items.values())

    def suggest(self, name: str) -> str | None:
        """The registered name closest to ``name``, when one is close enough."""
        matches = difflib.get_close_matches(name.lower(), list(self._items), n=1, cutoff=0.5)
        if matches:
            return matches[0]
        prefixed = [item for item in self._items if item.startswith(name.lower()[:2])]
        return prefixed[0] if name and prefixed else None


REGISTRY = CommandRegistry()
