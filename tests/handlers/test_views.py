"""The modal listener: each callback id, submitted as Slack sends it; a refusal comes back
under the field, as Slack shows modal errors."""

from __future__ import annotations

import json

from bot.slack.modals import ASSIGN, DRAFT, OVERRIDE, REJECT
from tests.e2e.conftest import VigieApp
from tests.e2e.test_workflow import seed, status
from tests.harness.constants import USER_ID


def _submit(vigie: VigieApp, callback: str, mention_id: int, values: dict[str, object]
            ) -> dict[str, object]:
    response = vigie.slack.view_submission(
        callback, values, private_metadata=json.dumps({"mention_id": mention_id}))
    assert response.status_code == 200
    return response.json() if response.content else {}


def test_assign_modal(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    picked = {"type": "users_select", "selected_user": USER_ID}
    assert _submit(vigie, ASSIGN, mention_id, {"assignee": {"user": picked}}) == {}
    assert status(vigie, mention_id) == "assigned"


def test_draft_modal(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    assert _submit(vigie, DRAFT, mention_id, {"draft": {"text": "Sorry Ana, on it."}}) == {}
    assert status(vigie, mention_id) == "awaiting_approval"


def test_reject_modal_refusal_shows_under_the_field(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    answer = _submit(vigie, REJECT, mention_id, {"reason": {"text": "too formal"}})
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"reason"}  # type: ignore[arg-type]


def test_override_modal_refusal_shows_under_the_field(vigie: VigieApp) -> None:
    mention_id = seed(vigie)
    answer = _submit(vigie, OVERRIDE, mention_id, {"reason": {"text": "legal checked"}})
    assert answer["response_action"] == "errors"


def test_unknown_modal_is_acknowledged(vigie: VigieApp) -> None:
    assert _submit(vigie, "vigie.modal.nothing", 1, {}) == {}
