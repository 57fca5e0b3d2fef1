"""Two people posting the same words are two mentions: a copied refund request or boycott
call is counted, carded and answered for each customer. Only the same poster's copy (a
cross-post, a feed re-issuing its ids) is a near duplicate. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.ingest import CAMPAIGN_WINDOW, IngestReport, do_ingest
from bot.services.outbox import KIND_CARD
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from bot.sources.mastodon import status_to_mention
from storage.db import transaction
from storage.models import Author, Mention, OutboxMessage
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
REFUND = "@acme where is my refund please? order 88412093, still nothing after 3 weeks"
BOYCOTT = "@acme I'm cancelling my subscription until you explain the data leak"


def _post(network: str, external_id: str, handle: str, text: str,
          minutes_ago: int = 10) -> FetchedMention:
    return FetchedMention(network=network, external_id=external_id,
                          url=f"https://{network}.example/{handle}/{external_id}", text=text,
                          author=FetchedAuthor(handle=handle, followers=100),
                          published_at=NOW - timedelta(minutes=minutes_ago))


def _poll(sessions: sessionmaker[Session], workspace_id: int,
          items: list[FetchedMention]) -> IngestReport:
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        return do_ingest(session, watch, None, items, now=NOW)


def _stored(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        return sorted((str(network), str(handle)) for network, handle in session.execute(
            select(Mention.network, Author.handle).join(Author, Author.id == Mention.author_id)))


def test_two_customers_with_the_same_words_are_two_mentions(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    first = _poll(sessions, workspace_id, [
        _post("x", "1", "ana", REFUND),
        # Two people in one batch: both kept.
        _post("x", "2", "eva", BOYCOTT), _post("x", "3", "tom", BOYCOTT)])
    assert (first.stored, first.near_duplicates) == (3, 0)
    later = _poll(sessions, workspace_id, [
        _post("x", "4", "ben", REFUND),  # another customer copies ana's request
        # Ana's own cross-post on Mastodon, and a feed re-issuing it under a new id: the
        # same poster's words, already carded.
        _post("mastodon", "5", "ana@mastodon.social", REFUND),
        _post("x", "6", "Ana", REFUND)])
    assert (later.stored, later.near_duplicates) == (1, 2)
    assert _stored(sessions) == [("x", "ana"), ("x", "ben"), ("x", "eva"), ("x", "tom")]
    with sessions() as session:
        cards = session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD)).all()
    assert len(cards) == 4


def test_a_feed_entry_with_the_words_is_still_a_near_duplicate(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """A feed entry (an article: its "author" is often the feed's title) says nothing of
    who wrote the words: it stays a near duplicate of the stored post with them."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    assert _poll(sessions, workspace_id, [_post("x", "1", "ana", REFUND)]).stored == 1
    anonymous = FetchedMention(network="rss", external_id="feed-9",
                               url="https://blog.example/refunds", text=REFUND,
                               author=FetchedAuthor(handle="Acme news"),
                               published_at=NOW - timedelta(minutes=5))
    report = _poll(sessions, workspace_id, [anonymous])
    assert (report.stored, report.near_duplicates) == (0, 1)


def test_a_repost_of_the_words_is_still_a_near_duplicate(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """"RT @ana: ..." or "... via @ana" by someone else repeats ana's post: folded into it,
    whichever came first."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    assert _poll(sessions, workspace_id, [_post("x", "1", "ana", REFUND)]).stored == 1
    report = _poll(sessions, workspace_id, [
        _post("x", "2", "bob", f"RT @ana: {REFUND}"),
        _post("mastodon", "3", "carl", f"{REFUND} via @ana")])
    assert (report.stored, report.near_duplicates) == (0, 2)
    # A repost stored first: the original that follows is its post too.
    assert _poll(sessions, workspace_id, [
        _post("x", "4", "dan", f"RT @eva: {BOYCOTT}")]).stored == 1
    assert _poll(sessions, workspace_id, [
        _post("x", "5", "eva", BOYCOTT)]).near_duplicates == 1


def test_a_stored_repost_or_unknown_author_takes_no_one_elses_words(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """A repost's words are the credited person's, not anyone's: once "RT @eva: ..." is
    stored, tom and zoe posting the words are mentions of their own (eva's own post is
    the one folded). A post whose author the network could not name is no one else's."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    assert _poll(sessions, workspace_id, [
        _post("x", "1", "dan", f"RT @eva: {BOYCOTT}"),
        _post("x", "2", "tom", BOYCOTT)]).stored == 2  # in one batch too
    report = _poll(sessions, workspace_id, [
        _post("x", "3", "zoe", BOYCOTT), _post("x", "4", "eva", BOYCOTT)])
    assert (report.stored, report.near_duplicates) == (1, 1)
    assert _poll(sessions, workspace_id, [_post("x", "5", "unknown", REFUND)]).stored == 1
    report = _poll(sessions, workspace_id, [
        _post("x", "6", "ben", REFUND), _post("x", "7", "id:99", REFUND)])
    assert (report.stored, report.near_duplicates) == (2, 0)


