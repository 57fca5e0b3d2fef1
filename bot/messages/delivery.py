"""The interfaces services use to reach the outside (Slack or the console)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.messages.cards import CardSpec
from bot.messages.digest import DigestSpec
from bot.messages.home import HomeSpec
from bot.messages.notes import Note, NoteWithMentions
from bot.messages.opportunities import OpportunitySpec
from bot.messages.spikes import SpikeAlertSpec

MessageSpec = (Note | NoteWithMentions | CardSpec | OpportunitySpec | SpikeAlertSpec
               | DigestSpec)
"""What a service hands over instead of Block Kit; the notifier renders it when sending."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to post or update: plain-text fallback, Block Kit blocks and metadata.

    Services give a ``spec`` (and no text or blocks); the notifier renders it
    (``bot.slack.render``) into ``text`` and ``blocks`` when it sends the message."""

    channel: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    event_type: str | None = None
    event_payload: dict[str, Any] | None = None
    team_id: str | None = None
    """The workspace it goes to (picks the bot token when Vigie is installed in several)."""
    spec: MessageSpec | None = None
    """Typed content rendered at send time; when set, ``text`` and ``blocks`` are ignored."""


TOKEN_ERRORS = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "team_access_not_granted", "org_login_required", "ekm_access_denied", "not_installed",
})
"""Answers that mean the workspace's bot token cannot be used at all (app uninstalled,
token revoked or expired, workspace deleted or migrating, posting suspended by an admin,
no token stored for the team): nothing for that workspace will succeed until a human acts,
so its outbox is paused instead of failing every row. ``not_installed`` is ours: the
installation store has no bot token for the team."""


POSTING_REFUSED = frozenset({"missing_scope", "not_allowed_token_type"})
"""Answers of chat.postMessage and chat.update that mean the bot token may post nothing at
all, though Slack accepts it: ``missing_scope``, "The token used is not granted the specific
scope permissions required to complete this request" (the app installed again without
``chat:write``; Slack names the scope in the answer's ``needed``), and
``not_allowed_token_type``, "The token type used in this request is not allowed" (not a
bot token); chat.postMessage's Errors table
(https://docs.slack.dev/reference/methods/chat.postMessage). As with a refused token
(TOKEN_ERRORS), nothing for that workspace will be posted until a human acts, not even a DM
telling its admins, so its outbox is paused instead of failing every row. Only a message
posted or updated ends that pause: another call going through (``auth.test``, an upload)
proves nothing of ``chat:write``.

Not ``no_permission`` ("The workspace token used in this request does not have the
permissions necessary to complete the request. Make sure your app is a member of the
conversation it's attempting to post a message to", same table): it is about one
conversation, and about workspace tokens, which Slack retired."""


CHANNEL_ERRORS = frozenset({
    "channel_not_found", "is_archived", "not_in_channel", "restricted_action",
    "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
})
"""Answers of chat.postMessage that mean the bot cannot post its alerts in that channel (a
private channel it is not in or a deleted one, an archived one, a public one without
``chat:write.public``, a channel where posting, or posting outside threads, is restricted;
chat.postMessage's Errors table): nothing more will reach that channel until a human
invites the bot or moves the watch, so its admins are told.

Not ``restricted_action_non_threadable_channel`` ("Cannot post thread replies into a
non_threadable channel") nor ``restricted_action_thread_locked``: they refuse a reply in a
thread, never the card itself, so the alerts still arrive and only that note fails."""


THREADS_OFF = "restricted_action_non_threadable_channel"
"""chat.postMessage's answer to a reply in a thread of a channel where threads are turned
off: the note is lost, the channel still takes the alerts (see CHANNEL_ERRORS)."""


NOT_POSTED_ERRORS = frozenset({"ratelimited"})
"""Answers that prove the message was not posted: Slack refuses a rate-limited call before
acting on it (HTTP 429 with ``Retry-After``, https://docs.slack.dev/apis/web-api/rate-limits),
so a retry need not look in the channel for it first. Timeouts, 5xx and ``internal_error``
prove nothing: Slack may have posted before it failed."""


SLACK_CALL_TIMEOUT_SECONDS = 15
"""The longest one call to Slack may take (the Web API client's timeout,
``bot.slack.client``): the outbox starts a call only when it would end within its send's
budget (``bot.services.outbox.SEND_BUDGET``)."""
LOOKUP_CALLS_PER_MINUTE = 40.0
LOOKUP_BURST = 10
"""A look-up budget's default (``LookupBudget``): at most ``LOOKUP_BURST`` calls at once,
then ``LOOKUP_CALLS_PER_MINUTE`` a minute, per workspace, so that no minute holds more than
50. conversations.history and conversations.replies are Tier 3 methods, "50+ per minute",
limits counted "per API method per workspace/team per app"
(https://docs.slack.dev/apis/web-api/rate-limits; each method's page,
https://docs.slack.dev/reference/methods/conversations.history, "Rate limits: Tier 3")."""


class LookupBudget:
    """How many look-up calls (``conversations.history``/``replies``, one per page) may be
    made now, per workspace: a token bucket of ``burst`` calls refilled at ``per_minute``
    on ``clock`` (seconds). A wave of Slack 5xx leaves many messages that may have been
    posted, each read back page after page before and after it is posted again: unbounded,
    their look-ups would use up the tier, and Slack's 429s then hold every channel back.
    Kept by each sender in its process; Slack's own 429 (with ``Retry-After``) still
    stops them all when together they ask too much."""

    def __init__(self, per_minute: float = LOOKUP_CALLS_PER_MINUTE, burst: int = LOOKUP_BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str | None, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, team_id: str | None) -> float:
        """Spend one call of ``team_id``'s budget: 0 when it was there, else the seconds
        until one is (nothing spent)."""
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(team_id, (self._burst, now))
            tokens = min(self._burst, tokens + max(0.0, now - at) * self._rate)
            if tokens < 1.0:
                self._buckets[team_id] = (tokens, now)
                return (1.0 - tokens) / self._rate
            self._buckets[team_id] = (tokens - 1.0, now)
            return 0.0


class DeliveryError(Exception):
    """Posting failed. ``retry_after`` is set when it may succeed later (429, 5xx, network);
    ``code`` is Slack's error code when Slack answered one.

    ``asked``: ``retry_after`` is the ``Retry-After`` header of an HTTP 429, the wait Slack's
    rate limiter asked for ("a Retry-After header containing the number of seconds until
    you can retry", https://docs.slack.dev/apis/web-api/rate-limits), so even a short one is
    taken as is. Any other ``retry_after`` (a 5xx, ``internal_error``, a dropped connection)
    is our guess for a first retry: a sender backs off from it, so a Slack outage of hours
    does not use up its retries in minutes."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 code: str | None = None, asked: bool = False, posting: bool = False,
                 needed: str | None = None, join_refused: str | None = None,
                 unshared: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.code = code
        self.asked = asked
        self.posting = posting
        """Raised by posting or updating a message (chat.postMessage, chat.update)."""
        self.needed = needed
        """The scope Slack said the call needs (``needed`` of a ``missing_scope``)."""
        self.join_refused = join_refused
        """A file refused with ``not_in_channel``: Slack's answer when Vigie then tried to
        join the channel (``missing_scope`` without ``channels:join``,
        ``method_not_supported_for_channel_type`` for a private channel...)."""
        self.unshared = unshared
        """The file being uploaded is certainly shared nowhere (Slack refused its share
        with ``not_in_channel``, then the upload stopped before sharing it again)."""

    @property
    def retryable(self) -> bool:
        """True when trying again later makes sense."""
        return self.retry_after is not None

    @property
    def token_dead(self) -> bool:
        """True when the workspace's token was refused: hold its messages, tell a human."""
        return self.code in TOKEN_ERRORS

    @property
    def nothing_posted(self) -> bool:
        """True when Slack certainly did not post the message (see NOT_POSTED_ERRORS, a
        refused token, with which nothing is posted at all, and a token that may not post,
        POSTING_REFUSED). It speaks of the call that
        raised it only: raised by ``find_posted``, it says nothing of an earlier post."""
        return (self.code in NOT_POSTED_ERRORS or self.token_dead or self.posting_refused
                or self.unshared)

    @property
    def spends_no_attempt(self) -> bool:
        """True when a sender should not count this failure among the row's attempts: a
        rate-limited call, a refused token or a bot that may not post did nothing, and
        Slack's pacing (or the pause) decides when to try again. A file left unshared
        after a failing join is not one of them, though nothing was posted: its retries
        upload the file again each time, so they back off and end as any failure does."""
        return (self.code in NOT_POSTED_ERRORS or self.token_dead
                or self.posting_refused)

    @property
    def posting_refused(self) -> bool:
        """True when Slack refused the bot any message at all: see POSTING_REFUSED."""
        return self.posting and self.code in POSTING_REFUSED

    @property
    def pauses(self) -> bool:
        """True when nothing for the workspace can go out until a human acts (a refused
        token, or one that may not post): its outbox waits instead of failing its rows."""
        return self.token_dead or self.posting_refused

    @property
    def channel_refused(self) -> bool:
        """True when Slack refused the channel itself, not the message: see CHANNEL_ERRORS."""
        return self.code in CHANNEL_ERRORS

    @property
    def threads_off(self) -> bool:
        """True when Slack refused a thread reply because the channel has no threads."""
        return self.code == THREADS_OFF


class Notifier(Protocol):
    """Where alerts and card updates go: Slack in production, the console without it."""

    def post(self, message: OutgoingMessage) -> str:
        """Post a message; return its timestamp id (``ts``). Raises DeliveryError."""

    def update(self, ts: str, message: OutgoingMessage) -> None:
        """Replace the message ``ts`` in ``message.channel``. Raises DeliveryError."""

    def upload_file(self, channel: str, filename: str, content: bytes, *, title: str,
                    comment: str | None = None, thread_ts: str | None = None,
                    team_id: str | None = None,
                    on_file_id: Callable[[str], None] | None = None,
                    before_step: Callable[[], None] | None = None) -> None:
        """Share a file (a chart PNG, a CSV export) in a channel. Raises DeliveryError.
        ``on_file_id`` is told the file's id before it is shared, for ``find_file``;
        ``before_step`` is called before each earlier call (asking for the file's place,
        sending its bytes). An exception either raises goes through: the file is not
        shared."""

    def delete_file(self, file_id: str, team_id: str | None = None) -> None:
        """Delete file ``file_id`` that Vigie uploaded (unsharing it everywhere). Raises
        DeliveryError."""

    def find_file(self, channel: str, file_id: str, team_id: str | None = None,
                  thread_ts: str | None = None, since: datetime | None = None, *,
                  budget: LookupBudget | None = None) -> bool:
        """True when file ``file_id`` (from ``upload_file``'s ``on_file_id``) is shared in
        the channel (or thread) already, so a retry whose answer was lost does not share it
        twice. Raises DeliveryError when Slack cannot say, or when ``budget`` has no call
        left for it (code ``ratelimited``, as Slack's 429: nothing was read)."""

    def find_posted(self, channel: str, event_type: str, key: str, key_value: Any,
                    team_id: str | None = None, thread_ts: str | None = None,
                    since: datetime | None = None) -> str | None:
        """Find a message we already posted (metadata ``event_type`` with payload
        ``key == key_value``) so a crash between posting and recording does not post twice.
        ``since``: no such message is older (its outbox row's creation): every message
        after it is read, not only the latest ones."""

    def find_all_posted(self, channel: str, event_type: str, key: str, key_value: Any,
                        team_id: str | None = None, thread_ts: str | None = None,
                        since: datetime | None = None, *,
                        also: Mapping[str, Any] | None = None,
                        token: tuple[str, Any] | None = None,
                        budget: LookupBudget | None = None) -> list[str]:
        """The ts of every message ``find_posted`` would find whose metadata has the values
        of ``also`` and ``token`` too (``metadata_matches``), in no particular order.
        Raises DeliveryError when the look-up fails, or as ``find_file`` when ``budget``
        has no call left for it."""

    def check_token(self, team_id: str | None = None) -> None:
        """Ask Slack whether it accepts the bot token the messages of ``team_id`` go with
        (``auth.test``): what ends an outbox paused on a refused token when no message is
        due to try. Raises DeliveryError (``token_dead`` when the token is refused,
        ``retryable`` when Slack could not tell)."""

    def delete(self, channel: str, ts: str, team_id: str | None = None) -> None:
        """Delete message ``ts`` that Vigie posted in ``channel``. Raises DeliveryError."""


def metadata_matches(metadata: Mapping[str, Any], event_type: str, key: str, key_value: Any,
                     also: Mapping[str, Any] | None = None,
                     token: tuple[str, Any] | None = None) -> bool:
    """True when a posted message's ``metadata`` is of ``event_type`` with payload
    ``key == key_value`` and the values of ``also`` (an absent key reads as None: Slack
    takes no null). ``token``, a key and its value, tells apart messages that share those
    values but not their origin: a message carrying the key must carry that value; one
    without it (posted by a release that did not write it) is matched on the others only."""
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != event_type or payload.get(key) != key_value:
        return False
    if any(payload.get(name) != value for name, value in (also or {}).items()):
        return False
    return token is None or token[0] not in payload or payload[token[0]] == token[1]


@dataclass(frozen=True, slots=True)
class SlackAccount:
    """What Slack says about a user id (``users.info``), as far as giving them work goes."""

    found: bool
    """False when Slack knows no such user in the workspace (or may not show them)."""
    is_bot: bool = False
    """A bot or app user (Slackbot included), which cannot answer anyone."""
    deleted: bool = False
    """A deactivated account."""
    guest: bool = False
    """A multi- or single-channel guest, who sees only the channels they were invited to."""
    locale: str | None = None
    """Their Slack locale (``fr-FR``), which Slack gives only when asked for it."""
    name: str | None = None
    """The name Slack shows for them (their display name, else their full name)."""
    teams: frozenset[str] = frozenset()
    """The workspaces and Enterprise Grid org Slack says they belong to (``team_id``,
    ``enterprise_user.enterprise_id`` and ``enterprise_user.teams``); empty when it does
    not say."""
    stranger: bool = False
    """Slack's ``is_stranger``: of another workspace than the one the token is for."""
    external: bool = False
    """Of another organisation than the installation's (Slack Connect): set by the
    directory that knows the installation (:meth:`of_other_org`), never cached."""

    def of_other_org(self, home: frozenset[str]) -> bool:
        """Whether this user belongs to another organisation than the one of ``home`` (the
        installation's workspace id, and its Grid org's id when known): Slack calls them a
        stranger, or none of the teams it names is one of ``home``. Not when Slack names
        no team, or ``home`` is unknown (empty)."""
        if self.stranger:
            return True
        return bool(self.teams) and bool(home) and not (self.teams & home)


class UserDirectory(Protocol):
    """Looks a user up (Slack's ``users.info``); absent without Slack (console, CLI)."""

    def account(self, user_id: str) -> SlackAccount | None:
        """What Slack says about ``user_id``; None when Slack could not be asked."""


class UserDirectories(Protocol):
    """Slack's directory of each workspace, for work no request carries (outbox DMs, App
    Home refreshes): the workspace's own bot token, the process's cached answers."""

    def for_workspace(self, workspace_id: int, team_id: str | None) -> UserDirectory:
        """The directory of workspace ``workspace_id`` (Slack team ``team_id``)."""


@runtime_checkable
class ChannelChecker(Protocol):
    """A notifier that can ask Slack, before a watch is bound to a channel, whether Vigie
    may post there (the console cannot: it has no channels)."""

    def channel_problem(self, channel: str, team_id: str | None = None) -> str | None:
        """Slack's reason Vigie cannot post in ``channel`` (``channel_not_found``,
        ``is_archived``), or None when it can or when Slack could not tell;
        ``not_in_channel``: a public channel the bot is not in, where messages go but
        files (charts) need the bot to join first."""


class HomePublisher(Protocol):
    """Publishes a user's App Home view (Slack's ``views.publish``)."""

    def publish_home(self, team_id: str | None, user_id: str, home: HomeSpec) -> None:
        """Render ``home`` and publish it as ``user_id``'s Home tab. Raises DeliveryError."""
