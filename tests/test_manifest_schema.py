"""manifest.yml is a valid Slack app manifest (Slack's published JSON schema)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "schemas/slack_manifest/manifest.schema.1.0.0.json"


def _manifest() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_manifest_matches_slacks_schema() -> None:
    errors = [f"{e.json_path}: {e.message}" for e in _validator().iter_errors(_manifest())]
    assert errors == []


def test_schema_catches_a_broken_manifest() -> None:
    """The schema really checks something: a manifest without its name is refused."""
    manifest = _manifest()
    del manifest["display_information"]["name"]
    manifest["features"]["slash_commands"][0]["command"] = "cm"
    assert list(_validator().iter_errors(manifest))


# Every Web API method Vigie calls, with the bot scopes it needs for what Vigie does with it
# (scopes per method from Slack's Web API spec, slackapi/slack-api-specs
# web-api/slack_web_openapi_v2.json; conversations.* need the scope of each conversation type
# Vigie reads: public and private channels, and DMs for reminders sent to a user).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    # A copy of a message Slack posted late, after its retry posted it again (the outbox).
    "chat.delete": {"chat:write"},
    "conversations.history": {"channels:history", "groups:history", "im:history"},
    "conversations.replies": {"channels:history", "groups:history", "im:history"},
    "conversations.open": {"im:write"},
    # A public channel Vigie posts in without being a member, joined to share a chart there
    # (files need membership; chat:write.public covers messages only).
    "conversations.join": {"channels:join"},
    # A watch's alert channel checked before it is bound: public and private channels.
    "conversations.info": {"channels:read", "groups:read"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
    # A file a stalled sender shared late, after another sender took its row over.
    "files.delete": {"files:write"},
    "users.info": {"users:read"},
    "views.open": set(),
    "views.update": set(),
    "views.publish": set(),
}


def test_manifest_declares_the_scope_of_every_method_vigie_calls() -> None:
    declared = set(_manifest()["oauth_config"]["scopes"]["bot"])
    needed = set().union(*METHOD_SCOPES.values()) | {"commands", "chat:write.public"}
    assert needed - declared == set()


# Our own methods whose names read like a Web API call's (``workspaces.team_of``: the
# Slack team id of a stored workspace; it calls nothing).
OUR_OWN = frozenset({"team_of"})


def test_every_method_in_the_code_is_in_the_scope_table() -> None:
    """A new Web API call must be added above (and its scope to manifest.yml)."""
    call = re.compile(r"\.((?:auth|chat|conversations|files|users|views|reactions|pins|team)"
                      r"_[A-Za-z0-9_]+)\(")
    called: set[str] = set()
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        for name in call.findall(path.read_text(encoding="utf-8")):
            if name in OUR_OWN:
                continue
            if name == "files_upload_v2":  # slack_sdk's wrapper of the two files.* methods
                called |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
            else:
                called.add(name.replace("_", ".", 1))
    assert "chat.postMessage" in called
    assert called - set(METHOD_SCOPES) == set()


def test_oauth_install_asks_for_the_manifests_scopes() -> None:
    from bot.slack.oauth import BOT_SCOPES

    assert set(BOT_SCOPES) == set(_manifest()["oauth_config"]["scopes"]["bot"])
