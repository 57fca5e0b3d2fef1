"""Identifiers and secrets shared by the Slack stand-in and the request helpers.

The values look like real Slack ones (upper-case alphanumeric IDs with the right
prefix) so that code parsing or validating IDs behaves as it would in production.
"""

from __future__ import annotations

#: Bot token the stand-in accepts by default (``Authorization: Bearer xoxb-test``).
BOT_TOKEN = "xoxb-test"
#: Signing secret to configure the app with; the request helpers sign with it by default.
SIGNING_SECRET = "8f742231b10e8888abcd99b1c0ffee85"
#: Legacy verification token Slack still puts in payloads (``token`` field).
VERIFICATION_TOKEN = "Jhj5dZrVaK7ZwHHjRyZWjbDl"

TEAM_ID = "T07VIGIE01"
TEAM_DOMAIN = "vigie-test"
TEAM_NAME = "Vigie Test"
ENTERPRISE_ID = "E07VIGIE01"
APP_ID = "A07VIGIE01"
BOT_ID = "B07VIGIE01"
BOT_USER_ID = "U07VIGIEBOT"
BOT_USER_NAME = "vigie"

#: A community manager using the app.
USER_ID = "U07CMALICE"
USER_NAME = "alice"
#: A second human, for multi-user scenarios.
OTHER_USER_ID = "U07CMBOBBY"
OTHER_USER_NAME = "bobby"

#: The public channel where Vigie posts cards.
CHANNEL_ID = "C07VIGIEFEED"
CHANNEL_NAME = "vigie-feed"

#: First ``ts`` the stand-in hands out; later ones increase by 100 µs.
FIRST_TS = "1700000000.000100"

#: How long Slack waits for the app's answer to a slash command or an interaction before
#: it gives up and shows the user an error: "respond to a command within 3000 milliseconds"
#: (slash commands, "Delayed responses and multiple responses",
#: https://api.slack.com/interactivity/slash-commands); "you only have 3 seconds to respond
#: before Slack registers a timeout error" (Bolt for Python, "Acknowledging requests",
#: https://docs.slack.dev/tools/bolt-python/concepts/acknowledge).
ACK_DEADLINE_SECONDS = 3.0
