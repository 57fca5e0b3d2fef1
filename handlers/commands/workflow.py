"""`/cm mentions`, `show`, `assign`, `draft`, `approve`, `reject`, `withdraw`, `replied`,
`ignore`, `reopen`, `role` and `lang`: parse, then call one service."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.i18n import t
from bot.matching.query import FIELDS, is_quoted, split_terms, standing_alone
from bot.networks import normalize_network
from bot.runtime import Runtime
from bot.services import cases, forgotten, members, privacy, workflow
from bot.services.errors import ServiceError
from bot.services.history import load_mention
from bot.services.mention_search import (
    MentionFilter,
    parse_duration,
    search_mentions,
    sentiment_of,
    status_of,
    topic_of,
)
from bot.services.permissions import ANYONE, Role
from bot.services.workflow_each import do_each
from bot.slack.cards import build_card
from bot.slack.conversation_blocks import build_conversation
from bot.slack.escape import escape
from bot.slack.mention_views import PAGE_SIZE, build_history, build_mention_list
from handlers.commands.parsing import (
    leading_ids,
    number_of,
    text_after,
    typed_handle,
    typed_text,
    unescape,
    user_id_of,
    version_of,
)
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Verb, Verbs
from handlers.drafting import editor_context, open_draft_editor

log = logging.getLogger(__name__)

CONFIRM_WORDS = frozenset({"confirm", "confirmer"})
"""What `/cm approve ID vN confirm` says to acknowledge a draft's warnings."""
DOUBLE_QUOTES = str.maketrans(dict.fromkeys("“”„«»", '"'))
"""The double quotes a Slack client may type, as the search reads them."""
FILTER_KEYS = {"status", "sentiment", "source", "watch", "assignee", "since", "topic"}
QUERY_FIELDS = frozenset(f for f in FIELDS if f not in FILTER_KEYS)
"""Fields of the query language that are no listing filter (``lang:``, ``from:``): part of
the search, as in `vigie mentions --text` and a watch's query."""
LISTING_FILTERS = {
    "status": "status:new", "sentiment": "sentiment:negative", "watch": "watch:acme",
    "assignee": "assignee:me", "since": "since:24h", "topic": "topic:billing"}
"""The filters no query holds (``source:`` is also the query language's), each with an
example: one applies to the whole listing, so it stands apart from the search's groups,
alternatives and exclusions."""
_LISTING_FILTER_IN_GROUP = re.compile(r"[-(]*([A-Za-z]+):")
"""A filter's name after the ``-`` or ``(`` that put it in an exclusion or a group."""


def _mention_id(request: CommandRequest, position: int = 0) -> int:
    value = request.args[position].lstrip("#") if len(request.args) > position else ""
    number = number_of(value)
    if number is None:
        if not value:
            raise ServiceError("list.usage_id", **_usage(request.name))
        raise ServiceError("list.bad_id", value=unescape(value)[:40])
    return number


def _mention_ids(request: CommandRequest, *, last_word: bool = False
                 ) -> tuple[list[int], int]:
    """The mention ids the arguments start with, as ``leading_ids`` reads them (``41,42``,
    ``#41 #42``, or ``41 42`` with nothing else after them but, with ``last_word``, one
    word), and how many arguments they took; none is refused as ``_mention_id`` refuses
    it."""
    ids, used = leading_ids(request.args, last_word=last_word)
    if not ids:
        return [_mention_id(request)], 1
    return ids, used


def _several(*, last_word: bool = False) -> Callable[[CommandRequest], bool]:
    """Whether a request names more than one mention (``leading_ids``): each is its own
    transaction, and an assignee's look-up may wait a second, so such a command is
    acknowledged first and answered after, however many it names (Slack waits 3 s)."""

    def names_several(request: CommandRequest) -> bool:
        ids, _used = leading_ids(request.args, last_word=last_word)
        return len(set(ids)) > 1

    return names_several


def _usage(name: str) -> dict[str, str]:
    """Subcommand ``name``'s usage and its first example giving every required argument (the
    words before the first optional ``[...]``)."""
    sub = REGISTRY.get(name)
    if sub is None:
        return {"usage": f"{name} ID", "example": f"{name} 42"}
    required = len(sub.usage.split("[", 1)[0].split())
    example = next((e for e in sub.examples if len(e.split()) >= required), sub.usage)
    return {"usage": sub.usage, "example": example}


