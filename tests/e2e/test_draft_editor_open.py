"""The draft editor, opened by `/cm draft ID` or a card's Draft button: a post that
escaping lengthens (600 ``&``) still opens it."""

from __future__ import annotations

from tests.e2e.conftest import VigieApp
from tests.e2e.test_workflow import card, seed


def test_the_draft_button_opens_the_editor_for_a_post_of_600_ampersands(
        vigie_sqlite: VigieApp) -> None:
    """Escaped, 600 ``&`` are 3000 characters: quoted, the excerpt was 3002, over a
    section's 3000, and Slack refused the editor."""
    vigie = vigie_sqlite
    ts = card(vigie, seed(vigie, text="&" * 600))["ts"]
    vigie.slack.block_action("vigie.draft", message_ts=ts)
    opened = vigie.standin.wait_for("views.open", timeout=15)[-1]
    assert opened.ok, (opened.error, (opened.response or {}).get("response_metadata"))
