"""`/cm replied ID URL`: the URL is the reply's address, which the card links to."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t
from bot.services import workflow
from bot.services.actors import CLI
from bot.services.cards import load_card_view
from bot.services.errors import ServiceError
from bot.slack.cards import build_card
from storage.db import transaction
from storage.models import Mention
from tests.harness.constants import CHANNEL_ID
from tests.services.test_outbox import add_mention


@pytest.mark.parametrize("url", ["not-a-url", "javascript:alert(1)", "https://", "ftp://x.org/r",
                                 "https://evil.example/<x>"])
def test_marking_replied_refuses_what_is_no_link(
    sessions: sessionmaker[Session], workspace_id: int, url: str,
) -> None:
    mention_id = add_mention(sessions, workspace_id)
    with pytest.raises(ServiceError) as refused:
        workflow.do_mark_replied(sessions, workspace_id, CLI, mention_id, reply_url=url)
    assert refused.value.key == "workflow.bad_reply_url"
    with sessions() as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None and mention.status == "new" and mention.replied_at is None


def test_the_card_links_the_reply_or_shows_no_reply_label(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    mention_id = add_mention(sessions, workspace_id)
    workflow.do_mark_replied(sessions, workspace_id, CLI, mention_id,
                             reply_url="https://m.social/@acme/9")
    with sessions() as session:
        view = load_card_view(session, mention_id, CHANNEL_ID)
    assert view is not None
    assert "<https://m.social/@acme/9|Our reply>" in str(build_card(view, "en")[1])
    with transaction(sessions) as session:  # stored by an older Vigie, before the check
        mention = session.get(Mention, mention_id)
        assert mention is not None
        mention.reply_url = "not-a-url"
    with sessions() as session:
        view = load_card_view(session, mention_id, CHANNEL_ID)
    assert view is not None and "Our reply" not in str(build_card(view, "en")[1])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_refused_action_is_worded_as_its_button_and_the_status_as_shown(
    sessions: sessionmaker[Session], workspace_id: int, language: str,
) -> None:
    """Not "is *ignored*, so `ignore` is not possible" (codes, in French too), but the
    status and the button as the reader sees them on the card."""
    mention_id = add_mention(sessions, workspace_id)
    workflow.do_simple(sessions, workspace_id, CLI, mention_id, "ignore")
    with pytest.raises(ServiceError) as refused:
        workflow.do_simple(sessions, workspace_id, CLI, mention_id, "ignore")
    text = refused.value.message(language)
    assert f"*{t(language, 'status.ignored')}*" in text
    assert t(language, "card.button_ignore") in text
    assert "`ignore`" not in text and "*ignored*" not in text
