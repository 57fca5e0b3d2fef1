"""`/cm watch list` and `/cm source list` with more entries than a Slack message holds:
the first 45 get a section (fewer when long: tests/slack/test_message_budget.py), the
others are named, and the count is the real one."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.sources_admin import do_add_source, list_sources
from bot.services.watches import do_add_watch, list_watches
from bot.slack.admin_views import build_source_list, build_watch_list
from tests.harness.constants import CHANNEL_ID


def test_entries_past_what_a_message_holds_are_named_not_dropped(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    names = [f"w{n}" for n in range(56)]
    for name in names:
        do_add_watch(sessions, workspace_id, CLI, name=name, query=name, channel_id=CHANNEL_ID)
        do_add_source(sessions, workspace_id, CLI, kind="webhook", watch_name=name, values={})
    for language in ("en", "fr"):
        title, blocks = build_watch_list(list_watches(sessions, workspace_id), language)
        assert "56" in title and len(blocks) == 46  # Slack: at most 50 blocks
        shown = " ".join(str(b) for b in blocks)
        assert all(f"*{name}*" in shown for name in names), language
        assert blocks[-1]["type"] == "context" and "11" in str(blocks[-1])
        views = list_sources(sessions, workspace_id)
        title, blocks = build_source_list(views, language)
        assert "56" in title and len(blocks) == 46
        assert all(f"#{v.id}" in " ".join(str(b) for b in blocks) for v in views)
        assert "/cm source list" in str(blocks[-1])
    few = list_watches(sessions, workspace_id)[:3]
    assert [b["type"] for b in build_watch_list(few, "en")[1]] == ["section"] * 3
