"""The monthly report: its numbers on the hand-counted data set, the month argument and its
bad inputs, the PDF's pages and text, the HTML (escaped), on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.reports.monthly import (
    chart_responses,
    chart_topics,
    chart_volume,
    chart_workload,
    people_of,
    render_html,
    render_pdf,
    text_sections,
)
from bot.services import competitors, influencers
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.outbox import OutboxSender
from bot.services.reporting import monthly
from bot.slack.notifier import SlackNotifier
from bot.slack.users import AccountCache, SlackUserDirectories
from storage.db import transaction
from storage.models import Author, Mention, Watch
from storage.models_cases import QuietMention
from storage.models_competitors import WATCH_COMPETITOR
from storage.models_spikes import Spike
from storage.models_watches import MentionWatch
from tests.harness.slack_standin import SlackStandIn
from tests.reporting.dataset import Dataset, utc

CLI = Actor(None, "cli")
NOW = datetime(2026, 12, 5, 10, tzinfo=UTC)


def _report(sessions: sessionmaker[Session], dataset: Dataset, month: str | None = "2026-10",
            language: str | None = None) -> tuple[monthly.MonthlyReport, dict]:
    return monthly.get_monthly_report(sessions, dataset.workspace_id, CLI, month=month,
                                             now=NOW, language=language)


def _pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_numbers_of_a_month(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    with transaction(sessions) as session:
        session.add(Spike(workspace_id=dataset.workspace_id, watch_id=dataset.watches["acme"],
                          hour_start=utc(10, 24, 9), kind="volume", total=42, baseline=3.0,
                          negative=30, negative_share=0.7, baseline_negative_share=0.2,
                          summary="42 mentions in an hour: app crash after the update"))
        session.add(Spike(workspace_id=dataset.workspace_id, watch_id=dataset.watches["acme"],
                          hour_start=utc(11, 2, 9), kind="volume", total=9, baseline=3.0,
                          negative=1, negative_share=0.1, baseline_negative_share=0.2,
                          summary="next month"))
        session.get_one(Mention, dataset.mentions["m1"]).topic_mask = 0b1  # billing
        session.get_one(Mention, dataset.mentions["m3"]).topic_mask = 0b1001  # billing, outage
    report, spec = _report(sessions, dataset)
    assert report.month == "2026-10" and report.complete
    assert report.start == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert report.end == datetime(2026, 10, 31, 23, tzinfo=UTC)  # clocks went back
    assert report.total == 16 and report.previous_total == 0
    assert report.by_sentiment == {"negative": 9, "neutral": 3, "positive": 4, "unknown": 0}
    assert report.by_network[0] == ("mastodon", 10)
    # 24 Oct in Paris (UTC+2): m1, m10, m11, m12, m15 negative; m3, m7 neutral; m2, m6
    # positive (m16, 22:30 UTC, is the 25th there).
    assert len(report.days) == 31 and report.days[23] == ("24", {
        "negative": 5, "neutral": 2, "positive": 2, "unknown": 0})
    # Same definitions as the digest: 16 less an ignored and a spam mention, and the four
    # that only waited for the digest (m2, m8, m10, m16: never alerted nor taken up).
    assert (report.responses.actionable, report.responses.answered) == (10, 4)
    assert report.responses.median_seconds == 3600.0
    # m1 (urgent, 30 min), m6 (normal, 90 min), m11 (high, 10 min), m12 (high, 240 min:
    # exactly its SLA) are all on time.
    assert (report.sla.answered, report.sla.on_time) == (4, 4)
    assert [(s.watch, s.total) for s in report.spikes] == [("acme", 42)]
    assert [i.handle for i in report.influencers] == ["@ana", "@bob", "@dan", "@carl"]
    assert report.topics == [("billing", 2), ("outage", 1)]
    assert [(w.user_id, w.assigned) for w in report.workload] == [
        ("U07AGENT01", 2), ("U07AGENT02", 2)]
    assert {a.user_id for a in report.approvals} == {"U07APPROVA", "U07APPROVB"}
    assert spec["sla"]["share"] == 1.0 and spec["influencers"][0]["trend"] == "unknown"
    assert spec["share_of_voice"] is None


def test_pdf_pages_and_text(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    influencers.do_track(sessions, dataset.workspace_id, CLI, handle="@ana",
                         network="mastodon", now=NOW)
    _built, spec = _report(sessions, dataset)
    content = render_pdf(spec)
    assert content.startswith(b"%PDF-")
    pages, words = _pdf_text(content)
    assert pages >= 3
    for expected in ("Monthly report · 2026-10", "2026-10-01 to 2026-10-31 (Europe/Paris)",
                     "16 mention(s)",
                     "Needed an answer (alerted or taken up) 10 · answered 4 (40%) · reply gap 60%",
                     "median 60 min", "SLA kept: 100%", "Top influencers",
                     "1. @ana (mastodon) · 48213 · 3 · 0", "Tracked", "text of m12",
                     "Team workload", "U07AGENT01: Assigned 2", "No spike was detected",
                     "Mentions per day by sentiment"):
        assert expected in words, expected
    metadata = PdfReader(io.BytesIO(content)).metadata
    assert metadata is not None and metadata.title == "Monthly report · 2026-10"


def test_french_pdf(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    _built, spec = _report(sessions, dataset, language="fr")
    _pages, words = _pdf_text(render_pdf(spec))
    assert "Rapport mensuel · 2026-10" in words and "Principaux influenceurs" in words


def test_french_numbers_read_the_french_way(sessions: sessionmaker[Session],
                                           dataset: Dataset) -> None:
    """Shares, durations and points in a French report: "40 %" (narrow no-break space),
    "3,2 h" (decimal comma); the English report keeps "40%" and "3.2 h"."""
    _built, spec = _report(sessions, dataset, language="fr")
    html = render_html(spec)
    assert "(40\u202f%)" in html and "sans réponse 60\u202f%" in html
    assert "90e centile 3,2\u00a0h" in html
    assert "100\u202f% des mentions" in html
    _built, spec = _report(sessions, dataset)
    english = render_html(spec)
    assert "(40%)" in english and "3.2 h" in english


def test_french_share_of_voice_and_spike_counts(sessions: sessionmaker[Session],
                                               dataset: Dataset) -> None:
    """The share of voice's totals and opportunities and each spike's total are grouped the
    French way ("5 678", narrow no-break space), and its percentages keep their narrow
    no-break space ("53 %"); the English report keeps "5678" and "53%"."""
    _built, spec = _report(sessions, dataset, language="fr")
    spec["share_of_voice"] = [{"group": "market", "total": 5_678, "opportunities": 1_500,
                               "members": [{"watch": "acme", "share": 0.5315, "trend": 2.46,
                                            "negative_share": 0.125}]}]
    spec["spikes"] = [{"hour_start": "2026-10-24T09:00:00+00:00", "watch": "acme",
                       "total": 1_234, "summary": "app crash"}]
    lines = [line for _key, _title, section in text_sections(spec) for line in section]
    assert "market (5\u202f678 mention(s)) : acme 53\u202f% (+2,5 pts par rapport au mois " \
           "précédent)" in lines
    assert "Part des mentions négatives : acme 12\u202f%" in lines
    assert "Opportunités de conquête trouvées : 1\u202f500" in lines
    assert "24 oct. 11:00 · acme · 1\u202f234 mention(s) : app crash" in lines
    spec["language"] = "en"
    english = [line for _key, _title, section in text_sections(spec) for line in section]
    assert any(line.startswith("market (5678 mention(s)): acme 53%") for line in english)
    assert "Conquest opportunities found: 1500" in english
    assert any(" · acme · 1234 mention(s): app crash" in line for line in english)


def test_spikes_are_worded_from_their_numbers(sessions: sessionmaker[Session],
                                              dataset: Dataset) -> None:
    """Each spike line says what stood out and the hour's numbers against their usual level
    in the reader's language, as the daily digest does; the detector's stored sentence is
    English and never printed."""
    with transaction(sessions) as session:
        session.add(Spike(workspace_id=dataset.workspace_id, watch_id=dataset.watches["acme"],
                          hour_start=utc(10, 24, 12), kind="volume+negative_share",
                          total=1_234, baseline=40.5, negative=617, negative_share=0.5,
                          baseline_negative_share=0.1,
                          summary="1234 mentions vs ~40 usual; 50% negative"))
    _built, spec = _report(sessions, dataset, language="fr")
    page = render_html(spec)
    # 12:00 UTC is 14:00 in Paris, the report's time zone.
    assert ("24 oct. 14:00 · acme · volume et part négative : 1\u202f234 mentions dans "
            "l&#x27;heure contre 40,5 d&#x27;habitude ; 50\u202f% négatives contre 10\u202f% "
            "d&#x27;habitude") in page
    assert "usual" not in page
    assert "1\u202f234 mentions dans l'heure" in _pdf_text(render_pdf(spec))[1]
    _built, spec = _report(sessions, dataset)
    english = render_html(spec)
    assert ("24 Oct 14:00 · acme · volume and negative share: 1234 mentions in the hour vs "
            "40.5 usual; 50% negative vs 10% usual") in english
    assert "~40" not in english


def test_times_are_in_the_reports_time_zone(sessions: sessionmaker[Session],
                                            dataset: Dataset) -> None:
    """A spike's hour and an influencer's post date are read in the report's time zone
    (Europe/Paris), as its days are, not in UTC."""
    with transaction(sessions) as session:
        session.add(Spike(workspace_id=dataset.workspace_id, watch_id=dataset.watches["acme"],
                          hour_start=utc(10, 24, 22), kind="volume", total=42, baseline=3.0,
                          negative=3, negative_share=0.1, baseline_negative_share=0.1,
                          summary="42 mentions vs ~3 usual"))
        # m16, 22:30 UTC on the 24th, is 00:30 on the 25th in Paris.
        session.get_one(Mention, dataset.mentions["m16"]).author_id = session.scalar(
            select(Author.id).where(Author.handle == "@ana"))
    _built, spec = _report(sessions, dataset)
    lines = [line for _key, _title, section in text_sections(spec) for line in section]
    assert any(line.startswith("25 Oct 00:00 · acme · volume: 42 mentions") for line in lines)
    assert "    25 Oct: text of m16" in lines
    assert "25 Oct" in render_html(spec).split("text of m16")[0].rsplit("<li>", 1)[1]


def _big_numbers(spec: dict) -> dict:
    """``spec`` with every count the text prints at 1,000 or more."""
    spec.update(total=12_345, previous_total=1_000,
                by_sentiment={"negative": 4_000, "neutral": 3_000, "positive": 5_000,
                              "unknown": 1_345},
                by_network=[["mastodon", 10_000], ["x", 2_345]],
                topics=[["billing", 1_234]],
                workload=[{"user_id": "U07AGENT01", "assigned": 1_100, "open": 1_001,
                           "answered": 1_002}],
                approvals=[{"user_id": "U07APPROVA", "approved": 1_200, "rejected": 1_001}])
    spec["responses"].update(actionable=2_000, answered=1_500, answered_share=0.75)
    spec["sla"].update(on_time=1_350, answered=1_500, share=0.9)
    spec["influencers"] = [dict(spec["influencers"][0], followers=48_213, mentions=1_203,
                                engagement=2_500, tracked=False, last_posts=[])]
    return spec


def test_french_counts_are_grouped(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """Every count of a French report is grouped the French way ("12 345", narrow no-break
    space), the change since last month reads "+1 134 %", and a label takes a space before
    its colon ("facturation : 1 234"); the English report keeps "12345", "+1134%" and
    "billing: 1234" as before."""
    _built, spec = _report(sessions, dataset, language="fr")
    lines = [line for _key, _title, section in text_sections(spec) for line in section]
    assert "    24 oct. : text of m12" in lines
    assert '@ana, 24 oct. : <a href="https://mastodon.example/m12">' in render_html(spec)
    lines = [line for _key, _title, section in text_sections(_big_numbers(spec))
             for line in section]
    n = "\u202f"
    for expected in (
            f"12{n}345 mention(s), +1{n}134{n}% par rapport au mois précédent (1{n}000)",
            f"Négatif 4{n}000 · Neutre 3{n}000 · Positif 5{n}000 · Non analysé 1{n}345",
            f"Par réseau : mastodon 10{n}000, x 2{n}345",
            f"Attendaient une réponse (alertées ou prises en charge) 2{n}000 · répondues "
            f"1{n}500 (75{n}%) · sans réponse 25{n}%",
            f"SLA tenu : 90{n}% des mentions répondues (1{n}350 sur 1{n}500) l'ont été dans "
            "leur SLA.",
            f"1. @ana (mastodon) · 48{n}213 · 1{n}203 · 2{n}500 · non analysé",
            f"facturation : 1{n}234",
            f"U07AGENT01 : Assignées 1{n}100 · Encore ouvertes 1{n}001 · Répondues 1{n}002",
            f"Validations : U07APPROVA 1{n}200 validé(s) / 1{n}001 refusé(s)"):
        assert expected in lines, (expected, lines)
    assert f"<td>48{n}213</td><td>1{n}203</td><td>2{n}500</td>" in render_html(spec)
    spec.update(total=0, previous_total=0)
    assert any(line.startswith("0 mention(s), n.d. par rapport") for line in
               text_sections(spec)[0][2])
    _built, spec = _report(sessions, dataset)
    english = [line for _key, _title, section in text_sections(spec) for line in section]
    assert "    24 Oct: text of m12" in english
    assert '@ana, 24 Oct: <a href="https://mastodon.example/m12">' in render_html(spec)
    english = [line for _key, _title, section in text_sections(_big_numbers(spec))
               for line in section]
    for expected in (
            "12345 mention(s), +1134% vs the previous month (1000)",
            "Negative 4000 · Neutral 3000 · Positive 5000 · Not analysed 1345",
            "By network: mastodon 10000, x 2345",
            "Needed an answer (alerted or taken up) 2000 · answered 1500 (75%) · reply gap 25%",
            "SLA kept: 90% of the answered mentions (1350 of 1500) were answered within "
            "their SLA.",
            "1. @ana (mastodon) · 48213 · 1203 · 2500 · not analysed",
            "billing: 1234",
            "U07AGENT01: Assigned 1100 · Still open 1001 · Answered 1002",
            "Approvals: U07APPROVA 1200 approved / 1001 rejected"):
        assert expected in english, (expected, english)
    assert "<td>48213</td><td>1203</td><td>2500</td>" in render_html(spec)


def _tick_labels(chart: Callable[[Any, dict], None], spec: dict, axis: str) -> list[str]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.18, 0.2, 0.78, 0.68))
    chart(axes, spec)
    figure.canvas.draw()
    ticks = axes.get_yticklabels() if axis == "y" else axes.get_xticklabels()
    return [label.get_text() for label in ticks]


def test_french_chart_counts_are_grouped(sessions: sessionmaker[Session],
                                         dataset: Dataset) -> None:
    """The charts' count axes read "1 000" in French (as the text does), "1000" in
    English."""
    _built, spec = _report(sessions, dataset, language="fr")
    spec["days"] = [["01", {"negative": 1_500, "neutral": 0, "positive": 0, "unknown": 0}]]
    spec["topics"] = [["billing", 2_500]]
    spec["workload"] = [{"user_id": "U07AGENT01", "assigned": 2_500, "open": 0,
                         "answered": 0}]
    spec["responses"].update(actionable=2_500, answered=1_000)
    charts = [(chart_volume, "y"), (chart_responses, "x"), (chart_topics, "x"),
              (chart_workload, "x")]
    for chart, axis in charts:
        assert "1\u202f000" in _tick_labels(chart, spec, axis), chart.__name__
    spec["language"] = "en"
    for chart, axis in charts:
        assert "1000" in _tick_labels(chart, spec, axis), chart.__name__


def test_french_topics_are_named_in_french(sessions: sessionmaker[Session],
                                          dataset: Dataset) -> None:
    """A French report names its topics as French cards and digests do ("facturation",
    "panne"), in the text, the HTML and the chart; the English one keeps "billing"."""
    with transaction(sessions) as session:
        session.get_one(Mention, dataset.mentions["m1"]).topic_mask = 0b1  # billing
        session.get_one(Mention, dataset.mentions["m3"]).topic_mask = 0b1001  # billing, outage
    _built, spec = _report(sessions, dataset, language="fr")
    assert spec["topics"] == [["billing", 2], ["outage", 1]]
    words = _pdf_text(render_pdf(spec))[1]
    assert "facturation" in words and "panne" in words and "billing" not in words
    assert "facturation" in render_html(spec) and "billing" not in render_html(spec)
    assert _tick_labels(chart_topics, spec, "y") == ["facturation", "panne"]
    spec["language"] = "en"
    assert _tick_labels(chart_topics, spec, "y") == ["billing", "outage"]


def test_html_is_escaped_and_self_contained(sessions: sessionmaker[Session],
                                            dataset: Dataset) -> None:
    with transaction(sessions) as session:
        evil = Author(workspace_id=dataset.workspace_id, network="x",
                      handle="<script>alert(1)</script>", followers=10**9)
        session.add(evil)
        session.flush()
        session.add(Mention(workspace_id=dataset.workspace_id, author_id=evil.id,
                            watch_id=dataset.watches["acme"], network="x", external_id="evil",
                            url="javascript:alert(2)", text="costs $5 or $10 <b>bold</b>",
                            published_at=utc(10, 12, 10)))
    _built, spec = _report(sessions, dataset)
    page = render_html(spec)
    assert page.startswith("<!DOCTYPE html>") and "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "costs $5 or $10 &lt;b&gt;bold&lt;/b&gt;" in page
    assert 'href="javascript:' not in page
    assert page.count("data:image/png;base64,") == 3  # volume, responses, workload
    assert "Monthly report · 2026-10" in page and "reply gap" in page
    # "$" is text in the PDF too (no mathtext).
    _pages, words = _pdf_text(render_pdf(spec))
    assert "costs $5 or $10" in words


def test_month_argument_and_bad_inputs(sessions: sessionmaker[Session],
                                       dataset: Dataset) -> None:
    now = datetime(2026, 1, 15, tzinfo=UTC)
    assert monthly.parse_month(None, now, "UTC") == date(2025, 12, 1)
    assert monthly.parse_month("2026-01", now, "UTC") == date(2026, 1, 1)
    # 1 Feb 00:30 in Paris is still 31 Jan in UTC: the workspace's zone decides.
    assert monthly.parse_month("2026-02", datetime(2026, 1, 31, 23, 30, tzinfo=UTC),
                                      "Europe/Paris") == date(2026, 2, 1)
    for value, key in [("2026-13", "monthly.bad_month"), ("2026-00", "monthly.bad_month"),
                       ("26-11", "monthly.bad_month"), ("2026-1", "monthly.bad_month"),
                       ("november", "monthly.bad_month"), ("1969-12", "monthly.bad_month"),
                       ("2026-02", "monthly.future_month"), ("2999-01", "monthly.future_month")]:
        with pytest.raises(ServiceError) as caught:
            monthly.parse_month(value, now, "UTC")
        assert caught.value.key == key, value
    with pytest.raises(ServiceError):
        _report(sessions, dataset, month="2027-01")


def test_empty_and_running_months(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    report, spec = _report(sessions, dataset, month="2026-08")
    assert report.empty and report.influencers == [] and report.topics == []
    pages, words = _pdf_text(render_pdf(spec))
    assert pages >= 2 and "No mention was published in 2026-08." in words
    assert "No mention was published in 2026-08." in render_html(spec)
    # The month now running stops at now.
    running, spec = _report(sessions, dataset, month="2026-12")
    assert not running.complete and running.end == NOW and len(running.days) == 5
    assert "Month in progress" in _pdf_text(render_pdf(spec))[1]


def test_sla_uses_each_watchs_targets(sessions: sessionmaker[Session],
                                      dataset: Dataset) -> None:
    with transaction(sessions) as session:
        session.get_one(Watch, dataset.watches["acme"]).sla_high_minutes = 60  # m12 took 240
    report, _spec = _report(sessions, dataset)
    assert (report.sla.answered, report.sla.on_time) == (4, 3)


def test_share_of_voice_of_each_group(sessions: sessionmaker[Session], dataset: Dataset) -> None:
    """A workspace with a watch group gets the month's share of voice, from the share-of-voice
    service, against a direct count of the month's mentions per watch; the renderers print
    it. Without a group the section is left out (see test_the_numbers_of_a_month)."""
    competitors.do_set_watch_kind(sessions, dataset.workspace_id, CLI, watch_name="beta",
                                  kind="competitor")
    competitors.do_create_group(sessions, dataset.workspace_id, CLI, name="market",
                                watch_names=["acme", "beta"], conquest=True)
    report, spec = _report(sessions, dataset)
    with sessions() as session:
        counted = {name: session.scalar(select(func.count()).select_from(Mention).where(
            Mention.watch_id == watch_id, Mention.published_at >= report.start,
            Mention.published_at < report.end)) for name, watch_id in dataset.watches.items()}
    assert report.share_of_voice is not None
    [group] = report.share_of_voice
    assert group.group == "market" and group.opportunities == 0
    shares = {m.watch: (m.kind, m.mentions, m.share) for m in group.members}
    total = counted["acme"] + counted["beta"]
    assert group.total == total and total > 0
    assert shares == {"acme": ("brand", counted["acme"], counted["acme"] / total),
                      "beta": ("competitor", counted["beta"], counted["beta"] / total)}
    page = render_html(spec)
    assert "<h2>Share of voice</h2>" in page
    assert f"market ({total} mention(s)): acme {round(100 * counted['acme'] / total)}%" in page
    assert "Conquest opportunities found: 0" in page
    assert f"beta {round(100 * counted['beta'] / total)}%" in _pdf_text(render_pdf(spec))[1]


def _link(session: Session, dataset: Dataset, mention: str, watch: str, *,
          alerted: bool) -> None:
    row = session.get_one(Mention, dataset.mentions[mention])
    session.add(MentionWatch(workspace_id=dataset.workspace_id, mention_id=row.id,
                             watch_id=dataset.watches[watch], network=row.network,
                             published_at=row.published_at, priority=row.priority,
                             alerted=alerted))


def test_sla_kept_follows_the_sla_rule(sessions: sessionmaker[Session],
                                       dataset: Dataset) -> None:
    """SLA kept counts the mentions bot.services.sla gives an SLA, on the target it gives:
    a competitor's watch gives none (its own targets are never read), a brand watch that
    also holds the post gives its own, the strictest of those that alerted wins, and a
    backfilled mention has none."""
    m = dataset.mentions
    with transaction(sessions) as session:
        acme = session.get_one(Watch, dataset.watches["acme"])
        acme.kind = WATCH_COMPETITOR
        acme.sla_urgent_minutes = acme.sla_high_minutes = acme.sla_normal_minutes = 1
    report, _spec = _report(sessions, dataset)
    # The four answered mentions are acme's alone: none has an SLA.
    assert (report.sla.answered, report.sla.on_time) == (0, 0)
    with transaction(sessions) as session:
        beta = session.get_one(Watch, dataset.watches["beta"])
        beta.sla_urgent_minutes = 20
        # m1 (urgent, answered in 30 min) and m6 (normal, 90 min) are in beta too: beta's
        # targets (20 min, 3000 min) decide, not acme's minute.
        _link(session, dataset, "m1", "beta", alerted=True)
        _link(session, dataset, "m6", "beta", alerted=False)
        # m11 (high, 10 min) in beta and in other (brand, high 240 min): only other alerted,
        # so its target decides even though beta's would be stricter.
        session.get_one(Watch, dataset.watches["other"]).sla_high_minutes = 240
        beta.sla_high_minutes = 5
        _link(session, dataset, "m11", "beta", alerted=False)
        _link(session, dataset, "m11", "other", alerted=True)
    report, _spec = _report(sessions, dataset)
    assert (report.sla.answered, report.sla.on_time) == (3, 2)
    with transaction(sessions) as session:
        session.add(QuietMention(mention_id=m["m6"]))
    report, _spec = _report(sessions, dataset)
    assert (report.sla.answered, report.sla.on_time) == (2, 1)


def test_sla_kept_counts_from_when_vigie_received_the_post(sessions: sessionmaker[Session],
                                                          dataset: Dataset) -> None:
    """A post Vigie found 3 hours after it was published (m12: high priority, answered
    240 min after it was found, on a 240 min target) was answered on time: the hours
    before the team could see it are not the team's."""
    before, _spec = _report(sessions, dataset)
    with transaction(sessions) as session:
        late = session.get_one(Mention, dataset.mentions["m12"])
        late.published_at = late.created_at - timedelta(hours=3)
    report, _spec = _report(sessions, dataset)
    assert (report.sla.answered, report.sla.on_time) == (before.sla.answered,
                                                         before.sla.on_time)


