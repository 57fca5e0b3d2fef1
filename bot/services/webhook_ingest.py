"""Inbound webhooks: a signed push of mentions into one webhook source."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.net.errors import SourceAuthError, SourceConfigError
from bot.services.ingest import IngestReport, do_ingest
from bot.services.secrets import ensure_openable, open_config
from bot.sources.webhook import (
    MAX_BODY_BYTES,
    WebhookPayloadError,
    parse_webhook_body,
    pushed_network,
    verify_signature,
)
from storage.db import transaction
from storage.models import SourceRow, Watch, utcnow
from storage.search_index import index_pending

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """The HTTP answer for a push: status code and a JSON-ready body."""

    status: int
    body: dict[str, object]


def do_ingest_webhook(
    sessions: sessionmaker[Session], source_id: int, body: bytes, *,
    signature: str | None, timestamp: str | None,
) -> WebhookResult:
    """Verify the HMAC signature with the source's secret, validate, and ingest."""
    with sessions() as session:
        row = session.get(SourceRow, source_id)
        if row is None or row.kind != "webhook":
            return WebhookResult(404, {"error": "no webhook source with this id"})
        if row.paused:
            return WebhookResult(409, {"error": "this webhook source is paused"})
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
        verify_signature(secret, body, signature, timestamp)
    except SourceAuthError as err:
        return WebhookResult(401, {"error": str(err)})
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
        report: IngestReport = do_ingest(session, watch, row.id, mentions, now=now)
        index_pending(session)  # the new mentions' words, in the same transaction
        row.last_success_at = now
        row.consecutive_failures = 0
        row.last_error = report.skipped_note
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
