"""A mention the threshold held back, ignored then reopened through `/cm`: its card is
posted, but the buttons still speak of the threshold's decision, which was to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.db import transaction
from storage.models import Mention, Watch
from storage.models_triage import TriageLabel
from tests.e2e.conftest import VigieApp
from tests.e2e.test_workflow import buttons, card, settle, status
from tests.handlers.conftest import nth_response
from tests.harness.constants import CHANNEL_ID, TEAM_ID, USER_ID


def _waited(vigie: VigieApp) -> tuple[int, int]:
    """(mention, watch): a complaint at priority 40 in a watch alerting from 50, stored
    as ingest leaves it (no card; its watch link is written with the row)."""
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    published = datetime.now(UTC) - timedelta(hours=1)
    with transaction(vigie.runtime.sessions) as session:
        watch = Watch(workspace_id=workspace.id, name="acme", query="acme",
                      channel_id=CHANNEL_ID, alert_threshold=50)
        session.add(watch)
        session.flush()
        mention = Mention(workspace_id=workspace.id, watch_id=watch.id, network="mastodon",
                          external_id="waited-1", url="https://mastodon.social/@ana/2",
                          text="@acme my order never arrived", published_at=published,
                          priority=40, intent="complaint", language="en")
        session.add(mention)
        session.flush()
        return mention.id, watch.id


def _label(vigie: VigieApp, mention_id: int) -> tuple[str, bool, bool] | None:
    with vigie.runtime.sessions() as session:
        row = session.scalar(select(TriageLabel).where(TriageLabel.mention_id == mention_id))
        return None if row is None else (row.action, row.positive, row.alerted)


def test_a_reopened_mention_that_waited_keeps_its_waited_decision(vigie: VigieApp) -> None:
    mention_id, watch_id = _waited(vigie)
    vigie.slack.command_answer(f"ignore {mention_id}", user_id=USER_ID)
    assert _label(vigie, mention_id) == ("ignore", False, False)
    vigie.slack.command_answer(f"reopen {mention_id}", user_id=USER_ID)
    settle(vigie)
    assert status(vigie, mention_id) == "new"
    posted = card(vigie, mention_id)  # open work has its card
    assert "vigie.assign" in buttons(posted) and "vigie.not_urgent" not in buttons(posted)

    vigie.slack.block_action("vigie.not_urgent", value=str(mention_id))
    refused = nth_response(vigie, 1)
    assert refused["response_type"] == "ephemeral"
    assert refused["text"].startswith(f"#{mention_id} waited for the digest")
    # The button of an earlier digest's line, naming the watch that let it wait.
    vigie.slack.block_action(f"vigie.should_alert.{mention_id}",
                             value=f"{mention_id}:w{watch_id}")
    noted = nth_response(vigie, 2)
    assert noted["text"].startswith(f"Noted: #{mention_id} should have alerted."), noted
    assert _label(vigie, mention_id) == ("should_alert", True, False)
