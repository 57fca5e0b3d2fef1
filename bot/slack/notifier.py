"""The Slack implementation of the Notifier port."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.metadata import Metadata

from bot.messages.delivery import (
    TOKEN_ERRORS,
    DeliveryError,
    LookupBudget,
    OutgoingMessage,
    metadata_matches,
)
from bot.metrics import SLACK_RATE_LIMITED
from bot.slack.budget import MESSAGE_TEXT_BUDGET, blocks_text_length, fitted
from bot.slack.render import rendered

# Slack errors that will not go away by retrying the same call.
PERMANENT_ERRORS = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "msg_too_long",
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope",
    "message_not_found", "cant_update_message", "invalid_arguments", "no_text",
    # The blocks hold more text together than Slack takes (MESSAGE_TEXT_BUDGET): the same
    # message is refused every time. Failed for good, with its size (_refused).
    "msg_blocks_too_long",
}
# Slack errors answered as HTTP 200 ``ok: false`` that a later call may not get ("the
# server could not complete your operation(s) ... likely due to a transient issue on our
# end", each method's Errors table). internal_error and fatal_error may have taken effect:
# the outbox looks a retried message up by its metadata before posting it again.
TRANSIENT_ERRORS = {
    "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
}
TRANSIENT_RETRY_SECONDS = 5.0
"""The first retry after a transient error without a Retry-After: the outbox backs off
from it (``DeliveryError.asked`` is False), up to its cap."""
# conversations.open answers for a user who can never be sent a DM: retrying would only
# hold the rest of that user's DMs back for hours (conversations.open's Errors table).
UNREACHABLE_USER_ERRORS = {"user_not_found", "user_disabled", "cannot_dm_bot",
                           "user_not_visible"}
RECOVERY_SCAN_LIMIT = 200
RECOVERY_SCAN_PAGES = 10
"""At most this many pages of RECOVERY_SCAN_LIMIT messages per look-up: bounded, since
conversations.history is rate-limited (Tier 3) and the look-up holds its channel."""
CHANNEL_CHECK_TIMEOUT_SECONDS = 2
# The channel check runs inside a slash command's 3-second acknowledgement: a Slack that
# does not answer in time is a check that could not tell, not a command that times out.
# The bot cannot read this conversation (a public channel it posts to with chat:write.public
# without being a member): the recovery look-up can only say "nothing found".
UNREADABLE_ERRORS = {"not_in_channel"}

log = logging.getLogger(__name__)


def _retry_after(err: SlackApiError) -> float | None:
    response = err.response
    error = response.get("error") if response is not None else None
    if response is not None and response.status_code == 429:
        SLACK_RATE_LIMITED.inc()
        return float(response.headers.get("Retry-After", response.headers.get("retry-after", 1)))
    if error in PERMANENT_ERRORS:
        return None
    if response is not None and error in TRANSIENT_ERRORS:
        return float(response.headers.get("Retry-After", TRANSIENT_RETRY_SECONDS))
    if response is not None and response.status_code >= 500:
        return 5.0
    return None


def _asked(err: SlackApiError) -> bool:
    """True when ``err`` is an HTTP 429 with a ``Retry-After`` header: the wait Slack's rate
    limiter asked for, not a guess (see ``DeliveryError.asked``)."""
    response = err.response
    return (response is not None and response.status_code == 429
            and any(name.lower() == "retry-after" for name in (response.headers or {})))


def _lookup_retry_after(err: SlackApiError) -> float | None:
    """When to retry a failed look-up (conversations.open / history): unknown is not absent,
    so anything but a permanent refusal is retried, after 30 s by default."""
    error = err.response.get("error") if err.response is not None else None
    if error in PERMANENT_ERRORS or error in UNREACHABLE_USER_ERRORS:
        return None
    return _retry_after(err) or 30.0


def _without_nulls(payload: dict[str, Any]) -> dict[str, Any]:
    """The metadata payload without ``None`` values, which Slack refuses
    (``invalid_metadata_format``): an absent key reads back as None all the same."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, dict):
            value = _without_nulls(value)
        elif isinstance(value, list):
            value = [_without_nulls(v) if isinstance(v, dict) else v
                     for v in value if v is not None]
        if value is not None:
            out[key] = value
    return out


