"""Triage feedback and `/cm triage` as Slack sends them: the "Not urgent" button on an alert
card, "Should have alerted" on the digest's lines, the command's status, learning and admin
switches, through the HTTP app, the request guard and the Slack stand-in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.services.actors import CLI
from bot.services.triage_learning import MIN_LABELS
from bot.services.watches import do_add_watch, get_watch_by_name
from storage.db import transaction
from storage.models import Mention, Watch
from storage.models_triage import TriageCalibration, TriageLabel
from storage.models_watches import MentionWatch
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_workflow import VIEWER, buttons, card, grant, seed, settle
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import CHANNEL_ID, TEAM_ID, USER_ID
from tests.reporting.dataset import CHANNEL, DIGEST_END, build_dataset
from tests.reporting.test_e2e_reporting import command
from tests.services.test_cases import NOW
from tests.services.test_multiwatch import _item, _poll
from tests.services.test_triage_labels import BIKES, RECALL_CHANNEL, SCOOTERS


def labels(vigie: VigieApp) -> list[tuple[int, str, bool, str]]:
    with vigie.runtime.sessions() as session:
        return [(row.mention_id, row.action, row.positive, row.actor) for row in session.scalars(
            select(TriageLabel).order_by(TriageLabel.id))]


def last_response(vigie: VigieApp, count: int) -> dict[str, Any]:
    vigie.standin.wait_until(lambda s: len(s.responses()) >= count, timeout=15)
    return vigie.standin.responses()[-1]


def test_not_urgent_on_a_card(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    shown = card(vigie, mention_id)
    assert buttons(shown)[-1] == "vigie.not_urgent"
    assert validate_blocks(shown["blocks"], "message") == []

    grant(vigie, VIEWER, "viewer")
    sent = len(vigie.standin.responses())
    refused = vigie.slack.block_action("vigie.not_urgent", message_ts=shown["ts"],
                                       user_id=VIEWER)
    assert refused.status_code == 200
    assert "*agent* role" in last_response(vigie, sent + 1)["text"]
    assert labels(vigie) == []

    clicked = vigie.slack.block_action("vigie.not_urgent", message_ts=shown["ts"])
    assert clicked.status_code == 200
    answer = last_response(vigie, sent + 2)
    assert answer["text"].startswith(f"Noted: #{mention_id} could have waited")
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert labels(vigie) == [(mention_id, "not_urgent", False, USER_ID)]
    settle(vigie)
    updated = card(vigie, mention_id)
    assert "vigie.not_urgent" not in buttons(updated)
    assert validate_blocks(updated["blocks"], "message") == []

    # The same card's other buttons still label: assigning is "wanted", but the explicit
    # "Not urgent" stands.
    vigie.slack.command_answer(f"assign {mention_id} <@{USER_ID}|alice>")
    assert labels(vigie) == [(mention_id, "not_urgent", False, USER_ID)]


def test_should_have_alerted_from_the_digest(vigie: VigieApp) -> None:
    data = build_dataset(vigie.runtime.sessions)
    vigie.runtime.clock = lambda: DIGEST_END
    assert "on its way" in command(vigie, "digest now")["text"]
    vigie.standin.clear()
    vigie.runtime.outbox.flush(wait=True)
    digest = next(call for call in vigie.standin.calls("chat.postMessage", ok=True)
                  if call.args.get("channel") == CHANNEL and call.args.get("blocks"))
    blocks = digest.args["blocks"]
    assert validate_blocks(blocks, "message") == []
    flags = [element for block in blocks if block["type"] == "actions"
             for element in block["elements"]]
    waited = [data.mentions[name] for name in ("m2", "m8", "m16")]
    # Each names the watch whose section listed it: the decision its label judges.
    assert [e["value"] for e in flags][:3] == [f"{m}:w{data.watches['acme']}" for m in waited]
    assert flags[0]["text"]["text"] == f"Should have alerted #{waited[0]}"
    ts = digest.response["ts"]

    clicked = vigie.slack.block_action(flags[0]["action_id"], message_ts=ts, channel_id=CHANNEL)
    assert clicked.status_code == 200
    answer = last_response(vigie, 1)["text"]
    assert answer.startswith(f"Noted: #{waited[0]} should have alerted"), answer
    assert answer.endswith(f"Its card is posted in <#{CHANNEL}>, to answer it now."), answer
    assert labels(vigie) == [(waited[0], "should_alert", True, USER_ID)]
    # It needed an answer: its card is in the channel now, to be taken up from there.
    vigie.runtime.outbox.flush(wait=True)
    with vigie.runtime.sessions() as session:
        posted = session.get_one(Mention, waited[0])
        assert (posted.slack_channel, posted.alerted) == (CHANNEL, True)
    assert "vigie.assign" in str(vigie.standin.message(CHANNEL, str(posted.slack_ts)))

    # A value that is not a mention id (forged) does nothing; an alerted one is refused.
    vigie.slack.block_action(flags[1]["action_id"], message_ts=ts, channel_id=CHANNEL,
                             value="12; drop")
    alerted = data.mentions["m1"]
    vigie.slack.block_action(flags[1]["action_id"], message_ts=ts, channel_id=CHANNEL,
                             value=str(alerted))
    assert "was alerted already" in last_response(vigie, 2)["text"]
    assert labels(vigie) == [(waited[0], "should_alert", True, USER_ID)]


def test_cm_triage_status_learn_and_admin_switches(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    vigie.slack.command_answer(f"ignore {mention_id}")
    status = vigie.slack.command_answer("triage")
    assert status["response_type"] == "ephemeral"
    assert validate_blocks(status["blocks"], "message") == []
    text = str(status["blocks"])
    assert "*On*: alerts use each watch's threshold shifted by *±0* points" in text
    assert "acme: threshold 50 → *50*" in text
    assert "*Labels:* 1 (0 wanted now, 1 could wait): 1 ignored." in text
    assert ("*Today* (UTC): learning has not moved the shift; it can move it up to 10 points "
            "today.") in text
    assert "at most 10 points a day (UTC, all runs together" in text
    assert "No learning run yet" in text

    for sub in ("learn", "reset", "off", "on"):
        refused = vigie.slack.command_answer(f"triage {sub}")
        assert "You need the *admin* role" in refused["text"], sub
    learned = vigie.slack.command_answer("triage learn", user_id=ADMIN_ID)
    assert validate_blocks(learned["blocks"], "message") == []
    assert (f"not enough labels yet: 1 (0 wanted now, 1 could wait); learning needs "
            f"{MIN_LABELS}, with at least 10 of each.") in str(learned["blocks"])
    off = vigie.slack.command_answer("triage off", user_id=ADMIN_ID)
    assert "*Off*: alerts use each watch's own threshold" in str(off["blocks"])
    assert f"<@{ADMIN_ID}>): turned off: alerts use each watch's own threshold." in str(
        off["blocks"])
    back = str(vigie.slack.command_answer("triage on", user_id=ADMIN_ID)["blocks"])
    assert "turned on: alerts use the learned shift again." in back
    usage = vigie.slack.command_answer("triage bogus")
    assert usage["text"].startswith("Say `/cm triage` (status)")
    help_text = vigie.slack.command_answer("help triage")["text"]
    assert "triage learn [dry-run]" in help_text and CHANNEL_ID


def test_cm_triage_in_words_without_competitors_and_reset_keeps_it_off(
        vigie: VigieApp) -> None:
    first, second = seed(vigie), seed(vigie, text="My parcel is lost, where is it?",
                                      handle="@bob@mastodon.social", name="Bob")
    vigie.slack.command_answer(f"ignore {first}")
    vigie.slack.command_answer(f"assign {second} <@{USER_ID}|alice>")
    with transaction(vigie.runtime.sessions) as session:
        watch = session.scalar(select(Watch).where(Watch.name == "acme"))
        assert watch is not None
        session.add(Watch(workspace_id=watch.workspace_id, name="rival", channel_id=CHANNEL_ID,
                          kind="competitor"))
    text = str(vigie.slack.command_answer("triage")["blocks"])
    assert "1 assigned, 1 ignored." in text
    assert "acme: threshold 50" in text and "rival" not in text
    vigie.slack.command_answer("lang fr", user_id=ADMIN_ID)
    french = str(vigie.slack.command_answer("triage", user_id=ADMIN_ID)["blocks"])
    assert ("*Étiquettes :* 2 (voulues tout de suite : 1 ; pouvaient attendre : 1) : "
            "1 attribuée, 1 ignorée.") in french

    vigie.slack.command_answer("triage off", user_id=ADMIN_ID)
    reset = str(vigie.slack.command_answer("triage reset", user_id=ADMIN_ID)["blocks"])
    assert "*Désactivé*" in reset
    with vigie.runtime.sessions() as session:
        calibration = session.get(TriageCalibration, watch.workspace_id)
        assert calibration is not None and not calibration.enabled


def _digest_flags(vigie: VigieApp, channel: str) -> tuple[str, dict[int, dict[str, Any]]]:
    """Post ``channel``'s digest now: its ts and its "Should have alerted" buttons by
    mention id."""
    vigie.standin.clear()
    answer = vigie.slack.slash_command("digest now", user_id=ADMIN_ID, channel_id=channel)
    assert answer.status_code == 200
    vigie.standin.wait_until(lambda s: len(s.responses()) > 0, timeout=30)
    vigie.runtime.outbox.flush(wait=True)
    digest = next(call for call in vigie.standin.calls("chat.postMessage", ok=True)
                  if call.args.get("channel") == channel and call.args.get("blocks"))
    assert validate_blocks(digest.args["blocks"], "message") == []
    flags = {int(element["value"].split(":")[0]): element
             for block in digest.args["blocks"] if block["type"] == "actions"
             for element in block["elements"]
             if element["action_id"].startswith("vigie.should_alert.")}
    return digest.response["ts"], flags


def test_should_have_alerted_in_a_watch_digest_labels_that_watch(vigie: VigieApp) -> None:
    """Two brand watches in two channels hold both posts: recall (threshold 90) alerted on
    bikes (92) in its channel and let scooters (85, its own post) wait; acme (95) let both
    wait. acme's digest lists scooters: its "Should have alerted" judges acme, whose
    channel shows that digest, not recall (the mention's own watch); recall's digest's
    button judges recall."""
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    sessions = vigie.runtime.sessions
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=95)
    do_add_watch(sessions, workspace_id, CLI, name="recall", query="recall",
                 channel_id=RECALL_CHANNEL, alert_threshold=90)
    bikes = _item("1", BIKES, NOW - timedelta(hours=1))
    scooters = _item("2", SCOOTERS, NOW - timedelta(minutes=50))
    _poll(sessions, workspace_id, "acme", [bikes], NOW)
    _poll(sessions, workspace_id, "recall", [bikes, scooters], NOW + timedelta(minutes=1))
    _poll(sessions, workspace_id, "acme", [scooters], NOW + timedelta(minutes=2))
    vigie.runtime.outbox.flush(wait=True)
    with sessions() as session:
        acme = get_watch_by_name(session, workspace_id, "acme").id
        recall = get_watch_by_name(session, workspace_id, "recall").id
        scooters_id = session.scalar(select(Mention.id).where(Mention.external_id == "2"))
        assert session.get(Mention, scooters_id).watch_id == recall  # type: ignore[union-attr]
        links = {int(watch): bool(alerted) for watch, alerted in session.execute(
            select(MentionWatch.watch_id, MentionWatch.alerted)
            .where(MentionWatch.mention_id == scooters_id))}
    assert links == {acme: False, recall: False}
    vigie.runtime.clock = lambda: NOW + timedelta(hours=2)

    ts, flags = _digest_flags(vigie, CHANNEL_ID)
    assert scooters_id in flags
    vigie.slack.block_action(flags[scooters_id]["action_id"], message_ts=ts,
                             channel_id=CHANNEL_ID, value=flags[scooters_id]["value"])
    answer = last_response(vigie, 2)["text"]  # after the digest command's
    assert answer.startswith(f"Noted: #{scooters_id} should have alerted"), answer
    with sessions() as session:
        row = session.scalar(select(TriageLabel).where(TriageLabel.mention_id == scooters_id))
        assert row is not None
        assert (row.watch_id, row.action, row.priority, row.threshold, row.alerted) == (
            acme, "should_alert", 85, 95, False)

    ts, flags = _digest_flags(vigie, RECALL_CHANNEL)
    vigie.slack.block_action(flags[scooters_id]["action_id"], message_ts=ts,
                             channel_id=RECALL_CHANNEL, value=flags[scooters_id]["value"])
    assert last_response(vigie, 2)["text"].startswith(f"Noted: #{scooters_id} should have")
    with sessions() as session:
        row = session.scalar(select(TriageLabel).where(TriageLabel.mention_id == scooters_id))
        assert row is not None and (row.watch_id, row.threshold) == (recall, 90)