def _rest(request: CommandRequest, start: int) -> str:
    """The free text after the first ``start`` arguments, as typed (``text_after``)."""
    return text_after(request.raw_args, start)


def search_args(raw_args: str) -> list[str]:
    """`/cm mentions` and `/cm export` arguments as typed: cut at the whitespace outside
    quoted phrases, quotes kept, so the search reaches the query language as written
    (``"free trial"`` a phrase, ``-"free trial"`` its exclusion), as `vigie mentions --text`
    hands it over. Curly quotes and guillemets become straight ones first: phones and
    pasting mix them (``"free trial”``, ``”panne”``), which the query language's own pairing
    would refuse."""
    return split_terms(raw_args.translate(DOUBLE_QUOTES))


def parse_filters(args: list[str]) -> MentionFilter:
    """`status:new sentiment:negative since:24h assignee:<@U1|ana> words` -> MentionFilter.

    ``args`` come from ``search_args``: an unquoted ``name:value`` of a listing filter is that
    filter; ``lang:`` and ``from:`` (``QUERY_FIELDS``) are the query language's and go to
    the search with the words, and so does a ``source:`` that does not stand alone
    (``standing_alone``: ``(love source:mastodon)``, ``source:x OR source:mastodon``), as
    `vigie mentions --text` reads it; everything else, quoted pieces included (``"status:new"``),
    is the search, in the watch query language, as typed (Slack's escaping undone) and
    whole: one longer than the query language takes is refused by it, never cut.

    One value per filter: a filter given again with another value is refused, naming it
    (``list.repeated_filter``), rather than one of them silently winning. A filter no query
    holds (``LISTING_FILTERS``: ``status:``...) in a group, an alternative or an exclusion
    (``(status:new OR status:assigned)``, ``-status:new``) is refused, naming it
    (``list.filter_not_alone``), as is one without a value (``list.filter_needs_value``);
    next to an ``AND`` it still stands alone (the loosest operator, as no operator is)."""
    values: dict[str, Any] = {}
    typed: dict[str, str] = {}
    words: dict[int, str | None] = {}  # by position, so that an AND taken with a filter can go
    alone_with_and = _alone_with_and(args)
    for index, (arg, alone) in enumerate(zip(args, standing_alone(args), strict=True)):
        key, sep, value = arg.partition(":")
        dressed = _LISTING_FILTER_IN_GROUP.match(arg)
        if is_quoted(arg):
            words[index] = typed_text(arg)
        elif sep and key.lower() == "source" and not alone:
            words[index] = typed_text(arg)  # in a group or an alternative: the query's
        elif dressed and dressed.group(1).lower() in LISTING_FILTERS and (
                not alone_with_and[index] or dressed.start(1) > 0):
            name = dressed.group(1).lower()
            raise ServiceError("list.filter_not_alone", name=name,
                               typed=unescape(arg)[:40], example=LISTING_FILTERS[name])
        elif sep and key.lower() in FILTER_KEYS:
            key = key.lower()
            if not value and key in LISTING_FILTERS:
                raise ServiceError("list.filter_needs_value", name=key,
                                   example=LISTING_FILTERS[key])
            if key in LISTING_FILTERS:
                _take_and(args, index, words)
            field, parsed = _filter_value(key, value)
            if field in values and _same(values[field]) != _same(parsed):
                raise ServiceError("list.repeated_filter", name=key, first=typed[field][:40],
                                   second=unescape(value)[:40])
            values[field] = parsed
            typed.setdefault(field, unescape(value))
        elif sep and key.lower() in QUERY_FIELDS:
            words[index] = typed_text(arg)
        elif sep and key.isalpha() and key.lower() not in {"http", "https"}:
            raise ServiceError("list.bad_filter", value=unescape(arg)[:40])
        elif index not in words:  # not an AND a filter took
            words[index] = typed_text(arg)
    kept = [word for word in words.values() if word is not None]
    if kept:
        values["text"] = " ".join(kept)
    return MentionFilter(**values)


