"""Log lines: JSON with the request id, and secrets masked whatever a library prints."""

from __future__ import annotations

import io
import json
import logging

from bot.logging_setup import REQUEST_ID, JsonFormatter, SecretMaskingFilter, mask_secrets


def test_tokens_are_masked() -> None:
    line = ("token xoxb-fake-token-abcdefghij and xapp-1-A0123-456789 key "
            "sk-abcdefghijklmnopqrstuv and Bearer abcdefghijklmnop")
    masked = mask_secrets(line)
    for secret in ("fake-token-abcdefghij", "A0123-456789", "abcdefghijklmnopqrstuv",
                   "abcdefghijklmnop"):
        assert secret not in masked


def test_json_lines_carry_the_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretMaskingFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("vigie.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = REQUEST_ID.set("req-42")
    try:
        logger.warning("posting with %s", "xoxb-fake-token-abcdefghij")
    finally:
        REQUEST_ID.reset(token)
        logger.removeHandler(handler)
    data = json.loads(stream.getvalue())
    assert data["request_id"] == "req-42" and data["level"] == "WARNING"
    assert "abcdefghij" not in data["message"]


def test_url_credentials_are_masked_in_log_lines() -> None:
    """httpx names the URL it fetched (at INFO): its password and apikey stay out of logs."""
    line = ('HTTP Request: GET https://alice:PwSecret123@feeds.example/f.xml?lang=en'
            '&apikey=TopSecret456&Access-Token=t0k "HTTP/1.1 403" at https://host:8443/a@b')
    assert mask_secrets(line) == (
        'HTTP Request: GET https://alice:••••••@feeds.example/f.xml?lang=en'
        '&apikey=••••••&Access-Token=•••••• "HTTP/1.1 403" at https://host:8443/a@b')
