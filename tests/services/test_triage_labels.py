"""Labels for triage learning, written by the workflow's transitions and by the "Not urgent"
/ "Should have alerted" feedback, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services import influencers, triage_labels, workflow
from bot.services.actors import CLI, Actor
from bot.services.brand_accounts import do_add_account
from bot.services.cards import load_card_view
from bot.services.errors import Forbidden, NotFound, ServiceError
from bot.services.ingest import IngestReport, match_and_analyze
from bot.services.members import do_set_role
from bot.services.triage_learning import Example, load_examples
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.slack.render import payload_text, render_payload
from bot.sources.x import parse_search
from storage.db import transaction
from storage.models import AuditEvent, Mention, OutboxMessage, Watch, Workspace
from storage.models_triage import TriageLabel
from storage.models_watches import MentionWatch
from tests.harness.constants import CHANNEL_ID, OTHER_USER_ID, USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_cases import (
    NOW,
    ORDERS_CHANNEL,
    PRAISE,
    USERS,
    ingest,
    reply_to_praise,
    tweet,
    x_batch,
)
from tests.services.test_cases import mention as case_mention
from tests.services.test_multiwatch import _item, _poll
from tests.services.test_outbox import Clock, sender_for
from tests.services.test_stories import NOW as STORY_NOW
from tests.services.test_stories import SOCIAL
from tests.services.test_stories import poll as story_poll
from tests.services.test_stories import x_post as story_post

ALICE = Actor(USER_ID, "button")
BOB = Actor(OTHER_USER_ID, "slash_command")
DECIDED = datetime(2026, 11, 21, 8, tzinfo=UTC)


def mention(sessions: sessionmaker[Session], workspace_id: int, *, priority: int = 62,
            alerted: bool = True, threshold: int = 50, external_id: str = "1") -> int:
    """A stored mention; ``alerted`` ones have their card in the channel, as the outbox
    leaves them."""
    with transaction(sessions) as session:
        watch = session.scalar(select(Watch).where(Watch.workspace_id == workspace_id))
        if watch is None:
            watch = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID,
                          alert_threshold=threshold)
            session.add(watch)
            session.flush()
        row = Mention(workspace_id=workspace_id, watch_id=watch.id, network="x",
                      external_id=external_id, url=f"https://x.com/a/status/{external_id}",
                      text="@acme my card was charged twice", published_at=DECIDED,
                      priority=priority, alerted=alerted, created_at=DECIDED,
                      slack_channel=CHANNEL_ID if alerted else None,
                      slack_ts=f"1761000000.{external_id:0>6}" if alerted else None)
        session.add(row)
        session.flush()
        return row.id


def label(sessions: sessionmaker[Session], mention_id: int) -> TriageLabel | None:
    with sessions() as session:
        return session.scalar(select(TriageLabel).where(TriageLabel.mention_id == mention_id))


def test_workflow_actions_are_labels_and_the_latest_wins(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = mention(sessions, workspace_id, priority=62)
    workflow.do_assign(sessions, workspace_id, ALICE, mention_id, OTHER_USER_ID)
    first = label(sessions, mention_id)
    assert first is not None
    assert (first.positive, first.action, first.source, first.actor, first.surface) == (
        True, "assign", "workflow", USER_ID, "button")
    assert (first.priority, first.threshold, first.alerted) == (62, 50, True)
    assert first.decided_at == DECIDED and first.workspace_id == workspace_id

    workflow.do_simple(sessions, workspace_id, BOB, mention_id, "ignore", reason="bot spam")
    second = label(sessions, mention_id)
    assert second is not None and second.id == first.id  # one row per mention
    assert (second.positive, second.action, second.actor) == (False, "ignore", OTHER_USER_ID)

    workflow.do_simple(sessions, workspace_id, BOB, mention_id, "reopen")  # not a label
    assert label(sessions, mention_id).action == "ignore"  # type: ignore[union-attr]
    workflow.do_save_draft(sessions, workspace_id, ALICE, mention_id, "Sorry, we fix it.")
    assert label(sessions, mention_id).action == "draft"  # type: ignore[union-attr]
    workflow.do_mark_replied(sessions, workspace_id, ALICE, mention_id)
    replied = label(sessions, mention_id)
    assert replied is not None and (replied.positive, replied.action) == (True, "replied")
    with sessions() as session:
        assert session.scalar(select(TriageLabel.id).where(
            TriageLabel.mention_id == mention_id)) == first.id


def test_a_refused_transition_leaves_no_label(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = mention(sessions, workspace_id)
    do_set_role(sessions, workspace_id, Actor(None, "cli"), USER_ID, "viewer")
    with pytest.raises(Forbidden):
        workflow.do_simple(sessions, workspace_id, ALICE, mention_id, "ignore")
    assert label(sessions, mention_id) is None


def test_not_urgent_on_an_alerted_card_outranks_later_workflow_labels(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = mention(sessions, workspace_id, priority=71)
    with sessions() as session:
        view = load_card_view(session, mention_id)
    assert view is not None and view.actions[-1] == "not_urgent"

    outcome = triage_labels.do_feedback(sessions, workspace_id, ALICE, mention_id,
                                        "not_urgent")
    assert outcome.labels == 1 and "could have waited" in outcome.message("en")
    row = label(sessions, mention_id)
    assert row is not None and (row.positive, row.action, row.source) == (
        False, "not_urgent", "feedback")
    with sessions() as session:
        view = load_card_view(session, mention_id)
        assert view is not None and "not_urgent" not in view.actions  # judged: no button
        kinds = list(session.scalars(select(OutboxMessage.kind).where(
            OutboxMessage.mention_id == mention_id).order_by(OutboxMessage.id)))
        notes = [payload_text(m.payload) for m in session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "thread"))]
        events = list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.mention_id == mention_id)))
    assert kinds == ["update_card", "thread"]
    assert notes == [f"<@{USER_ID}> marked this *not urgent*: it could have waited for the "
                     "digest."]
    assert events == ["mention.not_urgent"]

    # Answering it anyway says it needed an answer, not that it needed one now.
    workflow.do_mark_replied(sessions, workspace_id, BOB, mention_id)
    row = label(sessions, mention_id)
    assert row is not None and (row.action, row.source) == ("not_urgent", "feedback")


@pytest.mark.parametrize(("locale", "actor", "sent"), [
    ("en", ALICE, f"<@{USER_ID}> marked this *not urgent*: it could have waited for the digest."),
    ("fr", ALICE, f"<@{USER_ID}> a marqué ceci *pas urgent* : cela pouvait attendre le résumé."),
    ("en", Actor(None, "cli"),
     "The terminal operator marked this *not urgent*: it could have waited for the digest."),
    ("fr", Actor(None, "cli"),
     "L'opérateur du terminal a marqué ceci *pas urgent* : cela pouvait attendre le résumé."),
])
def test_the_feedback_note_is_a_spec_that_sends_the_same_text(
        sessions: sessionmaker[Session], workspace_id: int, locale: str, actor: Actor,
        sent: str) -> None:
    """The thread note is queued as a note spec (rendered when sent, as every other service's
    messages) and sends the text it sent when it was queued rendered; a row queued rendered
    by an older version still sends as stored."""
    with transaction(sessions) as session:
        session.get_one(Workspace, workspace_id).locale = locale
    mention_id = mention(sessions, workspace_id, priority=71)
    triage_labels.do_feedback(sessions, workspace_id, actor, mention_id, "not_urgent")
    with sessions() as session:
        payload = session.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.kind == "thread")).one()
    assert set(payload) == {"note"}  # no rendered text stored
    assert render_payload(payload) == (sent, None)
    assert render_payload({"text": sent}) == (sent, None)


def test_should_have_alerted_on_a_mention_that_waited(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    waited = mention(sessions, workspace_id, priority=32, alerted=False)
    outcome = triage_labels.do_feedback(sessions, workspace_id, BOB, waited, "should_alert")
    assert outcome.message("fr").startswith("Noté : #")
    row = label(sessions, waited)
    assert row is not None and (row.positive, row.action, row.alerted, row.priority) == (
        True, "should_alert", False, 32)
    # Open work that waited: its card is posted now in the watch's channel (it needed an
    # answer), with the label's note in its thread; there was no card to update.
    with sessions() as session:
        queued = list(session.execute(select(OutboxMessage.kind, OutboxMessage.channel)
                                      .order_by(OutboxMessage.id)))
        assert session.get_one(Mention, waited).alerted is True
    assert queued == [("card", CHANNEL_ID), ("thread", CHANNEL_ID)]
    assert outcome.message("en").endswith(
        f"Its card is posted in <#{CHANNEL_ID}>, to answer it now.")
    # A later explicit label replaces an earlier one.
    workflow.do_simple(sessions, workspace_id, BOB, waited, "ignore")
    assert label(sessions, waited).action == "should_alert"  # type: ignore[union-attr]


def test_feedback_refusals_are_specific(sessions: sessionmaker[Session],
                                        workspace_id: int) -> None:
    alerted = mention(sessions, workspace_id, external_id="1")
    waited = mention(sessions, workspace_id, alerted=False, external_id="2")
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, waited, "not_urgent")
    assert err.value.key == "triage.not_alerted"
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, alerted, "should_alert")
    assert err.value.key == "triage.already_alerted"
    assert "use *Not urgent*" in err.value.message("en")
    with pytest.raises(NotFound):
        triage_labels.do_feedback(sessions, workspace_id, ALICE, 999_999, "not_urgent")
    do_set_role(sessions, workspace_id, Actor(None, "cli"), USER_ID, "viewer")
    with pytest.raises(Forbidden) as denied:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, alerted, "not_urgent")
    assert "*agent* role" in denied.value.message("en")
    with sessions() as session:
        assert session.scalar(select(TriageLabel.id)) is None


def _watch(sessions: sessionmaker[Session], workspace_id: int, name: str, *,
           threshold: int = 50, kind: str = "brand") -> int:
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name=name, channel_id=CHANNEL_ID,
                      alert_threshold=threshold, kind=kind)
        session.add(watch)
        session.flush()
        return watch.id


def _in_watch(sessions: sessionmaker[Session], mention_id: int, watch_id: int) -> None:
    with transaction(sessions) as session:
        row = session.get(Mention, mention_id)
        assert row is not None
        row.watch_id = watch_id


def test_only_decisions_a_shift_can_change_are_labels(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """A competitor's watch never alerts and a watch at threshold 0 alerts on everything:
    what the team does with their mentions says nothing about a threshold."""
    rival = _watch(sessions, workspace_id, "rival", kind="competitor")
    firehose = _watch(sessions, workspace_id, "firehose", threshold=0)
    waited = mention(sessions, workspace_id, priority=32, alerted=False, external_id="1")
    _in_watch(sessions, waited, rival)
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, waited, "should_alert")
    assert err.value.key == "triage.never_alerts"
    assert "a competitor's watch never alerts" in err.value.message("en")
    assert "la veille d'un concurrent n'alerte jamais" in err.value.message("fr")
    workflow.do_simple(sessions, workspace_id, ALICE, waited, "ignore")
    assert label(sessions, waited) is None

    everything = mention(sessions, workspace_id, priority=12, external_id="2")
    _in_watch(sessions, everything, firehose)
    with sessions() as session:
        row = session.get(Mention, everything)
        assert row is not None
        assert not triage_labels.card_offers_not_urgent(session, row)
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, everything, "not_urgent")
    assert err.value.key == "triage.never_alerts"
    workflow.do_assign(sessions, workspace_id, ALICE, everything, OTHER_USER_ID)
    assert label(sessions, everything) is None


def test_should_have_alerted_on_work_no_longer_open_posts_no_card(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Answered (or ignored) meanwhile, it needs no card: the label alone is recorded."""
    waited = mention(sessions, workspace_id, priority=32, alerted=False)
    with transaction(sessions) as session:
        session.get_one(Mention, waited).status = "replied"
    outcome = triage_labels.do_feedback(sessions, workspace_id, BOB, waited, "should_alert")
    assert outcome.card_channel is None and "card" not in outcome.message("en")
    with sessions() as session:
        assert session.scalar(select(OutboxMessage.id)) is None
    assert label(sessions, waited) is not None


