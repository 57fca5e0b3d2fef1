"""manifest.yml is a valid Slack app manifest (Slack's published JSON schema)."""

from __future__ import annotations

import json
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
