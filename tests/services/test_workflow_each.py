"""One action on several mentions (`/cm ignore 41 42 43 reason`): each id is worked in its
own transaction, and the outcome says, id by id, what was done and what was refused and
why. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services import workflow
from bot.services.actors import CLI
from bot.services.errors import NotFound, ServiceError
from bot.services.workflow_each import MAX_AT_ONCE, do_each
from storage.db import transaction
from storage.models import Mention
from tests.services.test_outbox import add_mention


def _more_mentions(sessions: sessionmaker[Session], workspace_id: int, count: int) -> list[int]:
    """``count`` mentions of one watch (``add_mention`` stores the first with its watch)."""
    first = add_mention(sessions, workspace_id)
    with transaction(sessions) as session:
        model = session.get(Mention, first)
        assert model is not None
        rest = [Mention(workspace_id=workspace_id, watch_id=model.watch_id,
                        author_id=model.author_id, network="mastodon", external_id=str(n),
                        url=f"https://m.social/@ana/{n}", text=f"hello {n}",
                        published_at=model.published_at, priority=72)
                for n in range(2, count + 1)]
        session.add_all(rest)
        session.flush()
        return [first, *(mention.id for mention in rest)]


def _status(sessions: sessionmaker[Session], mention_id: int) -> str:
    with sessions() as session:
        return session.get(Mention, mention_id).status  # type: ignore[union-attr]


def test_each_id_is_done_or_refused_with_its_reason(sessions: sessionmaker[Session],
                                                     workspace_id: int) -> None:
    first, second, third = _more_mentions(sessions, workspace_id, 3)
    workflow.do_simple(sessions, workspace_id, CLI, third, "ignore")
    missing = third + 1000
    outcome = do_each([first, missing, second, third, first], lambda mention_id: (
        workflow.do_simple(sessions, workspace_id, CLI, mention_id, "ignore",
                           reason="duplicates of #40")))
    assert [mention_id for mention_id, _result in outcome.results] == [
        first, missing, second, third]  # in the order named, each once
    assert [done.mention_id for done in outcome.done] == [first, second]
    assert [mention_id for mention_id, _err in outcome.refused] == [missing, third]
    assert _status(sessions, first) == _status(sessions, second) == "ignored"
    text = outcome.message("en")
    assert text.splitlines()[0] == "Done for 2 of 4 mentions:"
    assert f"Mention #{first} ignored." in text and f"Mention #{second} ignored." in text
    assert f":x: #{missing} not done: There is no mention #{missing}" in text
    assert f":x: #{third} not done:" in text
    assert "Fait pour 2 mention(s) sur 4" in outcome.message("fr")


def test_one_id_answers_as_before(sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = add_mention(sessions, workspace_id)
    outcome = do_each([mention_id], lambda mention_id: workflow.do_simple(
        sessions, workspace_id, CLI, mention_id, "ignore"))
    assert outcome.message("en") == f"Mention #{mention_id} ignored."
    with pytest.raises(NotFound):
        do_each([mention_id + 1000], lambda mention_id: workflow.do_simple(
            sessions, workspace_id, CLI, mention_id, "ignore"))


def test_too_many_ids_are_refused_before_any_is_worked(sessions: sessionmaker[Session],
                                                       workspace_id: int) -> None:
    mention_id = add_mention(sessions, workspace_id)
    with pytest.raises(ServiceError) as refused:
        do_each([mention_id, *range(10_000, 10_000 + MAX_AT_ONCE)], lambda mention_id: (
            workflow.do_simple(sessions, workspace_id, CLI, mention_id, "ignore")))
    assert refused.value.key == "workflow.too_many_at_once"
    assert _status(sessions, mention_id) == "new"
