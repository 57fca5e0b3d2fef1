"""Bolt's WSGI adapter, hardened, with one fix for slash commands containing "payload".

* The signature is checked on the raw body *before* Bolt parses it: an unsigned request is
  refused (401) without being parsed or logged, and a signed but malformed body (bad
  ``payload=`` JSON, nesting too deep for the parser, a JSON array, bytes that are not
  UTF-8) is answered 400 instead of raising inside Bolt (a 500 with a traceback).
* slack_bolt 1.30 parses any form body containing the word "payload" as an interactivity
  payload; a slash command like `/cm mentions payload` then has an empty body and is
  dropped. We re-parse such bodies as the plain form they are (the signature is still
  checked by Bolt on the untouched raw body), and so does the copy of the request Bolt
  makes for a lazy listener, which it re-parses from the raw body
  (:class:`SlashCommandSafeRequest`).

The body itself is capped by :mod:`bot.web` before it gets here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("vigie.web")

_MALFORMED = (ValueError, TypeError, AttributeError, KeyError, RecursionError)
"""What Bolt's body parsing and context building raise on a body Slack would never send."""


def repair_slash_command_body(request: BoltRequest) -> BoltRequest:
    """Give a slash command mis-parsed as an interaction its real form body back."""
    raw = request.raw_body
    if request.body or not raw or raw.lstrip().startswith("{"):
        return request
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if "command" in form and "payload" not in form:
        request.body = form
        # Added to, not replaced: a lazy listener's copy carries the authorization's context.
        request.context = build_context(request.context, form)
    return request


class SlashCommandSafeRequest(BoltRequest):
    """A Bolt request repaired by :func:`repair_slash_command_body`, and whose copy is too.

    Bolt hands a lazy listener a copy made by :meth:`to_copyable`, which parses the raw
    body again: unrepaired, a `/cm` answered past the ack budget reached its lazy listener
    with no command (and the user got no answer)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        repair_slash_command_body(self)

    def to_copyable(self) -> BoltRequest:
        """Bolt's copy of the request, repaired."""
        return repair_slash_command_body(super().to_copyable())


def _error(status: int, message: str) -> BoltResponse:
    return BoltResponse(status=status, body=json.dumps({"error": message}),
                        headers={"content-type": "application/json"})


class VigieSlackRequestHandler(SlackRequestHandler):
    """The WSGI adapter: signature first, malformed bodies answered 400, and
    :func:`repair_slash_command_body` applied."""

    def __init__(self, app: App, path: str = "/slack/events",
                 signing_secret: str | None = None) -> None:
        super().__init__(app, path=path)
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        """Check the signature, build the Bolt request (400 if malformed), repair, dispatch."""
        raw = request.environ["wsgi.input"].read(int(request.environ.get("CONTENT_LENGTH") or 0))
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "the body is not UTF-8")
        headers = request.get_headers()
        if self._verifier is not None and not self._signed(body, headers):
            log.info("refused a Slack request with a bad or stale signature (%d bytes)",
                     len(raw))
            return _error(401, "invalid request")
        try:
            bolt_request = SlashCommandSafeRequest(body=body, query=request.query_string,
                                                   headers=headers)
            if not isinstance(bolt_request.body, dict):
                raise TypeError("the body is not a JSON object")
        except _MALFORMED as err:
            log.warning("refused a malformed Slack request (%s, %d bytes)",
                        type(err).__name__, len(raw))
            return _error(400, "malformed request body")
        return self.app.dispatch(bolt_request)

    def _signed(self, body: str, headers: Mapping[str, object]) -> bool:
        assert self._verifier is not None
        timestamp = str(headers.get("x-slack-request-timestamp") or "").strip()
        signature = str(headers.get("x-slack-signature") or "").strip()
        if not timestamp.isdigit() or not signature.isascii():
            return False  # slack_sdk would raise on these (int(), compare_digest)
        return self._verifier.is_valid(body, timestamp, signature)
