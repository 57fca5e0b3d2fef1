"""The Slack implementation of the UserDirectory port (``users.info``)."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.messages.delivery import SlackAccount

log = logging.getLogger(__name__)

SLACKBOT = "USLACKBOT"
"""Slackbot's id: Slack's user object says ``is_bot`` false for it ("Slackbot is special"),
but it is no one to hand work to."""
UNKNOWN_USER = frozenset({"user_not_found", "user_not_visible"})
"""users.info answers meaning there is no such user to see in this workspace."""


LOOKUP_TIMEOUT_SECONDS = 1
"""A look-up runs before the request is acknowledged (Slack waits 3 s): one short try, no
retry (the listener client waits out a rate limit and retries, seconds past that). Its
client has no retry handler, so a 429 reaches :meth:`SlackUserDirectory._ask` at once,
Retry-After and all, and the wait is :meth:`AccountCache.hold_off`'s: no call, no sleep."""


CACHE_SECONDS = 300.0
"""How long an answer of ``users.info`` is trusted before Slack is asked again.

users.info is a Tier 4 method, "100+ per minute" (the method's reference, as mirrored in
slack_kit's priv/docs/methods/users.info.json: "Tier 4: 100+ per minute"), and Slack counts
it "per API method per workspace/team per app" (https://docs.slack.dev/apis/web-api/rate-limits,
"Web API Tier 4 ... 100+ per minute"). Every request is checked before its
3-second ack, so without a cache a team clicking through a crisis spends that budget and
waits for Slack each time. Five minutes weighs the two sides: an account Slack turns from
member into guest (or back) is treated as such within 5 minutes (about the time an admin
takes to change it and tell the person), and a busy user costs one look-up per 5 minutes,
not one per click: 50 people working a crisis make ~10 calls a minute, a tenth of the
method's budget, the rest left to assignments' look-ups and App Home refreshes, which share
it."""
CACHE_SIZE = 10_000
"""Users remembered at most per process; the least recently asked go first."""

SHARED_WAIT_SECONDS = 2 * LOOKUP_TIMEOUT_SECONDS
"""How long a look-up waits for the same user's look-up already under way
(:meth:`AccountCache.lookup`): about the longest that call takes (its connection and its
answer each get ``LOOKUP_TIMEOUT_SECONDS``), still well within Slack's 3-second ack."""

RETRY_AFTER_DEFAULT_SECONDS = 30.0
"""How long users.info is not called after a 429 that says no Retry-After (Slack always
sends one; a proxy in between might not)."""
RETRY_AFTER_MAX_SECONDS = 3600.0
"""The longest Retry-After taken as is: a larger one (a broken header) is not allowed to
leave every new user unchecked for longer than an hour."""


