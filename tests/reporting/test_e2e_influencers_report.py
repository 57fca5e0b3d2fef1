"""`/cm influencers`, its Track button, App Home's section, `/cm report month|schedule` and the
scheduler's monthly run, driven as Slack sends them through the HTTP app and the stand-in."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import insert, select

from bot.services.reporting.monthly import run_due_reports
from storage.db import transaction
from storage.models import Mention, Watch
from tests.e2e.conftest import ADMIN_ID, VigieApp, start_vigie
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.slack_standin import SlackStandIn
from tests.reporting.dataset import CHANNEL, build_dataset
from tests.reporting.test_e2e_reporting import _dm_of, _upload_channels, command

NOW = datetime(2026, 11, 3, 10, tzinfo=UTC)
AGENT = "U07AGENT01"


@pytest.fixture
def vigie(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie's web app on SQLite and on PostgreSQL, its clock in early November 2026."""
    for app in start_vigie(db_url, slack_standin):
        build_dataset(app.runtime.sessions)
        app.runtime.clock = lambda: NOW
        yield app


def test_influencers_list_track_button_and_home(vigie: VigieApp) -> None:
    answer = command(vigie, "influencers 30d", user_id=AGENT)
    assert answer["response_type"] == "ephemeral"
    assert validate_blocks(answer["blocks"], "message") == []
    text = str(answer["blocks"])
    assert "Influencers · last 30 days" in text and "reach × engagement × frequency" in text
    assert ("*1. <https://mastodon.example/@ana|@ana (mastodon.example)>* (Mastodon) · "
            "48,213 followers") in text
    assert "Nobody is tracked yet" in text
    button = answer["blocks"][2]["accessory"]
    assert button["action_id"] == "vigie.influencer_track"
    vigie.standin.clear()
    vigie.slack.block_action("vigie.influencer_track", value=button["value"], user_id=AGENT)
    vigie.standin.wait_until(lambda s: len(s.responses()) > 0, timeout=30)
    assert "@ana (mastodon) is tracked" in vigie.standin.responses()[-1]["text"]
    again = command(vigie, "influencers", user_id=AGENT)
    assert ":pushpin: tracked" in str(again["blocks"]) and "*Tracked:* @ana (mastodon)" in str(
        again["blocks"])
    assert "accessory" not in again["blocks"][2]  # no Track button for who is tracked
    answer = command(vigie, "influencers untrack @ana mastodon", user_id=AGENT)
    assert "is no longer tracked" in answer["text"]
    vigie.slack.app_home_opened(AGENT)
    vigie.standin.wait_until(lambda s: s.home_view(AGENT) is not None)
    home = vigie.standin.home_view(AGENT)
    assert home is not None and validate_blocks(home["blocks"], "home") == []
    assert "Influencers (last 30 days)" in str(home["blocks"]) and "@ana" in str(home["blocks"])


@pytest.mark.parametrize("text, expected", [
    ("influencers 2d", "is not a period for influencers"),
    ("influencers 7d 30d", "Usage: `/cm influencers"),
    ("influencers track @ana", "Usage: `/cm influencers"),
    ("influencers track <!channel> x", "is not an author handle"),
    ("influencers track @ana not%20a%20network", "is not a network Vigie reads"),
    ("influencers track @ana mastadon", "use one of bluesky, hackernews, mastodon"),
    ("influencers track @nobody mastodon", "needs its Mastodon instance"),
    ("influencers untrack @nobody x", "is not tracked"),
    ("report", "Usage: `/cm report month"),
    ("report month 2026-13", "is not a month"),
    ("report month 2027-01", "has not started yet"),
    ("report schedule weekly", "Usage: `/cm report month"),
])
def test_bad_inputs_answer_how_to_do_it(vigie: VigieApp, text: str, expected: str) -> None:
    answer = command(vigie, text)
    assert expected in answer["text"], answer["text"]
    assert answer.get("response_type") == "ephemeral"


def test_report_month_arrives_as_a_pdf_in_the_dm(vigie: VigieApp) -> None:
    answer = command(vigie, "report month 2026-10")
    assert answer["response_type"] == "ephemeral"
    assert "The report of 2026-10 (16 mentions) will arrive in your DM" in answer["text"]
    vigie.runtime.outbox.flush(wait=True)
    files = vigie.standin.files()
    assert [f.filename for f in files] == ["vigie-report-2026-10.pdf"]
    assert _upload_channels(vigie) == [_dm_of(vigie, ADMIN_ID)]
    assert files[0].data is not None and files[0].data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(files[0].data))
    words = "\n".join(page.extract_text() for page in reader.pages)
    assert "Monthly report · 2026-10" in words and "@ana" in words
    # Without a month: the last complete one (October, on 3 November).
    answer = command(vigie, "report month")
    assert "The report of 2026-10" in answer["text"]


