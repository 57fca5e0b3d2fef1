"""Full-text search of mentions gives exactly what watch matching gives, on real text.

Corpus: real tweets from the repository's fixtures (tests/data, origins in
sentiment/eval/INDEX.tsv): sentiment/eval/en_tweets_test.tsv, fr_tweets_val.tsv and
en_sentiment140_test.tsv (the last for its @handles). Queries are drawn from the
corpus itself (words of every frequency, hashtags, handles, two- and three-word phrases,
prefixes), then re-typed the way people type them (capitals, accents dropped or added).
Each runs through ``search_mentions`` (index + confirmation) and through ``Query.matches``
over every stored mention; the two answers must be identical.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import And, MatchInput, Node, Or, Phrase, Query, Word, parse_query
from bot.matching.search_terms import (
    fts5_query,
    index_is_exact,
    least_hits,
    only_rare_terms,
    tsquery,
)
from bot.matching.text import tokenize
from bot.services.errors import ServiceError
from bot.services.export import count_search
from bot.services.mention_search import MentionFilter, search_mentions
from storage import search_index
from storage.db import transaction
from storage.models import Author, Mention, Workspace

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FILES = ("sentiment/eval/en_tweets_test.tsv", "sentiment/eval/fr_tweets_val.tsv",
         "sentiment/eval/en_sentiment140_test.tsv")


def _texts(shared: Path) -> list[str]:
    texts: list[str] = []
    for name in FILES:
        with (shared / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if len(row) >= 2:
                    texts.append(row[1])
    return [text for text in texts if text.strip()]


def _store(sessions: sessionmaker[Session], workspace_id: int, texts: list[str],
           start: int = 0) -> None:
    """Mentions saying ``texts``, the i-th published i minutes before NOW (from ``start``)."""
    with transaction(sessions) as session:
        author = session.scalars(select(Author).where(
            Author.workspace_id == workspace_id, Author.handle == "Ana_Support")).first()
        if author is None:
            author = Author(workspace_id=workspace_id, network="x", handle="Ana_Support")
            session.add(author)
            session.flush()
        session.add_all(
            Mention(workspace_id=workspace_id, network="x" if i % 3 else "mastodon",
                    external_id=str(i), url=f"https://example.org/{i}",
                    # Every seventh mention has a title: searched too, never bridged by a phrase.
                    title=texts[(i * 7) % len(texts)][:60] if i % 7 == 0 else None,
                    text=text, language="fr" if "é" in text else "en",
                    author_id=author.id if i % 2 else None,
                    published_at=NOW - timedelta(minutes=i), created_at=NOW)
            for i, text in enumerate(texts, start=start))


def _queries(texts: list[str]) -> list[str]:
    rng = random.Random(20)
    token_lists = [tokenize(text) for text in texts]
    counts: dict[str, int] = {}
    for tokens in token_lists:
        for token in set(tokens):
            counts[token] = counts.get(token, 0) + 1
    by_count = sorted(counts, key=lambda t: (counts[t], t))
    plain = [t for t in by_count if t[0] not in "#@" and len(t) > 1]
    queries = rng.sample(plain[:len(plain) // 2], 25)  # rare words (mostly in one mention)
    queries += plain[-15:]  # the most frequent words
    queries += rng.sample(plain, 25)
    queries += rng.sample([t for t in by_count if t[0] == "#"], 10)
    queries += [t for t in by_count if t[0] == "@"][-5:]
    queries += [w[:4] + "*" for w in rng.sample([t for t in plain if len(t) > 5], 15)]
    words = [text.split() for text in texts if len(text.split()) > 4]
    for chosen in rng.sample(words, 25):  # phrases as written, punctuation and all
        start = rng.randrange(len(chosen) - 2)
        size = rng.choice((2, 3))
        phrase = " ".join(chosen[start:start + size]).replace('"', "")
        queries.append(f'"{phrase}"')
    # Re-typed: capitals, accents dropped, a prefix inside a phrase, OR, exclusions.
    queries += ["THE", "Service", "ecologie", "écologie", "Énergie", "#ECOLOGIE", "user",
                "@USER", '"the customer*"', '"customer serv*"', "phone OR internet",
                "help -please", "(bad OR worst) service", "l'appli", "c'est", "cust* -@user",
                "vote lang:en", "help source:mastodon", "thanks from:ana_support"]
    return queries


def _all_pages(sessions: sessionmaker[Session], workspace_id: int, text: str) -> list[int]:
    ids: list[int] = []
    before: int | None = None
    while True:
        rows = search_mentions(sessions, workspace_id,
                               MentionFilter(text=text, before_id=before), limit=200, now=NOW)
        ids += [row.id for row in rows]
        if len(rows) < 200:
            return ids
        before = rows[-1].id


def _stored(sessions: sessionmaker[Session], workspace_id: int) -> list[tuple[int, MatchInput]]:
    with sessions() as session:
        rows = session.execute(
            select(Mention.id, Mention.text, Mention.title, Author.handle, Mention.language,
                   Mention.network)
            .join(Author, Author.id == Mention.author_id, isouter=True)
            .where(Mention.workspace_id == workspace_id).order_by(Mention.id.desc())).all()
    return [(r[0], MatchInput(text=r[1], title=r[2], author_handle=r[3], language=r[4],
                              network=r[5])) for r in rows]


def _expected(stored: list[tuple[int, MatchInput]], text: str) -> list[int]:
    query = parse_query(text)
    return [mention_id for mention_id, item in stored if query.matches(item)]


def _index_hits(sessions: sessionmaker[Session], text: str) -> int:
    query = parse_query(text)
    with sessions() as session:
        found = search_index.candidates(session, fts5_query(query), tsquery(query))
        assert found is not None
        return int(session.execute(select(func.count()).select_from(Mention)
                                   .where(found.condition), found.params).scalar_one())


def test_search_equals_watch_matching_on_real_text(
    sessions: sessionmaker[Session], workspace_id: int, shared_data: Path,
) -> None:
    texts = _texts(shared_data)
    assert len(texts) > 1500
    _store(sessions, workspace_id, texts)
    with transaction(sessions) as session:
        assert search_index.index_pending(session) == len(texts)
        assert search_index.pending_count(session) == 0
    queries = _queries(texts)
    stored = _stored(sessions, workspace_id)
    over_selected = 0
    found = 0
    for text in queries:
        expected = _expected(stored, text)
        found += bool(expected)
        assert _all_pages(sessions, workspace_id, text) == expected, text
        hits = _index_hits(sessions, text)
        assert hits >= len(expected), text
        over_selected += hits > len(expected)
    # The index narrows the search: most queries find exactly their mentions already.
    assert over_selected < len(queries) // 4, over_selected
    assert found > len(queries) * 3 // 4  # the corpus queries do find mentions


BRAND_TEXTS = [  # brands written with "&", and texts holding the same letters without it
    "AT&T network down again, @ATT fix it",
    "Great amp for the guitar, at t-minus 5",
    "My at & t bill doubled",
    "H&M and M&S stores closed; Procter & Gamble up",
    "h m s: hours, minutes, seconds",
    "Ordered from b & q, then P&G",
    "p g wodehouse, b q road, procter gamble",
    "AT&Tel is not a brand",
]
AMPERSAND_QUERIES = {  # query -> the BRAND_TEXTS it finds (indexes in the list)
    "AT&T": [0, 2], '"AT & T"': [0, 2], '"at &t"': [0, 2], "H&M": [3], "M&S": [3],
    '"P&G"': [5], "B&Q": [5], '"Procter & Gamble"': [3], "AT&T OR H&M": [0, 2, 3],
    "AT&T -network": [2], '"at t"': [0, 1, 2], "gamble": [3, 6], "q": [5, 6],
}


def test_brands_written_with_an_ampersand_are_searched_as_watch_matching_finds_them(
    sessions: sessionmaker[Session], workspace_id: int, shared_data: Path,
) -> None:
    texts = _texts(shared_data)[:400]
    _store(sessions, workspace_id, [*BRAND_TEXTS, *texts])
    with transaction(sessions) as session:
        search_index.index_pending(session)
    stored = _stored(sessions, workspace_id)
    with sessions() as session:
        ids = {mention_id: text for mention_id, text in session.execute(
            select(Mention.id, Mention.text).where(Mention.workspace_id == workspace_id))}
    brand_id = {text: mention_id for mention_id, text in ids.items() if text in BRAND_TEXTS}
    for text, wanted in AMPERSAND_QUERIES.items():
        expected = _expected(stored, text)
        assert _all_pages(sessions, workspace_id, text) == expected, text
        found = [mention_id for mention_id in expected if mention_id in brand_id.values()]
        assert found == sorted((brand_id[BRAND_TEXTS[i]] for i in wanted), reverse=True), text
        assert _index_hits(sessions, text) >= len(expected), text


MARK_TEXTS = [  # marks the query language keeps inside words: keycaps, vowel signs
    "Step 1\ufe0f\u20e3 done, then step 2\ufe0f\u20e3",
    "Call 0\ufe0f\u20e38\ufe0f\u20e30\ufe0f\u20e30\ufe0f\u20e3 now",
    "Rated 5\u20dd stars",
    "step 1 of the install failed, rated 5 anyway",
    "x \u093e y",
    "\u0915\u093e\u092e \u0939\u094b \u0917\u092f\u093e",
    "press *\ufe0f\u20e3 to skip, #\ufe0f\u20e3 to repeat",
]
MARK_QUERIES = {  # query -> the MARK_TEXTS it finds (indexes in the list)
    "step 1": [3], '"step 1"': [3], "1": [3], "2": [], "0": [], "5": [3],
    '"rated 5"': [3], "0800": [], "1\ufe0f\u20e3": [0], '"step 1\ufe0f\u20e3"': [0],
    "5\u20dd": [2], "0\ufe0f\u20e38\ufe0f\u20e3*": [1], '"x y"': [], "\u093e": [4],
    '"x \u093e y"': [4], "\u0915\u093e\u092e": [5], "\u0915\u093e*": [5], "x": [4],
    # the keycaps * and #: their mark (the '*' of a keycap is no prefix's)
    "*\ufe0f\u20e3": [6], "#\ufe0f\u20e3": [6], '"press *\ufe0f\u20e3"': [6],
}


def _searched_as_matched(sessions: sessionmaker[Session], workspace_id: int,
                         shared_data: Path, texts: list[str], queries: dict[str, list[int]]
                         ) -> None:
    """``texts`` among real ones: each query finds the ``texts`` it maps to (indexes) in
    watch matching, and the listing, the export's count and the index say the same."""
    _store(sessions, workspace_id, [*texts, *_texts(shared_data)[:200]])
    with transaction(sessions) as session:
        search_index.index_pending(session)
    stored = _stored(sessions, workspace_id)
    with sessions() as session:
        own_id = {text: mention_id for mention_id, text in session.execute(
            select(Mention.id, Mention.text).where(Mention.workspace_id == workspace_id))
            if text in texts}
    for text, wanted in queries.items():
        expected = _expected(stored, text)
        found = [mention_id for mention_id in expected if mention_id in own_id.values()]
        assert found == sorted((own_id[texts[i]] for i in wanted), reverse=True), text
        assert _all_pages(sessions, workspace_id, text) == expected, text
        with sessions() as session:
            assert count_search(session, workspace_id, since=NOW - timedelta(days=400),
                                until=NOW + timedelta(days=1), watch_id=None, text=text,
                                below=2**31 - 1) == len(expected), text
        assert _index_hits(sessions, text) >= len(expected), text


