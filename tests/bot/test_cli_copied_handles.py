"""A handle copied from Vigie's terminal output names the person: the listings print
``ana_lopez@example.com`` without the zero-width space Slack's cards put after ``_``, and a
handle pasted from a card with that space still finds them in `vigie forget` and
`vigie influencers track` (the review's first run forgot no one and said it had)."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_cli import vigie

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
HANDLE = "ana_lopez@example.com"
FROM_A_CARD = "ana_\u200blopez@example.com"


def _printed(tmp_path: Path, *args: str) -> str:
    result = vigie(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_listings_print_handles_that_can_be_copied(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    outputs = {args: _printed(tmp_path, *args) for args in (
        ("demo",), ("influencers",), ("digest", "--preview"), ("stats",))}
    assert "ana_lopez (example.com)" in outputs[("demo",)]
    assert HANDLE in outputs[("influencers",)]
    assert {args: [c for c in ZERO_WIDTH if c in out] for args, out in outputs.items()} == {
        args: [] for args in outputs}


def test_a_handle_pasted_from_a_card_is_tracked_and_forgotten(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    _printed(tmp_path, "demo")
    tracked = _printed(tmp_path, "influencers", "track", FROM_A_CARD, "rss")
    assert f"Tracking {HANDLE} on rss" in tracked
    listed = _printed(tmp_path, "influencers")
    assert f"{HANDLE} (RSS/Atom feeds) · ? followers · 1 mention(s)" in listed
    assert f"Tracked: {HANDLE} (rss)" in listed
    forgot = _printed(tmp_path, "forget", FROM_A_CARD)
    assert "Deleted 1 author record(s) and 1 mention(s)" in forgot
    assert _printed(tmp_path, "mentions", "--text", f"from:{HANDLE}").startswith(
        "No mentions match")
