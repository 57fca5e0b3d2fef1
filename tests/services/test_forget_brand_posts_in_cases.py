"""The brand's answers filed in another customer's case that name a forgotten person: a
forget redacts their name when the answer also addresses someone else (it stays that
customer's answer) and deletes it when it addresses only them; ingest after the forget
files it the same way, so the other customer's case is answered. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import forgotten
from bot.services.actors import CLI
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.privacy import do_compact_search_index, do_forget
from storage.models import Mention
from storage.models_cases import Case, CasePost
from storage.search_index import index_pending
from tests.services.test_cases import NOW, ROOT, ingest, tweet, x_batch
from tests.services.test_privacy_brand_posts import brand  # noqa: F401  (fixture)

BOB_POST = tweet("2001", "22", "@AcmeCare mine too, order 7781 lost", 5)
# The brand answers Ana's post and Bob in one reply, in Ana's thread: filed in Ana's case.
TO_BOTH = tweet("1006", "99", "@ana_r @bob we're on it, Bob and Ana: sorry to you both!", 20,
                conversation="1001", reply_to="1001", reply_to_user="11")
REDACTED = "@ana_r […] we're on it, […] and Ana: sorry to you both!"
# In Ana's thread too, but to Bob alone.
TO_BOB = tweet("1007", "99", "@bob please DM us your order number", 21,
               conversation="1001", reply_to="1001", reply_to_user="11")


def brand_posts(sessions: sessionmaker[Session]) -> list[tuple[str, str | None, str]]:
    """(external id, customer of its case, text) of the brand's stored posts."""
    with sessions() as session:
        return sorted(session.execute(select(CasePost.external_id, Case.customer, CasePost.text)
                                      .join(Case, Case.id == CasePost.case_id, isouter=True)
                                      .where(CasePost.by_brand.is_(True))).tuples())


def ana_answered(sessions: sessionmaker[Session]) -> tuple[str | None, str | None]:
    """The state of Ana's case and the status of her post."""
    with sessions() as session:
        return (session.scalar(select(Case.state).where(Case.customer == "@ana_r")),
                session.scalar(select(Mention.status).where(Mention.external_id == "1001")))


def found(sessions: sessionmaker[Session], workspace_id: int, text: str) -> list[str]:
    """The mentions a ``/cm mentions`` text search for ``text`` lists (their external ids)."""
    return [row.external_id for row in search_mentions(
        sessions, workspace_id, MentionFilter(text=text), now=NOW + timedelta(hours=2))]


def test_a_forget_redacts_them_from_a_brand_answer_in_someone_elses_case(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:  # noqa: F811
    ingest(sessions, workspace_id, x_batch(ROOT, BOB_POST))
    ingest(sessions, workspace_id, x_batch(TO_BOTH, TO_BOB), now=NOW + timedelta(minutes=30))
    with sessions.begin() as session:
        index_pending(session)
    assert [(i, c) for i, c, _t in brand_posts(sessions)] == [
        ("1006", "@ana_r"), ("1007", "@ana_r")]
    assert found(sessions, workspace_id, "from:bob") == ["2001"]
    assert found(sessions, workspace_id, "7781") == ["2001"]

    do_forget(sessions, workspace_id, CLI, "@Bob")
    do_compact_search_index(sessions)

    # Ana keeps the brand's answer to her, nothing of it names Bob; his own answer went.
    assert brand_posts(sessions) == [("1006", "@ana_r", REDACTED)]
    assert not forgotten.names_handle("bob", REDACTED)
    assert ana_answered(sessions) == ("replied", "replied")
    for text in ("bob", "from:bob", "7781", "@bob"):
        assert found(sessions, workspace_id, text) == []
    assert found(sessions, workspace_id, "5512") == ["1001"]


def test_a_brand_answer_to_them_and_someone_else_fetched_later_answers_the_other(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:  # noqa: F811
    ingest(sessions, workspace_id, x_batch(BOB_POST))
    do_forget(sessions, workspace_id, CLI, "bob")
    ingest(sessions, workspace_id, x_batch(ROOT), now=NOW + timedelta(minutes=10))

    report = ingest(sessions, workspace_id, x_batch(TO_BOTH, TO_BOB),
                    now=NOW + timedelta(minutes=30))

    # Stored for Ana with Bob's name redacted: her case is answered (its SLA stops); the
    # answer to Bob alone is not filed.
    assert report.brand_posts == 1
    assert report.forgotten == 1
    assert brand_posts(sessions) == [("1006", "@ana_r", REDACTED)]
    assert ana_answered(sessions) == ("replied", "replied")
    with sessions.begin() as session:
        index_pending(session)
    assert found(sessions, workspace_id, "bob") == []


def test_a_forget_redacts_an_answer_filed_before_the_post_it_answers(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:  # noqa: F811
    # The brand's answer came first (Ana's post not stored yet: filed in no case), with a
    # longer name that is someone else.
    other = tweet("1008", "99", "@ana_r @bobby thanks, and @bob too", 22,
                  conversation="1001", reply_to="1001", reply_to_user="11")
    ingest(sessions, workspace_id, x_batch(TO_BOTH, other))

    do_forget(sessions, workspace_id, CLI, "bob")

    assert brand_posts(sessions) == [("1006", None, REDACTED),
                                     ("1008", None, "@ana_r @bobby thanks, and […] too")]
    # Ana's post, stored later, gets its answers.
    ingest(sessions, workspace_id, x_batch(ROOT), now=NOW + timedelta(minutes=30))
    assert [(i, c) for i, c, _t in brand_posts(sessions)] == [
        ("1006", "@ana_r"), ("1008", "@ana_r")]
