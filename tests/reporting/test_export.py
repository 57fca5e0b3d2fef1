"""Exports: CSV (safe in spreadsheets) and JSON Lines, to Slack and to the terminal."""

from __future__ import annotations

import base64
import csv
import io
import json

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import export
from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.export import (
    COLUMNS,
    csv_safe,
    do_export_to_slack,
    export_mentions,
    parse_export_period,
    write_csv,
)
from storage import search_index
from storage.db import transaction
from storage.models import Mention, OutboxMessage
from tests.reporting.dataset import CHANNEL, DIGEST_END, Dataset


def test_formula_cells_are_quoted() -> None:
    for value in ("=1+2", "+33 6 12", "-2", "@SUM(A1)", "\tx", "\r=x"):
        assert csv_safe(value) == "'" + value
    assert csv_safe("hello = world") == "hello = world"
    assert csv_safe(-2) == -2 and csv_safe(None) is None


def test_formula_cells_after_whitespace_are_quoted() -> None:
    """Spreadsheets skip the spaces or newlines before a formula: " =1+2" ran as one."""
    for value in (" =1+2", "  +33 6 12", "\n-2", " \u00a0@SUM(A1)", "\n\t=x"):
        assert csv_safe(value) == "'" + value
    assert csv_safe("  hello = world") == "  hello = world"


def test_csv_escapes_formulas_and_keeps_text(sessions: sessionmaker[Session],
                                            dataset: Dataset) -> None:
    with transaction(sessions) as session:
        mention = session.get(Mention, dataset.mentions["m11"])
        assert mention is not None
        mention.text = '=HYPERLINK("http://evil.example","click"), "quoted", line\nbreak'
        mention.reply_url = "https://x.example/reply/1"
    out = io.StringIO()
    count = export_mentions(sessions, dataset.workspace_id, out, since="7d", fmt="csv",
                            now=DIGEST_END)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows) == 15
    assert list(rows[0]) == list(COLUMNS)
    m11 = next(row for row in rows if row["id"] == str(dataset.mentions["m11"]))
    assert m11["text"].startswith("'=HYPERLINK(") and m11["text"].endswith("line\nbreak")
    assert m11["status"] == "replied" and m11["reply_url"] == "https://x.example/reply/1"
    assert m11["first_response_minutes"] == "10.0"
    assert m11["replied_at"] == "2026-10-24T09:10:00+00:00"
    assert m11["card_url"].startswith(f"https://slack.com/archives/{CHANNEL}/p")
    m3 = next(row for row in rows if row["id"] == str(dataset.mentions["m3"]))
    assert m3["owner"] == "U07AGENT01" and m3["replied_at"] == ""


def test_jsonl_for_one_watch(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    out = io.StringIO()
    count = export_mentions(sessions, dataset.workspace_id, out, since="30d", fmt="jsonl",
                            now=DIGEST_END, watch="BETA")
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(records) == 4
    assert {r["watch"] for r in records} == {"beta"}
    assert records[0]["id"] > records[-1]["id"]  # newest first
    with pytest.raises(ServiceError) as err:
        export_mentions(sessions, dataset.workspace_id, io.StringIO(), since="7d", fmt="csv",
                        now=DIGEST_END, watch="nope")
    assert err.value.key == "watch.not_found"
    with pytest.raises(ServiceError):
        export_mentions(sessions, dataset.workspace_id, io.StringIO(), since="7d",
                        fmt="xlsx", now=DIGEST_END)


def test_export_to_slack_goes_through_the_outbox(sessions: sessionmaker[Session],
                                                dataset: Dataset) -> None:
    result = do_export_to_slack(sessions, dataset.workspace_id, CLI, channel_id=CHANNEL,
                                period="7d", watch="acme", now=DIGEST_END, language="en")
    assert (result.rows, result.total, result.truncated) == (10, 10, False)
    with sessions() as session:
        row = session.scalar(select(OutboxMessage))
    assert row is not None and row.kind == "upload" and row.channel == CHANNEL
    content = base64.b64decode(row.payload["content_b64"]).decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(content)))) == 10
    assert row.payload["filename"] == "vigie-mentions-acme-7d-2026-10-25.csv"


def test_export_periods() -> None:
    assert parse_export_period(None).days == 7
    assert parse_export_period("30d").days == 30
    with pytest.raises(ServiceError) as err:
        parse_export_period("90d")
    assert err.value.key == "export.bad_period"


def test_write_csv_counts_rows() -> None:
    out = io.StringIO()
    assert write_csv([], out) == 0
    assert out.getvalue().startswith("id,created_at,")


def test_export_of_a_text_search(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    with transaction(sessions) as session:  # edited texts are queued for the index
        for key, words in (("m11", "Le RAPPEL produit arrive"), ("m3", "rappel du produit"),
                           ("m4", "produit rappelé")):
            mention = session.get(Mention, dataset.mentions[key])
            assert mention is not None
            mention.text = words
    out = io.StringIO()
    count = export_mentions(sessions, dataset.workspace_id, out, since="30d", fmt="jsonl",
                            now=DIGEST_END, text="rappel produit -arrive")
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == 1 and [r["id"] for r in records] == [dataset.mentions["m3"]]
    out = io.StringIO()
    assert export_mentions(sessions, dataset.workspace_id, out, since="30d", fmt="csv",
                           now=DIGEST_END, text="rappel*") == 3
    with pytest.raises(ServiceError) as err:
        export_mentions(sessions, dataset.workspace_id, io.StringIO(), since="7d", fmt="csv",
                        now=DIGEST_END, text='"rappel')
    assert err.value.key == "mentions.bad_text"


@pytest.mark.parametrize("text", ["zeppelin", "zeppelin -blimp", "zepp*", '"red zeppelin"'])
def test_a_full_search_export_counts_the_rest_without_reading_it(
        sessions: sessionmaker[Session], dataset: Dataset, monkeypatch: pytest.MonkeyPatch,
        text: str) -> None:
    """`/cm export` of a search that fills its file: the same first rows as the full
    export, and the total that export finds, counted without loading the mentions the file
    leaves out (some indexed, some still queued for the index)."""
    texts = ("red zeppelin over the bay", "zeppelin blimp", "a red zeppelin", "nothing here")
    with transaction(sessions) as session:
        for number, key in enumerate(sorted(dataset.mentions)):
            session.get_one(Mention, dataset.mentions[key]).text = texts[number % len(texts)]
        session.flush()
        search_index.index_pending(session, limit=len(dataset.mentions) // 2)
        assert search_index.pending_count(session) > 0
    out = io.StringIO()
    expected = export_mentions(sessions, dataset.workspace_id, out, since="30d", fmt="csv",
                               now=DIGEST_END, text=text)
    full = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert expected >= 4
    monkeypatch.setattr(export, "SLACK_ROW_LIMIT", 2)
    monkeypatch.setattr(export, "BATCH", 2)
    loaded: list[int] = []

    def on_load(target: Mention, _context: object) -> None:
        loaded.append(target.id)

    event.listen(Mention, "load", on_load)
    try:
        result = do_export_to_slack(sessions, dataset.workspace_id, CLI, channel_id=CHANNEL,
                                    period="30d", watch=None, now=DIGEST_END, language="en",
                                    text=text)
    finally:
        event.remove(Mention, "load", on_load)
    assert (result.rows, result.total, result.truncated) == (2, expected, True)
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    content = base64.b64decode(row.payload["content_b64"]).decode("utf-8-sig")
    assert [r["id"] for r in csv.DictReader(io.StringIO(content))] == [
        r["id"] for r in full[:2]]
    assert len(loaded) < expected  # the rest was counted, not read as mentions