def retry_after(headers: Mapping[str, Any] | None) -> float:
    """Seconds a 429 answer's ``Retry-After`` header asks to wait (whole seconds, as Slack
    sends it), within 0 and :data:`RETRY_AFTER_MAX_SECONDS`; the default without one.

    Slack answers a rate-limited call "HTTP 429 Too Many Requests" with "a Retry-After
    header containing the number of seconds until you can retry"
    (https://api.slack.com/docs/rate-limits, "Responding to rate limiting conditions"),
    and counts the limits "per API method per workspace/team per app"
    (https://docs.slack.dev/apis/web-api/rate-limits): users.info (Tier 4) is refused to
    Vigie for every user of that workspace until then, so it is not called there for
    anyone (:meth:`AccountCache.hold_off`); calling anyway only earns more 429s, and
    each such call would hold a request before its ack for nothing."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                seconds = float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                break
            if math.isfinite(seconds):
                return min(max(seconds, 0.0), RETRY_AFTER_MAX_SECONDS)
    return RETRY_AFTER_DEFAULT_SECONDS


class AccountCache:
    """Slack's answers about users, per process and per (workspace, user). Thread-safe:
    the listeners run concurrently.

    An answer is fresh for ``seconds`` (:meth:`get`); after that Slack is asked again, but
    the answer is kept (until the size bound drops it) as the last known one
    (:meth:`last_known`), for when Slack cannot answer. A failed look-up is not kept.

    :meth:`lookup` asks Slack through it: look-ups of one user at the same moment share
    one call, and none is made in a workspace Slack rate limited (:meth:`hold_off`)."""

    def __init__(self, seconds: float = CACHE_SECONDS, size: int = CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Hashable, str], tuple[float, SlackAccount]] = \
            OrderedDict()
        self._flights: dict[tuple[Hashable, str], threading.Event] = {}
        """The look-ups under way, each done when its answer (or failure) is in."""
        self._quiet_until: dict[Hashable, float] = {}
        """Per workspace, when Slack lets users.info be called again after a 429."""

    def get(self, workspace: Hashable, user_id: str) -> SlackAccount | None:
        """The answer kept for ``user_id`` in ``workspace``, if still fresh."""
        with self._lock:
            return self._read((workspace, user_id), fresh=True)

    def last_known(self, workspace: Hashable, user_id: str) -> SlackAccount | None:
        """The last answer Slack gave about ``user_id`` in ``workspace``, however old."""
        with self._lock:
            return self._read((workspace, user_id), fresh=False)

    def _read(self, key: tuple[Hashable, str], *, fresh: bool) -> SlackAccount | None:
        item = self._items.get(key)
        if item is None or (fresh and self._clock() - item[0] >= self._seconds):
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, workspace: Hashable, user_id: str, account: SlackAccount) -> None:
        """Keep Slack's answer about ``user_id`` in ``workspace``."""
        with self._lock:
            self._put((workspace, user_id), account)

    def _put(self, key: tuple[Hashable, str], account: SlackAccount) -> None:
        self._items[key] = (self._clock(), account)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def hold_off(self, workspace: Hashable, seconds: float) -> None:
        """Slack rate limited users.info in ``workspace`` for ``seconds`` (its 429's
        Retry-After): :meth:`lookup` calls it for nobody there until then."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._quiet_until.get(workspace, until - 1):
                self._quiet_until[workspace] = until

    def _held_off(self, workspace: Hashable) -> bool:
        until = self._quiet_until.get(workspace)
        if until is None:
            return False
        if self._clock() < until:
            return True
        del self._quiet_until[workspace]
        return False

    def lookup(self, workspace: Hashable, user_id: str,
               ask: Callable[[], SlackAccount | None]) -> SlackAccount | None:
        """Slack's answer about ``user_id`` in ``workspace``: the one kept if fresh, else
        ``ask`` Slack (None when it cannot answer) and keep its answer; when Slack cannot
        answer or may not be asked (rate limited, :meth:`hold_off`), the last answer it
        gave, however old; None when it never gave one.

        One call per user at a time: a look-up of a user already being asked about waits
        for that call's answer (at most :data:`SHARED_WAIT_SECONDS`, about as long as a
        call of its own would take) instead of making a second one; bolt runs the
        listeners in a thread pool, so a user's double click, or a command and its App
        Home refresh, arrive together."""
        key = (workspace, user_id)
        with self._lock:
            account = self._read(key, fresh=True)
            if account is not None:
                return account
            if self._held_off(workspace):
                return self._read(key, fresh=False)
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = threading.Event()
        if not leading:
            flight.wait(SHARED_WAIT_SECONDS)
            return self.last_known(workspace, user_id)
        account = None
        try:
            account = ask()
        finally:
            with self._lock:
                if account is not None:
                    self._put(key, account)
                del self._flights[key]
            flight.set()
        # Slack could not answer: what it said last time, however old, is a better guess
        # than none (a guest stays a guest through an outage).
        return account if account is not None else self.last_known(workspace, user_id)


class SlackUserDirectory:
    """Looks users up with the listener's token (the right one for its workspace), quickly;
    with ``cache``, Slack's answers about users of ``workspace`` are reused a while.

    One directory serves one request (each listener builds its own) and asks Slack about a
    user once: `/cm assign 41 42 43 @ana` checks Ana for every mention with one
    ``users.info``, and a look-up that failed is not tried again for the next mention (it
    would wait as long, for the same answer); only answers go to the process's cache."""

    def __init__(self, client: WebClient, *, cache: AccountCache | None = None,
                 workspace: Hashable = None, home: frozenset[str] = frozenset()) -> None:
        self._client = WebClient(
            token=client.token, base_url=client.base_url, timeout=LOOKUP_TIMEOUT_SECONDS,
            ssl=client.ssl, proxy=client.proxy, headers=client.headers, retry_handlers=[])
        self._cache = cache
        self._workspace = workspace
        self._home = home
        """The installation's workspace id (and Grid org id): whoever Slack places in
        none of them is of another organisation (``SlackAccount.external``)."""
        self._answers: dict[str, SlackAccount | None] = {}

    def account(self, user_id: str) -> SlackAccount | None:
        """What ``users.info`` says about ``user_id`` (or said a moment ago; or, when Slack
        cannot answer, the last thing it said); None when Slack could not answer (network,
        rate limit, missing scope) and never did, which the caller treats as unknown.
        Asked once per directory, then remembered."""
        if user_id not in self._answers:
            self._answers[user_id] = self._marked(self._cached(user_id))
        return self._answers[user_id]

    def _marked(self, account: SlackAccount | None) -> SlackAccount | None:
        # The cache keeps Slack's words only; whether they make the user an outsider is
        # this installation's reading of them.
        if account is None or not account.found or not account.of_other_org(self._home):
            return account
        return replace(account, external=True)

    def known(self, user_id: str) -> SlackAccount | None:
        """What Slack already said about ``user_id``, to this directory or to the process
        (however long ago), without asking it: None when it never answered."""
        if user_id in self._answers:
            return self._answers[user_id]
        return self._marked(self._cache.last_known(self._workspace, user_id)
                            if self._cache is not None else None)

    def without_asking(self) -> KnownUsers:
        """This directory reduced to what Slack already said (:meth:`known`)."""
        return KnownUsers(self)

    def _cached(self, user_id: str) -> SlackAccount | None:
        if self._cache is None:
            return self._ask(user_id)
        return self._cache.lookup(self._workspace, user_id, lambda: self._ask(user_id))

    def _ask(self, user_id: str) -> SlackAccount | None:
        if not self._client.token:
            return None  # no token to ask with (Slack is not configured)
        try:
            user = self._client.users_info(user=user_id, include_locale=True).get("user") or {}
        except SlackApiError as err:
            code = err.response.get("error") if err.response is not None else None
            if code in UNKNOWN_USER:
                return SlackAccount(found=False)
            if err.response is not None and (err.response.status_code == 429
                                             or code == "ratelimited"):
                wait = retry_after(err.response.headers)
                if self._cache is not None:
                    self._cache.hold_off(self._workspace, wait)
                log.warning("users.info for %s rate limited: no call in this workspace "
                            "for %.0f s", user_id, wait)
                return None
            log.warning("users.info for %s failed: %s", user_id, code)
            return None
        except (SlackClientError, OSError) as err:
            log.warning("users.info for %s failed: %s", user_id, type(err).__name__)
            return None
        # is_restricted is any guest; is_ultra_restricted, a single-channel one, comes with
        # it, but either one is enough to tell.
        return SlackAccount(found=True,
                            is_bot=bool(user.get("is_bot")) or user_id == SLACKBOT,
                            deleted=bool(user.get("deleted")),
                            guest=bool(user.get("is_restricted"))
                            or bool(user.get("is_ultra_restricted")),
                            locale=str(user["locale"]) if user.get("locale") else None,
                            name=shown_name(user), teams=teams_of(user),
                            stranger=bool(user.get("is_stranger")))


