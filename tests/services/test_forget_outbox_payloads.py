"""A forget leaves nothing of the person in the outbox's rows without a mention, whatever
became of them: an export's CSV already uploaded and a monthly report already sent lose
their lines, a message given up that quoted them is not kept to be retried, and any other
row still naming them (an ``@handle``, their post, their link) is dropped while unsent, or
keeps only where its message is once sent. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.notes import Note, Text
from bot.messages.stored import spec_payload
from bot.services.actors import CLI
from bot.services.export import do_export_to_slack
from bot.services.outbox import KIND_CHART, KIND_UPLOAD
from bot.services.privacy import do_forget
from bot.services.watches import do_add_watch
from storage.db import transaction
from storage.models import Author, OutboxMessage, OutboxStatus
from tests.harness.constants import CHANNEL_ID
from tests.services.test_same_words import NOW as LATER
from tests.services.test_same_words import _poll as poll_acme
from tests.services.test_same_words import _post

SECRET = "@acme my address is 12 rue Secrète, where is my parcel?"
OTHER = "@acme the new app update is really nice, well done team"


def _two_authors(sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    poll_acme(sessions, workspace_id, [_post("x", "1", "ana", SECRET),
                                       _post("x", "2", "bob", OTHER)])


def _row(sessions: sessionmaker[Session], workspace_id: int, kind: str, status: str,
         payload: dict[str, Any], channel: str = "C0DIGEST1") -> int:
    with transaction(sessions) as session:
        row = OutboxMessage(workspace_id=workspace_id, kind=kind, channel=channel,
                            payload=payload, status=status,
                            result_ts="1700000000.000100"
                            if status == OutboxStatus.SENT.value else None)
        session.add(row)
        session.flush()
        return row.id


def _payloads(sessions: sessionmaker[Session]) -> dict[int, dict[str, Any]]:
    with sessions() as session:
        return {row_id: payload for row_id, payload in session.execute(
            select(OutboxMessage.id, OutboxMessage.payload))}


def test_an_uploaded_export_keeps_no_line_of_theirs(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _two_authors(sessions, workspace_id)
    do_export_to_slack(sessions, workspace_id, CLI, channel_id="D07REQUESTER", period="7d",
                       watch=None, now=LATER, language="en")
    with transaction(sessions) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.kind == KIND_UPLOAD)
                        .values(status=OutboxStatus.SENT.value))
    do_forget(sessions, workspace_id, CLI, "ana")
    with sessions() as session:
        row = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_UPLOAD)).one()
    content = base64.b64decode(row.payload["content_b64"]).decode("utf-8-sig")
    assert "Secrète" not in content and "ana" not in content
    assert "well done" in content


def test_a_sent_monthly_report_loses_them_among_its_influencers(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _two_authors(sessions, workspace_id)
    with sessions() as session:
        authors = {handle: author_id for handle, author_id in session.execute(
            select(Author.handle, Author.id))}
    report = {"month": "2026-11", "influencers": [
        {"author_id": authors["ana"], "handle": "ana", "name": "Ana B.", "mentions": 1},
        {"author_id": authors["bob"], "handle": "bob", "name": None, "mentions": 1}]}
    sent = _row(sessions, workspace_id, KIND_CHART, OutboxStatus.SENT.value,
                {"filename": "vigie-report-2026-11.pdf", "report": report})
    do_forget(sessions, workspace_id, CLI, "ana")
    influencers = _payloads(sessions)[sent]["report"]["influencers"]
    assert [item["handle"] for item in influencers] == ["bob"]


def test_a_message_given_up_that_quoted_them_is_not_kept(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _two_authors(sessions, workspace_id)
    note = Note.of("en", "outbox.channel_refused_dm_other", channel="C0GONE001",
                   error=Text(SECRET))
    failed = _row(sessions, workspace_id, "post", OutboxStatus.FAILED.value,
                  spec_payload(note), channel="U0ADMIN01")
    do_forget(sessions, workspace_id, CLI, "ana")
    assert failed not in _payloads(sessions)  # `vigie outbox retry` would send it


def test_any_other_row_naming_them_is_dropped_or_forgets_what_it_said(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _two_authors(sessions, workspace_id)
    sent, pending, quoted, others = (
        _row(sessions, workspace_id, kind, status, payload) for kind, status, payload in (
            ("notify", OutboxStatus.SENT.value,
             {"text": "Reminder: answer @Ana about her parcel", "ts": "1700000000.000200"}),
            ("post", OutboxStatus.PENDING.value,
             {"text": "Story: @ana and 2 others", "blocks": []}),
            ("update_post", OutboxStatus.SENT.value,
             {"text": f"Approved: “{SECRET}”", "link": "https://x.example/ana/1",
              "ts": "1700000000.000300"}),
            ("post", OutboxStatus.PENDING.value,
             {"text": "@anabel and @bob wrote: " + OTHER})))
    do_forget(sessions, workspace_id, CLI, "ana")
    left = _payloads(sessions)
    assert left[sent] == {"ts": "1700000000.000200"}  # where the message is, not what it said
    assert pending not in left  # never sent now
    assert left[others]["text"].startswith("@anabel and @bob")  # someone else
    assert left[quoted] == {"ts": "1700000000.000300"}  # their post, their link