def test_words_holding_marks_are_searched_as_watch_matching_reads_them(
    sessions: sessionmaker[Session], workspace_id: int, shared_data: Path,
) -> None:
    """A keycap's enclosing mark or a vowel sign stays inside its word in the index too:
    "step 1" does not find "Step 1\ufe0f\u20e3" (watch matching reads "1\u20e3"), a word of
    vowel signs alone is found, and "x y" does not match "x \u093e y". Listings and export
    counts (which trust the index for plain ASCII words) agree with watch matching."""
    _searched_as_matched(sessions, workspace_id, shared_data, MARK_TEXTS, MARK_QUERIES)


PREFIX_TEXTS = [  # prefixes typed as several words: Chinese, Japanese, versions
    "東京駅に着いた", "京都駅で待つ", "テストは失敗した", "テキストだけ",
    "Python 3.12 is out", "3 1 contact", "v2.0.1 fixed the bug", "v2 1.0 again",
]
PREFIX_QUERIES = {  # query -> the PREFIX_TEXTS it finds (indexes in the list)
    "東京駅*": [0], "駅で*": [1], "テスト*": [2], "3.1*": [4, 5], '"python 3.1*"': [4],
    "v2.0*": [6], "京都*": [1],
}


def test_prefixes_of_several_words_are_searched_as_watch_matching_reads_them(
    sessions: sessionmaker[Session], workspace_id: int, shared_data: Path,
) -> None:
    """"東京駅*" or "v2.0*" (refused as one-letter prefixes before) are the phrases of their
    words, the last a prefix, in listings, export counts and watch matching alike."""
    _searched_as_matched(sessions, workspace_id, shared_data, PREFIX_TEXTS, PREFIX_QUERIES)