class KnownUsers:
    """A directory that never asks Slack, for what a request shows before its ack: a
    modal's refusal goes in the ack, which Slack wants within 3 seconds, so naming
    someone there must not wait on ``users.info``. Someone Slack never described is
    shown as a user reference instead."""

    def __init__(self, directory: SlackUserDirectory) -> None:
        self._directory = directory

    def account(self, user_id: str) -> SlackAccount | None:
        """What Slack already said about ``user_id`` (None: never asked, or no answer)."""
        return self._directory.known(user_id)


def teams_of(user: Mapping[str, Any]) -> frozenset[str]:
    """The workspaces and org a ``users.info`` user belongs to: ``team_id``, and on
    Enterprise Grid ``enterprise_user``'s org and workspaces (a colleague of another
    workspace of the same org is one of them, a Slack Connect partner is not)."""
    grid = user.get("enterprise_user")
    if not isinstance(grid, dict):
        grid = {}
    teams = grid.get("teams")
    ids = [user.get("team_id"), user.get("enterprise_id"), grid.get("enterprise_id"),
           *(teams if isinstance(teams, list) else [])]
    return frozenset(str(i) for i in ids if isinstance(i, str) and i)


def shown_name(user: Mapping[str, Any]) -> str | None:
    """The name Slack shows for a ``users.info`` user: the display name they chose, else
    their full name, else their username; None when it gives none."""
    profile = user.get("profile") or {}
    for value in (profile.get("display_name"), profile.get("real_name"),
                  user.get("real_name"), user.get("name")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class _Unanswered:
    """The directory of a workspace Vigie has no token for: Slack cannot be asked."""

    def account(self, user_id: str) -> SlackAccount | None:
        """None: Slack could not be asked."""
        return None


class SlackUserDirectories:
    """Slack's directory of each workspace for background work (outbox DMs, App Home
    refreshes), with ``token_for_team`` each workspace's own bot token (the client's
    otherwise), sharing the process's ``cache`` with the listeners: a user a request
    looked up a moment ago is not asked about again."""

    def __init__(self, client: WebClient,
                 token_for_team: Callable[[str], str | None] | None = None, *,
                 cache: AccountCache | None = None) -> None:
        self._client = client
        self._token_for_team = token_for_team
        self._cache = cache

    def for_workspace(self, workspace_id: int, team_id: str | None
                      ) -> SlackUserDirectory | _Unanswered:
        """The directory of workspace ``workspace_id`` (its answers cached under that id,
        as the listeners cache them)."""
        client = self._client
        if self._token_for_team is not None and team_id:
            token = self._token_for_team(team_id)
            if token is None:
                return _Unanswered()
            client = WebClient(token=token, base_url=client.base_url, ssl=client.ssl,
                               proxy=client.proxy, headers=client.headers)
        return SlackUserDirectory(client, cache=self._cache, workspace=workspace_id,
                                  home=frozenset({team_id}) if team_id else frozenset())