def test_a_competitor_mention_also_in_a_brand_watch_is_judged_by_the_brand_watch(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    waited = mention(sessions, workspace_id, priority=41, alerted=False)
    brand = _watch(sessions, workspace_id, "acme-orders", threshold=60)
    with transaction(sessions) as session:  # the mention's own watch follows a competitor
        session.execute(update(Watch).where(Watch.id != brand).values(kind="competitor"))
    with transaction(sessions) as session:
        session.add(MentionWatch(workspace_id=workspace_id, mention_id=waited, watch_id=brand,
                                 network="x", published_at=DECIDED, priority=41))
    outcome = triage_labels.do_feedback(sessions, workspace_id, ALICE, waited, "should_alert")
    row = label(sessions, waited)
    assert row is not None and (row.watch_id, row.threshold, row.positive) == (brand, 60, True)
    assert outcome.labels == 1
    assert outcome.message("en") == (
        f"Noted: #{waited} should have alerted. The workspace has 1 labelled mention; "
        f"`/cm triage` shows what Vigie learns from them. Its card is posted in "
        f"<#{CHANNEL_ID}>, to answer it now.")
    assert "L'espace a 1 mention étiquetée ;" in outcome.message("fr")


def test_a_mention_judged_by_a_linked_brand_watch_is_labelled_at_that_watch_priority(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The brand watch weighs the post more than its own (competitor) watch: its decision
    was taken at the link's priority, 66, not the mention's 41, which the label stored."""
    waited = mention(sessions, workspace_id, priority=41, alerted=False)
    brand = _watch(sessions, workspace_id, "acme-orders", threshold=60)
    with transaction(sessions) as session:
        session.execute(update(Watch).where(Watch.id != brand).values(kind="competitor"))
        session.execute(update(Watch).where(Watch.id == brand).values(weight=1.6))
    with transaction(sessions) as session:
        session.add(MentionWatch(workspace_id=workspace_id, mention_id=waited, watch_id=brand,
                                 network="x", published_at=DECIDED, priority=66))
    workflow.do_assign(sessions, workspace_id, ALICE, waited, OTHER_USER_ID)
    row = label(sessions, waited)
    assert row is not None and (row.watch_id, row.threshold) == (brand, 60)
    assert (row.priority, row.positive, row.action) == (66, True, "assign")


def test_a_reply_the_brand_posted_outside_vigie_is_no_label(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The brand thanking a praise post hours later on X is not the team asking for an
    alert; a reply the team marks through Vigie still is."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id=CHANNEL_ID,
                 alert_threshold=50)
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    praise = tweet("2001", "11", "@AcmeCare love the new app, great job!", 0)
    thanks = tweet("2002", "99", "@ana_r thanks so much for the love!", 50,
                   conversation="2001", reply_to="2001", reply_to_user="11")
    ingest(sessions, workspace_id, x_batch(praise))
    ingest(sessions, workspace_id, x_batch(thanks), now=NOW + timedelta(hours=18))
    root = case_mention(sessions, "2001")
    assert root.status == "replied" and root.priority < 50
    assert label(sessions, root.id) is None

    complaint = tweet("2003", "22", "@AcmeCare charged twice for one order, refund me", 0)
    answer = tweet("2004", "99", "@bob so sorry, DM us", 30, conversation="2003",
                   reply_to="2003", reply_to_user="22")
    ingest(sessions, workspace_id, x_batch(complaint))
    assigned = case_mention(sessions, "2003")
    workflow.do_assign(sessions, workspace_id, CLI, assigned.id, USER_ID)
    ingest(sessions, workspace_id, x_batch(answer), now=NOW + timedelta(hours=1))
    assert case_mention(sessions, "2003").status == "replied"
    kept = label(sessions, assigned.id)  # the team's own judgement stays
    assert kept is not None and (kept.action, kept.positive) == ("assign", True)


RECALL_CHANNEL = "C07RECALLS"
BIKES = "Acme bikes recall: brakes fail on the 2026 models, my son got hurt. Refund now!"
SCOOTERS = "Acme scooters recall: the battery caught fire in my garage. Refund now!"


def _held_by_two_watches(sessions: sessionmaker[Session], workspace_id: int,
                         slack_standin: SlackStandIn, *, acme: int, recall: int
                         ) -> tuple[int, int]:
    """Brand watches ``acme`` (the channel) and ``recall`` (another channel) at those
    thresholds, both holding two posts through real polls, their cards posted: the bikes
    post (priority 92) is acme's own (it stored it), the scooters post (85) recall's."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=acme)
    do_add_watch(sessions, workspace_id, CLI, name="recall", query="recall",
                 channel_id=RECALL_CHANNEL, alert_threshold=recall)
    bikes = _item("1", BIKES, NOW - timedelta(hours=1))
    scooters = _item("2", SCOOTERS, NOW - timedelta(minutes=50))
    _poll(sessions, workspace_id, "acme", [bikes], NOW)
    _poll(sessions, workspace_id, "recall", [bikes, scooters], NOW + timedelta(minutes=1))
    _poll(sessions, workspace_id, "acme", [scooters], NOW + timedelta(minutes=2))
    sender_for(sessions, slack_standin, Clock()).flush()
    with sessions() as session:
        ids = {external_id: mention_id for external_id, mention_id in session.execute(
            select(Mention.external_id, Mention.id))}
        priorities = {mention_id: priority for mention_id, priority in session.execute(
            select(Mention.id, Mention.priority))}
    assert (priorities[ids["1"]], priorities[ids["2"]]) == (92, 85)
    return ids["1"], ids["2"]


def _watch_ids(sessions: sessionmaker[Session], workspace_id: int) -> tuple[int, int]:
    with sessions() as session:
        return (get_watch_by_name(session, workspace_id, "acme").id,
                get_watch_by_name(session, workspace_id, "recall").id)


def _alerted_links(sessions: sessionmaker[Session], mention_id: int) -> dict[int, bool]:
    with sessions() as session:
        return {int(watch_id): bool(alerted) for watch_id, alerted in session.execute(
            select(MentionWatch.watch_id, MentionWatch.alerted)
            .where(MentionWatch.mention_id == mention_id))}


def test_a_label_says_whether_its_judged_watch_alerted_not_another_watch(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Bikes is judged by acme, its own watch (threshold 95), which let it wait for the
    digest; recall (60) alerted on it in its own channel, so the mention has a card. That
    card is not acme's decision: the label says acme did not alert. Scooters is judged by
    recall, which alerted; acme let it wait."""
    bikes, scooters = _held_by_two_watches(sessions, workspace_id, slack_standin,
                                           acme=95, recall=60)
    acme, recall = _watch_ids(sessions, workspace_id)
    assert _alerted_links(sessions, bikes) == {acme: False, recall: True}
    assert _alerted_links(sessions, scooters) == {acme: False, recall: True}
    with sessions() as session:
        assert all(session.get(Mention, m).alerted for m in (bikes, scooters))  # type: ignore[union-attr]
    workflow.do_assign(sessions, workspace_id, ALICE, bikes, OTHER_USER_ID)
    workflow.do_simple(sessions, workspace_id, ALICE, scooters, "ignore")
    judged_by_acme, judged_by_recall = label(sessions, bikes), label(sessions, scooters)
    assert judged_by_acme is not None and judged_by_recall is not None
    assert (judged_by_acme.watch_id, judged_by_acme.priority, judged_by_acme.threshold,
            judged_by_acme.alerted, judged_by_acme.positive) == (acme, 92, 95, False, True)
    assert (judged_by_recall.watch_id, judged_by_recall.priority, judged_by_recall.threshold,
            judged_by_recall.alerted, judged_by_recall.positive) == (
        recall, 85, 60, True, False)


def test_the_buttons_follow_the_judged_watch_and_learning_reads_its_decisions(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """acme's digest lists bikes under what waited, with "Should have alerted": the click
    is taken though recall's card is out; recall alerted on scooters, which "Not urgent"
    judges. Learning reads one missed alert of acme and one needless alert of recall."""
    bikes, scooters = _held_by_two_watches(sessions, workspace_id, slack_standin,
                                           acme=95, recall=60)
    acme, recall = _watch_ids(sessions, workspace_id)
    missed = triage_labels.do_feedback(sessions, workspace_id, ALICE, bikes, "should_alert")
    needless = triage_labels.do_feedback(sessions, workspace_id, ALICE, scooters, "not_urgent")
    assert (missed.labels, needless.labels) == (1, 2)
    rows = [label(sessions, bikes), label(sessions, scooters)]
    assert [(r.watch_id, r.action, r.alerted) for r in rows if r is not None] == [
        (acme, "should_alert", False), (recall, "not_urgent", True)]
    with sessions() as session:
        assert load_examples(session, workspace_id) == [
            Example(92 - 95, positive=True), Example(85 - 60, positive=False)]


def test_the_buttons_refusals_name_the_judged_watch_of_a_mention_in_two(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Bikes' card (recall's) offers "Not urgent", but acme, whose decision its labels
    judge, did not alert; recall's digest would not list scooters, but acme's does, and
    recall alerted on it. Each refusal says which watch decided."""
    bikes, scooters = _held_by_two_watches(sessions, workspace_id, slack_standin,
                                           acme=95, recall=60)
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, bikes, "not_urgent")
    assert err.value.key == "triage.not_alerted_by"
    assert err.value.message("en") == (
        f"Watch `acme` did not alert on #{bikes}, and Vigie learns from that watch's decision "
        "for this mention (not from another watch's card), so it cannot be *not urgent*; "
        "if it should have alerted, use *Should have alerted*.")
    assert f"La veille `acme` n'a pas alerté sur #{bikes}, " in err.value.message("fr")
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, scooters, "should_alert")
    assert err.value.key == "triage.already_alerted_by"
    assert err.value.message("en") == (
        f"Watch `recall` alerted on #{scooters} already, and Vigie learns from that watch's "
        "decision for this mention; if it could have waited, use *Not urgent* on its card.")
    assert f"La veille `recall` a déjà alerté sur #{scooters}, " in err.value.message("fr")
    with sessions() as session:
        assert session.scalar(select(TriageLabel.id)) is None


def test_a_linked_watch_that_waited_is_judged_so_when_the_own_watch_alerts_on_everything(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """acme alerts on everything (threshold 0, which no shift changes), so bikes is judged
    by recall (95), which let it wait: acme's card is not recall's alert."""
    bikes, _scooters = _held_by_two_watches(sessions, workspace_id, slack_standin,
                                            acme=0, recall=95)
    acme, recall = _watch_ids(sessions, workspace_id)
    assert _alerted_links(sessions, bikes) == {acme: True, recall: False}
    triage_labels.do_feedback(sessions, workspace_id, BOB, bikes, "should_alert")
    row = label(sessions, bikes)
    assert row is not None and (row.watch_id, row.priority, row.threshold, row.alerted,
                                row.positive) == (recall, 92, 95, False, True)
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, BOB, bikes, "not_urgent")
    assert err.value.key == "triage.not_alerted_by"
    assert f"Watch `recall` did not alert on #{bikes}," in err.value.message("en")


def test_not_urgent_is_offered_on_a_card_of_the_judged_watch_alert_only(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """recall posted both cards in its channel: scooters' judges recall's alert and offers
    "Not urgent"; bikes' would judge acme's, which let it wait, so it does not. Bikes'
    card in acme's channel, were acme to alert, would be acme's own."""
    bikes, scooters = _held_by_two_watches(sessions, workspace_id, slack_standin,
                                           acme=95, recall=60)
    posted = {("bikes" if "bikes" in str(call.args["blocks"]) else "scooters"):
              str(call.args["blocks"]) for call in slack_standin.calls("chat.postMessage", ok=True)
              if call.args["channel"] == RECALL_CHANNEL}
    assert "vigie.not_urgent" in posted["scooters"]
    assert "vigie.not_urgent" not in posted["bikes"]
    with sessions() as session:
        for mention_id, channel, offered in ((bikes, RECALL_CHANNEL, False),
                                             (bikes, CHANNEL_ID, True),
                                             (scooters, RECALL_CHANNEL, True)):
            view = load_card_view(session, mention_id, channel)
            assert view is not None and ("not_urgent" in view.actions) is offered


def test_should_have_alerted_from_a_digest_judges_that_digest_watch_or_refuses(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """A digest's button names the watch whose section listed the mention: the label judges
    it (bikes is acme's own, but recall's digest judges recall). A watch the mention is
    not in (forged, or another workspace's) or whose alerts are no longer learned is
    refused in words, nothing recorded."""
    bikes, scooters = _held_by_two_watches(sessions, workspace_id, slack_standin,
                                           acme=95, recall=93)
    acme, recall = _watch_ids(sessions, workspace_id)
    assert _alerted_links(sessions, scooters) == {acme: False, recall: False}
    triage_labels.do_feedback(sessions, workspace_id, ALICE, scooters, "should_alert",
                              watch_id=acme)
    row = label(sessions, scooters)
    assert row is not None and (row.watch_id, row.priority, row.threshold, row.alerted) == (
        acme, 85, 95, False)
    with transaction(sessions) as session:
        other = Workspace(team_id="T07OTHER01", name="other")
        session.add(other)
        session.flush()
        foreign = Watch(workspace_id=other.id, name="theirs", channel_id=CHANNEL_ID)
        session.add(foreign)
        session.flush()
        foreign_id = foreign.id
    unlinked = _watch(sessions, workspace_id, "unlinked")
    for watch_id in (unlinked, foreign_id, 10**9):
        with pytest.raises(ServiceError) as err:
            triage_labels.do_feedback(sessions, workspace_id, ALICE, bikes, "should_alert",
                                      watch_id=watch_id)
        assert err.value.key == "triage.left_watch"
    assert err.value.message("en").startswith(
        f"#{bikes} is no longer in the watch whose digest listed it")
    assert err.value.message("fr").startswith(
        f"#{bikes} n'est plus dans la veille dont le résumé la listait")
    with transaction(sessions) as session:
        session.execute(update(Watch).where(Watch.id == recall).values(alert_threshold=0))
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, bikes, "should_alert",
                                  watch_id=recall)
    assert err.value.key == "triage.watch_not_learned"
    assert err.value.message("en").startswith(
        f"Watch `recall`, whose digest listed #{bikes}, no longer has alerts Vigie learns")
    assert label(sessions, bikes) is None


def test_alerts_no_threshold_decided_give_no_label_and_no_not_urgent(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """A tracked author's post alerts whatever its priority, and a case's first post gets
    its card when the customer's follow-up makes it urgent: neither is the threshold's
    decision on that post's priority, so what the team does with them is no label (it
    pulled every watch's threshold down), and their cards offer no "Not urgent". A post
    the threshold alerted on is labelled as before."""
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    do_add_watch(sessions, workspace_id, CLI, name="brand", query="acme",
                 channel_id=ORDERS_CHANNEL)  # the default threshold, 50
    ingest(sessions, workspace_id, _batch(tweet(
        "1301", "33", "@AcmeCare my acme order 5512 never arrived, two weeks now", 0)),
        watch="brand")
    influencers.do_track(sessions, workspace_id, CLI, handle="@bob", network="x", now=NOW)
    ingest(sessions, workspace_id, _batch(tweet(
        "1201", "22", "@AcmeCare haha love this acme ad", 5)), watch="brand")
    ingest(sessions, workspace_id, _batch(PRAISE), watch="brand")
    ingest(sessions, workspace_id, _batch(reply_to_praise(
        "1103", "@AcmeCare now it won't let me log in at all", 30)), watch="brand")
    complaint, creator, praise = (case_mention(sessions, n) for n in ("1301", "1201", "1101"))
    assert complaint.priority >= 50 and creator.priority < 50 and praise.priority < 50
    with sessions() as session:
        links = dict(session.execute(select(MentionWatch.mention_id, MentionWatch.alert_forced)
                                     .where(MentionWatch.alerted.is_(True))).tuples().all())
        assert links == {complaint.id: False, creator.id: True, praise.id: True}
        offers = {m: "not_urgent" in view.actions for m in links
                  if (view := load_card_view(session, m, ORDERS_CHANNEL)) is not None}
    assert offers == {complaint.id: True, creator.id: False, praise.id: False}
    for forced in (creator.id, praise.id):
        with pytest.raises(ServiceError) as err:
            triage_labels.do_feedback(sessions, workspace_id, ALICE, forced, "not_urgent")
        assert err.value.key == "triage.alert_forced"
        assert "whatever its priority" in err.value.message(plain=True)
    for mention_id in links:
        workflow.do_assign(sessions, workspace_id, ALICE, mention_id, USER_ID)
    assert label(sessions, creator.id) is None and label(sessions, praise.id) is None
    labelled = label(sessions, complaint.id)
    assert labelled is not None and (labelled.action, labelled.positive) == ("assign", True)
    with sessions() as session:
        assert load_examples(session, workspace_id) == [
            Example(complaint.priority - 50, True)]


def _batch(*tweets: dict[str, Any]) -> list[Any]:
    """``x_batch`` with a third customer (cara, id 33)."""
    users = [*USERS, {"id": "33", "username": "cara", "name": "Cara",
                      "public_metrics": {"followers_count": 120}}]
    mentions, _ = parse_search({"data": list(tweets), "includes": {"users": users}})
    return mentions


def test_a_story_first_post_carded_for_a_later_post_gives_no_label(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """A story's first post waited; a later share of its link, widely read, made the story
    urgent and its first post got the card. That card is the later post's decision, not the
    threshold's on the first post's priority: no label, no "Not urgent"."""
    do_add_watch(sessions, workspace_id, CLI, name="news", query="acme", channel_id=SOCIAL)
    first = story_post(2, "Acme recalls its kettles after fires, read this")
    wide = story_post(4, "the Acme kettle recall is in the news today", followers=2_000_000)
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "news")
        low, high = (c.analysis.priority for c in match_and_analyze(
            watch, [first, wide], now=STORY_NOW, report=IngestReport()))
        assert low < high
        watch.alert_threshold = high
    assert story_poll(sessions, workspace_id, "news", [first]).alerts == 0
    assert story_poll(sessions, workspace_id, "news", [wide]).alerts == 1
    with sessions() as session:
        head = session.scalar(select(Mention).where(Mention.external_id == "2"))
        assert head is not None and head.alerted
        assert session.scalar(select(Mention.story_id).where(Mention.external_id == "4")) \
            == head.id
        assert triage_labels.alert_forced(session, head.id, head.watch_id)
        view = load_card_view(session, head.id, SOCIAL)
        assert view is not None and "not_urgent" not in view.actions
    workflow.do_assign(sessions, workspace_id, ALICE, head.id, USER_ID)
    assert label(sessions, head.id) is None


def test_a_reopened_mention_that_waited_stays_judged_waited(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """A complaint the threshold held back is ignored, then reopened: the reopen posts its
    card (open work needs one), but that card is the person's doing, not the threshold's.
    The decision stays "waited": the card offers no "Not urgent" (refused in words), the
    next workflow label says the threshold missed it, and the digest's "Should have
    alerted" is accepted, not refused as "alerted already"."""
    do_add_watch(sessions, workspace_id, CLI, name="brand", query="acme",
                 channel_id=ORDERS_CHANNEL, alert_threshold=95)
    ingest(sessions, workspace_id, _batch(tweet(
        "1301", "33", "@AcmeCare my acme order 5512 never arrived, two weeks now", 0)),
        watch="brand")
    complaint = case_mention(sessions, "1301")
    assert complaint.priority < 95 and not complaint.alerted
    with sessions() as session:
        brand = get_watch_by_name(session, workspace_id, "brand").id
    workflow.do_simple(sessions, workspace_id, ALICE, complaint.id, "ignore")
    ignored = label(sessions, complaint.id)
    assert ignored is not None and (ignored.action, ignored.alerted) == ("ignore", False)

    workflow.do_simple(sessions, workspace_id, ALICE, complaint.id, "reopen")
    sender_for(sessions, slack_standin, Clock()).flush()
    cards = [str(call.args["blocks"]) for call in slack_standin.calls("chat.postMessage", ok=True)
             if call.args["channel"] == ORDERS_CHANNEL and "thread_ts" not in call.args]
    assert len(cards) == 1 and "vigie.not_urgent" not in cards[0]
    with sessions() as session:
        reopened = session.get_one(Mention, complaint.id)
        assert reopened.alerted and reopened.slack_ts is not None  # open work, carded
        view = load_card_view(session, complaint.id, ORDERS_CHANNEL)
        assert view is not None and "not_urgent" not in view.actions
    with pytest.raises(ServiceError) as err:
        triage_labels.do_feedback(sessions, workspace_id, ALICE, complaint.id, "not_urgent")
    assert err.value.key == "triage.card_late"
    assert err.value.message("en").startswith(
        f"#{complaint.id} waited for the digest: its card was posted later")
    assert err.value.message("fr").startswith(
        f"#{complaint.id} a attendu le résumé : sa carte a été publiée plus tard")

    workflow.do_assign(sessions, workspace_id, ALICE, complaint.id, USER_ID)
    assigned = label(sessions, complaint.id)
    assert assigned is not None and (assigned.action, assigned.positive, assigned.alerted) == (
        "assign", True, False)
    with sessions() as session:
        assert load_examples(session, workspace_id) == [Example(complaint.priority - 95, True)]
    triage_labels.do_feedback(sessions, workspace_id, ALICE, complaint.id, "should_alert",
                              watch_id=brand)
    flagged = label(sessions, complaint.id)
    assert flagged is not None and (flagged.action, flagged.positive, flagged.alerted) == (
        "should_alert", True, False)