CAMPAIGN = ("Boycott Acme: they dumped waste in the river for years. Share this and stop "
            "buying Acme products today")


def _tweet(external_id: str, handle: str, text: str) -> FetchedMention:
    """A post on X, at its post page (no link of its own: no story by link)."""
    return replace(_post("x", external_id, handle, text),
                   url=f"https://x.com/{handle}/status/{external_id}")


def test_a_copy_paste_campaign_is_one_story_with_one_card(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    first = _poll(sessions, workspace_id, [
        *(_tweet(f"c{n}", f"user{n}", CAMPAIGN) for n in range(10)),
        # Customers asking the brand with the same words each wait for their own answer.
        _tweet("r1", "ana", REFUND), _tweet("r2", "ben", REFUND)])
    later = _poll(sessions, workspace_id, [
        _tweet(f"c{n}", f"user{n}", CAMPAIGN) for n in range(10, 20)])
    assert (first.stored, later.stored) == (12, 10)
    assert (first.joined_stories, later.joined_stories) == (9, 10)
    with sessions() as session:
        ids = dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())
        stories = dict(session.execute(select(Mention.external_id, Mention.story_id))
                       .tuples().all())
        cards = session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD).order_by(OutboxMessage.mention_id)).all()
    assert {stories[f"c{n}"] for n in range(1, 20)} == {ids["c0"]}
    assert stories["c0"] is None and stories["r1"] is None and stories["r2"] is None
    assert cards == sorted([ids["c0"], ids["r1"], ids["r2"]])
    sender_for(sessions, slack_standin, Clock()).flush()
    campaign = [m for m in slack_standin.messages_in(CHANNEL_ID)
                if "story: 20 posts" in json.dumps(m)]
    assert len(campaign) == 1


HELP_ES = ("@acme buenos días, necesito ayuda con mi cuenta, no puedo entrar desde ayer. "
           "Muchas gracias")


def test_customers_asking_for_help_in_spanish_with_the_same_words_each_get_a_card(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # Thanked politely, so read as positive by the Spanish sentiment model: still three
    # customers waiting, not a campaign.
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    report = _poll(sessions, workspace_id,
                   [_tweet(str(n), f"cliente{n}", HELP_ES) for n in range(1, 4)])
    assert (report.stored, report.joined_stories) == (3, 0)
    with sessions() as session:
        rows = session.execute(select(Mention.id, Mention.story_id, Mention.language,
                                      Mention.priority_reason)).all()
        cards = session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD)).all()
    assert {(r.story_id, r.language) for r in rows} == {(None, "es")}
    assert all(r.priority_reason.endswith("waiting for an answer") for r in rows)
    assert sorted(cards) == sorted(r.id for r in rows)