def test_a_competitors_mentions_are_not_the_brands_volume(sessions: sessionmaker[Session],
                                                          dataset: Dataset) -> None:
    """With beta a competitor's watch, the month's volume, sentiment, networks, topics and
    influencers are those of the brand's watches (acme, other) alone, counted here from the
    rows; beta's posts appear in share of voice only."""
    competitors.do_set_watch_kind(sessions, dataset.workspace_id, CLI, watch_name="beta",
                                  kind="competitor")
    with transaction(sessions) as session:
        session.get_one(Mention, dataset.mentions["m13"]).topic_mask = 0b1  # beta's, billing
        session.get_one(Mention, dataset.mentions["m1"]).topic_mask = 0b1000  # outage
    report, spec = _report(sessions, dataset)
    with sessions() as session:
        brand = [dataset.watches["acme"], dataset.watches["other"]]
        rows = session.execute(select(Mention.sentiment_label, Mention.network, Author.handle)
                               .outerjoin(Author, Author.id == Mention.author_id)
                               .where(Mention.watch_id.in_(brand),
                                      Mention.published_at >= report.start,
                                      Mention.published_at < report.end)).all()
        beta = session.scalar(select(func.count()).select_from(Mention).where(
            Mention.watch_id == dataset.watches["beta"], Mention.published_at >= report.start,
            Mention.published_at < report.end))
    assert beta and report.total == len(rows) == 16 - beta
    assert report.by_sentiment == {key: sum(1 for row in rows if row[0] == key)
                                   for key in ("negative", "neutral", "positive", "unknown")}
    assert dict(report.by_network) == {network: sum(1 for row in rows if row[1] == network)
                                       for network in {row[1] for row in rows}}
    assert report.topics == [("outage", 1)]
    assert "@carl" not in [i.handle for i in report.influencers]  # carl posted on beta only
    assert {i.handle for i in report.influencers} == {row[2] for row in rows if row[2]}
    assert f"{16 - beta} mention(s)" in _pdf_text(render_pdf(spec))[1]


