"""A mention in a language no sentiment model reads stores no sentiment: the card says
"language not analysed", and the counts, the digest's totals, the ``sentiment:`` filter and
exports say the same instead of counting the English model's guess as negative or positive.
On SQLite and PostgreSQL (the count tables are kept by database triggers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.services.export import iter_mentions
from bot.services.ingest import do_ingest
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.schedule import channel_config
from bot.services.watches import get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention
from tests.services.watching import workspace_watching_all

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
CHANNEL = "C0SENTIM1"
# No sentiment model reads Japanese or Italian: the English model's guesses on them
# (negative, whatever the words) are not kept. German has a sentiment model of its own
# (not intent rules): its sentiment is kept, though the reason says "language not
# analysed".
TEXTS = [
    ("en", "en", "acme app keeps crashing, worst update ever"),
    ("ja", "ja", "acme のアプリがまた落ちた。最悪だ 😡"),
    ("it", "it", "acme l'ordine non è ancora arrivato, che schifo"),
    ("de", "de", "acme bestellung ist immer noch nicht da, schrecklich"),
]


def _ingest(db_url: str) -> tuple[object, int]:
    sessions, workspace_id = workspace_watching_all(db_url, "T0SENTIM1", watch="acme",
                                                    channel_id=CHANNEL)
    fetched = [FetchedMention(network="mastodon", external_id=key,
                              url=f"https://m.example/{key}", text=text, language_hint=lang,
                              author=FetchedAuthor(handle=f"@{key}"),
                              published_at=NOW - timedelta(hours=2))
               for key, lang, text in TEXTS]
    with transaction(sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                           fetched, now=NOW)
    assert report.stored == 4
    return sessions, workspace_id


def test_an_unread_language_stores_no_sentiment(db_url: str) -> None:
    sessions, _ = _ingest(db_url)
    with sessions() as session:  # type: ignore[operator]
        rows = {m.external_id: m for m in session.scalars(select(Mention))}
    assert (rows["en"].sentiment_label, rows["en"].sentiment is not None) == ("negative", True)
    for key in ("ja", "it"):
        assert (rows[key].sentiment_label, rows[key].sentiment) == (None, None), key
        assert any(f["name"] == "language_not_analysed" for f in rows[key].intent_flags)
    # The German model's own reading is kept.
    assert (rows["de"].sentiment_label, rows["de"].sentiment is not None) == ("negative", True)
    assert any(f["name"] == "language_not_analysed" for f in rows["de"].intent_flags)


def test_digest_totals_and_the_sentiment_filter_count_it_as_not_analysed(db_url: str) -> None:
    sessions, workspace_id = _ingest(db_url)
    with sessions() as session:  # type: ignore[operator]
        config = channel_config(session, workspace_id, CHANNEL)
        report = build_digest_report(session, config, end=NOW, now=NOW)
    sentiments = {name: c.current for name, c in report.by_sentiment}
    assert sentiments == {"negative": 2, "neutral": 0, "positive": 0, "unknown": 2}
    assert report.total.current == 4
    for label, expected in (("negative", ["de", "en"]), ("positive", []), ("neutral", [])):
        rows = search_mentions(sessions, workspace_id,  # type: ignore[arg-type]
                               MentionFilter(sentiment=label), now=NOW)
        assert [r.external_id for r in rows] == expected, label
    listed = search_mentions(sessions, workspace_id, MentionFilter(), now=NOW)  # type: ignore[arg-type]
    assert {r.external_id: r.language_analysed for r in listed} == {
        "en": True, "ja": False, "it": False, "de": False}


def test_exports_leave_the_sentiment_empty(db_url: str) -> None:
    sessions, workspace_id = _ingest(db_url)
    with sessions() as session:  # type: ignore[operator]
        records = {r["url"].rsplit("/", 1)[1]: r for r in iter_mentions(
            session, workspace_id, since=NOW - timedelta(days=1), until=NOW)}
    assert records["en"]["sentiment_label"] == "negative"
    assert (records["ja"]["sentiment"], records["ja"]["sentiment_label"]) == (None, None)
