"""Bolt's WSGI adapter, with one fix: slash commands whose text contains "payload".

slack_bolt 1.30 parses any form body containing the word "payload" as an interactivity
payload; a slash command like `/cm mentions payload` then has an empty body and is
dropped. We re-parse such bodies as the plain form they are (the signature is still
checked by Bolt on the untouched raw body).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context


def repair_slash_command_body(request: BoltRequest) -> BoltRequest:
    """Give a slash command mis-parsed as an interaction its real form body back."""
    raw = request.raw_body
    if request.body or not raw or raw.lstrip().startswith("{"):
        return request
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if "command" in form and "payload" not in form:
        request.body = form
        request.context = build_context(BoltContext({}), form)
    return request


class VigieSlackRequestHandler(SlackRequestHandler):
    """The WSGI adapter with :func:`repair_slash_command_body` applied."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        """Build the Bolt request, repair it if needed, and dispatch it."""
        bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                   headers=request.get_headers())
        return self.app.dispatch(repair_slash_command_body(bolt_request))