AUTHORS = ("Ana_Support", "@Alice", "alice@mastodon.social", "Alice.bsky.social", "alicex",
           "Élodie", "elodie@piaille.fr")
FIELD_QUERIES = {  # query -> the AUTHORS whose mentions it finds (None: not by author)
    "from:alice": {1, 2, 3}, "from:@ALICE": {1, 2, 3}, "from:alice@mastodon.social": {2},
    "from:alice.bsky.social": {3}, "from:alicex": {4}, "from:elodie": {5, 6},
    "from:Élodie@piaille.fr": {6}, "from:alic": set(), "from:nobody": set(),
    "from:alice OR from:ana_support": {0, 1, 2, 3}, "from:alice lang:fr": None,
    "from:alice -help": None, "source:mastodon": None, "lang:fr": None,
    "lang:en source:x": None, "source:mastodon OR source:x": None,
    "from:alice OR lang:fr": None,
}


def _store_by_authors(sessions: sessionmaker[Session], workspace_id: int, texts: list[str]
                      ) -> None:
    """``texts`` as mentions written in turn by each of ``AUTHORS`` and by nobody."""
    with transaction(sessions) as session:
        authors = [Author(workspace_id=workspace_id, network="x" if i % 2 else "mastodon",
                          handle=handle) for i, handle in enumerate(AUTHORS)]
        session.add_all(authors)
        session.flush()
        session.add_all(
            Mention(workspace_id=workspace_id, network="x" if i % 3 else "mastodon",
                    external_id=str(i), url=f"https://example.org/{i}", text=text,
                    language="fr" if "é" in text else "en",
                    author_id=(authors[i % 8].id if i % 8 < len(AUTHORS) else None),
                    published_at=NOW - timedelta(minutes=i), created_at=NOW)
            for i, text in enumerate(texts))