def _alone_with_and(args: list[str]) -> list[bool]:
    """``standing_alone`` reading each ``AND`` as no operator: at the top level it joins
    whatever is on either side, as a space does (``a AND status:new`` is ``a`` and
    ``status:new``); an ``OR`` binds tighter (``a AND b OR status:new`` is no such
    filter)."""
    kept = [index for index, arg in enumerate(args) if arg != "AND"]
    alone = [False] * len(args)
    for index, flag in zip(kept, standing_alone([args[i] for i in kept]), strict=True):
        alone[index] = flag
    return alone


def _take_and(args: list[str], index: int, words: dict[int, str | None]) -> None:
    """Take out of the search one ``AND`` next to the filter at ``index`` (the one before
    it, else the one after), so the search's words read as they did around it."""
    before, after = index - 1, index + 1
    if before >= 0 and args[before] == "AND" and words.get(before) is not None:
        words[before] = None
    elif after < len(args) and args[after] == "AND" and after not in words:
        words[after] = None


def _same(value: Any) -> Any:
    """A filter value as the listing compares it (watch names ignore case)."""
    return value.lower() if isinstance(value, str) else value


def _filter_value(key: str, value: str) -> tuple[str, Any]:
    """A `/cm mentions` filter's MentionFilter field and value (``key`` lower case)."""
    if key == "since":
        return "since", parse_duration(value)
    if key == "assignee":
        user = user_id_of(value) if value not in {"me", "@me"} else "me"
        if user is None:
            raise ServiceError("role.bad_user", value=unescape(value)[:40])
        return "assignee", user
    if key == "source":  # source:twitter is source:x, as in the query language
        return "network", normalize_network(unescape(value))
    if key == "topic":
        return "topic", topic_of(unescape(value))
    if key == "status":
        return "status", status_of(unescape(value))
    if key == "sentiment":
        return "sentiment", sentiment_of(unescape(value))
    return key, value.lower() if key != "watch" else value


def mention_page(runtime: Runtime, workspace_id: int, user_id: str, filters: MentionFilter,
                 language: str) -> Reply:
    """One page of mentions and, when there are more, a More button for the next page."""
    if filters.assignee == "me":
        filters = MentionFilter(**{**asdict(filters), "assignee": user_id})
    rows = search_mentions(runtime.sessions, workspace_id, filters, limit=PAGE_SIZE + 1,
                           now=runtime.clock())
    more = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        state = {k: v for k, v in asdict(filters).items() if v is not None}
        if "since" in state:
            state["since"] = int(filters.since.total_seconds())  # type: ignore[union-attr]
        more = {**state, "before_id": rows[-1].id}
    text, blocks = build_mention_list(rows, language, more_value=more)
    return Reply(text, blocks)


@REGISTRY.subcommand("mentions", usage="mentions [status:S] [sentiment:S] [source:NETWORK] "
                     "[watch:W] [assignee:@user|me] [topic:T] [since:24h] [words]",
                     examples=("mentions status:new since:24h", "mentions sentiment:negative "
                               "source:mastodon", "mentions assignee:me",
                               "mentions topic:billing", "mentions refund"),
                     role=ANYONE, nudges_outbox=True)
def cmd_mentions(request: CommandRequest, runtime: Runtime) -> Reply:
    """List mentions with filters."""
    return mention_page(runtime, request.workspace_id(runtime), request.user_id,
                        parse_filters(search_args(request.raw_args)), request.language)


@REGISTRY.subcommand("show", usage="show ID", examples=("show 42",),
                     role=ANYONE, nudges_outbox=True)
def cmd_show(request: CommandRequest, runtime: Runtime) -> Reply:
    """The card and its history."""
    workspace_id, mention_id = request.workspace_id(runtime), _mention_id(request)
    view, history = load_mention(runtime.sessions, workspace_id, mention_id)
    text, blocks = build_card(view, request.language)
    posts = cases.load_conversation(runtime.sessions, workspace_id, mention_id)
    return Reply(text, blocks + build_conversation(posts, request.language)
                 + build_history(history, request.language))


