"""`forget` keeps a forgotten author out, on SQLite and PostgreSQL: a source polling the same
feed again (a new source, a reset cursor), their new posts, a renamed account's old posts
and a webhook push are all dropped and counted, never stored, until the forget is undone;
and what is kept to recognise them names no one."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.services import forgotten, sources_admin
from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.ingest import do_ingest
from bot.services.outbox import KIND_CARD
from bot.services.polling import run_poll_tick
from bot.services.privacy import ForgetReport, do_forget, do_unforget
from bot.services.secrets import do_rotate_secrets
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.services.webhook_ingest import do_ingest_webhook
from bot.slack.admin_views import build_source_test
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import make_engine, make_session_factory, transaction
from storage.models import AuditEvent, Author, Mention, OutboxMessage
from storage.models_privacy import ForgetKey, Forgotten
from storage.secret_box import PREFIX, SecretBox, generate_key
from tests.harness.constants import CHANNEL_ID
from tests.services.racing import race
from tests.services.test_polling import trusted_client

NOW = datetime.now(UTC).replace(microsecond=0)
SECRET = "0123456789abcdef-shared"


class Feed:
    """An Atom feed whose entries the test changes: (id, author, text)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str]] = []

    def __call__(self, _request: Request) -> Response:
        body = "".join(
            f"<entry><id>{entry_id}</id><title>{text}</title><summary>{text}</summary>"
            f"<link href='https://forum.example/{entry_id}'/>"
            f"<author><name>{author}</name></author>"
            f"<updated>{(NOW - timedelta(minutes=n + 1)).isoformat()}</updated></entry>"
            for n, (entry_id, author, text) in enumerate(self.entries))
        return Response(f"<feed xmlns='http://www.w3.org/2005/Atom'><title>Forum</title>"
                        f"{body}</feed>", content_type="application/atom+xml")


@pytest.fixture
def feed(httpserver: HTTPServer) -> Feed:
    served = Feed()
    served.entries = [
        ("bob-1", "angry_bob", "Acme is a scam, they stole my money and my data"),
        ("bob-2", "angry_bob", "Still no refund from Acme, I will sue them all"),
        ("ann-1", "ann", "Acme delivered my parcel early, thanks a lot"),
    ]
    httpserver.expect_request("/feed").respond_with_handler(served)
    return served


def add_source(sessions: sessionmaker[Session], workspace_id: int, watch: str, url: str) -> int:
    do_add_watch(sessions, workspace_id, CLI, name=watch, query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    return do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch,
                         values={"url": url}).id


def bob_mentions(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Mention.external_id).join(
            Author, Author.id == Mention.author_id).where(
            func.lower(Author.handle).in_(["angry_bob", "@angry_bob",
                                           "angry_bob@forum.example"]))))


def poll(sessions: sessionmaker[Session], source_id: int) -> tuple[int, int, int]:
    totals = run_poll_tick(sessions, trusted_client, force=True, only_ids=[source_id]).totals
    return totals.stored, totals.forgotten, totals.alerts


def test_a_forgotten_author_does_not_come_back_until_undone(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
        feed: Feed) -> None:
    url = httpserver.url_for("/feed")
    first = add_source(sessions, workspace_id, "acme", url)
    assert poll(sessions, first) == (3, 0, 3)
    report = do_forget(sessions, workspace_id, CLI, "@Angry_Bob")
    assert (report.authors, report.mentions) == (1, 2)
    with sessions() as session:
        cards = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD))

    # Another source on the same feed (from scratch, as after a cursor reset).
    second = add_source(sessions, workspace_id, "acme-again", url)
    stored, dropped, _alerts = poll(sessions, second)
    assert (stored, dropped) == (0, 2)
    assert bob_mentions(sessions) == []

    # A new post of theirs, and an old one of theirs under a new name (a renamed account).
    feed.entries = [("bob-3", "angry_bob", "Acme, answer me or see you in court"),
                    ("bob-1", "calm_robert", "Acme is a scam, they stole my money"),
                    *feed.entries[1:]]
    assert poll(sessions, second)[:2] == (0, 1)  # the others were seen by this source
    # A third source sees all three (by handle, by post, by handle); ann's post is linked.
    assert poll(sessions, add_source(sessions, workspace_id, "third", url))[:2] == (0, 3)
    assert bob_mentions(sessions) == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD, OutboxMessage.mention_id.is_(None))) == 0
        assert session.scalar(select(func.count()).select_from(Mention).where(
            Mention.external_id.like("bob-%"))) == 0
        new_cards = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD))
    assert new_cards is not None and cards is not None and new_cards <= cards + 1  # ann's

    # The person asks to be tracked again: their posts are stored again.
    assert do_unforget(sessions, workspace_id, CLI, "angry_bob") == 4  # handle (2), posts
    with pytest.raises(ServiceError) as refused:
        do_unforget(sessions, workspace_id, CLI, "angry_bob")
    assert refused.value.key == "privacy.not_forgotten"
    assert poll(sessions, add_source(sessions, workspace_id, "fourth", url))[:2] == (3, 0)
    assert bob_mentions(sessions) == ["bob-2", "bob-3"]  # bob-1 is calm_robert's now
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention).where(
            Mention.external_id.like("bob-%"))) == 3