def test_searches_of_fields_alone_list_what_watch_matching_finds(
    sessions: sessionmaker[Session], workspace_id: int, shared_data: Path,
) -> None:
    """One author's posts (a data-access request, an influencer check), a language, a
    network: no word is needed, and the listing is exactly what the query matches."""
    every = _texts(shared_data)
    texts = [*every[:300], *[text for text in every if "é" in text][:300]]
    _store_by_authors(sessions, workspace_id, texts)
    stored = _stored(sessions, workspace_id)
    with sessions() as session:
        author_of = dict(session.execute(
            select(Mention.id, Author.handle).join(Author, Author.id == Mention.author_id)
            .where(Mention.workspace_id == workspace_id)).all())
        recent = set(session.scalars(select(Mention.id).where(
            Mention.workspace_id == workspace_id,
            Mention.published_at >= NOW - timedelta(hours=3))))
    for text, authors in FIELD_QUERIES.items():
        expected = _expected(stored, text)
        assert _all_pages(sessions, workspace_id, text) == expected, text
        if authors is not None:
            assert {author_of[m] for m in expected} == {AUTHORS[i] for i in authors}, text
        else:
            assert expected, text
        # With the listing's own filters too, page by page.
        since = MentionFilter(text=text, since=timedelta(hours=3), status="new")
        assert _filtered(sessions, workspace_id, since) == [
            m for m in expected if m in recent], text


