"""Spike events on real databases: one alert per event and channel, whatever the number of
watches it covers; follow-ups in the alert's thread while it lasts; a note when it is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.outbox import KIND_POST, KIND_THREAD
from bot.services.privacy import do_forget
from bot.services.spikes import run_spike_checks
from bot.slack.render import render_payload
from storage.db import transaction
from storage.models import Author, Mention, OutboxMessage, Watch
from storage.models_spikes import Spike, SpikeEvent
from storage.models_watches import MentionWatch
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for

H0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)  # a Friday
CHANNEL = "C0SOCIAL01"
HOUR = timedelta(hours=1)


def setup(sessions: sessionmaker[Session], workspace_id: int,
          names: tuple[str, ...] = ("acme",)) -> list[int]:
    """Watches in one channel holding the same posts: two calm ones an hour for 14 days."""
    with transaction(sessions) as session:
        watches = [Watch(workspace_id=workspace_id, name=name, channel_id=CHANNEL)
                   for name in names]
        author = Author(workspace_id=workspace_id, network="x", handle="loud", followers=9_000)
        session.add_all([*watches, author])
        session.flush()
        start = H0 - timedelta(days=14)
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watches[0].id, "author_id": author.id,
             "network": "x", "external_id": f"calm{i}", "url": f"https://x.com/loud/{i}",
             "priority": 10, "status": "new", "text": f"acme kettle update {i}",
             "published_at": start + timedelta(minutes=30 * i), "sentiment_label": "neutral"}
            for i in range(14 * 24 * 2)])
        ids = [w.id for w in watches]
        link(session, workspace_id, ids, "calm")
        return ids


def link(session: Session, workspace_id: int, watch_ids: list[int], tag: str) -> None:
    """The posts whose id starts with ``tag`` belong to the other watches too."""
    rows = session.execute(select(Mention.id, Mention.published_at, Mention.sentiment_label)
                           .where(Mention.external_id.startswith(tag))).all()
    for watch_id in watch_ids[1:]:
        session.execute(insert(MentionWatch), [
            {"workspace_id": workspace_id, "mention_id": mention_id, "watch_id": watch_id,
             "is_first": False, "network": "x", "sentiment": sentiment,
             "published_at": published} for mention_id, published, sentiment in rows])


def burst(sessions: sessionmaker[Session], workspace_id: int, watch_ids: list[int],
          count: int, start: datetime, tag: str) -> None:
    """``count`` angry posts from ``start`` (one a second), held by every watch given."""
    with transaction(sessions) as session:
        author = session.scalars(select(Author.id)).first()
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watch_ids[0], "author_id": author,
             "network": "x", "external_id": f"{tag}{i}", "url": f"https://x.com/loud/{tag}{i}",
             "priority": 10, "status": "new", "text": f"acme kettle recall, it caught fire {i}",
             "published_at": start + timedelta(seconds=i), "sentiment_label": "negative"}
            for i in range(count)])
        link(session, workspace_id, watch_ids, tag)


def top_level(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_POST).order_by(OutboxMessage.id)))


def in_threads(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_THREAD).order_by(OutboxMessage.id)))


def test_one_alert_per_event_names_the_watches_it_covers(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    ids = setup(sessions, workspace_id, ("acme", "acme-kettle", "outage-topic"))
    burst(sessions, workspace_id, ids, 40, H0, "a")
    found = run_spike_checks(sessions, H0 + timedelta(minutes=15))
    assert sorted(report.watch for report in found) == ["acme", "acme-kettle", "outage-topic"]
    alerts = top_level(sessions)
    assert len(alerts) == 1 and alerts[0].channel == CHANNEL
    text, _ = render_payload(alerts[0].payload)
    assert text.startswith("Spike on watches acme, acme-kettle, outage-topic:")
    with sessions() as session:
        events = session.scalars(select(SpikeEvent)).all()
        assert len(events) == 1
        assert {s.event_id for s in session.scalars(select(Spike))} == {events[0].id}


def test_a_lasting_spike_goes_on_in_the_thread_and_says_when_it_is_over(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """Six hours of crisis: one alert, each complete hour in its thread, then "over"."""
    ids = setup(sessions, workspace_id)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    for hour in range(6):
        burst(sessions, workspace_id, ids, 300 + 20 * hour, H0 + hour * HOUR, f"h{hour}-")
    for minutes in range(15, 11 * 60, 10):  # the worker checks every 10 minutes
        run_spike_checks(sessions, H0 + timedelta(minutes=minutes))
        sender.flush()
        clock.sleep(600)
    posted = slack_standin.calls("chat.postMessage", ok=True)
    top = [call for call in posted if not call.args.get("thread_ts")]
    assert len(top) == 1 and len(top_level(sessions)) == 1
    thread = [call for call in posted if call.args.get("thread_ts")]
    alert_ts = top_level(sessions)[0].result_ts
    assert alert_ts and {call.args["thread_ts"] for call in thread} == {alert_ts}
    texts = [str(call.args["text"]) for call in thread]
    # The first hour (found at 14:15 with 300 posts), then each of the next five, then over.
    assert len(texts) == 7
    assert texts[0].startswith("Still going on 20 Nov, 14:00–15:00 (UTC):")
    assert "*acme*: 300 mentions vs 2.0 usual" in texts[0]
    assert "*acme*: 400 mentions" in texts[5]
    over = str(thread[-1].args["blocks"])
    assert texts[-1].startswith("Spike over on acme: back to usual on 20 Nov, 21:00–22:00")
    assert "*acme*: 0 mentions vs 2.0 usual; 0% negative vs 1% usual" in over
    assert "Peak: 400 mentions on 20 Nov, 19:00–20:00 (UTC) on *acme*." in over
    assert "Lasted 6 h, on 20 Nov, 14:00–20:00 (UTC)." in over
    with sessions() as session:
        event = session.scalars(select(SpikeEvent)).one()
        assert event.ended_at is not None
    # A new crisis the next day is a new event, with its own alert.
    burst(sessions, workspace_id, ids, 300, H0 + timedelta(days=1), "next-")
    run_spike_checks(sessions, H0 + timedelta(days=1, minutes=15))
    assert len(top_level(sessions)) == 2


def test_the_thread_waits_for_its_alert(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """While the alert is not posted, its ts is unknown: the update waits, never top level."""
    ids = setup(sessions, workspace_id)
    burst(sessions, workspace_id, ids, 300, H0, "a")
    burst(sessions, workspace_id, ids, 300, H0 + HOUR, "b")
    run_spike_checks(sessions, H0 + timedelta(minutes=15))
    run_spike_checks(sessions, H0 + timedelta(minutes=65))
    assert len(top_level(sessions)) == 1 and in_threads(sessions) == []
    with transaction(sessions) as session:
        alert = session.scalars(select(OutboxMessage)).one()
        alert.status, alert.result_ts = "sent", "1700000000.000100"
    run_spike_checks(sessions, H0 + timedelta(minutes=75))
    notes = in_threads(sessions)
    assert len(notes) == 1 and notes[0].payload["thread_ts"] == "1700000000.000100"


def test_an_hour_found_a_spike_once_complete_goes_on_the_event_it_would_have_ended(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """Reported: quiet since 14:00, the 16:00 hour was no spike at 16:50 but was once
    complete; the check at 17:00 said "over" (16:00 back to usual), then found 16:00 a
    spike and posted a new alert. The spike is found first: the event goes on."""
    ids = setup(sessions, workspace_id)
    sender = sender_for(sessions, slack_standin, Clock())
    burst(sessions, workspace_id, ids, 300, H0, "a")
    for minutes in range(15, 3 * 60, 10):  # 14:15 to 16:55, every 10 minutes
        run_spike_checks(sessions, H0 + timedelta(minutes=minutes))
        sender.flush()
    # The late posts of 16:00 are stored after the last check of the hour.
    burst(sessions, workspace_id, ids, 300, H0 + 2 * HOUR + timedelta(minutes=55), "late-")
    found = run_spike_checks(sessions, H0 + timedelta(hours=3, minutes=5))
    sender.flush()
    assert [report.decision.start for report in found] == [H0 + 2 * HOUR]
    posted = slack_standin.calls("chat.postMessage", ok=True)
    assert len([call for call in posted if not call.args.get("thread_ts")]) == 1
    texts = [str(call.args["text"]) for call in posted if call.args.get("thread_ts")]
    assert not any(text.startswith("Spike over") for text in texts), texts
    assert texts[-1].startswith("Still going on 20 Nov, 16:00–17:00 (UTC):"), texts
    with sessions() as session:
        event = session.scalars(select(SpikeEvent)).one()
        assert event.ended_at is None
        assert event.last_hour.replace(tzinfo=UTC) == H0 + 2 * HOUR


def test_a_competitor_watch_raises_no_spike_alert(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Bad buzz about a competitor is no crisis of the brand's: in a channel with a brand
    watch and a competitor watch both spiking, the alert names the brand's only; a channel
    with competitor watches only gets none."""
    ids = setup(sessions, workspace_id, ("acme", "rival"))
    with transaction(sessions) as session:
        session.get_one(Watch, ids[1]).kind = "competitor"
        session.add(Watch(workspace_id=workspace_id, name="rival-only", channel_id="C0RIVAL01",
                          kind="competitor"))
    burst(sessions, workspace_id, ids, 300, H0, "a")
    with transaction(sessions) as session:
        alone = session.scalars(select(Watch.id).where(Watch.name == "rival-only")).one()
    burst(sessions, workspace_id, [alone, *ids], 300, H0, "r")
    found = run_spike_checks(sessions, H0 + timedelta(minutes=15))
    assert [report.watch for report in found] == ["acme"]
    alerts = top_level(sessions)
    assert len(alerts) == 1 and alerts[0].channel == CHANNEL
    assert render_payload(alerts[0].payload)[0].startswith("Spike on watch acme:")
    with sessions() as session:
        assert {s.watch_id for s in session.scalars(select(Spike))} == {ids[0]}