def _refused(what: str, err: SlackApiError, args: dict[str, Any]) -> DeliveryError:
    """The DeliveryError for Slack's refusal ``err`` of the message (chat.postMessage or
    chat.update) made with ``args``; a message refused for its size says how large it was,
    in the log and in the error the outbox records, so that the renderer that went past
    MESSAGE_TEXT_BUDGET can be found. A ``missing_scope`` says the scope Slack named in its
    answer's ``needed`` (the answer's ``provided`` lists those granted, left out)."""
    code = err.response.get("error")
    needed = err.response.get("needed") if code == "missing_scope" else None
    detail = f" (needed: {needed})" if needed else ""
    if code in {"msg_blocks_too_long", "msg_too_long", "invalid_blocks"}:
        blocks = args.get("blocks") or []
        detail = (f" ({blocks_text_length(blocks)} characters of block text, budget "
                  f"{MESSAGE_TEXT_BUDGET}; {len(blocks)} blocks; "
                  f"{len(args.get('text') or '')} characters of text; "
                  f"{len(json.dumps(blocks, ensure_ascii=False).encode())} bytes of JSON)")
        log.error("Slack refused a message to %s: %s%s", args.get("channel"), code, detail)
    return DeliveryError(f"Slack refused the {what}: {code}{detail}",
                         retry_after=_retry_after(err), code=code, asked=_asked(err),
                         posting=True, needed=str(needed) if needed else None)


