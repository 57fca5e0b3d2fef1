"""A story (a copy-paste campaign: one text many people post) appears once in the digest's
ranked lists, through its first post with the story's count, as its card shows it: its
other posts never push the day's other mentions out. SQLite and PostgreSQL, both locales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.stored import spec_payload
from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.ingest import do_ingest
from bot.services.reporting.digest import digest_spec, preview_digests
from bot.services.reporting.digest_sections import DigestReport
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.slack.render import render_payload
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
SOCIAL = "C0SOCIAL01"
BOYCOTT = ("Acme knew the Roadster brakes were faulty and hid it. Boycott Acme until every "
           "rider is refunded! #acmerecall")
COPIES = 60


def _post(external_id: str, handle: str, text: str, minutes_ago: int) -> FetchedMention:
    return FetchedMention(
        network="x", external_id=external_id, url=f"https://x.com/{handle}/status/{external_id}",
        author=FetchedAuthor(handle="@" + handle, followers=200), text=text,
        published_at=NOW - timedelta(minutes=minutes_ago))


def _crisis_digest(sessions: sessionmaker[Session], workspace_id: int,
                   threshold: int | None = None) -> DigestReport:
    extra = {} if threshold is None else {"alert_threshold": threshold}
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL,
                 **extra)
    do_add_account(sessions, workspace_id, CLI, "x", "@acmecare")
    eli = _post("1006", "eli", "Acme says stop riding the Roadster. I commute on it. "
                "@acmecare what do I ride now?", 80)
    campaign = [_post(f"2{i:03d}", f"angry{i}", BOYCOTT, 60 - i % 50) for i in range(COPIES)]
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                  [eli, *campaign], now=NOW - timedelta(minutes=5))
    with sessions() as session:  # one story: its first post and the copies that joined it
        stories = session.scalars(select(Mention.story_id).where(
            Mention.text == BOYCOTT, Mention.story_id.is_not(None))).all()
        assert len(stories) == COPIES - 1 and len(set(stories)) == 1
    (_config, digest), = preview_digests(sessions, workspace_id, now=NOW)
    return digest


def test_a_campaign_takes_one_place_among_the_highest_priorities(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    digest = _crisis_digest(sessions, workspace_id)
    shown = [(line.author, line.story_posts) for line in digest.top_priority]
    assert sorted(shown) == [("@angry0", COPIES), ("@eli", 0)], shown


@pytest.mark.parametrize(("language", "count"), [("en", "story: 60 posts"),
                                                 ("fr", "sujet : 60 publications")])
def test_the_digest_says_how_many_posts_the_story_holds(
    sessions: sessionmaker[Session], workspace_id: int, language: str, count: str,
) -> None:
    digest = _crisis_digest(sessions, workspace_id)
    text = str(render_payload(spec_payload(digest_spec(digest, language)))[1])
    assert text.count(count) == 1, text


def test_a_campaign_that_waited_is_one_example_of_what_waited(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    digest = _crisis_digest(sessions, workspace_id, threshold=95)  # nothing alerts
    (group,) = digest.waited
    assert group.count == COPIES + 1
    examples = [(line.author, line.story_posts) for line in group.examples]
    assert sorted(examples) == [("@angry0", COPIES), ("@eli", 0)], examples