def test_an_event_no_active_watch_follows_is_closed_with_a_note(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """The watch was paused during the crisis: its channel is not checked any more, so
    the event was open for ever. It is closed with a note in its thread that says why,
    not "back to usual" (nobody counts the hours any more)."""
    ids = setup(sessions, workspace_id)
    sender = sender_for(sessions, slack_standin, Clock())
    burst(sessions, workspace_id, ids, 300, H0, "a")
    run_spike_checks(sessions, H0 + timedelta(minutes=15))
    sender.flush()
    with transaction(sessions) as session:
        session.get_one(Watch, ids[0]).paused = True
    run_spike_checks(sessions, H0 + timedelta(minutes=25))
    sender.flush()
    with sessions() as session:
        assert session.scalars(select(SpikeEvent)).one().ended_at is not None
    alert_ts = top_level(sessions)[0].result_ts
    thread = [call for call in slack_standin.calls("chat.postMessage", ok=True)
              if call.args.get("thread_ts")]
    assert len(thread) == 1 and thread[0].args["thread_ts"] == alert_ts
    assert str(thread[0].args["text"]).startswith("Spike follow-up stopped: no active watch")
    note = str(thread[0].args["blocks"])
    assert "Peak: 300 mentions on 20 Nov, 14:00–15:00 (UTC) on *acme*." in note
    assert "Lasted 1 h, on 20 Nov, 14:00–15:00 (UTC)." in note
    # Resumed later, the watch starts a new event with its own alert.
    with transaction(sessions) as session:
        session.get_one(Watch, ids[0]).paused = False
    burst(sessions, workspace_id, ids, 300, H0 + timedelta(days=1), "next-")
    run_spike_checks(sessions, H0 + timedelta(days=1, minutes=15))
    assert len(top_level(sessions)) == 2


def test_the_alert_shows_the_figures_of_the_latest_hour(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """Each hour posted in the thread also brings the top-level alert to its figures
    (chat.update through the outbox), keeping the first hour's explanation."""
    ids = setup(sessions, workspace_id)
    sender = sender_for(sessions, slack_standin, Clock())
    burst(sessions, workspace_id, ids, 300, H0, "a")
    burst(sessions, workspace_id, ids, 340, H0 + HOUR, "b")
    for minutes in (15, 65, 125):
        run_spike_checks(sessions, H0 + timedelta(minutes=minutes))
        sender.flush()
    alert_ts = top_level(sessions)[0].result_ts
    updates = slack_standin.calls("chat.update", ok=True)
    assert [call.args["ts"] for call in updates] == [alert_ts, alert_ts]
    assert "300 mentions on 20 Nov, 14:00–15:00 (UTC) vs 2.0 usual" in str(
        updates[0].args["text"])
    latest = str(updates[1].args["blocks"])
    assert "340 mentions on 20 Nov, 15:00–16:00 (UTC) vs 2.0 usual" in latest
    assert "the spike began on 20 Nov, 14:00–15:00 (UTC)" in latest
    # Terms counted in the first hour sit under the latest hour's total: say whose they are.
    assert "authors and examples below are that first hour's" in latest
    assert latest.index("that first hour's") < latest.index("Driving terms:")


def _angry_burst(sessions: sessionmaker[Session], workspace_id: int, watch_id: int) -> None:
    """300 negative posts by one author, "angry", in the first hour: the spike's examples
    and loudest author."""
    with transaction(sessions) as session:
        angry = Author(workspace_id=workspace_id, network="x", handle="angry", followers=50)
        session.add(angry)
        session.flush()
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watch_id, "author_id": angry.id,
             "network": "x", "external_id": f"a{i}", "url": f"https://x.com/angry/{i}",
             "priority": 10, "status": "new", "text": f"acme kettle exploded in my hands {i}",
             "published_at": H0 + timedelta(seconds=i), "sentiment_label": "negative"}
            for i in range(300)])


