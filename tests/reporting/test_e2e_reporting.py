"""`/cm digest`, `/cm stats` and `/cm export` driven as Slack sends them, through the HTTP
app and the Slack stand-in; then the scheduler's daily run."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from bot.i18n import day_month
from bot.services import competitors
from bot.services.actors import Actor
from bot.services.outbox import KIND_CHART
from bot.services.reporting.digest import POSTED, run_due_digests
from bot.services.reporting.periods import at_local
from handlers.commands import reporting as _reporting  # noqa: F401  (registers /cm digest...)
from storage.db import transaction
from storage.models import Mention, OutboxMessage, OutboxStatus, Watch
from storage.models_competitors import WATCH_COMPETITOR
from storage.models_reporting import DigestSchedule
from tests.e2e.conftest import ADMIN_ID, VigieApp, start_vigie
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.slack_standin import SlackStandIn
from tests.reporting.dataset import CHANNEL, DIGEST_END, build_dataset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CLI = Actor(None, "cli")


@pytest.fixture
def vigie(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie's web app on SQLite and on PostgreSQL."""
    yield from start_vigie(db_url, slack_standin)


def command(vigie: VigieApp, text: str, *, user_id: str = ADMIN_ID,
            channel_id: str = CHANNEL) -> dict:
    """Send `/cm TEXT` in the digest channel (or ``channel_id``); return the answer (sent
    after the ack)."""
    vigie.standin.clear()
    response = vigie.slack.slash_command(text, user_id=user_id, channel_id=channel_id)
    assert response.status_code == 200
    body = response.json() if response.content else {}
    if body.get("text"):
        return dict(body)
    vigie.standin.wait_until(lambda s: len(s.responses()) > 0, timeout=30)
    return vigie.standin.responses()[-1]


def _digest_posts(vigie: VigieApp) -> list[dict]:
    return [call.args for call in vigie.standin.calls("chat.postMessage", ok=True)
            if call.args.get("channel") == CHANNEL]


def test_digest_now_posts_blocks_and_uploads_the_chart(vigie: VigieApp) -> None:
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    answer = command(vigie, "digest now")
    assert "on its way" in answer["text"] and "11 mention" in answer["text"]
    assert answer.get("response_type") == "ephemeral"
    vigie.standin.clear()
    vigie.runtime.outbox.flush(wait=True)
    posts = _digest_posts(vigie)
    assert len(posts) == 1
    blocks = posts[0]["blocks"]
    assert validate_blocks(blocks, "message") == []
    text = str(blocks)
    assert "Daily digest · 25 Oct 2026" in text and "*11* mention(s)" in text
    assert "Answered:* 4 of the 6 that needed an answer, alerted or taken up (67%)" in text
    assert "median 1 h 00, p90 3 h 15" in text
    assert "2 overdue" in text and "https://slack.com/archives/C07DIGEST01/p1761000014000100" \
        in text
    files = vigie.standin.files()
    assert len(files) == 1 and files[0].filename == "vigie-digest-2026-10-25.png"
    assert files[0].data is not None and files[0].data.startswith(PNG_SIGNATURE)
    assert CHANNEL in files[0].channels


def test_digest_chart_joins_a_public_channel_the_bot_is_not_in(vigie: VigieApp) -> None:
    """The digest's channel is public and the bot was never invited: the digest posts
    (chat:write.public), Slack refuses the chart there (not_in_channel, files need
    membership), so Vigie joins the channel (channels:join) and shares it again."""
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    vigie.standin.set_channel(CHANNEL, is_member=False)
    command(vigie, "digest now")
    vigie.standin.clear()
    vigie.runtime.outbox.flush(wait=True)

    assert len(_digest_posts(vigie)) == 1
    assert [c.args["channel"] for c in vigie.standin.calls("conversations.join", ok=True)] \
        == [CHANNEL]
    (chart,) = vigie.standin.files()
    assert chart.filename == "vigie-digest-2026-10-25.png" and chart.channels == [CHANNEL]
    with vigie.runtime.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_CHART)).all()
    assert [r.status for r in rows] == [OutboxStatus.SENT.value]


