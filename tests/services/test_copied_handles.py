"""A handle copied from a Slack card or from Vigie's terminal output names the same person
as the handle typed: the zero-width spaces that keep a ``_`` from formatting a name
(``unformat``) are not part of it. A forget of such a copy deletes the person's posts
(SQLite and PostgreSQL), and tracking or declaring a brand account finds the stored
author, as they do for the typed handle."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.influencers import do_track
from bot.services.privacy import do_forget
from bot.slack.escape import unformat
from storage.models import Author, Mention
from tests.services.test_cases import NOW, ROOT, ingest, x_batch

# As a card shows it and a copy keeps it: "ana_<U+200B>r", other invisible marks around.
COPIED = "\ufeff@" + unformat("ana_r") + "\u2060"


def test_forget_of_a_copied_handle_deletes_the_person(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    report = do_forget(sessions, workspace_id, CLI, COPIED)
    assert (report.authors, report.mentions) == (1, 1)
    with sessions() as session:
        assert session.scalars(select(Author.handle)).all() == []
        assert session.scalars(select(Mention.id)).all() == []


def test_tracking_a_copied_handle_tracks_the_stored_author(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    assert do_track(sessions, workspace_id, CLI, handle=COPIED, network="x", now=NOW) == (
        "@ana_r", True)
    with sessions() as session:
        assert session.scalars(select(Author.handle)).all() == ["@ana_r"]


def test_a_copied_brand_account_is_stored_without_the_invisible_marks(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    copied = unformat("acme_support") + "\u200d"
    assert do_add_account(sessions, workspace_id, CLI, "reddit", copied).handle == (
        "u/acme_support")