@REGISTRY.subcommand("assign", usage="assign ID [ID ...] @user",
                     examples=("assign 42 @ana", "assign 41 42 @ana"),
                     role=Role.AGENT, refusal="workflow.denied", nudges_outbox=True,
                     slow=_several(last_word=True))
def cmd_assign(request: CommandRequest, runtime: Runtime) -> Reply:
    """Assign one or several mentions."""
    mention_ids, used = _mention_ids(request, last_word=True)
    user = user_id_of(request.args[used]) if len(request.args) > used else None
    if user is None:
        return Reply(t(request.language, "list.usage_assign"))
    users = request.directory(runtime)
    workspace_id = request.workspace_id(runtime)
    outcome = do_each(mention_ids, lambda mention_id: workflow.do_assign(
        runtime.sessions, workspace_id, request.actor, mention_id, user, users=users))
    return Reply(outcome.message(request.language))


@REGISTRY.subcommand("draft", usage="draft ID [text]",
                     examples=("draft 42", "draft 42 Thanks for the heads-up, we're on it!"),
                     role=Role.AGENT, refusal="workflow.denied", nudges_outbox=True,
                     free_text=True)
def cmd_draft(request: CommandRequest, runtime: Runtime) -> Reply:
    """Save a draft, or open the editor."""
    mention_id = _mention_id(request)
    workspace_id = request.workspace_id(runtime)
    text = _rest(request, 1)
    if text:
        users = request.directory(runtime)
        outcome = workflow.do_save_draft(
            runtime.sessions, workspace_id, request.actor, mention_id, text,
            link_allowlist=runtime.settings.reply_link_domains, users=users)
        return Reply(outcome.message(request.language))
    ctx = request.user_context(runtime)
    context = editor_context(runtime, ctx, mention_id, request.client)

    def open_editor() -> Reply | None:
        try:
            open_draft_editor(runtime, request.client, ctx, context, request.trigger_id or "")
        except SlackApiError as err:
            code = str(err.response.get("error") or "?")
            log.warning("draft editor for #%s not opened: %s", mention_id, code)
            return Reply(editor_not_opened(request.language, mention_id, code))
        return None

    # The editor opens (and the LLM is asked) right after this reply acknowledges: the
    # reply cannot say it is open yet, and a failure is told through the response URL.
    return Reply(t(request.language, "list.editor_opening", id=mention_id), after=open_editor)


EXPIRED_TRIGGER = frozenset({"expired_trigger_id", "exchanged_trigger_id"})
"""views.open's errors for a trigger used too late or already used: trying again works."""


def editor_not_opened(language: str, mention_id: int, error: str, *,
                      button: bool = False) -> str:
    """Why the draft editor did not open (Slack's ``error``), and what to do: run
    `/cm draft` again, or click the card's Draft button again (``button``)."""
    suffix = "_button" if button else ""
    label = t(language, "card.button_draft")
    if error in EXPIRED_TRIGGER:
        return t(language, f"list.editor_expired{suffix}", id=mention_id, button=label)
    return t(language, f"list.editor_failed{suffix}", id=mention_id,
             error=escape(error[:80]), button=label)


def opportunity_editor_not_opened(language: str, opportunity_id: int, error: str) -> str:
    """Why an opportunity's draft editor did not open (Slack's ``error``), and what to do:
    click its Draft button again, or save the message as text with `/cm opp draft`."""
    label = t(language, "opp.button_opp_draft")
    if error in EXPIRED_TRIGGER:
        return t(language, "opp.editor_expired", id=opportunity_id, button=label)
    return t(language, "opp.editor_failed", id=opportunity_id, error=escape(error[:80]),
             button=label)


@REGISTRY.subcommand("approve",
                     usage="approve ID vN [confirm, for a draft with warnings] "
                           "[reason, for a high-risk draft]",
                     examples=("approve 42", "approve 42 v3", "approve 42 v3 confirm",
                               "approve 42 v3 legal checked the wording"),
                     role=Role.APPROVER, refusal="workflow.denied", nudges_outbox=True,
                     free_text=True)
