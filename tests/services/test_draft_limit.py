"""Drafts fit the draft editor, on SQLite and PostgreSQL: `/cm draft` takes what the
editor's input holds (3,000 characters, Slack's plain_text_input limit), and the editor
never opens on a longer draft (it would cut it and save the cut text)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services import workflow
from bot.services.actors import Actor
from bot.services.drafting import draft_context
from bot.services.errors import ServiceError
from bot.slack.modals import build_draft_modal
from storage.db import transaction
from storage.models import Draft
from tests.services.test_cases import ROOT, ingest, mention, x_batch

AGENT = Actor("U0AGENT01", "slash_command")


def test_drafts_fit_the_editor(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    root = mention(sessions, "1001").id
    with pytest.raises(ServiceError) as refused:
        workflow.do_save_draft(sessions, workspace_id, AGENT, root, "a" * 3001)
    assert "3000" in refused.value.message("en")
    workflow.do_save_draft(sessions, workspace_id, AGENT, root, "a" * 3000)
    context = draft_context(sessions, workspace_id, root)
    [element] = [block["element"] for block in build_draft_modal(context, "en")["blocks"]
                 if block.get("type") == "input"]
    assert element["initial_value"] == "a" * 3000
    # A longer draft stored before the limit: the editor does not open on it (it would be
    # cut); the explanation points to /cm draft.
    with transaction(sessions) as session:
        session.add(Draft(mention_id=root, version=2, text="b" * 4000, origin="human",
                          author_user_id=AGENT.user_id, risk_level="low", risk_flags=[]))
    with pytest.raises(ServiceError) as too_long:
        draft_context(sessions, workspace_id, root)
    assert "/cm draft" in too_long.value.message("en")
