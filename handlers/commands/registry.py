"""The single registry of `/cm` subcommands: names, usage, examples, who may run them and
their listeners.

Help text, dispatch, the role check and "did you mean" suggestions all come from here;
summaries are looked up in the string catalogue under ``cmd.<name>.summary``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.i18n import has, t
from bot.networks import resolve_network
from bot.runtime import Runtime
from bot.services.actors import Actor
from bot.services.errors import Forbidden, ServiceError, Term
from bot.services.permissions import ANYONE, Role, check_role
from bot.services.workflow import StaleDraft
from bot.slack.approval import build_draft_to_approve
from bot.slack.budget import fitted
from bot.slack.users import SlackUserDirectory
from bot.verbs import SharedVerb
from handlers.context import UserContext, request_directory

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
    guest: bool = False
    """Slack says the user is a guest (``handlers.context.actor_of``)."""
    unchecked: bool = False
    """Slack could not say whether the user is a guest (``handlers.context.actor_of``)."""
    external: bool = False
    """Slack places the user in another organisation (``handlers.context.user_context``)."""
    enterprise_id: str | None = None
    """The Enterprise Grid org of the installation serving the command (None off Grid):
    whom ``users.info`` places in it is no outsider (:meth:`directory`)."""
    typed: str = ""
    """The command as the user typed it (``/cm show 42``), to give back when it is refused
    for a reason that is no fault of theirs."""

    @property
    def actor(self) -> Actor:
        """Who runs the command, as the services' audit names them and check their role."""
        return Actor(self.user_id, SURFACE, guest=self.guest, unchecked=self.unchecked,
                     external=self.external)

    def workspace_id(self, runtime: Runtime) -> int:
        """The id of the workspace the command comes from."""
        return runtime.workspaces.ensure(self.team_id).id

    def user_context(self, runtime: Runtime) -> UserContext:
        """The command's user as a listener's context, for what clicks and commands share
        (the draft editor)."""
        return UserContext(self.workspace_id(runtime), self.user_id, self.language, self.actor,
                           self.enterprise_id)

    def directory(self, runtime: Runtime) -> SlackUserDirectory | None:
        """Slack's directory for what the command does (assignees, grantees, the user
        taking work), judging as a click would (``handlers.context.request_directory``);
        None without a client (Slack is not asked)."""
        client: WebClient | None = self.client
        return (request_directory(runtime, client, self.user_context(runtime))
                if client is not None else None)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the user sees: ephemeral unless ``in_channel``."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    in_channel: bool = False
    did_no_work: bool = False
    """A usage error or a refusal: it does not count against the command's rate limit."""
    after: Callable[[], Reply | None] | None = None
    """Work to do once this answer has acknowledged the command (opening a modal), and
    what it has to say after it, if anything (through the response URL)."""

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
            kwargs["blocks"] = fitted(self.blocks)
        return kwargs


Listener = Callable[[CommandRequest, Runtime], Reply | None]
RateLimitKey = Callable[[CommandRequest, Runtime], str | None]
"""The rate-limited action a request is (``bot.services.ratelimit``), or None when free."""
SlowSpec = bool | Callable[[CommandRequest], bool]
HelpDetails = Callable[[list[str], str], tuple[str, ...]]
"""More help lines, from the words after `/cm help NAME` and the reader's language."""
"""Whether a subcommand is acknowledged first and answered after (see Subcommand): always,
never, or as a function of the request (`/cm ignore` naming several mentions)."""
RoleSpec = Role | Callable[[list[str]], Role]
"""Who may run a verb: a role, or, where it depends on them, a function of the arguments
after the verb (the subcommand's arguments for a subcommand without verbs). ``ANYONE``:
every member."""


def _resolve(spec: RoleSpec, args: list[str]) -> Role:
    return spec if isinstance(spec, Role) else spec(args)


