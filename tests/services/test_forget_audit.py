"""A forget leaves no handle of the person in the audit trail: tracking and untracking
someone are audited with the keyed digest of their handle (as the forget itself is), and a
forget rewrites the rows older versions wrote with the handle in clear (``@x``, ``x``, a
feed author's byline). Others' rows are left as they were. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import forgotten
from bot.services.actors import CLI
from bot.services.influencers import do_track, do_untrack
from bot.services.privacy import do_forget
from storage.db import transaction
from storage.models import AuditEvent, Author
from tests.services.test_cases import NOW, ROOT, ingest, x_batch


def _details(sessions: sessionmaker[Session]) -> list[tuple[str, dict[str, object]]]:
    with sessions() as session:
        return [(action, dict(detail)) for action, detail in session.execute(
            select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id))]


def test_tracking_is_audited_without_the_handle_and_forget_leaves_none(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    do_track(sessions, workspace_id, CLI, handle="@ana_r", network="x", now=NOW)
    do_untrack(sessions, workspace_id, CLI, handle="ana_r", network="x")
    do_track(sessions, workspace_id, CLI, handle="@bob_b", network="x", now=NOW)
    tracking = [(a, d) for a, d in _details(sessions) if a.startswith("influencer.")]
    assert [a for a, _ in tracking] == ["influencer.tracked", "influencer.untracked",
                                        "influencer.tracked"]
    assert not any("ana_r" in str(d) or "bob_b" in str(d) for _, d in tracking)
    with sessions() as session:
        ana = forgotten.subject_digest(session, workspace_id, "@ana_r")
    assert [d.get("handle_digest") for _, d in tracking[:2]] == [ana, ana]

    do_forget(sessions, workspace_id, CLI, "ana_r")
    assert not any("ana_r" in str(d) for _, d in _details(sessions))


def test_forget_rewrites_older_rows_naming_the_handle(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    # As Vigie wrote them before: the handle in clear, in the forms the networks store.
    older = [("influencer.tracked", {"network": "x", "handle": "@ana_r"}),
             ("influencer.untracked", {"network": "x", "handle": "@ANA_R"}),
             ("influencer.tracked", {"network": "reddit", "handle": "u/ana_r"}),
             ("influencer.tracked", {"network": "rss", "handle": "ana_r"}),
             ("influencer.tracked", {"network": "x", "handle": "@bob_b"}),
             ("account.add", {"network": "x", "handle": "@AcmeCare"})]
    with transaction(sessions) as session:
        for action, detail in older:
            session.execute(insert(AuditEvent).values(
                workspace_id=workspace_id, actor="cli", action=action, surface="cli",
                detail=detail))
    do_forget(sessions, workspace_id, CLI, "@Ana_R")
    rows = _details(sessions)
    assert not any("ana_r" in str(d).lower() for _, d in rows)
    with sessions() as session:
        ana = forgotten.subject_digest(session, workspace_id, "ana_r")
    rewritten = [d for a, d in rows if a.startswith("influencer.") and "handle_digest" in d]
    assert [(d["network"], d["handle_digest"]) for d in rewritten] == [
        ("x", ana), ("x", ana), ("reddit", ana), ("rss", ana)]
    # Someone else's row, and the brand's own account, keep their handle.
    assert ("influencer.tracked", {"network": "x", "handle": "@bob_b"}) in rows
    assert ("account.add", {"network": "x", "handle": "@AcmeCare"}) in rows


def test_forget_by_byline_rewrites_the_feed_author_s_rows(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    """A feed author (stored ``Élodie Martin@blog.example``) forgotten by their byline."""
    with transaction(sessions) as session:
        session.add(Author(workspace_id=workspace_id, network="rss",
                           handle="Élodie Martin@blog.example", site="blog.example",
                           mention_count=0, first_seen_at=NOW, last_seen_at=NOW))
        session.execute(insert(AuditEvent).values(
            workspace_id=workspace_id, actor="cli", action="influencer.tracked",
            surface="cli", detail={"network": "rss", "handle": "Élodie Martin@blog.example"}))
    do_forget(sessions, workspace_id, CLI, "Élodie Martin")
    assert not any("Élodie" in str(d) for _, d in _details(sessions))