def test_a_webhook_push_of_a_forgotten_author_is_dropped(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
        feed: Feed) -> None:
    add_source(sessions, workspace_id, "acme", httpserver.url_for("/feed"))
    run_poll_tick(sessions, trusted_client, force=True)
    do_forget(sessions, workspace_id, CLI, "angry_bob")
    hook = do_add_source(sessions, workspace_id, CLI, kind="webhook", watch_name="acme",
                         values={"secret": SECRET, "network": "forum"}).id
    items = [{"id": "t-1", "url": "https://forum.example/t/1", "network": "forum",
              "text": "Acme support is useless", "author": {"handle": "@ANGRY_BOB"},
              "published_at": NOW.isoformat()},
             {"id": "t-2", "url": "https://forum.example/t/2", "network": "forum",
              "text": "Acme support answered fast", "author": {"handle": "carol"},
              "published_at": NOW.isoformat()}]
    body = json.dumps(items).encode()
    stamp = str(int(time.time()))
    signature = "sha256=" + hmac.new(SECRET.encode(), f"{stamp}.".encode() + body,
                                     hashlib.sha256).hexdigest()
    result = do_ingest_webhook(sessions, hook, body, signature=signature, timestamp=stamp)
    assert result.status == 200, result.body
    # The sender is not told who was forgotten: it reads as a post the query left out.
    assert (result.body["stored"], result.body["filtered"]) == (1, 1)
    assert "forgotten" not in result.body
    assert bob_mentions(sessions) == []


def test_what_forget_keeps_names_no_one(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
        feed: Feed) -> None:
    add_source(sessions, workspace_id, "acme", httpserver.url_for("/feed"))
    run_poll_tick(sessions, trusted_client, force=True)
    do_forget(sessions, workspace_id, CLI, "angry_bob")
    with sessions() as session:
        rows = session.scalars(select(Forgotten)).all()
        key = session.get(ForgetKey, workspace_id)
    # The handle's two rows: any case, and as typed (for Hacker News, whose names have case).
    assert sorted(r.kind for r in rows) == ["exact", "handle", "post", "post"]
    kept = " ".join(f"{r.digest} {r.subject}" for r in rows)
    assert "bob" not in kept and "forum.example" not in kept
    # Keyed: not the plain hash of the handle anyone could compute from a list of handles.
    for plain in ("angry_bob", "h\0angry_bob"):
        for algorithm in ("sha256", "md5", "sha1"):
            assert hashlib.new(algorithm, plain.encode()).hexdigest()[:32] not in kept
        assert hashlib.blake2b(plain.encode(), digest_size=16).hexdigest() not in kept
    assert key is not None and len(key.key) >= 64


