"""Signing requests to Vigie's inbound webhook (`POST /ingest/<source-id>`) as a sender
must: HMAC-SHA256 of ``timestamp + "." + body`` with the source's secret."""

from __future__ import annotations

import hashlib
import hmac
import time


def webhook_headers(secret: str, body: bytes, *, timestamp: str | None = None
                    ) -> dict[str, str]:
    """The headers of a signed webhook request (``timestamp`` defaults to now)."""
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Vigie-Signature": f"sha256={digest}", "X-Vigie-Timestamp": stamp,
            "Content-Type": "application/json"}


def webhook_from_answer(answer: str) -> tuple[int, str]:
    """The source id and secret that `source add webhook` answered with."""
    source_id = int(answer.split("#")[1].split(" ")[0])
    secret = answer.split("keep it safe): `")[1].split("`")[0]
    return source_id, secret
