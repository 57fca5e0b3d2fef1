"""The draft editor saves only over what it showed, through the HTTP app and the Slack
stand-in, on SQLite and PostgreSQL: a version saved, or an approval given, while it was
open refuses the save with the reason under the field (the editor stays open, nothing is
written, nobody becomes an author); a save over what it showed goes through, and an editor
opened before editors recorded what they showed saves as it did then."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.slack.users import CACHE_SECONDS, AccountCache
from storage.models import Approval, Draft, DraftAuthor
from tests.e2e.conftest import VigieApp, start_vigie
from tests.e2e.test_guests import lookups
from tests.e2e.test_workflow import (
    APPROVER,
    card,
    grant,
    granted_quietly,
    seed,
    settle,
    status,
)
from tests.harness.constants import OTHER_USER_ID, USER_ID
from tests.harness.slack_standin import ManualClock, SlackStandIn

V1 = "Sorry Ana, we are looking into it."
V2 = "Sorry Ana, here is the refund link: https://acme.example/refund"
MINE = "Sorry Ana, my own edit of the first version."
CAROL = "U07CMCAROL"  # an approver who saved no version


def _drafts(vigie: VigieApp, mention_id: int) -> list[tuple[int, str | None, list[str]]]:
    """Each version: its number, saver, and the authors four-eyes counts."""
    with vigie.runtime.sessions() as session:
        return [(draft.version, draft.author_user_id, sorted(session.scalars(
            select(DraftAuthor.user_id).where(DraftAuthor.draft_id == draft.id))))
                for draft in session.scalars(select(Draft).where(
                    Draft.mention_id == mention_id).order_by(Draft.version))]


def _open_editor(vigie: VigieApp, mention_id: int) -> tuple[str, str]:
    """Press Draft reply on the card: the editor's view id and its input's block_id."""
    count = len(vigie.standin.calls("views.open"))
    vigie.slack.block_action("vigie.draft", message_ts=card(vigie, mention_id)["ts"])
    opened = vigie.standin.wait_for("views.open", count=count + 1)[-1]
    (field,) = [b for b in opened.args["view"]["blocks"] if b["type"] == "input"]
    return opened.response["view"]["id"], field["block_id"]


def _submit(vigie: VigieApp, view_id: str, block_id: str, text: str,
            view: dict[str, Any] | None = None) -> dict[str, Any]:
    if view is not None:  # a view given as it was sent, what the user typed in it
        sent = vigie.slack.view_submission(view=view, values={block_id: {"text": text}})
    else:
        vigie.standin.type_into(view_id, block_id, "text", text)
        sent = vigie.slack.view_submission(view_id=view_id)
    assert sent.status_code == 200
    return sent.json() if sent.content else {}


def _draft(vigie: VigieApp, mention_id: int, text: str, version: int,
           user_id: str = USER_ID) -> None:
    saved = vigie.slack.command_answer(f"draft {mention_id} {text}", user_id=user_id)
    assert f"Draft v{version} saved" in saved["text"], saved


def test_a_version_saved_while_the_editor_was_open_is_not_replaced(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    vigie.standin.set_user(OTHER_USER_ID, display_name="Bob")  # before the grant asks Slack
    grant(vigie, OTHER_USER_ID, "agent")
    _draft(vigie, mention_id, V1, 1)
    view_id, block_id = _open_editor(vigie, mention_id)
    _draft(vigie, mention_id, V2, 2, user_id=OTHER_USER_ID)
    settle(vigie)
    before = _drafts(vigie, mention_id)
    assert before == [(1, USER_ID, [USER_ID]), (2, OTHER_USER_ID, sorted([OTHER_USER_ID, USER_ID]))]
    notes = len(vigie.standin.calls("chat.postMessage"))

    refused = _submit(vigie, view_id, block_id, MINE)

    # The editor stays open, the reason under its input (Slack needs the view's block_id).
    assert refused["response_action"] == "errors" and list(refused["errors"]) == [block_id]
    shown = refused["errors"][block_id]
    assert shown.startswith(f"Not saved: Bob saved draft v2 of mention #{mention_id} while "
                            "this editor was open")
    assert "press Draft reply on the card again (it opens on v2)" in shown
    assert shown.endswith(V2)  # theirs, to read before anything else
    settle(vigie)
    assert _drafts(vigie, mention_id) == before  # no v3, nobody added as an author
    assert status(vigie, mention_id) == "awaiting_approval"
    assert len(vigie.standin.calls("chat.postMessage")) == notes  # no "wrote draft v3"

    # Opened again, the editor shows v2, and a save from it goes through.
    view_id, block_id = _open_editor(vigie, mention_id)
    assert _submit(vigie, view_id, block_id, MINE) == {}
    assert _drafts(vigie, mention_id)[-1] == (3, USER_ID, sorted([OTHER_USER_ID, USER_ID]))


def test_the_refusal_is_in_the_users_language_and_names_a_saver_slack_cannot(
        vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    vigie.standin.remove_user(OTHER_USER_ID)  # Slack cannot name them: their user id
    granted_quietly(vigie, OTHER_USER_ID)  # without the grant's look-up, which would fail
    assert "fr" in vigie.slack.command_answer("lang fr")["text"]
    view_id, block_id = _open_editor(vigie, mention_id)  # no draft yet: the template
    _draft(vigie, mention_id, V2, 1, user_id=OTHER_USER_ID)

    refused = _submit(vigie, view_id, block_id, MINE)

    shown = refused["errors"][block_id]
    assert shown.startswith(f"Non enregistré : @{OTHER_USER_ID} a enregistré le brouillon "
                            f"v1 de la mention n°{mention_id} pendant que cette fenêtre")
    assert shown.endswith(V2)
    assert [version for version, _, _ in _drafts(vigie, mention_id)] == [1]


def test_an_approval_given_while_the_editor_was_open_is_not_withdrawn(
        vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    vigie.standin.set_user(APPROVER, display_name="Carol")  # before the grant asks Slack
    grant(vigie, APPROVER, "approver")
    _draft(vigie, mention_id, V1, 1)
    view_id, block_id = _open_editor(vigie, mention_id)
    approved = vigie.slack.command_answer(f"approve {mention_id} v1", user_id=APPROVER)
    assert "approved" in approved["text"], approved
    settle(vigie)

    refused = _submit(vigie, view_id, block_id, MINE)

    shown = refused["errors"][block_id]
    assert shown.startswith(f"Not saved: Carol approved draft v1 of mention #{mention_id} "
                            "while this editor was open")
    assert "saving from there withdraws the approval" in shown
    assert shown.endswith(V1)
    settle(vigie)
    assert status(vigie, mention_id) == "approved"
    with vigie.runtime.sessions() as session:
        assert list(session.scalars(select(Approval.decision))) == ["approved"]
    assert [version for version, _, _ in _drafts(vigie, mention_id)] == [1]

    # Opened on the approved draft, the editor saves, withdrawing the approval knowingly.
    view_id, block_id = _open_editor(vigie, mention_id)
    assert _submit(vigie, view_id, block_id, MINE) == {}
    assert status(vigie, mention_id) == "awaiting_approval"
    assert [version for version, _, _ in _drafts(vigie, mention_id)] == [1, 2]


def test_a_save_over_what_the_editor_showed_goes_through(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    view_id, block_id = _open_editor(vigie, mention_id)  # the template
    assert _submit(vigie, view_id, block_id, V1) == {}
    view_id, block_id = _open_editor(vigie, mention_id)  # v1
    assert _submit(vigie, view_id, block_id, MINE) == {}
    assert _drafts(vigie, mention_id) == [(1, USER_ID, [USER_ID]), (2, USER_ID, [USER_ID])]
    assert status(vigie, mention_id) == "awaiting_approval"


def test_an_editor_opened_before_the_upgrade_saves_as_before(vigie: VigieApp) -> None:
    """Its metadata does not say what it showed: the save replaces what is there, as
    every save from the editor did before."""
    mention_id = seed(vigie)
    grant(vigie, OTHER_USER_ID, "agent")
    _draft(vigie, mention_id, V1, 1)
    view_id, block_id = _open_editor(vigie, mention_id)
    view = vigie.standin.view(view_id)
    metadata = json.loads(view["private_metadata"])
    assert {"draft_version", "approval"} <= set(metadata)
    view["private_metadata"] = json.dumps({key: value for key, value in metadata.items()
                                           if key not in {"draft_version", "approval"}})
    _draft(vigie, mention_id, V2, 2, user_id=OTHER_USER_ID)

    assert _submit(vigie, view_id, block_id, MINE, view=view) == {}
    assert [version for version, _, _ in _drafts(vigie, mention_id)] == [1, 2, 3]


@pytest.fixture
def clocked(db_url: str, slack_standin: SlackStandIn) -> Iterator[tuple[VigieApp, ManualClock]]:
    """Vigie whose cache of Slack's answers about users runs on a clock the test moves."""
    clock = ManualClock()
    for vigie in start_vigie(db_url, slack_standin, accounts=AccountCache(clock=clock)):
        yield vigie, clock