@dataclass(frozen=True, slots=True)
class Verb:
    """One verb of a subcommand, `/cm NAME VERB ARGS`: its argument spec and what it runs.

    ``run`` gets the whole request (``request.args[0]`` is the verb as typed). ``role`` is
    who may run it, checked by ``Subcommand.authorize`` before the arguments are read or a
    rate-limit token is spent; the service checks it again (its own callers: the CLI,
    buttons), and tests/handlers/test_permissions.py holds the two to the same role.
    """

    name: str
    """The word after the subcommand; "" for the subcommand alone (`/cm sla`)."""
    run: Listener
    role: RoleSpec = field(kw_only=True)
    forms: tuple[str, ...] = ("",)
    """The arguments after the verb as help shows them, one per alternative."""
    count: tuple[int, int | None] | None = None
    """How many arguments may follow the verb (at least, at most; None: no limit); a request
    outside it gets the usage. None: ``run`` checks its arguments itself."""
    aliases: tuple[str, ...] = ()
    slow: bool = False
    """Acknowledged first and answered after (see Subcommand) whatever the subcommand's
    ``slow`` says: the verb asks Slack before it answers (a channel check waits up to
    2 s, on top of the caller's own look-up)."""

    @classmethod
    def shared(cls, spec: SharedVerb, run: Listener, *, role: RoleSpec) -> Verb:
        """The `/cm` form of a verb the CLI has too: arguments and their count from ``spec``."""
        return cls(spec.name, run, (spec.form(),), count=spec.count(), role=role)

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

    def chosen(self, request: CommandRequest) -> Verb | None:
        """The verb the request names, when its arguments fit its spec; None: the usage."""
        if request.args:
            word = request.args[0].lower()
            verb = self.find(word) if word else None  # "" names the default, never typed
        else:
            verb = self.find(self.default) if self.default is not None else None
        if verb is None or not verb.accepts(max(len(request.args) - 1, 0)):
            return None
        return verb

    def named(self, request: CommandRequest) -> Verb | None:
        """The verb the request names (the default without arguments), whether or not its
        arguments fit; None when it names none."""
        if request.args:
            word = request.args[0].lower()
            return self.find(word) if word else None
        return self.find(self.default) if self.default is not None else None

    def role_for(self, request: CommandRequest) -> Role:
        """Who may run the verb the request names, whether or not its arguments fit (a
        member below its role hears the refusal, not the usage); ``ANYONE`` when it names
        no verb."""
        verb = self.named(request)
        return ANYONE if verb is None else _resolve(verb.role, request.args[1:])

    def slow_for(self, request: CommandRequest) -> bool:
        """Whether the verb the request names is a slow one (its arguments fitting or not:
        a usage answer is as good after the ack)."""
        verb = self.named(request)
        return verb is not None and verb.slow

    def dispatch(self, request: CommandRequest, runtime: Runtime) -> Reply | None:
        """Run the verb the request names, or answer with the usage."""
        verb = self.chosen(request)
        if verb is None:
            return Reply(t(request.language, self.usage_key), did_no_work=True)
        return verb.run(request, runtime)


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One `/cm` subcommand. ``slow`` ones are acknowledged first and answered by the `/cm`
    lazy listener."""

    name: str
    usage: str
    listener: Listener
    role: RoleSpec | Verbs
    """Who may run it; for a subcommand with verbs, each verb's own ``role``."""
    examples: tuple[str, ...] = ()
    slow: SlowSpec = False
    rate_limit: RateLimitKey | None = None
    nudges_outbox: bool = False
    """A success may have queued Slack messages: wake the outbox sender."""

    module: str = ""
    """The module that registered it."""
    refusal: str = "perm.denied"
    """Catalogue key of the refusal for a member below the role (with ``needed``, ``role``
    and ``action``, the subcommand's name)."""
    free_text: bool = False
    """It reads free text as typed from ``raw_args`` (a draft, a reason): a quote left open
    there is text, not an unreadable command."""
    help_details: HelpDetails | None = None
    """More help lines for `/cm help NAME ARGS...` (given ARGS and the reader's language)."""

    def role_for(self, request: CommandRequest) -> Role:
        """Who may run this request."""
        if isinstance(self.role, Verbs):
            return self.role.role_for(request)
        return _resolve(self.role, request.args)

    def is_slow(self, request: CommandRequest) -> bool:
        """Whether this request is acknowledged first and answered by the lazy listener:
        the subcommand's ``slow``, or its verb's."""
        if isinstance(self.role, Verbs) and self.role.slow_for(request):
            return True
        return self.slow if isinstance(self.slow, bool) else self.slow(request)

    def authorize(self, request: CommandRequest, runtime: Runtime) -> None:
        """Raise Forbidden unless the user has the role the request needs (the one place
        `/cm` checks roles; a guest no admin gave a role is refused every subcommand, and
        a user Slack could not tell about every one but help, with their command given
        back to try again)."""
        try:
            self._authorize(request, runtime)
        except Forbidden as err:
            if err.key != "perm.unchecked":
                raise
            raise Forbidden("perm.unchecked_command", command=request.typed) from err

    def _authorize(self, request: CommandRequest, runtime: Runtime) -> None:
        needed = self.role_for(request)
        if needed == ANYONE:
            # Help shows nothing of the workspace's: it stays open while Slack is out.
            if request.guest or (request.unchecked and self.name != "help"):
                check_role(runtime.sessions, request.workspace_id(runtime), request.actor,
                           needed)
        else:
            # The action as its card button names it ("Mark replied"), in the reader's words.
            button = f"card.button_{self.name}"
            check_role(runtime.sessions, request.workspace_id(runtime), request.actor,
                       needed, self.refusal, action=Term(button) if has(button) else self.name)

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
        self, name: str, *, usage: str, role: RoleSpec, examples: tuple[str, ...] = (),
        slow: SlowSpec = False, rate_limit: RateLimitKey | None = None,
        nudges_outbox: bool = False, refusal: str = "perm.denied", free_text: bool = False,
    ) -> Callable[[Listener], Listener]:
        """Decorator registering ``listener`` as `/cm NAME` (``role``: see RoleSpec;
        ``slow``: see SlowSpec; ``rate_limit``: see RateLimitKey; ``free_text``: see
        Subcommand)."""

        def decorate(listener: Listener) -> Listener:
            if name in self._items:
                raise ValueError(f"/cm {name} is registered twice")
            self._items[name] = Subcommand(name, usage, listener, role, examples, slow,
                                           rate_limit, nudges_outbox, listener.__module__,
                                           refusal, free_text)
            return listener

        return decorate

    def verbs(
        self, name: str, verbs: Verbs, *, examples: tuple[str, ...] = (), slow: SlowSpec = False,
        rate_limit: RateLimitKey | None = None, nudges_outbox: bool = False, module: str,
        free_text: bool = False, help_details: HelpDetails | None = None,
    ) -> None:
        """Register `/cm NAME VERB ...` from its table of verbs (usage and roles come from
        it); ``module``: the registering module's ``__name__``; ``free_text``: one of its
        verbs reads free text; ``help_details``: more help (see Subcommand)."""
        if name in self._items:
            raise ValueError(f"/cm {name} is registered twice")
        self._items[name] = Subcommand(name, verbs.usage(name), verbs.dispatch, verbs,
                                       examples, slow, rate_limit, nudges_outbox, module,
                                       free_text=free_text, help_details=help_details)

    def get(self, name: str) -> Subcommand | None:
        """The subcommand called ``name`` (case-insensitive), if any."""
        return self._items.get(name.lower())

    def all(self) -> list[Subcommand]:
        """Every subcommand, in registration order."""
        return list(self._items.values())

    def suggest(self, name: str) -> str | None:
        """The registered name ``name`` likely meant: ``source`` for a network or source
        kind (``bluesky``, ``twitter``, ``rss``), else the closest name when it is close
        (``wacth``, ``sourc``); None rather than a guess (``help`` for ``bluesky``)."""
        if name and resolve_network(name) is not None and "source" in self._items:
            return "source"
        matches = difflib.get_close_matches(name.lower(), list(self._items), n=1, cutoff=0.6)
        if matches:
            return matches[0]
        prefixed = [item for item in self._items
                    if len(name) >= 3 and item.startswith(name.lower()[:3])]
        return prefixed[0] if prefixed else None


REGISTRY = CommandRegistry()
