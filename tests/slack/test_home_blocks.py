"""App Home's lists say how many more there are than they show, in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.messages.home import HomeItem, HomeSummary
from bot.slack.home import build_home
from tests.harness.blockkit_limits import validate_blocks

WHEN = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def _items(count: int) -> list[HomeItem]:
    return [HomeItem(id=n, network="mastodon", text=f"late {n}", url=f"https://m.example/{n}",
                     priority=80, status="new", created_at=WHEN, channel=None, ts=None)
            for n in range(count)]


def _after_header(blocks: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    start = next(i for i, b in enumerate(blocks)
                 if b["type"] == "header" and b["text"]["text"] == title)
    end = next((i for i, b in enumerate(blocks[start + 1:], start + 1)
                if b["type"] in ("header", "divider")), len(blocks))
    return blocks[start + 1:end]


def _more(summary: HomeSummary, language: str, title: str) -> str | None:
    blocks = build_home(summary, language)["blocks"]
    assert validate_blocks(blocks, "home") == []
    tail = [b for b in _after_header(blocks, title) if b["type"] == "context"]
    return tail[0]["elements"][0]["text"] if tail else None


def test_overdue_and_approval_lists_say_how_many_more() -> None:
    summary = HomeSummary(role="approver", assigned=[], to_approve=_items(10),
                          overdue=_items(10), counts={}, to_approve_total=10,
                          overdue_total=1234)
    assert _more(summary, "en", "Drafts waiting for my approval") is None
    assert _more(summary, "en", "Overdue") == (
        "…and 1224 more past their SLA (the highest priorities are above).")
    assert _more(summary, "fr", "En retard") == (
        "…et 1\u202f224 de plus en retard sur leur SLA (les plus prioritaires sont ci-dessus).")
    waiting = HomeSummary(role="approver", assigned=[], to_approve=_items(10), overdue=[],
                          counts={}, to_approve_total=13)
    assert _more(waiting, "en", "Drafts waiting for my approval") == (
        "…and 3 more waiting for your approval: `/cm mentions status:awaiting_approval` "
        "lists every draft awaiting approval.")


def test_overdue_counted_in_part_says_at_least_or_maybe() -> None:
    floor = HomeSummary(role="agent", assigned=[], to_approve=[], overdue=_items(10),
                        counts={}, overdue_total=40, overdue_counted_all=False)
    assert _more(floor, "en", "Overdue") == (
        "…and at least 30 more past their SLA (the highest priorities are above).")
    unknown = HomeSummary(role="agent", assigned=[], to_approve=[], overdue=_items(3),
                          counts={}, overdue_total=3, overdue_counted_all=False)
    assert _more(unknown, "en", "Overdue") == (
        "…and maybe more past their SLA: Home stopped counting (the highest priorities are "
        "above).")


def test_team_counts_put_the_language_s_space_before_colons() -> None:
    summary = HomeSummary(role="agent", assigned=[], to_approve=[], overdue=[],
                          counts={"new": 3, "assigned": 1})
    french = str(build_home(summary, "fr")["blocks"])
    assert "En cours : Attribuée : *1* · Nouvelle : *3*" in french
    english = str(build_home(summary, "en")["blocks"])
    assert "Open work: Assigned: *1* · New: *3*" in english
