"""Inbound webhooks: a signed push of mentions into one webhook source."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.net.errors import SourceAuthError, SourceConfigError
from bot.services.ingest import IngestReport, do_ingest
from bot.services.polling import BUSY_GRACE, busy_since
from bot.services.secrets import ensure_openable, open_config
from bot.sources.base import FetchedMention
from bot.sources.webhook import (
    DEFAULT_NETWORK,
    MAX_BODY_BYTES,
    WebhookPayloadError,
    parse_webhook_body,
    pushed_network,
    verify_signature,
)
from storage.db import transaction
from storage.db_errors import error_kind, is_sqlite_busy, is_transient
from storage.models import Mention, SourceRow, Watch, utcnow
from storage.search_index import index_pending

log = logging.getLogger(__name__)

_UNKNOWN_SECRET = secrets.token_bytes(32)


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """The HTTP answer for a push: status code and a JSON-ready body."""

    status: int
    body: dict[str, object]
    retry_after: int | None = None
    """Seconds after which the sender should try again (a ``Retry-After`` header)."""


RETRY_AFTER_SECONDS = 30
"""What a push the database could not store for a passing reason is told to wait."""
UNSTORED = "unstored"
"""Key, in a webhook source's ``cursor`` (which a push source never polls with), of the
posts whose own insert exceeded a statement timeout, each with when it first did: past
``BUSY_GRACE`` it is skipped, so that its sender stops retrying that push for ever."""
MAX_UNSTORED = 100
"""At most this many such posts are remembered per webhook (the latest to fail)."""


def _item_key(item: FetchedMention) -> str:
    return f"{item.network}:{item.external_id[:200]}"


def _unstored(row: SourceRow) -> dict[str, str]:
    """The row's posts whose own insert failed for a passing reason, with when it first
    did (ISO); what another version wrote otherwise is ignored."""
    found = (row.cursor or {}).get(UNSTORED)
    if not isinstance(found, dict):
        return {}
    return {key: when for key, when in found.items()
            if isinstance(key, str) and isinstance(when, str)}


def _failing_since(value: str | None) -> datetime | None:
    try:
        when = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _with_unstored(row: SourceRow, unstored: dict[str, str]) -> None:
    """Store ``unstored`` (the latest ``MAX_UNSTORED``) in the row's cursor."""
    kept = dict(sorted(unstored.items(), key=lambda pair: pair[1])[-MAX_UNSTORED:])
    cursor = {key: value for key, value in (row.cursor or {}).items() if key != UNSTORED}
    row.cursor = {**cursor, UNSTORED: kept} if kept else cursor


class _GiveUp:
    """``do_ingest``'s ``give_up`` for one push: an item whose own insert exceeded a
    statement timeout is given up on once it has for longer than ``BUSY_GRACE`` (then it
    never will be stored: its sender would retry the push for ever); until then the push
    is refused (503) and its sender retries it. Each item asked about is remembered."""

    def __init__(self) -> None:
        self.signed = False
        """Whether the push was signed by the webhook source's sender (only then does a
        failure to store it go into that source's health)."""
        self.known: dict[str, str] = {}
        self.now = utcnow()
        self.asked: set[str] = set()
        self.given_up: set[str] = set()

    def __call__(self, item: FetchedMention) -> bool:
        key = _item_key(item)
        self.asked.add(key)
        since = _failing_since(self.known.get(key))
        if since is None or since > self.now - BUSY_GRACE:
            return False
        self.given_up.add(key)
        return True


