"""Slack test harness: a Web API stand-in and signed requests like Slack's.

Modules:
    slack_standin    ``SlackStandIn``: local HTTP server for ``WebClient(base_url=...)``;
                     records calls, keeps messages/views/files, enforces Block Kit limits,
                     injects faults.
    blockkit_limits  ``validate_blocks(blocks, surface)`` / ``validate_view(view)``.
    slack_requests   signed slash commands, block_actions, view_submission, events...
                     to the app's ``/slack/events`` (plus ``SlackSender`` bound helper).
    app_server       ``serve_bolt_app(app)`` / ``serve_wsgi(app)``: run the app over HTTP.
    fixtures         ``slack_standin``, ``slack_client``, ``fast_retries``
                     (``from tests.harness.fixtures import *`` in a conftest).
    constants        IDs, bot token and signing secret both sides agree on.

Quick start::

    def test_help(slack_standin):
        app = build_app(slack_base_url=slack_standin.base_url, token=BOT_TOKEN,
                        signing_secret=SIGNING_SECRET)
        with serve_bolt_app(app) as app_url:
            slack = SlackSender(app_url, SIGNING_SECRET, standin=slack_standin)
            assert slack.slash_command("help").status_code == 200
        assert "help" in slack_standin.responses()[0]["text"]
"""

from tests.harness.app_server import serve_bolt_app, serve_wsgi
from tests.harness.blockkit_limits import validate_blocks, validate_view
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, SIGNING_SECRET, TEAM_ID, USER_ID
from tests.harness.slack_requests import SlackSender
from tests.harness.slack_standin import (
    RESPONSE_URL_METHOD,
    UPLOAD_METHOD,
    Call,
    SlackStandIn,
    StandInTimeout,
    UploadedFile,
)

__all__ = [
    "BOT_TOKEN",
    "CHANNEL_ID",
    "RESPONSE_URL_METHOD",
    "SIGNING_SECRET",
    "TEAM_ID",
    "UPLOAD_METHOD",
    "USER_ID",
    "Call",
    "SlackSender",
    "SlackStandIn",
    "StandInTimeout",
    "UploadedFile",
    "serve_bolt_app",
    "serve_wsgi",
    "validate_blocks",
    "validate_view",
]
