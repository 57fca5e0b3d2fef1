"""A forget rewrites a digest already sent without the person, and the update that replaces
its message in Slack carries nothing of theirs: not their posts among what waited for the
digest (a story's first post included), not their name among the top authors when they
were forgotten by a feed byline alone (``Admin`` for ``Admin@blog.example``); a digest
still naming them once rewritten is replaced with the notice rather than posted again.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t
from bot.messages.spikes import SpikeAlertSpec, SpikeSample
from bot.services.actors import CLI
from bot.services.forget_messages import ForgottenPerson, _spike_without
from bot.services.ingest import do_ingest
from bot.services.outbox import KIND_POST, KIND_REDACT, KIND_UPDATE_POST
from bot.services.privacy import do_forget
from bot.services.reporting.digest import do_post_digest_now
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus
from tests.harness.constants import CHANNEL_ID

NOW = datetime.now(UTC).replace(microsecond=0)
TS = "1700000000.000100"


def _post(network: str, external_id: str, author: FetchedAuthor, text: str) -> FetchedMention:
    return FetchedMention(network=network, external_id=external_id,
                          url=f"https://blog.example/{external_id}", text=text,
                          author=author, published_at=NOW)


def _sent_digest(sessions: sessionmaker[Session], workspace_id: int,
                 posts: list[FetchedMention]) -> None:
    """``posts`` waited for the digest (the watch alerts at 100), which was posted."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=100)
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None, posts,
                  now=NOW)
    do_post_digest_now(sessions, workspace_id, CLI, channel_id=CHANNEL_ID,
                       now=NOW + timedelta(minutes=5), chart=False)
    with transaction(sessions) as session:
        session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT.value,
                                                     result_ts=TS))


def _rows(sessions: sessionmaker[Session], kind: str) -> list[dict[str, Any]]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _everything(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        return " ".join(str(payload) for payload in session.scalars(
            select(OutboxMessage.payload)))


def test_their_posts_that_waited_leave_the_sent_digest_and_its_update(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    ana = FetchedAuthor(handle="@ana_r", name="Ana")
    bob = FetchedAuthor(handle="@bob_k", name="Bob")
    _sent_digest(sessions, workspace_id, [
        _post("x", "1", ana, "Acme: review number 1 of the new release"),
        _post("x", "2", ana, "Acme: review number 2 of the new release"),
        _post("x", "3", bob, "Acme support answered my billing question in minutes")])
    [before] = [group for payload in _rows(sessions, KIND_POST)
                for group in payload["digest"]["report"]["waited"]]
    assert "review number" in str(before)
    assert (before["count"], len(before["examples"])) == (3, 3)

    assert do_forget(sessions, workspace_id, CLI, "ana_r").authors == 1

    text = _everything(sessions)
    assert "review number" not in text and "ana_r" not in text
    [digest] = _rows(sessions, KIND_POST)
    [replaced] = _rows(sessions, KIND_UPDATE_POST)
    assert replaced["ts"] == TS
    for payload in (digest, replaced):
        [group] = payload["digest"]["report"]["waited"]
        assert [line["author"] for line in group["examples"]] == ["@bob_k"]
        # The count above the examples loses the ones that went.
        assert group["count"] == 1


def test_a_watch_whose_examples_were_all_theirs_leaves_what_waited(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    ana = FetchedAuthor(handle="@ana_r", name="Ana")
    _sent_digest(sessions, workspace_id, [
        _post("x", "1", ana, "Acme: review number 1 of the new release")])
    do_forget(sessions, workspace_id, CLI, "@ana_r")
    assert "review number" not in _everything(sessions)
    for payload in (*_rows(sessions, KIND_POST), *_rows(sessions, KIND_UPDATE_POST)):
        assert payload["digest"]["report"]["waited"] == []


def test_forgotten_by_a_byline_they_leave_the_top_authors(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    admin = FetchedAuthor(handle="Admin@blog.example", name="Admin", site="blog.example")
    eve = FetchedAuthor(handle="Eve@news.example", name="Eve", site="news.example")
    _sent_digest(sessions, workspace_id, [
        _post("rss", "1", admin, "Acme: review number 1 of the new release"),
        _post("rss", "2", admin, "Acme: review number 2 of the new release"),
        _post("rss", "3", eve, "Acme opens a new office in Lyon next spring")])
    assert "Admin@blog.example" in str(_rows(sessions, KIND_POST))

    assert do_forget(sessions, workspace_id, CLI, "Admin").authors == 1

    text = _everything(sessions)
    assert "Admin@blog.example" not in text and "review number" not in text
    for payload in (*_rows(sessions, KIND_POST), *_rows(sessions, KIND_UPDATE_POST)):
        assert [a["handle"] for a in payload["digest"]["report"]["top_authors"]] == [
            "Eve@news.example"]


def test_a_digest_still_naming_them_once_rewritten_is_replaced_not_sent_again(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    ana = FetchedAuthor(handle="@ana_r", name="Ana")
    bob = FetchedAuthor(handle="@bob_k", name="Bob")
    _sent_digest(sessions, workspace_id, [
        _post("x", "1", ana, "Acme: review number 1 of the new release"),
        _post("x", "2", bob, "Acme: I agree with @ana_r, the release broke my sync")])

    do_forget(sessions, workspace_id, CLI, "ana_r")

    # Bob's line still names her: the message is replaced with the notice, not re-sent.
    assert _rows(sessions, KIND_UPDATE_POST) == []
    notice = t("en", "privacy.redacted_message")
    [digest] = _rows(sessions, KIND_POST)
    assert digest["text"] == notice
    assert any(row["ts"] == TS and row["text"] == notice
               for row in _rows(sessions, KIND_REDACT))
    assert "ana_r" not in _everything(sessions)


def test_a_spike_alert_loses_their_sample_by_its_mention() -> None:
    person = ForgottenPerson("ana_r", (1,), frozenset({7}), frozenset({"her words"}),
                             frozenset(), NOW)
    spec = SpikeAlertSpec(language="en", watch="acme", kind="volume", total=9, baseline=1.0,
                          negative_share=0.5, baseline_negative_share=0.1, samples=(
                              SpikeSample("Ana R.", "her words, shortened…", None, 7),
                              SpikeSample("@bob_k", "his words", None, 8)))
    assert [s.mention_id for s in _spike_without(spec, person).samples] == [8]