def own_parents(session: Session, source: SourceRow, mentions: Sequence[FetchedMention]
                ) -> list[FetchedMention]:
    """``mentions`` with each ``parent_id`` kept only when it names a post this source
    pushed (stored from it before, or new in this batch); the others become posts of
    their own. Two webhooks may share a label (``webhook`` by default): one's sender must
    not join, reopen or answer a case of a post another source brought."""
    wanted: dict[str, set[str]] = {}
    for item in mentions:
        if item.parent_external_id:
            wanted.setdefault(item.network, set()).add(item.parent_external_id)
    if not wanted:
        return list(mentions)
    stored: dict[tuple[str, str], int | None] = {}
    for network, keys in wanted.items():
        stored.update(((network, key), source_id) for key, source_id in session.execute(
            select(Mention.external_id, Mention.source_id).where(
                Mention.workspace_id == source.workspace_id, Mention.network == network,
                Mention.external_id.in_(sorted(keys)))).tuples())
    batch = {(item.network, item.external_id) for item in mentions}
    kept: list[FetchedMention] = []
    for item in mentions:
        parent = (item.network, item.parent_external_id or "")
        if item.parent_external_id and not (
                stored.get(parent, -1) == source.id or (parent not in stored and parent in batch)):
            item = replace(item, parent_external_id=None)
        kept.append(item)
    return kept


def do_ingest_webhook(
    sessions: sessionmaker[Session], source_id: int, body: bytes, *,
    signature: str | None, timestamp: str | None,
) -> WebhookResult:
    """Verify the HMAC signature with the source's secret, validate, and ingest.

    Without a valid signature, an unknown id (or a source that is no webhook) gets the
    answer a wrong signature gets (401, the same body): a sender cannot enumerate source
    ids. Whether a source is paused (409) is told only to a signed request. When the
    database fails for a passing reason (a lock or statement timeout, a lost connection,
    a busy SQLite file: ``storage.db_errors``), nothing of the push is stored and the
    answer is 503 with ``Retry-After``, which senders retry; the retry stores it once. The
    source's health says so (not failing before its pushes have been refused so for
    ``BUSY_GRACE``), except for a SQLite file another process holds locked: the answer
    then comes after one busy timeout, not two.

    A post whose own insert exceeds a statement timeout would fail every retry: once it
    has for longer than ``BUSY_GRACE`` (remembered in the source's row), the push stores
    the others, skips that one (logged, counted in ``skipped``) and is answered 200. A
    lock, a deadlock or a lost connection never skips a post: it says nothing of it."""
    give_up = _GiveUp()
    try:
        return _ingest_webhook(sessions, source_id, body, signature=signature,
                               timestamp=timestamp, give_up=give_up)
    except SQLAlchemyError as err:
        if not is_transient(err):
            raise
        kind = error_kind(err)
        log.warning("webhook source %s: the database could not store the push (%s); "
                    "the sender is asked to retry", source_id, kind)
        # Not a stranger's request, which must not touch a health. A SQLite file still
        # locked would hold this write for a second busy timeout before the sender hears
        # anything (which may then give up on its own): its health is left as it is.
        if give_up.signed and not is_sqlite_busy(err):
            _record_busy(sessions, source_id, kind, give_up.asked)
        return WebhookResult(503, {"error": "the database is busy: nothing was stored, "
                                            "send the same request again later"},
                             retry_after=RETRY_AFTER_SECONDS)


def _record_busy(sessions: sessionmaker[Session], source_id: int, kind: str,
                 failing: set[str]) -> None:
    """Record, in its own transaction, a push the database could not store: in the
    source's health (counted as its failure once the database has refused its pushes for
    ``BUSY_GRACE``: ``polling.busy_since``),
    and the posts whose own insert failed, from when they first did. A database too busy
    for this too leaves it to the log."""
    now = utcnow()
    try:
        with transaction(sessions) as session:
            row = session.get(SourceRow, source_id, with_for_update=True)
            if row is None:
                return
            if failing:
                unstored = _unstored(row)
                for key in failing:
                    unstored.setdefault(key, now.isoformat())
                _with_unstored(row, unstored)
            # Since the first push refused so, not since the last one stored: one refusal
            # on a quiet webhook is no failure of it.
            since = busy_since(row, now)
            if since < now - BUSY_GRACE:
                row.consecutive_failures += 1  # refused for so long: it does not pass
            row.last_error = (f"the database could not store the last push ({kind}: a lock, a "
                              "timeout or a lost connection); the sender was asked to send "
                              "it again")
            row.last_error_reasons = [["database_busy_push",
                                       {"type": kind, "since": since.isoformat()}]]
            row.last_error_at = now
    except SQLAlchemyError as err:
        if not is_transient(err):
            raise
        log.warning("webhook source %s: could not record the failed push either (%s)",
                    source_id, error_kind(err))