def test_the_hash_key_is_encrypted_and_outlives_a_key_rotation(
        db_url: str, sessions: sessionmaker[Session], workspace_id: int,
        httpserver: HTTPServer, feed: Feed) -> None:
    old, new = generate_key(), generate_key()
    url = httpserver.url_for("/feed")
    engines = []

    def boxed(*keys: str) -> sessionmaker[Session]:
        engines.append(make_engine(db_url))
        return make_session_factory(engines[-1], SecretBox(list(keys)))

    try:
        first = boxed(old)
        add_source(first, workspace_id, "acme", url)
        run_poll_tick(first, trusted_client, force=True)
        do_forget(first, workspace_id, CLI, "angry_bob")
        with sessions() as session:
            stored = session.get(ForgetKey, workspace_id)
            assert stored is not None and stored.key.startswith(PREFIX)
        assert do_rotate_secrets(boxed(new, old)) == 1
        rotated = boxed(new)  # the old key is gone: the hashes still match
        assert poll(rotated, add_source(rotated, workspace_id, "again", url))[:2] == (0, 2)
        # Without the key nothing can tell a forgotten author: the poll fails, loudly,
        # rather than store their posts again.
        third = add_source(sessions, workspace_id, "third", url)
        outcome = run_poll_tick(sessions, trusted_client, force=True, only_ids=[third])
        assert "forgotten authors" in (outcome.outcomes[0].error or "")
        assert bob_mentions(sessions) == []
    finally:
        for engine in engines:
            engine.dispose()


def test_a_source_test_leaves_a_forgotten_authors_posts_out(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
        feed: Feed) -> None:
    source = add_source(sessions, workspace_id, "acme", httpserver.url_for("/feed"))
    run_poll_tick(sessions, trusted_client, force=True)
    do_forget(sessions, workspace_id, CLI, "angry_bob")
    result = sources_admin.test_source(sessions, workspace_id, CLI, source, trusted_client)
    assert (result.fetched, result.report.forgotten) == (3, 2)
    assert [c.fetched.author.handle for c in result.candidates] == ["ann@forum.example"]
    _head, blocks = build_source_test(source, result, "fr")
    assert "2 publication(s) d'auteurs oubliés laissée(s) de côté" in str(blocks)
    assert "angry_bob" not in str(blocks)


def _post(external_id: str, handle: str, text: str) -> FetchedMention:
    return FetchedMention(network="rss", external_id=external_id,
                          url=f"https://forum.example/{external_id}", text=text,
                          author=FetchedAuthor(handle=handle), published_at=NOW)


def test_a_name_with_accented_capitals_can_be_forgotten(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # SQLite's lower() folds ASCII only: "Élodie Martin" was never found ("No author
    # called"), so her erasure request failed and nothing kept her out.
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID)
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        do_ingest(session, watch, None, [_post("e1", "Élodie Martin", "Acme a perdu mon colis"),
                                         _post("o1", "Öz Ünal", "Acme kargom nerede")],
                  now=NOW)
    assert do_forget(sessions, workspace_id, CLI, "ÉLODIE MARTIN").mentions == 1
    assert do_forget(sessions, workspace_id, CLI, "öz ünal").mentions == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 0
        # The audit trail names her by the keyed digest only.
        details = [str(e.detail) for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "privacy.forget"))]
    plain = hashlib.sha256("élodie martin".encode()).hexdigest()[:16]
    assert len(details) == 2 and all(plain not in d and "lodie" not in d for d in details)


@pytest.mark.postgres
def test_a_forget_during_a_poll_deletes_what_the_poll_stores(
        sessions: sessionmaker[Session], workspace_id: int, db_url: str) -> None:
    # The poll stored the post (and queued its card) while forget ran: forget waited for
    # the author row, then deleted the author only, and the post stayed, authorless, for
    # good (a second forget finds no author), its card still posted.
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers")
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                  [_post("b1", "bob", "Acme stole my money")], now=NOW)
    stored, forgetting = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def poll() -> None:
        with transaction(sessions) as session:
            do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                      [_post("b2", "bob", "Acme, I will sue you")], now=NOW)
            stored.set()
            forgetting.wait(10)
            time.sleep(0.5)  # the forget is waiting by then

    def forget() -> None:
        stored.wait(10)
        forgetting.set()
        outcome["forget"] = do_forget(sessions, workspace_id, CLI, "bob")

    threads = [threading.Thread(target=poll), threading.Thread(target=forget)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    report = outcome["forget"]
    assert isinstance(report, ForgetReport) and report.mentions == 2, outcome
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD)) == 0


