"""`/cm draft ID TEXT` overwrites on purpose (unlike a stale draft editor, it is not
refused), through the HTTP app and the Slack stand-in, on SQLite and PostgreSQL: its reply
says whose version it replaced and whose approval it withdrew, in the user's language, and
says neither when the user replaces their own version of a mention nobody approved."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Approval
from tests.e2e.conftest import VigieApp
from tests.e2e.test_stale_editor import V1, V2
from tests.e2e.test_workflow import grant, granted_quietly, seed, settle, status
from tests.harness.constants import OTHER_USER_ID, USER_ID

MINE = "Sorry Ana, the refund is on its way."
APPROVER = "U07CMCAROL"  # a third person: neither drafter


def test_the_reply_names_the_version_replaced_and_the_approval_withdrawn(
        vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    # Named before they are granted: `/cm role add` asks Slack who the grantee is, and
    # the process keeps that answer a while.
    vigie.standin.set_user(OTHER_USER_ID, display_name="Bob")
    vigie.standin.set_user(APPROVER, display_name="Carol")
    grant(vigie, OTHER_USER_ID, "agent")
    grant(vigie, APPROVER, "approver")
    first = vigie.slack.command_answer(f"draft {mention_id} {V1}")["text"]
    assert first == (f"Draft v1 saved for mention #{mention_id}; it now waits for an "
                     "approver (risk: none)."), first
    own = vigie.slack.command_answer(f"draft {mention_id} {V1} Thanks.")["text"]
    assert "replaced" not in own and "withdrew" not in own, own  # their own version
    theirs = vigie.slack.command_answer(f"draft {mention_id} {V2}", user_id=OTHER_USER_ID)
    assert "It replaced v2, saved by" in theirs["text"], theirs  # mine, named to Bob
    vigie.slack.command_answer(f"approve {mention_id} v3 confirm", user_id=APPROVER)
    settle(vigie)
    assert status(vigie, mention_id) == "approved"

    saved = vigie.slack.command_answer(f"draft {mention_id} {MINE}")["text"]

    assert saved.startswith(f"Draft v4 saved for mention #{mention_id}"), saved
    assert saved.endswith(" It replaced v3, saved by Bob. This withdrew Carol's approval "
                          "of v3: it needs approving again."), saved
    settle(vigie)
    assert status(vigie, mention_id) == "awaiting_approval"
    with vigie.runtime.sessions() as session:
        assert list(session.scalars(select(Approval.decision))) == ["withdrawn"]


def test_the_reply_is_in_the_users_language_and_names_whom_slack_cannot(
        vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    vigie.standin.remove_user(OTHER_USER_ID)  # Slack cannot name them: their user id
    # Granted without `/cm role add`'s look-up, which Slack could not answer for them.
    granted_quietly(vigie, OTHER_USER_ID)
    vigie.standin.set_user(APPROVER, display_name="Carol")
    grant(vigie, APPROVER, "approver")
    assert "fr" in vigie.slack.command_answer("lang fr")["text"]
    vigie.slack.command_answer(f"draft {mention_id} {V1}", user_id=OTHER_USER_ID)
    vigie.slack.command_answer(f"approve {mention_id} v1", user_id=APPROVER)
    settle(vigie)
    assert status(vigie, mention_id) == "approved"

    saved = vigie.slack.command_answer(f"draft {mention_id} {MINE}", user_id=USER_ID)["text"]

    assert saved.startswith(f"Brouillon v2 enregistré pour la mention n°{mention_id}"), saved
    assert f" Il remplace la v1, enregistrée par <@{OTHER_USER_ID}>. Cela a retiré la " \
        "validation de la v1 par Carol" in saved, saved
    assert saved.endswith(" : il faut de nouveau la valider."), saved