def test_mentions_are_found_before_they_are_indexed_and_leave_the_index_when_deleted(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    texts = ["Le réseau est en panne à Lyon", "Panne générale du réseau", "Tout va bien"]
    _store(sessions, workspace_id, texts)  # the triggers queue them; nobody indexes yet
    with sessions() as session:
        assert search_index.pending_count(session) == 3
    assert [r.text for r in search_mentions(sessions, workspace_id, MentionFilter(
        text="RESEAU panne"), now=NOW)] == [texts[1], texts[0]]
    with transaction(sessions) as session:
        search_index.index_pending(session)
        assert search_index.pending_count(session) == 0
    assert len(search_mentions(sessions, workspace_id, MentionFilter(text='"reseau est"'),
                               now=NOW)) == 1
    with transaction(sessions) as session:  # an edited text is queued and found again
        session.execute(update(Mention).where(Mention.text == texts[2])
                        .values(text="Le réseau revient"))
        assert search_index.pending_count(session) == 1
    assert len(search_mentions(sessions, workspace_id, MentionFilter(text="réseau"),
                               now=NOW)) == 3
    with transaction(sessions) as session:  # edited away from a word the index still has
        search_index.index_pending(session)
        session.execute(update(Mention).where(Mention.text == texts[1])
                        .values(text="Générale du réseau"))
    assert [r.text for r in search_mentions(sessions, workspace_id, MentionFilter(
        text="panne"), now=NOW)] == [texts[0]]
    with transaction(sessions) as session:
        search_index.index_pending(session)
        session.execute(delete(Mention).where(Mention.text.like("Générale%")))
    assert [r.text for r in search_mentions(sessions, workspace_id, MentionFilter(
        text="reseau"), now=NOW)] == ["Le réseau revient", texts[0]]
    assert _index_hits(sessions, "reseau") == 2


def test_mentions_without_a_vector_and_queued_ones_are_always_candidates(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """PostgreSQL keeps no vector for a text too long for its positions: such a mention,
    like a queued one, is a candidate of every search, read with the queue."""
    texts = ["Panne du réseau à Lyon", "Tout va bien", "Panne encore", "Rien à signaler"]
    _store(sessions, workspace_id, texts)
    with transaction(sessions) as session:
        search_index.index_pending(session)
        if session.connection().dialect.name == "postgresql":
            session.execute(sql("UPDATE mention_search SET doc = NULL WHERE mention_id IN "
                                "(SELECT id FROM mentions WHERE text LIKE 'Panne du%')"))
        else:  # SQLite has no such mentions: queue it again instead
            session.execute(sql("INSERT INTO mention_search_pending (mention_id) "
                                "SELECT id FROM mentions WHERE text LIKE 'Panne du%'"))
            session.execute(sql("DELETE FROM mention_search_fts WHERE rowid IN "
                                "(SELECT id FROM mentions WHERE text LIKE 'Panne du%')"))
    for filters, panne in (({}, [texts[2], texts[0]]), ({"network": "mastodon"}, [texts[0]]),
                           ({"status": "new"}, [texts[2], texts[0]])):
        assert [r.text for r in search_mentions(sessions, workspace_id, MentionFilter(
            text="panne", **filters), now=NOW)] == panne, filters
        assert [r.text for r in search_mentions(sessions, workspace_id, MentionFilter(
            text="lyon", **filters), now=NOW)] == [texts[0]], filters


@pytest.mark.parametrize(("text", "key"), [
    ('"free trial', "mentions.bad_text"),
    ("spam AND", "mentions.bad_text"),
    ("-spam", "mentions.bad_text"),
    ("from:alice OR vigie", "mentions.text_needs_words"),
    ("lang:fr OR vigie -spam", "mentions.text_needs_words"),
    ("a* OR -b", "mentions.bad_text"),
    ("🎉", "mentions.bad_text"),
    ("vigie OR -spam", "mentions.text_needs_words"),
])
def test_searches_that_cannot_run_are_refused_clearly(
    sessions: sessionmaker[Session], workspace_id: int, text: str, key: str,
) -> None:
    with pytest.raises(ServiceError) as err:
        search_mentions(sessions, workspace_id, MentionFilter(text=text), now=NOW)
    assert err.value.key == key
    assert text.split()[0].strip('"') in err.value.message(plain=True) or key == "mentions.bad_text"


def _filtered(sessions: sessionmaker[Session], workspace_id: int, filters: MentionFilter
              ) -> list[int]:
    """Every page of a listing, 7 rows at a time (keyset pagination)."""
    ids: list[int] = []
    before: int | None = None
    fields = {name: getattr(filters, name) for name in MentionFilter.__dataclass_fields__}
    while True:
        rows = search_mentions(sessions, workspace_id, MentionFilter(
            **{**fields, "before_id": before}), limit=7, now=NOW)
        ids += [row.id for row in rows]
        if len(rows) < 7:
            return ids
        before = rows[-1].id


@pytest.mark.parametrize(("since_probe", "join_hits", "window_probe"), [
    (1000, 0, 50_000), (5, 0, 50_000), (5, 50_000, 50_000), (5, 50_000, 5)])
def test_common_words_walked_newest_first_equal_watch_matching_with_every_filter(
    sessions: sessionmaker[Session], workspace_id: int, shared_data: Path,
    monkeypatch: pytest.MonkeyPatch, since_probe: int, join_hits: int, window_probe: int,
) -> None:
    """Past FEW_HITS index hits a listing walks the hits and the filtered rows newest
    first (``_walked``; on PostgreSQL, a common word with other filters is one statement
    the planner shapes); lowered here so that the corpus's words of every frequency take
    that path, with small steps so that both walks and the switch between them run.
    ``since_probe`` 5: the 3-hour window holds more mentions than the probe reads, so the
    listing bounds it itself (``since:7d`` on a busy workspace). ``join_hits`` 0: SQLite
    walks every filtered search; otherwise, its words having few hits, it reads the rest
    in one statement after the first step, walking the filters' index and checking ids
    against the hits; with ``since``, bounded to the window's ids (``window_probe`` 5:
    the window is too wide to bound, the statement reads every id below the cursor)."""
    monkeypatch.setattr(search_index, "FEW_HITS", 2)
    monkeypatch.setattr("bot.services.mention_search.JOIN_HITS", join_hits)
    monkeypatch.setattr("bot.services.mention_search.WALK_FIRST", 3)
    monkeypatch.setattr("bot.services.mention_search.SINCE_PROBE", since_probe)
    monkeypatch.setattr("bot.services.mention_search.WINDOW_PROBE", window_probe)
    texts = _texts(shared_data)
    with transaction(sessions) as session:
        other = Workspace(team_id="T07OTHER01")
        session.add(other)
        session.flush()
        other_id = other.id
    _store(sessions, other_id, texts[::5])  # the index holds other workspaces' hits too
    _store(sessions, workspace_id, texts[40:], start=40)
    with transaction(sessions) as session:
        search_index.index_pending(session)
        for mention_id in session.execute(select(Mention.id).where(
                Mention.workspace_id == workspace_id)).scalars().all():
            if mention_id % 5 == 0:
                session.execute(update(Mention).where(Mention.id == mention_id).values(
                    status="assigned", assignee_user_id="U07AGENT01"))
            elif mention_id % 11 == 0:
                session.execute(update(Mention).where(Mention.id == mention_id)
                                .values(status="replied"))
            # Topics (bits as bot.analysis.topics.topic_mask): billing on a third,
            # delivery on a seventh, some with both; churn on none.
            mask = (1 if mention_id % 3 == 0 else 0) | (2 if mention_id % 7 == 0 else 0)
            if mask:
                session.execute(update(Mention).where(Mention.id == mention_id)
                                .values(topic_mask=mask))
    _store(sessions, workspace_id, texts[:40])  # the newest: queued, not indexed yet
    with transaction(sessions) as session:
        assert search_index.pending_count(session) == 40
        # Statistics: PostgreSQL then tells common words (walked by id) from rare ones
        # (read from the GIN index); a prefix still counts its hits first.
        session.execute(sql("ANALYZE"))
    # The terms are cached per process and database URL: another test's, on the same
    # database before its tables were emptied, would stand for these statistics.
    monkeypatch.setattr(search_index, "_common_terms", {})
    with sessions() as session:
        common = search_index.common_terms(session)
        if session.connection().dialect.name == "postgresql":
            assert common is not None and {"the", "to"} <= common
    with sessions() as session:
        attrs = {r[0]: r[1:] for r in session.execute(select(
            Mention.id, Mention.network, Mention.status, Mention.assignee_user_id,
            Mention.published_at, Mention.topic_mask).where(
                Mention.workspace_id == workspace_id))}
    stored = _stored(sessions, workspace_id)
    queries = [*_queries(texts)[34:40], "help -please", "cust* -@user", '"the customer*"',
               "(bad OR worst) service", "help source:mastodon"]
    since = NOW - timedelta(hours=3)
    filters: list[tuple[MentionFilter, Any]] = [
        (MentionFilter(), lambda a: True),
        (MentionFilter(network="mastodon"), lambda a: a[0] == "mastodon"),
        (MentionFilter(status="replied"), lambda a: a[1] == "replied"),
        (MentionFilter(assignee="U07AGENT01"), lambda a: a[2] == "U07AGENT01"),
        (MentionFilter(assignee="U07NOBODY"), lambda a: False),
        (MentionFilter(since=timedelta(hours=3)),
         lambda a: a[3].replace(tzinfo=UTC) >= since),
        (MentionFilter(since=timedelta(hours=3), network="x"),
         lambda a: a[3].replace(tzinfo=UTC) >= since and a[0] == "x"),
        (MentionFilter(since=timedelta(hours=3), status="replied"),
         lambda a: a[3].replace(tzinfo=UTC) >= since and a[1] == "replied"),
        (MentionFilter(topic="billing"), lambda a: a[4] & 1),
        (MentionFilter(topic="churn"), lambda a: False),
        (MentionFilter(topic="delivery", status="replied"),
         lambda a: a[4] & 2 and a[1] == "replied"),
        (MentionFilter(topic="billing", network="mastodon"),
         lambda a: a[4] & 1 and a[0] == "mastodon"),
        (MentionFilter(topic="delivery", assignee="U07AGENT01"),
         lambda a: a[4] & 2 and a[2] == "U07AGENT01"),
        (MentionFilter(since=timedelta(hours=3), topic="billing"),
         lambda a: a[3].replace(tzinfo=UTC) >= since and a[4] & 1),
    ]
    counted: list[str] = []
    engine = sessions.kw["bind"]

    def record(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if "count(*)" in statement and "mention_search" in statement:
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:  # PostgreSQL: a word its statistics hold in far more than FEW_HITS is not counted
        search_mentions(sessions, workspace_id, MentionFilter(text="the", status="replied"),
                        now=NOW)
        with engine.connect() as conn:
            common_hits = search_index.common_term_hits(conn)
        assert (common_hits is None) is (engine.dialect.name == "sqlite")
        if common_hits is not None:
            assert common_hits["the"] > 8 and not counted, (common_hits["the"], counted)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    walked = 0
    for text in queries:
        expected = _expected(stored, text)
        for listing, keep in filters:
            want = [i for i in expected if keep(attrs[i])]
            walked += bool(want)
            assert _filtered(sessions, workspace_id, MentionFilter(
                **{**{n: getattr(listing, n) for n in ("network", "status", "assignee",
                                                         "since", "topic")}, "text": text})
            ) == want, (
                text, listing)
    assert walked > len(queries) * 4


@pytest.mark.parametrize(("text", "exact"), [
    ("love", True), ("Love OR hate", True), ("(bad OR worst) service", True),
    ("2fa", True), ("écologie", True),  # folded to plain letters
    ('"customer service"', True), ('"customer serv*"', False), ('"café au lait"', True),
    ("lov*", True), ("#vigie", False), ("@vigie", False), ('"l\'appli"', True),
    ("c++", False), ("help -please", False), ("help lang:en", False), ("東京", False),
])
def test_only_plain_words_skip_the_confirmation(text: str, exact: bool) -> None:
    assert index_is_exact(parse_query(text)) is exact


@pytest.mark.parametrize(("text", "rare"), [
    ("zeppelin", True), ("the", False), ("the zeppelin", True), ("the OR zeppelin", False),
    ("zeppelin OR blimp", True), ('"the zeppelin"', True), ('"the end"', False),
    ("zeppel*", None), ("the zeppel*", None), ("zeppelin zep*", True),
    ("the -zeppelin", False), ("zeppelin lang:en", True),
])
def test_rare_terms_are_told_from_common_ones(text: str, rare: bool | None) -> None:
    assert only_rare_terms(parse_query(text), {"the", "end"}.__contains__) is rare


@pytest.mark.parametrize(("text", "least"), [
    ("the", 5000.0), ("zeppelin", 0.0), ("the -zeppelin", 5000.0), ("the lang:en", 5000.0),
    ("the OR end", 5000.0), ("end OR zeppelin", 300.0), ("the end", 0.0),
    ('"the end"', 0.0), ("th*", 0.0), ("the*", 5000.0), ("(the OR end) -x", 5000.0),
])
def test_the_least_hits_of_a_query_are_bounded_from_its_terms(text: str, least: float
                                                               ) -> None:
    hits = {"the": 5000.0, "end": 300.0}
    assert least_hits(parse_query(text), lambda term: hits.get(term, 0.0)) == least


@pytest.mark.parametrize(("root", "match"), [
    (Word("1\u20e3"), '"1\u20e3"'), (Word("\u093e"), '"\u093e"'), (Word("c++"), '"c++"'),
    (Word("jean-pierre", prefix=True), '"jean-pierre"*'),
    (Word("a.b"), None), (Phrase((Word("x"), Word("a/b"))), None),
    (And((Word("love"), Word("a.b"))), '"love"'), (Or((Word("love"), Word("a.b"))), None),
])
def test_a_term_fts5_would_split_does_not_narrow_the_search(root: Node, match: str | None
                                                             ) -> None:
    """FTS5 keeps each stored term whole (0066's tokenizer); a term it would split anyway
    (no query the parser makes holds one) is left to the confirmation, not looked up."""
    assert fts5_query(Query(root)) == match