@pytest.mark.postgres
def test_two_first_keys_at_once_make_one(
        sessions: sessionmaker[Session], workspace_id: int, db_url: str) -> None:
    # Both found no key and inserted one: the second raised an IntegrityError. (Forgets
    # take turns now, so this calls what makes the key directly.)
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers")

    def digest(handle: str) -> str:
        with transaction(sessions) as session:
            return forgotten.subject_digest(session, workspace_id, handle)

    results = race(sessions, lambda: digest("ann"), lambda: digest("ann"))
    assert all(isinstance(r, str) for r in results) and results[0] == results[1], results
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ForgetKey)) == 1


def test_a_person_not_yet_seen_is_kept_out_from_their_first_post(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
        feed: Feed) -> None:
    # Asking never to be tracked before Vigie stored anything of theirs was refused
    # ("No author called ..."), and their first posts were stored and alerted on.
    report = do_forget(sessions, workspace_id, CLI, "@Angry_Bob")
    assert (report.authors, report.mentions) == (0, 0)
    with sessions() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "privacy.forget")).one()
        assert event.detail["handle_digest"] == forgotten.subject_digest(
            session, workspace_id, "angry_bob")
        assert (event.detail["authors"], event.detail["mentions"]) == (0, 0)
    source = add_source(sessions, workspace_id, "acme", httpserver.url_for("/feed"))
    assert poll(sessions, source)[:2] == (1, 2)  # ann's post only
    assert bob_mentions(sessions) == []
    for blank in ("@", "  ", "@@ "):
        with pytest.raises(ServiceError) as refused:
            do_forget(sessions, workspace_id, CLI, blank)
        assert refused.value.key == "privacy.bad_handle"
    # Forgetting them again (nothing stored still) is no error; undo lifts it.
    assert do_forget(sessions, workspace_id, CLI, "angry_bob").mentions == 0
    assert do_unforget(sessions, workspace_id, CLI, "angry_bob") == 3  # handle, 2 cases
    assert poll(sessions, add_source(sessions, workspace_id, "again", httpserver.url_for(
        "/feed")))[:2] == (2, 0)  # ann's was stored already
    assert bob_mentions(sessions) == ["bob-1", "bob-2"]


def _on(network: str, external_id: str, handle: str) -> FetchedMention:
    return FetchedMention(network=network, external_id=external_id,
                          url=f"https://{network}.example/{external_id}",
                          text=f"Acme lost my parcel ({external_id})",
                          author=FetchedAuthor(handle=handle), published_at=NOW)


def _ingest(sessions: sessionmaker[Session], workspace_id: int,
            items: list[FetchedMention]) -> tuple[int, int]:
    with transaction(sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                           items, now=NOW)
    return report.stored, report.forgotten


def _stored(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Mention.external_id)))


def test_forget_takes_each_network_as_a_person_types_it(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # Stored as each source writes them (bot/sources): Mastodon @user@instance, Reddit
    # u/name (its RSS feeds /u/name), X @name, Hacker News the bare, case-sensitive name.
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID)
    assert _ingest(sessions, workspace_id, [
        _on("mastodon", "m1", "@alice@mastodon.social"),
        _on("mastodon", "m2", "@alice@other.example"),
        _on("reddit", "r1", "u/Reddit_Bob"), _on("reddit-rss", "r2", "/u/reddit_bob"),
        _on("x", "x1", "@XCarol"),
        _on("hackernews", "h1", "Dave"), _on("hackernews", "h2", "dave")]) == (7, 0)

    # Reddit's own forms found nothing ("No author called u/reddit_bob"), so nothing was
    # deleted and their next posts were stored.
    assert do_forget(sessions, workspace_id, CLI, "/u/reddit_bob").mentions == 2
    assert do_forget(sessions, workspace_id, CLI, "alice@mastodon.social").mentions == 1
    assert do_forget(sessions, workspace_id, CLI, "@xcarol").mentions == 1
    # Hacker News names are case-sensitive: forgetting "dave" deleted "Dave" too.
    assert do_forget(sessions, workspace_id, CLI, "dave").mentions == 1
    # A bare name is not a fediverse account: @alice@other.example is someone else.
    assert do_forget(sessions, workspace_id, CLI, "alice").mentions == 0
    assert _stored(sessions) == ["h1", "m2"]

    stored, dropped = _ingest(sessions, workspace_id, [
        _on("mastodon", "m3", "@alice@mastodon.social"),
        _on("mastodon", "m4", "@alice@other.example"),
        _on("reddit", "r3", "u/REDDIT_BOB"), _on("reddit-rss", "r4", "/u/Reddit_Bob"),
        _on("webhook", "w1", "u/reddit_bob"),
        _on("x", "x2", "@XCAROL"),
        _on("hackernews", "h3", "dave"), _on("hackernews", "h4", "Dave")])
    assert (stored, dropped) == (2, 6)
    assert _stored(sessions) == ["h1", "h4", "m2", "m4"]

    # Undone by any of the forms it was made with.
    assert do_unforget(sessions, workspace_id, CLI, "u/Reddit_Bob") == 4  # handle (2), posts
    assert _ingest(sessions, workspace_id, [_on("reddit", "r5", "u/reddit_bob")]) == (1, 0)