def test_report_month_counts_read_the_readers_way(vigie: VigieApp) -> None:
    """The answer and the PDF's comment give the month's mentions as "1 216" to a French
    reader (narrow no-break space), "1216" in English."""
    with transaction(vigie.runtime.sessions) as session:
        watch_id = session.scalar(select(Watch.id).where(Watch.name == "acme"))
        workspace_id = session.scalar(select(Watch.workspace_id).where(Watch.id == watch_id))
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watch_id, "network": "rss",
             "external_id": f"bulk{i}", "url": f"https://rss.example/bulk{i}",
             "text": f"bulk {i}", "published_at": datetime(2026, 10, 10, 12, tzinfo=UTC),
             "sentiment_label": "neutral", "priority": 10, "status": "new"}
            for i in range(1_200)])
    answer = command(vigie, "report month 2026-10")
    assert "The report of 2026-10 (1216 mentions) will arrive in your DM" in answer["text"]
    vigie.runtime.outbox.flush(wait=True)
    assert [f.initial_comment for f in vigie.standin.files()] == [
        "Monthly report of 2026-10: 1216 mention(s)."]
    assert "en français" in command(vigie, "lang fr")["text"]
    answer = command(vigie, "report month 2026-10")
    assert "Le rapport de 2026-10 (1\u202f216 mentions) arrive" in answer["text"]
    vigie.runtime.outbox.flush(wait=True)
    assert vigie.standin.files()[-1].initial_comment == (
        "Rapport mensuel de 2026-10 : 1\u202f216 mention(s).")


def test_schedule_monthly_then_the_scheduler_sends_once(vigie: VigieApp) -> None:
    assert "does not get the monthly report" in command(vigie, "report schedule")["text"]
    refused = command(vigie, "report schedule monthly", user_id=AGENT)
    assert "admin" in refused["text"]
    assert "will get the monthly report" in command(vigie, "report schedule monthly")["text"]
    assert "gets the monthly report" in command(vigie, "report schedule")["text"]
    sessions = vigie.runtime.sessions
    # Set today (real time): the first report is the one of the month now running, sent
    # on the 1st of next month from 08:00 in the workspace's zone (Europe/Paris).
    today = datetime.now(UTC)
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1, hour=6, minute=0,
                                                               second=0, microsecond=0)
    assert run_due_reports(sessions, now=first, default_timezone="UTC") == []  # 07:00 Paris
    month = f"{today:%Y-%m}"
    due = first + timedelta(hours=2)
    assert run_due_reports(sessions, now=due, default_timezone="UTC") == [(CHANNEL, month)]
    assert run_due_reports(sessions, now=due + timedelta(minutes=15),
                           default_timezone="UTC") == []
    vigie.standin.clear()
    vigie.runtime.outbox.flush(wait=True)
    files = vigie.standin.files()
    assert [f.filename for f in files] == [f"vigie-report-{month}.pdf"]
    assert CHANNEL in files[0].channels
    assert "no longer get" in command(vigie, "report schedule off")["text"]
    later = (due + timedelta(days=32)).replace(day=1) + timedelta(hours=8)
    assert run_due_reports(sessions, now=later, default_timezone="UTC") == []


def test_a_competitors_authors_are_not_the_brands_influencers(vigie: VigieApp) -> None:
    """With beta a competitor's watch, `/cm influencers` and App Home rank the authors of
    the brand's watches (acme, other) only: carl, who posted on beta alone, talked about
    the competitor. The command takes no watch, so no listing of beta's authors is lost."""
    before = str(command(vigie, "influencers 30d", user_id=AGENT)["blocks"])
    assert "@carl" in before and "@ana" in before
    vigie.slack.app_home_opened(AGENT)  # Home caches its ranking: the change must clear it
    vigie.standin.wait_until(lambda s: "@carl" in str(s.home_view(AGENT)))
    assert "is now a competitor" in command(vigie, "watch kind beta competitor")["text"]
    after = str(command(vigie, "influencers 30d", user_id=AGENT)["blocks"])
    assert "@carl" not in after
    assert "@ana" in after and "@bob" in after and "@dan" in after
    vigie.slack.app_home_opened(AGENT)
    vigie.standin.wait_until(lambda s: "@carl" not in str(s.home_view(AGENT)))
    home = str(vigie.standin.home_view(AGENT))
    assert "Influencers (last 30 days)" in home and "@ana" in home