def test_the_sent_pdf_names_team_members_as_slack_shows_them(
        sessions: sessionmaker[Session], dataset: Dataset, slack_standin: SlackStandIn,
        slack_client: WebClient) -> None:
    """The worker drawing the queued PDF writes the team's members by the name Slack shows
    (users.info, asked once each: display name, else full name), in the workload, its
    chart and the approvals; one Slack cannot answer about stays their id."""
    slack_standin.set_user("U07AGENT02", name="ana", display_name="Ana Martin")
    slack_standin.set_user("U07APPROVA", name="bea", display_name="", real_name="Béa Roy")
    _built, spec = _report(sessions, dataset)
    assert people_of(spec) == ["U07AGENT01", "U07AGENT02", "U07APPROVA", "U07APPROVB"]
    slack_standin.error_next("users.info", "internal_error")  # U07AGENT01, asked first
    with transaction(sessions) as session:
        monthly.enqueue_report(session, dataset.workspace_id, "C07REPORTS", spec,
                               title="Monthly report", comment="")
    sender = OutboxSender(sessions, SlackNotifier(slack_client), per_channel_interval=0,
                          directories=SlackUserDirectories(slack_client, cache=AccountCache()))
    assert sender.flush().sent == 1
    (uploaded,) = slack_standin.files()
    words = _pdf_text(uploaded.data)[1]
    assert "Ana Martin: Assigned 2" in words and "U07AGENT02" not in words
    assert "Béa Roy 1 approved" in words and "U07APPROVA" not in words
    assert "U07AGENT01: Assigned 2" in words  # Slack could not answer about them
    assert [c.args["user"] for c in slack_standin.calls("users.info")] == people_of(spec)
    named = {**spec, "names": {"U07AGENT02": "Ana Martin"}}
    assert _tick_labels(chart_workload, named, "y") == ["U07AGENT01", "Ana Martin"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_html_post_links_show_where_they_lead(sessions: sessionmaker[Session],
                                              dataset: Dataset, language: str) -> None:
    """A post's words were its link's only label: a post reading "https://acme.com/verify"
    linked to evil.example. Each post link now shows its host, as Slack messages do, and a
    label naming another site is plain text beside the real host's link."""
    _built, spec = _report(sessions, dataset, language=language)
    post = spec["influencers"][0]["last_posts"][0]
    spec["influencers"][0]["last_posts"] = [
        dict(post, url="https://evil.example/p?a=1&b=2", text="https://acme.com/verify <now>"),
        dict(post, url="https://www.news.example/a", text="Acme & co"),
        dict(post, url="https://acme.com/blog", text="acme.com is down"),
        dict(post, url="javascript:alert(1)", text="click")]
    page = render_html(spec)
    assert ('https://acme.com/verify &lt;now&gt; '
            '(<a href="https://evil.example/p?a=1&amp;b=2">evil.example</a>)') in page
    assert '<a href="https://www.news.example/a">Acme &amp; co (news.example)</a>' in page
    assert '<a href="https://acme.com/blog">acme.com is down</a>' in page
    assert 'href="javascript:' not in page and ": click</li>" in page
    anchors = re.findall(r'<a href="([^"]*)">([^<]*)</a>', page)
    for href, label in anchors:
        if "acme" in label:
            assert urlsplit(html.unescape(href)).hostname == "acme.com", (href, label)
