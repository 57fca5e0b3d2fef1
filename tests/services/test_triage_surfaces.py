"""The triage signals where a community manager looks: card, `/cm mentions` and App Home
show the reason line with the topics, "language not analysed", the brand
account a mention was addressed to, and (Home) the triage calibration. Blocks are checked
against Slack's limits and slack_sdk's own models; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.attention import LANGUAGE_NOT_ANALYSED
from bot.analysis.conversation import DIRECT_FLAG
from bot.analysis.pipeline import AnalysisInput, analyze_many
from bot.analysis.topics import topic_mask, topic_names, topics_json
from bot.services.cards import load_card_view, render_card_row
from bot.services.home import home_summary
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.outbox import KIND_CARD, do_enqueue
from bot.slack.cards import build_card
from bot.slack.home import build_home
from bot.slack.mention_views import build_mention_list
from bot.slack.render import rendered
from storage.db import transaction
from storage.models import Mention, Watch, Workspace
from storage.models_triage import TriageCalibration, TriageRun
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import sdk_block_errors, sdk_view_errors

NOW = datetime(2026, 11, 21, 9, tzinfo=UTC)
AGENT = "U07AGENT01"
# Customer tweets of the kind the triage is tuned for; the analysis is the real one.
BILLING = "@acmecare you charged me twice this month and I still have no refund. Why?"
OUTAGE_ES = "@acmecare la aplicación no funciona desde ayer, ¿qué pasa? 😡"
OUTAGE_IT = "@acmecare l'applicazione non funziona da ieri, che succede? 😡"


def _store(sessions: sessionmaker[Session], workspace_id: int, text: str, external_id: str,
           *, direct: str | None = None, status: str = "assigned") -> int:
    analysis, = analyze_many([AnalysisInput(text, addressed=True,
                                            published_at=NOW - timedelta(minutes=5))], now=NOW)
    flags = [{"name": f.name, "terms": list(f.terms)} for f in analysis.flags]
    score, label = analysis.stored_sentiment  # as ingest stores it
    if direct:
        flags.append({"name": DIRECT_FLAG, "terms": [direct]})
    with transaction(sessions) as session:
        watch = session.query(Watch).filter_by(workspace_id=workspace_id).first()
        if watch is None:
            watch = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID)
            session.add(watch)
            session.flush()
        mention = Mention(
            workspace_id=workspace_id, watch_id=watch.id, network="x", external_id=external_id,
            url=f"https://x.com/a/status/{external_id}", text=text, language=analysis.language,
            published_at=NOW - timedelta(minutes=5), created_at=NOW - timedelta(minutes=5),
            priority=analysis.priority, priority_reason=analysis.reason,
            sentiment_label=label, sentiment=score,
            intent=analysis.intent, intent_flags=flags, topics=topics_json(analysis.topics),
            topic_mask=topic_mask(topic_names(analysis.topics)), status=status,
            assignee_user_id=AGENT, alerted=True)
        session.add(mention)
        session.flush()
        return mention.id


def test_card_and_listing_say_complaint_topic_and_waiting(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = _store(sessions, workspace_id, BILLING, "1", direct="@acmecare")
    with sessions() as session:
        view = load_card_view(session, mention_id)
    assert view is not None
    _, blocks = build_card(view, "en")
    assert validate_blocks(blocks, "message") == [] and sdk_block_errors(blocks) == []
    line = blocks[2]["elements"][0]["text"]
    assert line.startswith(":red_circle: priority ")
    assert " · complaint · billing · waiting for an answer" in line
    assert ":label:" not in str(blocks)  # the topics are in the reason line, once
    assert ":dart: Direct: addressed to @acmecare" in str(blocks)

    rows = search_mentions(sessions, workspace_id, MentionFilter(topic="billing"), now=NOW)
    assert [row.id for row in rows] == [mention_id]
    assert rows[0].direct_to == "@acmecare" and rows[0].as_json()["direct_to"] == "@acmecare"
    _, listing = build_mention_list(rows, "fr", more_value=None)
    assert validate_blocks(listing, "message") == [] and sdk_block_errors(listing) == []
    assert "réclamation · facturation · attend une réponse · :dart: à @acmecare" in str(
        listing)


def test_an_answered_mention_no_longer_says_it_waits(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = _store(sessions, workspace_id, BILLING, "1", direct="@acmecare",
                        status="replied")
    with sessions() as session:
        view = load_card_view(session, mention_id)
        stored = session.get(Mention, mention_id)
        assert stored is not None and "waiting for an answer" in (stored.priority_reason or "")
    assert view is not None
    _, blocks = build_card(view, "en")
    line = blocks[2]["elements"][0]["text"]
    assert line.endswith(" · complaint · billing") and "waiting" not in line
    rows = search_mentions(sessions, workspace_id, MentionFilter(status="replied"), now=NOW)
    _, listing = build_mention_list(rows, "fr", more_value=None)
    assert "réclamation · facturation · :dart: à @acmecare" in str(listing)
    assert "attend une réponse" not in str(listing)


def test_a_language_no_model_reads_says_so_everywhere(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = _store(sessions, workspace_id, OUTAGE_IT, "2")
    with sessions() as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None and mention.language == "it"
        assert any(f["name"] == LANGUAGE_NOT_ANALYSED for f in mention.intent_flags)
    rows = search_mentions(sessions, workspace_id, MentionFilter(), now=NOW)
    assert not rows[0].language_analysed
    _, listing = build_mention_list(rows, "en", more_value=None)
    text = listing[0]["text"]["text"]
    assert ":grey_question:" in text and "language not analysed" in text
    view = build_home(home_summary(sessions, workspace_id, AGENT, NOW), "en")
    assert sdk_view_errors(view) == [] and validate_blocks(view["blocks"], "home") == []
    assert "language not analysed" in str(view["blocks"])


def test_a_language_only_a_sentiment_model_reads_says_so_everywhere(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = _store(sessions, workspace_id, OUTAGE_ES, "2")
    with sessions() as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None and mention.language == "es"
        assert mention.sentiment_label is not None
        assert any(f["name"] == LANGUAGE_NOT_ANALYSED for f in mention.intent_flags)
    rows = search_mentions(sessions, workspace_id, MentionFilter(), now=NOW)
    _, listing = build_mention_list(rows, "en", more_value=None)
    text = listing[0]["text"]["text"]
    assert ":grey_question:" not in text and "language not analysed" not in text
    assert "sentiment only" in text
    view = build_home(home_summary(sessions, workspace_id, AGENT, NOW), "en")
    assert "sentiment only" in str(view["blocks"])
    assert "language not analysed" not in str(view["blocks"])


def test_a_legal_threat_in_spanish_says_the_risk_and_that_only_its_sentiment_was_read(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # "fraude" is also a French rule word: it must not make the Spanish text "read".
    text = "@acmecare voy a denunciaros ante la OCU por la filtración, esto es un fraude"
    mention_id = _store(sessions, workspace_id, text, "3")
    with sessions() as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None and mention.language == "es" and mention.intent == "risk"
        names = [f["name"] for f in mention.intent_flags]
        assert "risk:legal" in names and LANGUAGE_NOT_ANALYSED in names
        view = load_card_view(session, mention_id)
    assert view is not None
    for language, expected in (
            ("en", " · risk: legal · sentiment only · waiting for an answer"),
            ("fr", " · risque : juridique · sentiment uniquement · attend une réponse")):
        _, blocks = build_card(view, language)
        assert validate_blocks(blocks, "message") == [] and sdk_block_errors(blocks) == []
        line = blocks[2]["elements"][0]["text"]
        # The Spanish model's sentiment icon (not a question mark), the English risk's
        # priority.
        assert not line.startswith(":grey_question: priorit"), line
        assert " 100 · " in line
        assert line.endswith(expected), line


def test_home_shows_reason_lines_and_the_triage_calibration(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _store(sessions, workspace_id, BILLING, "1", direct="@acmecare")
    view = build_home(home_summary(sessions, workspace_id, AGENT, NOW), "en")
    assert sdk_view_errors(view) == [] and validate_blocks(view["blocks"], "home") == []
    assigned = view["blocks"][4]["text"]["text"]
    assert "complaint · billing · waiting for an answer · :dart: to @acmecare" in assigned
    rendered = str(view["blocks"])
    assert "shifted by *±0* points" in rendered and "No learning run yet." in rendered
    assert "`/cm triage` shows what changed and why" in rendered

    with transaction(sessions) as session:
        session.add(TriageCalibration(workspace_id=workspace_id, offset=-3, enabled=True))
        session.add(TriageRun(workspace_id=workspace_id, kind="learn", actor="nightly",
                              outcome="applied", applied=True, offset_before=0,
                              offset_after=-3, proposed=-8, figures={},
                              created_at=NOW - timedelta(hours=6)))
        session.add(TriageRun(workspace_id=workspace_id, kind="off", actor="U07ADMIN01",
                              outcome="switched_off", offset_before=-3, offset_after=-3,
                              figures={}, created_at=NOW - timedelta(hours=1)))
    view = build_home(home_summary(sessions, workspace_id, AGENT, NOW), "fr")
    assert sdk_view_errors(view) == [] and validate_blocks(view["blocks"], "home") == []
    rendered = str(view["blocks"])
    assert "décalé de *-3* points" in rendered
    assert "Dernier apprentissage" in rendered and "décalage passé de ±0 à -3" in rendered


def test_a_french_workspace_reads_the_reason_in_french_everywhere(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The reason is stored in English and worded for the reader: the card a French
    workspace's channel gets, its `/cm mentions` rows and App Home; English as stored."""
    with transaction(sessions) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        workspace.locale = "fr"
    mention_id = _store(sessions, workspace_id, BILLING, "1", direct="@acmecare")
    with transaction(sessions) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        assert mention.priority_reason == "complaint · waiting for an answer"
        # As a risk with reach and age would store it (a reason the analysis writes).
        mention.priority_reason = ("risk: legal, data breach · waiting for an answer · "
                                   "48k followers · 2 d old")
        mention.intent = "risk"
        row = do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD,
                         channel=CHANNEL_ID, mention_id=mention_id)
        assert row is not None
        session.flush()
        message = render_card_row(session, row)
    assert message is not None
    blocks = rendered(message).blocks or []
    assert validate_blocks(blocks, "message") == [] and sdk_block_errors(blocks) == []
    french = ("risque : juridique, fuite de données · facturation · attend une réponse · "
              "48\u00a0k abonnés · il y a 2 j")
    assert blocks[2]["elements"][0]["text"].endswith(f"· {french}")

    rows = search_mentions(sessions, workspace_id, MentionFilter(), now=NOW)
    _, listing = build_mention_list(rows, "fr", more_value=None)
    assert f"{french} · :dart: à @acmecare" in listing[0]["text"]["text"]
    view = build_home(home_summary(sessions, workspace_id, AGENT, NOW), "fr")
    assert sdk_view_errors(view) == [] and validate_blocks(view["blocks"], "home") == []
    assert f"{french} · :dart: à @acmecare" in view["blocks"][4]["text"]["text"]

    english = ("risk: legal, data breach · billing · waiting for an answer · 48k followers"
               " · 2 d old")
    _, listing = build_mention_list(rows, "en", more_value=None)
    assert f"{english} · :dart: to @acmecare" in listing[0]["text"]["text"]
    view = build_home(home_summary(sessions, workspace_id, AGENT, NOW), "en")
    assert f"{english} · :dart: to @acmecare" in view["blocks"][4]["text"]["text"]