def test_digest_chart_refused_when_the_bot_may_not_join_says_what_to_do(
        vigie: VigieApp) -> None:
    """An install made before Vigie asked for channels:join: the join is refused
    (missing_scope), the chart fails for good as before, and the admins' DM says why and
    what to do: invite the bot, or reinstall to grant channels:join."""
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    vigie.standin.set_channel(CHANNEL, is_member=False)
    vigie.standin.set_scopes(vigie.standin.scopes - {"channels:join"})
    command(vigie, "digest now")
    vigie.standin.clear()
    vigie.runtime.outbox.flush(wait=True)
    vigie.runtime.outbox.flush(wait=True)

    assert len(_digest_posts(vigie)) == 1
    assert vigie.standin.files() == []
    assert [c.response.get("error") for c in vigie.standin.calls("conversations.join")] \
        == ["missing_scope"]
    with vigie.runtime.sessions() as session:
        (row,) = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_CHART)).all()
        assert row.status == OutboxStatus.FAILED.value
        error = row.last_error or ""
        assert "not_in_channel" in error and "missing_scope" in error
    (dm,) = vigie.standin.messages_in(ADMIN_ID)
    assert f"cannot share its charts in <#{CHANNEL}>" in dm["text"]
    assert "(missing_scope)" in dm["text"] and "/invite @Vigie" in dm["text"]
    assert "`channels:join`" in dm["text"]


def test_digest_now_posts_in_the_channels_language_not_the_requesters(
        vigie: VigieApp) -> None:
    """`/cm digest now` from someone reading Vigie in French, in an English workspace: the
    answer only they see is French; the digest everyone in the channel reads is in the
    channel's language (the workspace's), as the daily run posts it."""
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    assert "en français" in command(vigie, "lang fr")["text"]
    answer = command(vigie, "digest now")
    assert "11 mention" in answer["text"] or "11 mention" in answer["text"]
    assert "on its way" not in answer["text"]
    vigie.standin.clear()
    vigie.runtime.outbox.flush(wait=True)
    (post,) = _digest_posts(vigie)
    assert "Daily digest · 25 Oct 2026" in str(post["blocks"])
    (chart,) = vigie.standin.files()
    assert chart.filename == "vigie-digest-2026-10-25.png"


def test_digest_now_in_a_channel_no_watch_alerts_in_is_refused(vigie: VigieApp) -> None:
    """A digest where no watch alerts would count every mention of the workspace (private
    channels' watches included) in a channel guests or a Slack Connect partner may read:
    refused, naming where it can go, until an admin sets a digest there."""
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    elsewhere = "C07RANDOM01"

    for user in ("U07CMALICE", ADMIN_ID):
        answer = command(vigie, "digest now", user_id=user, channel_id=elsewhere)
        assert f"No digest goes to <#{elsewhere}>" in answer["text"], answer["text"]
        assert f"<#{CHANNEL}>" in answer["text"]
        vigie.runtime.outbox.flush(wait=True)
        assert not [c for c in vigie.standin.calls("chat.postMessage")
                    if c.args.get("channel") == elsewhere]
    command(vigie, "digest set 08:30", channel_id=elsewhere)
    assert "on its way" in command(vigie, "digest now", user_id="U07CMALICE",
                                   channel_id=elsewhere)["text"]


def test_digest_set_then_the_scheduler_posts_once(vigie: VigieApp) -> None:
    build_dataset(vigie.runtime.sessions)
    answer = command(vigie, "digest set 08:30 Europe/Paris")
    assert "Daily digest in <#C07DIGEST01> at 08:30 (Europe/Paris)" in answer["text"]
    paris = ZoneInfo("Europe/Paris")
    now = datetime.now(UTC)
    due = at_local(now.astimezone(paris).date(), time(8, 30), paris)
    if due <= now:
        due = at_local(now.astimezone(paris).date() + timedelta(days=1), time(8, 30), paris)
    sessions = vigie.runtime.sessions
    before = run_due_digests(sessions, now=due - timedelta(minutes=1), default_timezone="UTC")
    assert CHANNEL not in {o.channel_id for o in before}
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        outcomes = run_due_digests(sessions, now=due, default_timezone="UTC")
        results.append([o.status for o in outcomes if o.channel_id == CHANNEL])

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for result in results for status in result).count(POSTED) == 1
    again = run_due_digests(sessions, now=due + timedelta(minutes=1), default_timezone="UTC")
    assert CHANNEL not in {o.channel_id for o in again}
    vigie.standin.clear()
    vigie.runtime.outbox.flush(wait=True)
    posts = _digest_posts(vigie)
    assert len(posts) == 1
    assert validate_blocks(posts[0]["blocks"], "message") == []
    vigie.runtime.outbox.flush(wait=True)
    assert len(_digest_posts(vigie)) == 1