def test_a_refreshed_alert_drops_the_examples_and_authors_forgotten_since(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """An author forgotten after the alert was posted: the hourly refresh of the top-level
    alert no longer shows their posts as examples nor their name among the loudest."""
    ids = setup(sessions, workspace_id)
    _angry_burst(sessions, workspace_id, ids[0])
    sender = sender_for(sessions, slack_standin, Clock())
    run_spike_checks(sessions, H0 + timedelta(minutes=15))
    sender.flush()
    first = str(slack_standin.calls("chat.postMessage", ok=True)[0].args["blocks"])
    assert "angry" in first and "exploded in my hands" in first
    do_forget(sessions, workspace_id, CLI, "angry")
    burst(sessions, workspace_id, ids, 340, H0 + HOUR, "b")
    for minutes in (65, 125):
        run_spike_checks(sessions, H0 + timedelta(minutes=minutes))
        sender.flush()
    updates = slack_standin.calls("chat.update", ok=True)
    assert updates
    for call in updates:
        shown = f"{call.args['blocks']}{call.args['text']}"
        assert "angry" not in shown and "exploded in my hands" not in shown, shown


def test_a_forget_takes_their_examples_and_name_out_of_the_posted_alert_at_once(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """The alert already in Slack showed their posts and name until its next hourly refresh,
    and for ever once the event was over; its stored payload kept them too."""
    ids = setup(sessions, workspace_id)
    _angry_burst(sessions, workspace_id, ids[0])
    burst(sessions, workspace_id, ids, 40, H0 + timedelta(minutes=10), "c")
    sender = sender_for(sessions, slack_standin, Clock())
    run_spike_checks(sessions, H0 + timedelta(minutes=15))
    sender.flush()
    [posted] = slack_standin.calls("chat.postMessage", ok=True)
    assert "angry" in str(posted.args["blocks"]) and "exploded" in str(posted.args["blocks"])
    do_forget(sessions, workspace_id, CLI, "angry")
    sender.flush()
    alert = top_level(sessions)[0]
    shown = slack_standin.message(CHANNEL, str(alert.result_ts))
    assert shown is not None
    assert "angry" not in str(shown) and "exploded in my hands" not in str(shown), shown
    assert "340 mentions" in str(shown)  # the rest of the alert still holds
    assert "angry" not in str(alert.payload) and "exploded" not in str(alert.payload)
