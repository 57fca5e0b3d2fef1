"""Words for people: history lines, list titles, CLI explanations, durations, licence."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.services.errors import ServiceError
from bot.services.mention_search import LONGEST_PERIOD, parse_duration
from bot.slack.mention_views import build_history, build_mention_list

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Entry:
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    surface: str


def test_history_lines_are_words_not_codes() -> None:
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    entries = [Entry(at, "U07ALICE01", "mention.assign", "new", "assigned", None, "modal"),
               Entry(at, "cli", "mention.some_new_thing", None, None, None, "webhook_push")]
    text = build_history(entries, "en")[0]["text"]["text"]
    assert "assigned (New → Assigned) _in a dialog_" in text
    assert "some new thing _webhook push_" in text
    assert "mention.assign" not in text and "_modal_" not in text
    french = build_history(entries[:1], "fr")[0]["text"]["text"]
    assert "a assigné" in french and "dans une fenêtre" in french


@dataclass
class Row:
    id: int


def test_list_title_says_when_more_pages_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.slack.mention_views as views

    monkeypatch.setattr(views, "_row_text", lambda row, language: f"#{row.id}")
    rows = [Row(i) for i in range(10, 0, -1)]
    title, _ = build_mention_list(rows, "en", more_value={"before_id": 1})  # type: ignore[arg-type]
    assert title == "The 10 matching mentions Vigie found last (More shows those found before)"
    last, _ = build_mention_list(rows[:3], "en", more_value=None)  # type: ignore[arg-type]
    assert last == "3 mention(s)"


def test_terminal_explanations_name_the_cli_way() -> None:
    error = ServiceError("watch.not_found", name="acme")
    assert error.message(plain=True) == (
        "There is no watch called 'acme'. vigie watch list shows them.")
    assert "/cm watch list" in error.message("en")  # Slack keeps the Slack way
    assert "vigie watch list" in error.message("fr", plain=True)
    english = tomllib.loads((REPO / "bot" / "locales" / "en.toml").read_text(encoding="utf-8"))
    for section in english["cli"].values():
        for text in section.values():
            assert "/cm" not in text and "`" not in text and "<#" not in text


def test_long_durations_mean_everything_instead_of_an_error() -> None:
    assert parse_duration("10000d") == timedelta(days=10000)
    assert parse_duration("999999999999w") == LONGEST_PERIOD
    assert parse_duration("36500d") == LONGEST_PERIOD
    with pytest.raises(ServiceError):
        parse_duration("1y")


def test_licence_file_matches_the_declared_licence() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"  # an SPDX expression (PEP 639)
    assert project["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