def cmd_approve(request: CommandRequest, runtime: Runtime) -> Reply:
    """Approve draft version N (as shown by `/cm approve ID` or on the card), nothing else."""
    mention_id = _mention_id(request)
    version = version_of(request.args[1]) if len(request.args) > 1 else None
    if version is None and len(request.args) > 1 and request.args[1][:1] in {"v", "V"}:
        raise ServiceError("list.bad_version", value=unescape(request.args[1])[:40],
                           id=mention_id)
    # Without a version the approver is shown the current draft and approves nothing: a
    # command cannot approve a text its author did not name.
    rest = _rest(request, 2) if version is not None else ""
    # "confirm" acknowledges the warnings, as the button's dialog does; a reason does too.
    confirmed = rest.strip().lower() in CONFIRM_WORDS
    # StaleDraft (a draft to read first) is answered with that draft, as every ServiceError.
    outcome = workflow.do_approve(
        runtime.sessions, request.workspace_id(runtime), request.actor, mention_id,
        version=version, override_reason=None if confirmed else (rest or None),
        warnings_confirmed=confirmed or bool(rest))
    runtime.nudge_replies()
    return Reply(outcome.message(request.language))


@REGISTRY.subcommand("reject", usage="reject ID reason",
                     examples=("reject 42 too formal, use the first name",),
                     role=Role.APPROVER, refusal="workflow.denied", nudges_outbox=True,
                     free_text=True)
def cmd_reject(request: CommandRequest, runtime: Runtime) -> Reply:
    """Send the draft back."""
    outcome = workflow.do_reject(runtime.sessions, request.workspace_id(runtime),
                                 request.actor, _mention_id(request), _rest(request, 1))
    return Reply(outcome.message(request.language))


@REGISTRY.subcommand("withdraw", usage="withdraw ID [reason]",
                     examples=("withdraw 42", "withdraw 42 typo in the order number"),
                     role=Role.APPROVER, refusal="workflow.denied", nudges_outbox=True)
def cmd_withdraw(request: CommandRequest, runtime: Runtime) -> Reply:
    """Withdraw an approval: the draft goes back to drafting, kept."""
    outcome = workflow.do_withdraw(runtime.sessions, request.workspace_id(runtime),
                                   request.actor, _mention_id(request),
                                   reason=_rest(request, 1) or None)
    return Reply(outcome.message(request.language))


@REGISTRY.subcommand("replied", usage="replied ID [ID ...] [reply URL, with one ID]",
                     examples=("replied 42", "replied 42 https://mastodon.social/@acme/1",
                               "replied 41 42"),
                     role=Role.AGENT, refusal="workflow.denied", nudges_outbox=True,
                     slow=_several(last_word=True))
def cmd_replied(request: CommandRequest, runtime: Runtime) -> Reply:
    """Mark one or several mentions as answered."""
    mention_ids, used = _mention_ids(request, last_word=True)
    url = unescape(" ".join(request.args[used:])).strip().strip("<>").split("|")[0] or None
    if url is not None and len(set(mention_ids)) > 1:
        # One reply answers one post: a link given with several ids would be wrong for all
        # but one of them.
        raise ServiceError("workflow.one_reply_url", value=url[:80])
    workspace_id = request.workspace_id(runtime)
    outcome = do_each(mention_ids, lambda mention_id: workflow.do_mark_replied(
        runtime.sessions, workspace_id, request.actor, mention_id, reply_url=url))
    return Reply(outcome.message(request.language))


def _simple(action: str) -> Callable[[CommandRequest, Runtime], Reply]:
    def run(request: CommandRequest, runtime: Runtime) -> Reply:
        mention_ids, used = _mention_ids(request)
        reason = _rest(request, used) or None
        workspace_id = request.workspace_id(runtime)
        outcome = do_each(mention_ids, lambda mention_id: workflow.do_simple(
            runtime.sessions, workspace_id, request.actor, mention_id, action, reason=reason))
        return Reply(outcome.message(request.language))

    run.__doc__ = f"{action.capitalize()} one or several mentions."
    return run


REGISTRY.subcommand("ignore", usage="ignore ID[,ID ...] [reason]",
                    examples=("ignore 42", "ignore 42 spam", "ignore 41 42 43",
                              "ignore 41,42,43 duplicates"),
                    role=Role.AGENT, refusal="workflow.denied", slow=_several(),
                    nudges_outbox=True, free_text=True)(_simple("ignore"))
