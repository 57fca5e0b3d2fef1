"""`/cm draft` over a version saved from the terminal (which records no author) and over an
approval given there: the reply names whoever it was in words that read mid-sentence
("someone", "the terminal operator"), in English and French. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.workflow import do_approve, do_save_draft, text_hash
from storage.db import transaction
from storage.models import Watch
from tests.services.test_approval_binding import AGENT, GOOD, new_mention

MINE = "Sorry Ana, the refund is on its way."


@pytest.fixture
def mention_id(sessions: sessionmaker[Session], workspace_id: int) -> int:
    """A mention assigned to the agent."""
    with transaction(sessions) as session:
        session.add(Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123"))
    return new_mention(sessions, workspace_id, "1")


def test_the_reply_names_the_terminal_operator_in_words(
        sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    do_save_draft(sessions, workspace_id, CLI, mention_id, GOOD)
    replaced = do_save_draft(sessions, workspace_id, AGENT, mention_id, GOOD + " Thanks.")
    assert replaced.message("en").endswith(" It replaced v1, saved by someone."), \
        replaced.message("en")
    assert replaced.message("fr").endswith(" Il remplace la v1, enregistrée par quelqu'un."), \
        replaced.message("fr")
    do_approve(sessions, workspace_id, CLI, mention_id, version=2,
               digest=text_hash(GOOD + " Thanks.")[:16])

    withdrew = do_save_draft(sessions, workspace_id, AGENT, mention_id, MINE)

    assert withdrew.message("en").endswith(
        " This withdrew the terminal operator's approval of v2: it needs approving again."), \
        withdrew.message("en")
    assert withdrew.message("fr").endswith(
        " Cela a retiré la validation de la v2 par l'opérateur du terminal : il faut de "
        "nouveau la valider."), withdrew.message("fr")
