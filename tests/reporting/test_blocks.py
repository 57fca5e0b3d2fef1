"""Digest and stats blocks: within Block Kit limits, outside text escaped, both languages."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.schedule import channel_config
from bot.services.reporting.stats import build_stats_report
from bot.slack.digest_blocks import blocks_as_text, build_digest_blocks, build_stats_blocks
from storage.db import transaction
from storage.models import Author, Mention, Watch
from tests.harness.blockkit_limits import validate_blocks
from tests.reporting.dataset import CHANNEL, DIGEST_END, ZONE, Dataset, spike_row, utc


def _report(sessions: sessionmaker[Session], data: Dataset, **kwargs: object):
    with sessions() as session:
        config = channel_config(session, data.workspace_id, CHANNEL)
        return build_digest_report(session, config, end=DIGEST_END, now=DIGEST_END,
                                   **kwargs)  # type: ignore[arg-type]


def test_outside_text_cannot_ping_or_link(sessions: sessionmaker[Session],
                                          dataset: Dataset) -> None:
    with transaction(sessions) as session:
        mention = session.get(Mention, dataset.mentions["m4"])
        assert mention is not None and mention.author_id is not None
        mention.text = "<!channel> look <https://evil.example|here> & <@U07CMALICE>"
        author = session.get(Author, mention.author_id)
        assert author is not None
        author.handle = "<!here>"
        # A watch name Vigie would refuse, as a database written by hand may hold.
        watch = session.get(Watch, dataset.watches["beta"])
        assert watch is not None
        watch.name = "<!channel>"
        session.add(spike_row(dataset, "beta", utc(10, 24, 12)))
    report = _report(sessions, dataset)
    text, blocks = build_digest_blocks(report, "en")
    assert validate_blocks(blocks, "message") == []
    rendered = str(blocks)
    assert "<!channel>" not in rendered and "<!here>" not in rendered
    assert "<@U07CMALICE>" not in rendered and "<https://evil.example|here>" not in rendered
    assert "&lt;!channel&gt; look &lt;https://evil.example|here&gt; &amp;" in rendered
    assert "*Spikes*" in rendered and "· *&lt;!channel&gt;* · volume:" in rendered
    assert text.startswith("Daily digest · 25 Oct 2026: *11* mention(s)")


def test_french_and_empty_digest(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    _text, blocks = build_digest_blocks(_report(sessions, dataset), "fr")
    rendered = str(blocks)
    assert "Résumé du jour · 25 oct. 2026" in rendered
    assert "Répondues :* 4 sur les 6 qui attendaient une réponse" in rendered
    with sessions() as session:
        config = channel_config(session, dataset.workspace_id, CHANNEL)
        empty = build_digest_report(session, config, end=utc(9, 1, 7), now=utc(9, 1, 7))
    text, blocks = build_digest_blocks(empty, "en")
    assert len(blocks) == 1 and text.startswith("No new mention. From 31 Aug 09:00 to ")
    assert "Still open: 0, overdue: 0." in text
    assert blocks_as_text(blocks).count("\n") == 1  # one line


def test_stats_blocks(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    with sessions() as session:
        report = build_stats_report(session, dataset.workspace_id, days=30, now=DIGEST_END,
                                    timezone=ZONE)
    for language in ("en", "fr"):
        _text, blocks = build_stats_blocks(report, language)
        assert validate_blocks(blocks, "message") == []
    rendered = str(build_stats_blocks(report, "en")[1])
    # Nothing in the first 15 days; 8 negative of 15 in the second half.
    assert "negative share – in the first half of the period, 53% in the second" in rendered
    assert "Busiest hours* (Europe/Paris): 08:00 (4)" in rendered


def test_open_work_agrees_in_number_and_colons_follow_the_language(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    report = _report(sessions, dataset)
    french = blocks_as_text(build_digest_blocks(report, "fr")[1])
    assert ("Ouvertes : 5 (1 attribuée, 1 en attente de validation, 1 brouillon en cours, "
            "2 nouvelles)") in french
    # Networks by their names in the reader's language, never their stored codes.
    assert "• Mastodon : 6 (+5)" in french and "• RSS/Atom : 2 (+2)" in french
    assert "[65] Mastodon @ana : text of m3 · Attribuée" in french
    assert " Mastodon: " not in french and "@ana: " not in french
    assert "(rss)" not in french and "] rss " not in french and "mastodon :" not in french
    assert "(RSS/Atom)" in french and "] RSS/Atom @carl" in french
    english = blocks_as_text(build_digest_blocks(report, "en")[1])
    assert "Open: 5 (1 assigned, 1 awaiting approval, 1 drafting, 2 new)" in english
    assert "• Mastodon: 6 (+5)" in english and "[65] Mastodon @ana: text of m3" in english
    assert "• RSS/Atom feeds: 2 (+2)" in english


def test_response_counts_agree_in_number_in_each_language() -> None:
    """One mention that needed an answer and one answered: singular in French ("1
    répondue", "sur 1 qui attendait"), plural from 2; English keeps its one wording."""
    from bot.messages.digest import ResponsesData
    from bot.slack.digest_blocks import _responses

    one = ResponsesData(actionable=1, answered=0, responded=1, median_seconds=0,
                        p90_seconds=0, answered_share=0.0)
    two = ResponsesData(actionable=2, answered=2, responded=2, median_seconds=60,
                        p90_seconds=60, answered_share=1.0)
    french_one, french_two = _responses(one, "fr"), _responses(two, "fr")
    assert ("*Répondues :* 0 sur 1 qui attendait une réponse, alertée ou prise en charge"
            in french_one), french_one
    assert french_one.endswith("(1 répondue)"), french_one
    assert "1 répondues" not in french_one and "les 1 " not in french_one
    assert ("*Répondues :* 2 sur les 2 qui attendaient une réponse, alertées ou prises en "
            "charge") in french_two and french_two.endswith("(2 répondues)"), french_two
    english = _responses(one, "en")
    assert english.startswith("*Answered:* 0 of the 1 that needed an answer, alerted or "
                              "taken up (0%)"), english
    assert english.endswith("(1 answered)"), english