def test_a_later_time_on_a_day_whose_digest_ran_is_announced_for_tomorrow(
        vigie: VigieApp) -> None:
    # One digest a local date: the reply said "today at 23:00", the digest came tomorrow.
    build_dataset(vigie.runtime.sessions)
    now = datetime.now(UTC)
    # A zone where it is about noon now (Etc/GMT-5 is UTC+5), so the test runs any hour.
    zone_name = f"Etc/GMT{now.hour - 12:+d}"
    zone = ZoneInfo(zone_name)
    command(vigie, f"digest set 00:00 {zone_name}")
    sessions = vigie.runtime.sessions
    with transaction(sessions) as session:  # set long ago
        session.execute(update(DigestSchedule).values(updated_at=now - timedelta(days=3)))
    posted = run_due_digests(sessions, now=now, default_timezone="UTC", chart=False)
    assert [o.status for o in posted if o.channel_id == CHANNEL] == [POSTED]
    tomorrow = at_local(now.astimezone(zone).date() + timedelta(days=1), time(23), zone)
    answer = command(vigie, "digest set 23:00")["text"]
    assert (f"next on {day_month(tomorrow.astimezone(zone), 'en', clock=True)}"
            " (today's digest already ran)." in answer), answer
    command(vigie, "lang fr")
    answer = command(vigie, "digest status")["text"]
    assert (f"prochain le {day_month(tomorrow.astimezone(zone), 'fr', clock=True)}"
            " (celui d'aujourd'hui a déjà eu lieu)." in answer), answer


def test_stats_answer_privately_with_the_chart_in_a_dm(vigie: VigieApp) -> None:
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    answer = command(vigie, "stats 7d")
    # Only the requester sees it: the workload's <@...> names ping nobody, nothing is shared.
    assert answer["response_type"] == "ephemeral"
    assert validate_blocks(answer["blocks"], "message") == []
    text = str(answer["blocks"])
    assert "Statistics · last 7 days" in text and "*15* mention(s)" in text
    assert "<@U07AGENT01>: 2 · 2 · 0" in text and "<@U07APPROVA>: 1 approved, 1 rejected" in text
    assert "08:00 (4), 09:00 (2), 00:00 (1)" in text
    vigie.runtime.outbox.flush(wait=True)
    files = vigie.standin.files()
    assert [f.filename for f in files] == ["vigie-stats-7d.png"]
    assert _upload_channels(vigie) == [_dm_of(vigie)]
    assert files[0].data is not None and files[0].data.startswith(PNG_SIGNATURE)


def _upload_channels(vigie: VigieApp) -> list[str]:
    return [c.args["channel_id"] for c in vigie.standin.calls("files.completeUploadExternal")]


def _dm_of(vigie: VigieApp, user_id: str = ADMIN_ID) -> str:
    """The DM Vigie opened with ``user_id`` (who typed the command)."""
    opened = vigie.standin.calls("conversations.open", ok=True)
    assert opened and opened[-1].args["users"] == user_id
    return str(opened[-1].response["channel"]["id"])


def test_export_sends_the_csv_to_the_requesters_dm(vigie: VigieApp) -> None:
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    answer = command(vigie, "export 30d watch:acme")
    assert "CSV of 10 mention(s) will arrive in your DM with Vigie" in answer["text"]
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    vigie.runtime.outbox.flush(wait=True)
    dm = _dm_of(vigie)
    assert dm.startswith("D") and _upload_channels(vigie) == [dm]
    files = vigie.standin.files()
    assert [f.filename for f in files] == ["vigie-mentions-acme-30d-2026-10-25.csv"]
    assert files[0].data is not None
    lines = files[0].data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,created_at,published_at,network,watch")


def test_export_of_a_search_sends_only_what_it_finds_to_the_requesters_dm(
        vigie: VigieApp) -> None:
    """Words search as in `/cm mentions` (the query language, index and confirmation)."""
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    answer = command(vigie, "export 7d m11 OR m3 OR M4 -beta")
    assert "CSV of 3 mention(s) will arrive in your DM with Vigie" in answer["text"]
    vigie.runtime.outbox.flush(wait=True)
    assert _upload_channels(vigie) == [_dm_of(vigie)]
    (sent,) = vigie.standin.files()
    assert sent.filename == "vigie-mentions-all-search-7d-2026-10-25.csv"
    assert sent.data is not None
    rows = list(csv.DictReader(io.StringIO(sent.data.decode("utf-8-sig"))))
    assert sorted(r["text"] for r in rows) == ["text of m11", "text of m3", "text of m4"]
    watched = command(vigie, 'export 7d watch:acme "text of" m11')
    assert "CSV of 1 mention(s)" in watched["text"] and "watch:" not in watched["text"]


def test_an_export_of_a_watchs_name_says_how_to_ask_for_the_watch(vigie: VigieApp) -> None:
    """A bare word searches the text, as in `/cm mentions`; when it is a watch's name (which
    it used to mean) the answer says to write `watch:NAME` for the watch."""
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    named = command(vigie, "export 7d ACME")
    assert "the word `acme`" in named["text"]
    assert "for the mentions of the watch acme, write `watch:acme`" in named["text"]
    other = command(vigie, "export 7d m11")
    assert "CSV of 1 mention(s)" in other["text"] and "watch:" not in other["text"]


