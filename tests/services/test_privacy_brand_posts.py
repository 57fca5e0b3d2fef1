"""The brand's posts filed outside a case (the customer's post never stored, or gone) name
whom they answer: retention and a forget delete them, and ingest does not file the brand's
answers to a forgotten person fetched after the forget. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.privacy import do_forget, purge_older_than
from storage.db import transaction
from storage.models_base import utcnow
from storage.models_cases import CasePost, PostAlias
from tests.services.test_cases import BRAND_REPLY, NOW, ROOT, ingest, tweet, x_batch

# The brand answers Ana without naming her (a reply in her thread): only its parent says whom.
QUIET_REPLY = tweet("1004", "99", "So sorry! Please DM us your order number.", 25,
                    conversation="1001", reply_to="1001", reply_to_user="11")
OTHER_REPLY = tweet("2002", "99", "@bob thanks, glad it arrived!", 30,
                    conversation="2001", reply_to="2001", reply_to_user="22")


@pytest.fixture
def brand(sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> str:
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    return "@acmecare"


def posts(sessions: sessionmaker[Session]) -> list[tuple[str, int | None, str]]:
    with sessions() as session:
        return sorted((p.external_id, p.case_id, p.text)
                      for p in session.scalars(select(CasePost)))


def test_forget_deletes_the_brand_replies_naming_them_outside_a_case(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    # Ana's post (1001) was never stored: the brand's reply is filed in no case.
    ingest(sessions, workspace_id, x_batch(BRAND_REPLY, OTHER_REPLY))
    assert [(i, c) for i, c, _t in posts(sessions)] == [("1002", None), ("2002", None)]
    with transaction(sessions) as session:
        session.add(PostAlias(workspace_id=workspace_id, network="x", alias="local-1002",
                              external_id="1002", created_at=utcnow()))

    do_forget(sessions, workspace_id, CLI, "@Ana_R")

    # Bob's answer stays; nothing names Ana any more, nor the reply's other name.
    assert [(i, t) for i, _c, t in posts(sessions)] == [("2002", OTHER_REPLY["text"])]
    with sessions() as session:
        assert session.scalars(select(PostAlias.external_id)).all() == []


def test_forget_deletes_the_brand_replies_to_their_posts(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    # The brand's answer came first (filed in no case), then Ana's post it answers.
    ingest(sessions, workspace_id, x_batch(QUIET_REPLY))
    ingest(sessions, workspace_id, x_batch(ROOT))

    do_forget(sessions, workspace_id, CLI, "ana_r")

    assert posts(sessions) == []


def test_retention_deletes_the_brand_posts_outside_a_case_with_the_mentions(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    ingest(sessions, workspace_id, x_batch(BRAND_REPLY))
    with sessions() as session:
        filed = session.scalar(select(CasePost.created_at))
    assert filed is not None

    # Filed after the cut-off: kept, as a mention found then is.
    purge_older_than(sessions, 30, filed + timedelta(days=30) - timedelta(seconds=1))
    assert [i for i, _c, _t in posts(sessions)] == ["1002"]

    purge_older_than(sessions, 30, filed + timedelta(days=30, seconds=1))
    assert posts(sessions) == []


def test_a_brand_answer_to_a_forgotten_person_fetched_later_is_not_filed(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    do_forget(sessions, workspace_id, CLI, "ana_r")

    # One names her, one only answers her forgotten post; Bob's is filed.
    report = ingest(sessions, workspace_id, x_batch(BRAND_REPLY, QUIET_REPLY, OTHER_REPLY),
                    now=NOW + timedelta(hours=1))

    assert [i for i, _c, _t in posts(sessions)] == ["2002"]
    assert report.forgotten == 2
    assert report.brand_posts == 1


def test_a_forget_deletes_the_brand_answers_to_people_forgotten_before(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    do_forget(sessions, workspace_id, CLI, "ana_r")
    # Filed after Ana's forget by a version that did not leave them out: one answering her
    # forgotten post, one addressing her.
    with transaction(sessions) as session:
        for external_id, parent, text in (("1004", "1001", QUIET_REPLY["text"]),
                                          ("1005", None, "@Ana_R hi again")):
            session.add(CasePost(workspace_id=workspace_id, network="x",
                                 external_id=external_id, parent_external_id=parent,
                                 by_brand=True, author="@acmecare", text=text,
                                 published_at=NOW))
    ingest(sessions, workspace_id, x_batch(OTHER_REPLY))

    # Any later forget clears them; Bob's answer stays.
    do_forget(sessions, workspace_id, CLI, "someone_else")

    assert [i for i, _c, _t in posts(sessions)] == ["2002"]
