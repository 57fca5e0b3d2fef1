"""Logging: text or JSON lines, with secrets masked whatever a library prints."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from bot.url_secrets import mask_urls_in_text

SECRET_PATTERN = re.compile(
    r"(xox[abposr]-[0-9A-Za-z-]{6,}|xapp-[0-9A-Za-z-]{6,}|sk-[A-Za-z0-9_-]{16,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{12,})"
)


REQUEST_ID: ContextVar[str | None] = ContextVar("vigie_request_id", default=None)
"""The id of the HTTP request being served, added to every log line it causes."""


def mask_secrets(text: str) -> str:
    """Replace anything shaped like a Slack token, API key or bearer credential, and the
    credentials written in a URL (its password, its ``?apikey=``-like parameters)."""
    return mask_urls_in_text(SECRET_PATTERN.sub(lambda m: m.group(0)[:5] + "…[masked]", text))


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in the final message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, mask it, and keep the record."""
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialize ``record``."""
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            data["request_id"] = request_id
        if record.exc_info:
            data["traceback"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


class MaskingTextFormatter(logging.Formatter):
    """The usual text format, with tracebacks masked too."""

    def format(self, record: logging.LogRecord) -> str:
        """Format then mask."""
        return mask_secrets(super().format(record))


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Install Vigie's handler on the root logger (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretMaskingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            MaskingTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