def test_the_editor_names_people_without_asking_slack_before_its_ack(
        clocked: tuple[VigieApp, ManualClock]) -> None:
    """The editor's answer (its refusal under the field, or its save) is the ack Slack wants
    within 3 seconds: it names whoever saved or approved meanwhile as Slack last described
    them, however long ago, and never waits on a users.info about them first."""
    vigie, clock = clocked
    mention_id = seed(vigie)
    vigie.standin.set_user(OTHER_USER_ID, display_name="Bob")  # before the grants ask Slack
    vigie.standin.set_user(CAROL, display_name="Carol")
    grant(vigie, OTHER_USER_ID, "agent")
    grant(vigie, CAROL, "approver")
    _draft(vigie, mention_id, V1, 1)
    view_id, block_id = _open_editor(vigie, mention_id)
    _draft(vigie, mention_id, V2, 2, user_id=OTHER_USER_ID)
    settle(vigie)
    clock.advance(CACHE_SECONDS)  # what Slack said of Bob is no longer fresh
    asked = lookups(vigie, OTHER_USER_ID)

    refused = _submit(vigie, view_id, block_id, MINE)

    assert refused["errors"][block_id].startswith(
        f"Not saved: Bob saved draft v2 of mention #{mention_id} while this editor was open")
    assert lookups(vigie, OTHER_USER_ID) == asked

    # Saved from an editor opened on the approved draft: the approval is withdrawn, and
    # the save's answer waits on no look-up of the approver either.
    vigie.slack.command_answer(f"approve {mention_id} v2 confirm", user_id=CAROL)
    settle(vigie)
    assert status(vigie, mention_id) == "approved"
    view_id, block_id = _open_editor(vigie, mention_id)
    clock.advance(CACHE_SECONDS)
    asked = lookups(vigie, CAROL)
    assert _submit(vigie, view_id, block_id, MINE) == {}
    assert lookups(vigie, CAROL) == asked
    assert status(vigie, mention_id) == "awaiting_approval"