def test_a_reddit_poster_forgotten_under_the_feed_byline_stays_out(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Reddit's feeds (mode=rss) named a poster by the feed's byline on its site,
    ``/u/ana_r@reddit.com``, until they became ``u/ana_r`` as the API names them: a forget
    typed then, by that name, let their next posts in under the new one."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID)
    with transaction(sessions) as session:
        forgotten.remember(session, workspace_id, "/u/ana_r@reddit.com", [])
    assert _ingest(sessions, workspace_id, [
        _on("reddit", "r1", "u/ana_r"), _on("reddit", "r2", "u/Ana_R"),
        _on("reddit", "r3", "u/bob")]) == (1, 2)
    assert _stored(sessions) == ["r3"]


def test_forgetting_a_reddit_poster_by_the_feed_byline_deletes_them_under_their_name_now(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Migration 0061 made the posters Reddit's feeds named ``/u/NAME@reddit.com`` (the
    name older cards show) ``u/NAME``, with their history: a forget typed by the old name
    found no author, and kept all of it, while their new posts were kept out."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID)
    _ingest(sessions, workspace_id, [
        _on("reddit", "r1", "u/Ana_R"), _on("reddit", "r2", "u/bob"),
        _on("x", "x1", "@ana_r")])

    report = do_forget(sessions, workspace_id, CLI, "/u/ana_r@reddit.com")

    # X's @ana_r is someone else (the name was typed with Reddit's site).
    assert _stored(sessions) == ["r2", "x1"]
    assert report == ForgetReport(authors=1, mentions=1)
    assert _ingest(sessions, workspace_id, [_on("reddit", "r3", "u/ana_r")]) == (0, 1)


def test_forgets_made_before_the_network_rules_still_hold(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # Earlier forgets kept one hash of the handle without "@", in lower case: "u/bob" as
    # typed, "erin" for Hacker News' "Erin". They must keep their people out (as widely
    # as before: no case for Hacker News), and be undone by the form they were made with.
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID)
    with transaction(sessions) as session:
        key = forgotten._key(session, workspace_id, create=True)
        assert key is not None
        for typed in ("u/bob", "erin"):
            digest = forgotten._digest(key, "h\0" + typed)
            session.add(Forgotten(workspace_id=workspace_id, kind=forgotten.KIND_HANDLE,
                                  digest=digest, subject=digest))
    assert _ingest(sessions, workspace_id, [
        _on("reddit", "r1", "u/bob"), _on("reddit", "r2", "u/BOB"),
        _on("hackernews", "h1", "Erin"), _on("hackernews", "h2", "erin"),
        _on("hackernews", "h3", "frank")]) == (1, 4)
    # Forgetting "Erin" again now keeps the earlier, wider suppression.
    do_forget(sessions, workspace_id, CLI, "Erin")
    assert _ingest(sessions, workspace_id, [_on("hackernews", "h4", "erin")]) == (0, 1)
    assert do_unforget(sessions, workspace_id, CLI, "u/bob") == 1
    assert _ingest(sessions, workspace_id, [_on("reddit", "r3", "u/bob")]) == (1, 0)
