"""A comment is matched on its own words: the title of its thread (Reddit) or story (Hacker
News) is context, kept in ``extra``, never read as the comment's title, and an HN comment
does not carry its story's link (its comments were one story card of that link). Real
payloads: PRAW's r/AskReddit comments listing, HN Search hits. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import MatchInput, parse_query
from bot.services.actors import CLI
from bot.services.cards import load_card_view
from bot.services.ingest import do_ingest
from bot.services.query_trial import try_query
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.slack.cards import build_card
from bot.sources.base import FetchedMention
from bot.sources.hackernews import hit_to_mention, parse_hits
from bot.sources.reddit import parse_listing
from storage.db import transaction
from storage.models import Mention
from tests.harness.constants import CHANNEL_ID


def _load(shared_data: Path, name: str) -> Any:
    return json.loads((shared_data / "api" / name).read_text(encoding="utf-8"))


def _ingest(sessions: sessionmaker[Session], workspace_id: int, watch: str,
            items: list[FetchedMention]) -> None:
    now = max(m.published_at for m in items) + timedelta(minutes=5)
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, watch), None, items,
                  now=now)


def _stored(sessions: sessionmaker[Session], watch_id: int | None = None) -> dict[str, str]:
    with sessions() as session:
        query = select(Mention.external_id, Mention.text)
        if watch_id is not None:
            query = query.where(Mention.watch_id == watch_id)
        return dict(session.execute(query).tuples().all())


def test_reddit_comments_match_their_own_words_not_their_threads_title(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    comments = parse_listing(_load(shared_data, "reddit/asyncpraw_r_askreddit_comments_2020.json"))
    # 22 of the 100 comments are in "Dear non Germans: What do you think of Germany?".
    assert sum(m.extra.get("context", "").startswith("Dear non Germans")
               for m in comments) == 22
    for name, query in (("germany", "germany OR germans"), ("cockroach", "cockroach -germany")):
        do_add_watch(sessions, workspace_id, CLI, name=name, query=query,
                     channel_id=CHANNEL_ID, alert_threshold=0)
        _ingest(sessions, workspace_id, name, comments)
    stored = _stored(sessions)
    # Those that say it themselves, not all 22 of the thread ("German eisbein" says
    # neither word).
    germany = {m.external_id for m in comments if parse_query("germany OR germans").matches(
        MatchInput(text=m.text, author_handle=m.author.handle))}
    assert len(germany) == 6
    # A comment in that thread about something else is not excluded by its thread's title.
    assert set(stored) == germany | {"t1_fxl1nec"}
    assert "cockroach" in stored["t1_fxl1nec"]
    with sessions() as session:
        assert set(session.scalars(select(Mention.title))) == {None}
        # The thread's title is kept as the comment's context, and its card shows it so.
        contexts = dict(session.execute(select(Mention.external_id, Mention.context))
                        .tuples().all())
        assert contexts["t1_fxl1nec"] == "Dear non Germans: What do you think of Germany?"
        card = load_card_view(session, int(session.scalar(select(Mention.id).where(
            Mention.external_id == "t1_fxl1nec")) or 0))
    assert card is not None
    for language, line in (("en", "In reply to “Dear non Germans: What do you think of "
                                  "Germany?”"),
                           ("fr", "En réponse à « Dear non Germans: What do you think of "
                                  "Germany? »")):
        _, blocks = build_card(card, language)
        assert line + "\n> Why does everyone have a dancing rainbow cockroach" in json.dumps(
            blocks, ensure_ascii=False).replace("\\n", "\n")
    # `vigie watch test` reads the stored mentions the same way.
    now = max(m.published_at for m in comments) + timedelta(minutes=5)
    trial = try_query(sessions, workspace_id, "germany OR germans", since=timedelta(days=30),
                      now=now)
    assert trial.matched == 6
    trial = try_query(sessions, workspace_id, "cockroach -germany", since=timedelta(days=30),
                      now=now)
    assert trial.matched == 1


def test_hn_comments_of_one_story_are_not_one_story_card_of_its_link(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    bundle = _load(shared_data, "hn/fraction_fixtures_all_2014.json")
    hits = {h["objectID"]: h for entry in bundle if "/search" in entry["url"]
            for h in parse_hits(entry["reply"])}
    pg = hits["6651926"]  # pg's comment on "Patent war goes nuclear" (an Ars Technica link)
    other = pg | {"objectID": "6651999", "author": "someone",
                  "comment_text": "<p>Apple will regret this lawsuit against Google.</p>"}
    items = [m for m in (hit_to_mention(pg), hit_to_mention(other)) if m is not None]
    assert [m.links for m in items] == [(), ()]
    assert {m.extra["story_url"] for m in items} == {pg["story_url"]}
    do_add_watch(sessions, workspace_id, CLI, name="apple", query="apple",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    _ingest(sessions, workspace_id, "apple", items)
    with sessions() as session:
        rows = session.execute(select(Mention.external_id, Mention.story_id,
                                      Mention.story_key, Mention.title)).all()
    assert sorted(rows) == [("6651926", None, None, None), ("6651999", None, None, None)]
    with sessions() as session:
        assert set(session.scalars(select(Mention.context))) == {
            "Patent war goes nuclear: Microsoft, Apple-owned Rockstar sues Google"}