def _bulk_mentions(vigie: VigieApp, rows: list[tuple[str, str]]) -> None:
    """One neutral mention per (watch, network) of ``rows``, published a day before the
    digest's end."""
    with transaction(vigie.runtime.sessions) as session:
        watches = {name: id_ for name, id_ in session.execute(select(Watch.name, Watch.id))}
        workspace_id = session.scalar(select(Watch.workspace_id))
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watches[watch], "network": network,
             "external_id": f"bulk{i}", "url": f"https://{network}.example/bulk{i}",
             "text": f"bulk {i}", "published_at": DIGEST_END - timedelta(days=1),
             "sentiment_label": "neutral", "priority": 10, "status": "new"}
            for i, (watch, network) in enumerate(rows)])


def test_export_counts_read_the_readers_way(vigie: VigieApp) -> None:
    """The answer and the file's comment give the CSV's rows as "1 210" to a French reader
    (narrow no-break space), "1210" in English."""
    build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    _bulk_mentions(vigie, [("acme", "rss")] * 1_200)
    answer = command(vigie, "export 30d watch:acme")
    assert "CSV of 1210 mention(s) will arrive in your DM" in answer["text"]
    vigie.runtime.outbox.flush(wait=True)
    assert vigie.standin.files()[-1].initial_comment.startswith("1210 mention(s)")
    assert "en français" in command(vigie, "lang fr")["text"]
    answer = command(vigie, "export 30d watch:acme")
    assert "Le CSV de 1\u202f210 mention(s) arrive" in answer["text"]
    vigie.runtime.outbox.flush(wait=True)
    assert vigie.standin.files()[-1].initial_comment.startswith("1\u202f210 mention(s)")


def test_share_of_voice_export_counts_read_the_readers_way(vigie: VigieApp) -> None:
    """`/cm export sov`'s answer and comment give a file of 1,000 rows or more as "1 0xx
    ligne(s)" to a French reader, "10xx row(s)" in English."""
    data = build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    rivals = [f"rival{n:02d}" for n in range(19)]
    with transaction(vigie.runtime.sessions) as session:
        session.add_all(Watch(workspace_id=data.workspace_id, name=name, channel_id=CHANNEL,
                              kind=WATCH_COMPETITOR) for name in rivals)
    competitors.do_create_group(vigie.runtime.sessions, data.workspace_id, CLI, name="market",
                                watch_names=["acme", *rivals])
    # 20 watches, each in 49 networks: 20 rows for every network together, 20 per network.
    _bulk_mentions(vigie, [(watch, f"net{n:02d}") for watch in ["acme", *rivals]
                           for n in range(49)])
    answer = command(vigie, "export sov 30d")
    vigie.runtime.outbox.flush(wait=True)
    sent = vigie.standin.files()[-1]
    assert sent.data is not None
    rows = len(sent.data.decode("utf-8-sig").splitlines()) - 1
    assert rows >= 1_000
    assert f"The share-of-voice CSV ({rows} row(s))" in answer["text"]
    assert sent.initial_comment == (f"Share of voice: {rows} row(s) for 1 group(s) (every "
                                    "network, then each one).")
    assert "en français" in command(vigie, "lang fr")["text"]
    answer = command(vigie, "export sov 30d")
    french = f"{rows // 1000}\u202f{rows % 1000:03d}"
    assert f"Le CSV de part de voix ({french} ligne(s))" in answer["text"]
    vigie.runtime.outbox.flush(wait=True)
    assert vigie.standin.files()[-1].initial_comment == (
        f"Part de voix : {french} ligne(s) pour 1 groupe(s) (tous réseaux, puis chacun).")


def test_bad_inputs_get_specific_errors(vigie: VigieApp) -> None:
    build_dataset(vigie.runtime.sessions)
    expectations = {
        "digest set 25:00": "`25:00` is not a time",
        "digest set 8h30": "`8h30` is not a time",
        "digest set 08:30 Mars/Olympus": "`Mars/Olympus` is not a time zone",
        "digest frobnicate": "Usage: `/cm digest now`",
        "stats 12d": "`12d` is not a period for statistics: use one of 7d, 30d, 90d",
        "stats 7d extra": "Usage: `/cm stats",
        "export 90d": "`90d` is not an export period here",
        "export 7d watch:nope": "There is no watch called `nope`",
        "export 7d status:new": "Usage: `/cm export",
        "export 7d text AND": "That search does not parse",
        "export 7d colour:red": "`colour:red` is not a filter",
    }
    for text, expected in expectations.items():
        answer = command(vigie, text)
        assert expected in answer["text"], (text, answer["text"])
        assert answer.get("response_type", "ephemeral") == "ephemeral"
    denied = command(vigie, "digest off", user_id="U07CMALICE")
    assert "You need the *admin* role" in denied["text"]