REGISTRY.subcommand("reopen", usage="reopen ID [ID ...]", examples=("reopen 42", "reopen 41 42"),
                    role=Role.AGENT, refusal="workflow.denied", slow=_several(),
                    nudges_outbox=True, free_text=True)(_simple("reopen"))


def _role_list(request: CommandRequest, runtime: Runtime) -> Reply:
    language = request.language
    workspace_id = request.workspace_id(runtime)
    views = members.list_roles(runtime.sessions, workspace_id)
    default = members.workspace_default_role(runtime.sessions, workspace_id).value
    if not views:
        return Reply(t(language, "role.list_empty", role=default))
    lines = [f"<@{v.user_id}>: *{v.role}*" for v in views]
    return Reply("\n".join([f"*{t(language, 'role.list_title', role=default)}*", *lines]))


def _role_change(request: CommandRequest, runtime: Runtime) -> Reply:
    """`role add @user ROLE` or `role remove @user` (a bad user is named before the usage)."""
    language, action = request.language, request.args[0].lower()
    user = user_id_of(request.args[1])
    if user is None:
        return Reply(t(language, "role.bad_user", value=escape(unescape(request.args[1])[:40])))
    workspace_id = request.workspace_id(runtime)
    if action == "add" and len(request.args) == 3:
        users = request.directory(runtime)
        view = members.do_set_role(runtime.sessions, workspace_id, request.actor, user,
                                   request.args[2], users=users)
        return Reply(t(language, "role.granted", user=f"<@{user}>", role=view.role))
    if action == "remove" and len(request.args) == 2:
        default = members.do_remove_role(runtime.sessions, workspace_id, request.actor, user)
        return Reply(t(language, "role.removed", user=f"<@{user}>", role=default.value))
    return Reply(t(language, "role.usage"))


REGISTRY.verbs("role", Verbs((
    Verb("add", _role_change, ("@user admin|approver|agent|viewer",), count=(1, None),
         role=Role.ADMIN),
    Verb("remove", _role_change, ("@user",), count=(1, None), role=Role.ADMIN),
    Verb("list", _role_list, role=ANYONE),
), usage_key="role.usage", default="list", name_each=True),
    examples=("role add @lea approver", "role list"), nudges_outbox=True, module=__name__)


@REGISTRY.subcommand("lang", usage="lang en|fr", examples=("lang fr",),
                     role=ANYONE, nudges_outbox=True)
def cmd_lang(request: CommandRequest, runtime: Runtime) -> Reply:
    """Choose your language."""
    if not request.args:
        raise ServiceError("list.usage_id", **_usage(request.name))
    language = request.args[0].lower()
    members.do_set_language(runtime.sessions, request.workspace_id(runtime),
                            request.user_id, language)
    return Reply(t(language, "role.lang_set"))


@REGISTRY.subcommand("forget", usage="forget [undo] @handle",
                     examples=("forget @ana@mastodon.social", "forget undo @ana@mastodon.social"),
                     role=Role.ADMIN, nudges_outbox=True)
def cmd_forget(request: CommandRequest, runtime: Runtime) -> Reply:
    """Delete an author's data everywhere, and keep it from coming back (``undo``: let
    their posts be stored again)."""
    args = request.args
    if len(args) == 2 and args[0].lower() == "undo":
        handle = typed_handle(args[1])
        privacy.do_unforget(runtime.sessions, request.workspace_id(runtime), request.actor,
                            handle)
        return Reply(t(request.language, "privacy.unforgotten",
                       handle=forgotten.bare_handle(handle)))
    if len(args) != 1:
        return Reply(t(request.language, "privacy.usage"))
    handle = typed_handle(args[0])
    report = privacy.do_forget(runtime.sessions, request.workspace_id(runtime),
                               request.actor, handle)
    # Their words leave SQLite's search index after the answer (seconds of write lock).
    runtime.nudge_compaction()
    shown = forgotten.bare_handle(handle)
    if not report.authors:
        return Reply(t(request.language, "privacy.forgotten_none", handle=shown))
    return Reply(t(request.language, "privacy.forgotten", authors=report.authors,
                   mentions=report.mentions, handle=shown))