def test_a_copy_after_the_campaign_window_is_a_post_of_its_own(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    _poll(sessions, workspace_id, [_tweet("c1", "eva", CAMPAIGN)])
    with transaction(sessions) as session:
        session.execute(update(Mention).values(
            created_at=NOW - CAMPAIGN_WINDOW - timedelta(minutes=1)))
    assert _poll(sessions, workspace_id, [_tweet("c2", "tom", CAMPAIGN)]
                 ).joined_stories == 0
    with sessions() as session:
        assert set(session.scalars(select(Mention.story_id))) == {None}


def test_two_mastodon_users_of_one_name_on_two_instances_are_two_posters(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    """``@john@a.example`` and ``@john@b.example`` are two people: the same words from
    both are two mentions (one was folded into the other, and lost). Across networks a
    name is still one poster's (the cross-post above). Statuses: Mastodon.py's real
    status, by two accounts."""
    status = json.loads((shared_data / "api" / "mastodon" / "mastodonpy_status_plain.json")
                        .read_text(encoding="utf-8"))

    def by(host: str, status_id: str, minutes_ago: int) -> FetchedMention:
        account = status["account"] | {"acct": f"john@{host}", "username": "john",
                                        "url": f"https://{host}/@john"}
        raw = status | {"id": status_id, "uri": f"https://{host}/users/john/statuses/{status_id}",
                        "url": f"https://{host}/@john/{status_id}", "account": account,
                        "content": f"<p>{BOYCOTT}</p>",
                        "created_at": (NOW - timedelta(minutes=minutes_ago)).isoformat()}
        mention = status_to_mention(raw, "https://mastodon.social")
        assert mention is not None
        return mention

    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    first = _poll(sessions, workspace_id, [by("a.example", "101", 12)])
    later = _poll(sessions, workspace_id, [by("b.example", "102", 11)])
    assert (first.stored, later.stored, later.near_duplicates) == (1, 1, 0)
    # In one batch too; and john@a.example's cross-post on X is still his.
    both = _poll(sessions, workspace_id, [by("c.example", "103", 10), by("d.example", "104", 9),
                                          _post("x", "105", "john", BOYCOTT)])
    assert (both.stored, both.near_duplicates) == (2, 1)
    assert [h for n, h in _stored(sessions) if n == "mastodon"] == [
        "@john@a.example", "@john@b.example", "@john@c.example", "@john@d.example"]


def _described(shared_data: Path, content: str, description: str) -> FetchedMention:
    """Mastodon.py's real status with an image, by ana, saying ``content``, its image
    described by ``description``."""
    raw = json.loads((shared_data / "api" / "mastodon" / "mastodonpy_status_with_media.json")
                     .read_text(encoding="utf-8"))
    raw = raw | {"content": f"<p>{content}</p>",
                 "created_at": (NOW - timedelta(minutes=9)).isoformat(),
                 "account": raw["account"] | {"acct": "ana@mastodon.social", "username": "ana"}}
    raw["media_attachments"][0]["description"] = description
    mention = status_to_mention(raw, "https://mastodon.social")
    assert mention is not None
    return mention


def test_a_cross_post_with_a_described_image_is_still_a_near_duplicate(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    """Ana's words on X, then on Mastodon with a screenshot she described: one mention, one
    card. The image description is no part of the words (their fingerprint)."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    assert _poll(sessions, workspace_id, [_post("x", "1", "ana", REFUND)]).stored == 1
    toot = _described(shared_data, REFUND, "screenshot of the order page")
    report = _poll(sessions, workspace_id, [toot])
    assert (report.stored, report.near_duplicates) == (0, 1)
    with sessions() as session:
        assert len(session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.kind == KIND_CARD)).all()) == 1


def test_an_image_description_naming_the_brand_does_not_address_it(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    """A screenshot described as a reply by @acme: the status talks about the brand, it is
    not addressed to it (no ``direct`` flag). The watch still finds it by the description
    (what Mastodon's search found it by), and the stored text is the status's words."""
    from bot.services.brand_accounts import do_add_account

    do_add_account(sessions, workspace_id, CLI, "mastodon", "@acme@mastodon.social")
    do_add_watch(sessions, workspace_id, CLI, name="acme", query='"looking into it"',
                 channel_id=CHANNEL_ID, alert_threshold=0)
    toot = _described(shared_data, "lol look at what their support answered me",
                      "Screenshot of a reply by @acme: we are looking into it")
    assert _poll(sessions, workspace_id, [toot]).stored == 1
    with sessions() as session:
        text, flags = session.execute(select(Mention.text, Mention.intent_flags)).one()
    assert text == "lol look at what their support answered me"
    assert not any(flag.get("name") == "direct" for flag in flags or [])
