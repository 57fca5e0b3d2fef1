"""The one place a listener's errors are answered: a ServiceError is the user's explanation
(``Reply.for_error``), anything else an apology with an id to quote (``apologize``)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from bot.i18n import language_for, t
from bot.services.errors import database_unavailable

log = logging.getLogger("vigie.app")


def apologize(error: Exception, body: dict[str, Any], respond: Any = None) -> None:
    """Log an unexpected ``error`` under a short id and, when Slack gave a response URL,
    tell the user something went wrong and which id to quote. The database failing for a
    passing reason (refusing connections, a lock) is no bug: one line in the log, and
    the user is told to try again."""
    error_id = uuid.uuid4().hex[:8]
    language = language_for((body.get("user") or {}).get("locale"))
    kind = database_unavailable(error)
    if kind is not None:
        log.warning("error %s: the database is unavailable (%s)", error_id, kind)
        message = t(language, "app.database_unavailable")
    else:
        log.error("unhandled error %s", error_id, exc_info=error)
        message = t(language, "app.apology", error_id=error_id)
    if respond is not None and (body.get("response_url") or body.get("response_urls")):
        try:
            respond(text=message, response_type="ephemeral", replace_original=False)
        except Exception:  # noqa: BLE001  (the apology is best effort)
            log.warning("could not send the apology for error %s", error_id)