def _ingest_webhook(
    sessions: sessionmaker[Session], source_id: int, body: bytes, *,
    signature: str | None, timestamp: str | None, give_up: _GiveUp,
) -> WebhookResult:
    with sessions() as session:
        # An id past sources.id's INTEGER range is unknown as any other (VigieSession.get).
        row = session.get(SourceRow, source_id)
        known = paused = False
        secret: str | bytes = _UNKNOWN_SECRET
        network = DEFAULT_NETWORK
        if row is not None and row.kind == "webhook":
            known, paused = True, row.paused
            try:
                secret = str(open_config(row).get("secret", ""))
                ensure_openable({"secret": secret})
            except SourceConfigError as err:
                log.warning("webhook source %s: %s", source_id, err)  # senders need not know why
                return WebhookResult(503, {"error": "this webhook source cannot check "
                                                    "signatures right now"})
            network = pushed_network(row.config.get("network"))
    if len(body) > MAX_BODY_BYTES:
        return WebhookResult(413, {"error": f"body larger than {MAX_BODY_BYTES // 1024} KB"})
    try:
        # An unknown id is checked against a random key, as long as a known one: the same
        # errors, in the same time.
        verify_signature(secret, body, signature, timestamp)
    except SourceAuthError as err:
        return WebhookResult(401, {"error": str(err)})
    if not known:  # a random key of 32 bytes was guessed
        return WebhookResult(401, {"error": "bad signature"})
    if paused:
        return WebhookResult(409, {"error": "this webhook source is paused"})
    give_up.signed = True
    try:
        mentions = parse_webhook_body(body, default_network=network)
    except WebhookPayloadError as err:
        return WebhookResult(400, {"error": str(err)})
    now = utcnow()
    with transaction(sessions) as session:
        row = session.get(SourceRow, source_id)
        watch = session.get(Watch, row.watch_id) if row else None
        if row is None or watch is None:
            return WebhookResult(404, {"error": "no webhook source with this id"})
        mentions = own_parents(session, row, mentions)
        give_up.known = unstored = _unstored(row)
        report: IngestReport = do_ingest(session, watch, row.id, mentions, now=now,
                                         give_up=give_up)
        index_pending(session)  # the new mentions' words, in the same transaction
        if unstored:  # stored now, or not pushed again: those given up on stay, to skip again
            pushed = {_item_key(item) for item in mentions} - give_up.given_up
            _with_unstored(row, {key: when for key, when in unstored.items()
                                 if key not in pushed})
        row.last_success_at = now
        row.consecutive_failures = 0
        row.last_error = report.skipped_note  # English, for the CLI and the logs
        row.last_error_reasons = report.skipped_reasons  # worded for each reader
        if report.skipped_note:
            row.last_error_at = now
    if report.forgotten:
        log.info("webhook source %s: %d post(s) of forgotten authors dropped", source_id,
                 report.forgotten)
    # Counted with the posts the watch's query left out: whoever holds the secret must not
    # learn, by pushing chosen handles, who asked to be forgotten.
    return WebhookResult(200, {"received": report.received, "stored": report.stored,
                               "duplicates": report.duplicates + report.near_duplicates,
                               "filtered": report.filtered + report.forgotten
                               + report.expired,
                               "alerts": report.alerts, "skipped": len(report.skipped)})