class SlackNotifier:
    """Posts and updates messages through the Web API; errors become DeliveryError.

    With ``token_for_team`` (multi-workspace installs) each call uses the bot token of
    the message's workspace; otherwise the client's own token.
    """

    def __init__(self, client: WebClient,
                 token_for_team: Callable[[str], str | None] | None = None) -> None:
        self._client = client
        self._check_client = WebClient(
            token=client.token, base_url=client.base_url, timeout=CHANNEL_CHECK_TIMEOUT_SECONDS,
            ssl=client.ssl, proxy=client.proxy, headers=client.headers, retry_handlers=[])
        self._token_for_team = token_for_team
        self._dm_ids: dict[tuple[str | None, str], str] = {}
        self._dm_lock = threading.Lock()

    def _token(self, team_id: str | None) -> dict[str, Any]:
        if self._token_for_team is None or not team_id:
            return {}
        token = self._token_for_team(team_id)
        if token is None:
            raise DeliveryError(f"Vigie is not installed in workspace {team_id}",
                                code="not_installed")
        return {"token": token}

    def _args(self, message: OutgoingMessage) -> dict[str, Any]:
        # A DM goes to the D... conversation from conversations.open: chat.update takes the
        # conversation that contains the message (docs.slack.dev/reference/methods/
        # chat.update), and the recovery look-up reads that same id.
        args: dict[str, Any] = {
            "channel": self._conversation_id(message.channel, message.team_id),
            "text": message.text, **self._token(message.team_id)}
        if message.blocks is not None:
            args["blocks"] = fitted(message.blocks)
        if message.event_type:
            args["metadata"] = Metadata(
                event_type=message.event_type,
                event_payload=_without_nulls(message.event_payload or {}),
            )
        return args

    def post(self, message: OutgoingMessage) -> str:
        """Post ``message`` (its spec rendered now) and return its ``ts``."""
        message = rendered(message)
        args = self._args(message)
        if message.thread_ts:
            args["thread_ts"] = message.thread_ts
        try:
            response = self._client.chat_postMessage(**args)
        except SlackApiError as err:
            raise _refused("message", err, args) from None
        except SlackClientError as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=10.0) from None
        except OSError as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=10.0) from None
        return str(response["ts"])

    def update(self, ts: str, message: OutgoingMessage) -> None:
        """Replace message ``ts`` with ``message`` (its spec rendered now)."""
        args = self._args(rendered(message))
        try:
            self._client.chat_update(ts=ts, **args)
        except SlackApiError as err:
            raise _refused("update", err, args) from None
        except (SlackClientError, OSError) as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=10.0) from None

    def upload_file(self, channel: str, filename: str, content: bytes, *, title: str,
                    comment: str | None = None, thread_ts: str | None = None,
                    team_id: str | None = None,
                    on_file_id: Callable[[str], None] | None = None,
                    before_step: Callable[[], None] | None = None) -> None:
        """Upload with the current flow (files.getUploadURLExternal, the bytes to its URL,
        files.completeUploadExternal); a user id uploads into that user's DM with Vigie.

        ``on_file_id`` is given the file's id before the upload is completed: a retry whose
        completion's answer was lost looks for that file (``find_file``) instead of sharing
        a second copy. ``before_step`` is called before each of the two calls before it,
        and before joining the channel when Slack refused the share there: what it raises
        stops the upload, unshared."""
        conversation = self._conversation_id(channel, team_id)
        token = self._token(team_id)
        try:
            file_id = self._send_bytes(filename=filename, content=content, token=token,
                                       on_file_id=on_file_id, before_step=before_step)
            try:
                self._complete(conversation, file_id, title=title, comment=comment,
                               thread_ts=thread_ts, token=token)
            except SlackApiError as err:
                # chat:write.public lets Vigie post in a public channel it is not in, not
                # share a file there (docs.slack.dev/reference/scopes/chat:write.public
                # covers chat.postMessage; getnao/nao#1372): join it, then complete the
                # same file again (its bytes are uploaded already; only the share failed).
                if err.response.get("error") != "not_in_channel":
                    raise
                self._join_to_share(conversation, token, before_step)
                self._complete(conversation, file_id, title=title, comment=comment,
                               thread_ts=thread_ts, token=token)
        except SlackApiError as err:
            raise DeliveryError(f"Slack refused the file: {err.response.get('error')}",
                                retry_after=_retry_after(err),
                                code=err.response.get("error"), asked=_asked(err)) from None
        except (SlackClientError, OSError) as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=10.0) from None

    def _send_bytes(self, *, filename: str, content: bytes, token: dict[str, Any],
                    on_file_id: Callable[[str], None] | None,
                    before_step: Callable[[], None] | None) -> str:
        """The first two steps of ``upload_file`` (files.getUploadURLExternal, the bytes to
        its URL); return the file's id, told to ``on_file_id``. Slack's errors are raised
        as they come."""
        if before_step is not None:
            before_step()
        url = self._client.files_getUploadURLExternal(filename=filename,
                                                       length=len(content), **token)
        file_id, upload_url = str(url["file_id"]), str(url["upload_url"])
        if before_step is not None:
            before_step()
        sent = self._client._upload_file(
            url=upload_url, data=content, logger=log, timeout=self._client.timeout,
            proxy=self._client.proxy, ssl=self._client.ssl)
        if sent.status != 200:
            raise DeliveryError(f"Slack refused the file's bytes: HTTP {sent.status}",
                                retry_after=5.0 if sent.status >= 500 else None)
        if on_file_id is not None:
            on_file_id(file_id)
        return file_id

    def _complete(self, conversation: str, file_id: str, *, title: str, comment: str | None,
                  thread_ts: str | None, token: dict[str, Any]) -> None:
        """Share uploaded file ``file_id`` (files.completeUploadExternal)."""
        self._client.files_completeUploadExternal(
            files=[{"id": file_id, "title": title}], channel_id=conversation,
            initial_comment=comment, thread_ts=thread_ts, **token)

    def _join_to_share(self, conversation: str, token: dict[str, Any],
                       before_step: Callable[[], None] | None) -> None:
        """Join ``conversation`` after Slack refused to share a file there
        (``not_in_channel``). The file is then shared nowhere, so whatever stops the upload
        here says so (``DeliveryError.unshared``): a retry uploads it again at once instead
        of looking for it in the channel first (and waiting for a share that never comes)."""
        try:
            if before_step is not None:
                before_step()
            self._join(conversation, token)
        except DeliveryError as err:
            err.unshared = True
            raise
        except (SlackClientError, OSError) as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=10.0, unshared=True) from None

    def _join(self, conversation: str, token: dict[str, Any]) -> None:
        """Join public channel ``conversation`` (``conversations.join``, bot scope
        ``channels:join``) so that a file can be shared there. Refused for good (an install
        made before Vigie asked for ``channels:join``: ``missing_scope``; a private channel:
        ``method_not_supported_for_channel_type``; ``is_archived``...), the DeliveryError is
        the file's ``not_in_channel``, with Slack's answer to the join as ``join_refused``.
        A join that may pass later (a 429, a 5xx, ``internal_error``) is a retryable
        DeliveryError with the join's own error, not the channel's refusal."""
        try:
            self._client.conversations_join(channel=conversation, **token)
        except SlackApiError as err:
            error = str(err.response.get("error"))
            retry_after = _retry_after(err)
            if retry_after is not None:
                raise DeliveryError(
                    f"Slack refused the file: not_in_channel, and joining the channel "
                    f"failed for now: {error}", retry_after=retry_after, code=error,
                    asked=_asked(err)) from None
            log.warning("Slack refuses files in %s (the bot is not in it) and refused to "
                        "let the bot join it: %s", conversation, error)
            raise DeliveryError(
                f"Slack refused the file: not_in_channel (the bot is not in the channel, "
                f"and joining it was refused: {error})", code="not_in_channel",
                asked=_asked(err), join_refused=error) from None
        log.info("joined %s to share a file there", conversation)

    def find_file(self, channel: str, file_id: str, team_id: str | None = None,
                  thread_ts: str | None = None, since: datetime | None = None, *,
                  budget: LookupBudget | None = None) -> bool:
        """True when the channel's recent history (or the thread's replies) holds the
        message sharing file ``file_id``: a file shared in a conversation appears there as
        a ``file_share`` message whose ``files`` carry the file's ``id``
        (docs.slack.dev/reference/events/message/file_share; the ``files`` of
        conversations.history's messages). Read with the scopes that read messages
        (``channels:history``...): ``files.info`` would need ``files:read``, which Vigie
        does not ask for. Raises DeliveryError as ``find_posted`` does, and as Slack's 429
        when ``budget`` has no call left for a page (``_recent_messages``)."""
        return any(isinstance(shared, dict) and shared.get("id") == file_id
                   for item in self._recent_messages(channel, team_id, thread_ts, since,
                                                     budget)
                   for shared in item.get("files") or [])

    def _conversation_id(self, channel: str, team_id: str | None) -> str:
        """The conversation to read for ``channel``: a user id (a DM posted with
        ``chat.postMessage(channel=U...)``) becomes the DM's D... id from
        ``conversations.open``, since ``conversations.history`` refuses user ids."""
        if channel[:1] not in ("U", "W"):
            return channel
        key = (team_id, channel)
        with self._dm_lock:
            cached = self._dm_ids.get(key)
        if cached is not None:
            return cached
        try:
            response = self._client.conversations_open(users=channel, **self._token(team_id))
        except SlackApiError as err:
            error = err.response.get("error")
            raise DeliveryError(f"Slack refused to open the DM: {error}",
                                retry_after=_lookup_retry_after(err),
                                code=error, asked=_asked(err)) from None
        except (SlackClientError, OSError) as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=30.0) from None
        dm = str((response.get("channel") or {}).get("id") or "")
        if not dm:
            raise DeliveryError("Slack opened no DM channel", retry_after=30.0)
        with self._dm_lock:
            self._dm_ids[key] = dm
        return dm

    def channel_problem(self, channel: str, team_id: str | None = None) -> str | None:
        """Ask Slack (``conversations.info``) whether Vigie can post in ``channel``: its
        reason when it cannot (``channel_not_found``: deleted, or private without the bot;
        ``is_archived``), None when it can or Slack could not say.

        A public channel the bot is not in answers ``not_in_channel``: Vigie posts its
        messages there (the manifest grants ``chat:write.public``), but Slack shares files
        (the digest's charts) only in channels the bot is a member of, so Vigie must join it
        first (``channels:join``, ``upload_file``); the caller warns rather than refuses.
        Any other refusal (a missing scope, a transient error, no network) says nothing
        about the channel: the watch is not refused for it, and a later failed alert is
        still reported."""
        try:
            response = self._check_client.conversations_info(channel=channel,
                                                             **self._token(team_id))
        except SlackApiError as err:
            error = err.response.get("error")
            if error == "channel_not_found":
                return error
            log.warning("could not check channel %s with Slack: %s", channel, error)
            return None
        except (SlackClientError, OSError, DeliveryError) as err:
            log.warning("could not check channel %s with Slack: %s", channel, err)
            return None
        info = response.get("channel") or {}
        if info.get("is_archived"):
            return "is_archived"
        if not info.get("is_member", True):
            return "channel_not_found" if info.get("is_private") else "not_in_channel"
        return None

    def find_posted(self, channel: str, event_type: str, key: str, key_value: Any,
                    team_id: str | None = None, thread_ts: str | None = None,
                    since: datetime | None = None) -> str | None:
        """Look through the channel's recent history (or the thread's replies) for a message
        we posted with this metadata; return its ts.

        A user id is read through its DM (``conversations.open``). Raises DeliveryError
        when the lookup fails: "unknown" must not count as "absent", or the message would
        be posted twice. The one exception is a public channel the bot posts to without
        being a member (``not_in_channel``): it can never read it, so waiting would only
        hold the message (and every later one of the channel) back for good. There the
        look-up answers "nothing found" and the message is posted: a duplicate is possible
        only when an earlier attempt reached Slack but its answer was lost (a timeout or a
        5xx after Slack acted), never after a 429 (Slack refused it). Inviting the bot to
        the channel removes that risk; a warning in the log says so. With ``since``, every
        message posted after it is read, not only the latest page (``_recent_messages``).
        """
        for item in self._recent_messages(channel, team_id, thread_ts, since):
            metadata = item.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == event_type and payload.get(key) == key_value:
                return str(item["ts"])
        return None

    def find_all_posted(self, channel: str, event_type: str, key: str, key_value: Any,
                        team_id: str | None = None, thread_ts: str | None = None,
                        since: datetime | None = None, *,
                        also: Mapping[str, Any] | None = None,
                        token: tuple[str, Any] | None = None,
                        budget: LookupBudget | None = None) -> list[str]:
        """The ts of every message ``find_posted`` would find (there are two when an attempt
        Slack acted on late, after its answer was lost, and its retry were both posted)
        whose metadata has the values of ``also`` and ``token`` too (``metadata_matches``),
        in no particular order. Raises DeliveryError as ``find_file`` does."""
        return [str(item["ts"])
                for item in self._recent_messages(channel, team_id, thread_ts, since, budget)
                if metadata_matches(item.get("metadata") or {}, event_type, key, key_value,
                                    also, token)]

    def check_token(self, team_id: str | None = None) -> None:
        """Ask Slack whether it accepts the bot token the messages of ``team_id`` go with
        (``auth.test``, https://docs.slack.dev/reference/methods/auth.test: ``ok: true``
        with the token's ``team_id``, or ``ok: false`` with ``invalid_auth``,
        ``token_revoked``...). Raises DeliveryError: Slack's code when it refuses it
        (``DeliveryError.token_dead`` for a refused token), ``not_installed`` when no token
        is stored for the team or when the one stored (several workspaces) belongs to
        another team, retryable when Slack could not be reached or failed (a 5xx, a 429,
        ``internal_error``)."""
        token = self._token(team_id)
        try:
            answer = self._client.auth_test(**token)
        except SlackApiError as err:
            code = err.response.get("error")
            status = err.response.status_code
            # Only a token error is a refusal; a 5xx, a 429 or another error code says
            # nothing of the token (a 5xx's "error" is the SDK's word on its HTML page).
            message = (f"Slack refused the bot token: {code}" if code in TOKEN_ERRORS else
                       f"Slack answered {code if status == 200 else f'HTTP {status}'} "
                       "to the token check")
            raise DeliveryError(message, retry_after=_retry_after(err), code=code,
                                asked=_asked(err)) from None
        except (SlackClientError, OSError) as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=10.0) from None
        owner = answer.get("team_id")
        if token and owner != team_id:
            raise DeliveryError(f"the bot token stored for workspace {team_id} is "
                                f"workspace {owner}'s", code="not_installed")

    def delete(self, channel: str, ts: str, team_id: str | None = None) -> None:
        """Delete message ``ts`` that Vigie posted in ``channel`` (``chat.delete``: a bot
        token deletes its own messages). Raises DeliveryError."""
        try:
            self._client.chat_delete(channel=self._conversation_id(channel, team_id), ts=ts,
                                     **self._token(team_id))
        except SlackApiError as err:
            raise DeliveryError(f"Slack refused the deletion: {err.response.get('error')}",
                                retry_after=_retry_after(err), code=err.response.get("error"),
                                asked=_asked(err)) from None
        except (SlackClientError, OSError) as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=10.0) from None

    def delete_file(self, file_id: str, team_id: str | None = None) -> None:
        """Delete file ``file_id`` that Vigie uploaded (``files.delete``, scope
        ``files:write``, which uploading needs too): it leaves every conversation it was
        shared in. Raises DeliveryError."""
        try:
            self._client.files_delete(file=file_id, **self._token(team_id))
        except SlackApiError as err:
            raise DeliveryError(f"Slack refused the file's deletion: "
                                f"{err.response.get('error')}",
                                retry_after=_retry_after(err), code=err.response.get("error"),
                                asked=_asked(err)) from None
        except (SlackClientError, OSError) as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=10.0) from None

    def _recent_messages(self, channel: str, team_id: str | None,
                         thread_ts: str | None,
                         since: datetime | None = None,
                         budget: LookupBudget | None = None) -> list[dict[str, Any]]:
        """The channel's latest messages (or the thread's replies), with their metadata, for
        a look-up: see ``find_posted`` for what a failure raises.

        Without ``since``, the latest page (``RECOVERY_SCAN_LIMIT`` messages). With it,
        page after page with the cursor (``response_metadata.next_cursor`` while
        ``has_more``), until a page reaches back to ``since`` (a message's ts is when Slack
        posted it; history comes newest first) or after ``RECOVERY_SCAN_PAGES`` pages: in
        a busy channel the message looked for may be more than a page back. Each page
        spends a call of ``budget``: when it has none left, DeliveryError as Slack's 429
        (``ratelimited``, with the wait until it has): nothing was read, so nothing is said
        of the message looked for."""
        conversation = self._conversation_id(channel, team_id)
        args: dict[str, Any] = {"channel": conversation, "include_all_metadata": True,
                                "limit": RECOVERY_SCAN_LIMIT, **self._token(team_id)}
        messages: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(RECOVERY_SCAN_PAGES if since is not None else 1):
            page = {**args, "cursor": cursor} if cursor else args
            wait = budget.take(team_id) if budget is not None else 0.0
            if wait > 0:
                raise DeliveryError("no look-up left in this minute's budget "
                                    "(conversations.history is Tier 3)",
                                    retry_after=wait, code="ratelimited")
            try:
                if thread_ts:
                    response = self._client.conversations_replies(ts=thread_ts, **page)
                else:
                    response = self._client.conversations_history(**page)
            except SlackApiError as err:
                error = err.response.get("error")
                if error in UNREADABLE_ERRORS:
                    log.warning("cannot check %s for a message already posted (%s): posting "
                                "again; invite the bot to the channel to rule out "
                                "duplicates", channel, error)
                    return []
                raise DeliveryError(f"Slack refused the lookup: {error}",
                                    retry_after=_lookup_retry_after(err),
                                    code=error, asked=_asked(err)) from None
            except (SlackClientError, OSError) as err:
                raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                    retry_after=30.0) from None
            page_messages: list[dict[str, Any]] = response.get("messages") or []
            messages.extend(page_messages)
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not response.get("has_more") or not cursor:
                break
            if (since is not None and not thread_ts and page_messages
                    and float(page_messages[-1].get("ts") or 0) < since.timestamp()):
                break
        else:
            if since is not None:
                log.warning("the look-up in %s read its %d latest messages, not every one "
                            "since %s", channel, len(messages), since.isoformat())
        return messages
