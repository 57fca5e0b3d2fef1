"""Slack cuts a modal title over 24 characters: every locale's modal titles fit it whole,
with the longest mention or opportunity id they may show (7 digits)."""

from __future__ import annotations

import pytest

from bot.i18n import SUPPORTED_LANGUAGES, catalogue, t
from bot.slack.modals import build_assign_modal, build_reason_modal

TITLE_LIMIT = 24
LONGEST_ID = 9_999_999
OTHER_MODAL_TITLES = ("opp.draft_title",)
"""Modal titles outside the ``modal`` section (the opportunity draft editor)."""


def modal_title_keys() -> list[str]:
    """Every catalogue key that is a modal's title."""
    keys = [key for key in catalogue("en") if key.startswith("modal.") and key.endswith("_title")]
    return sorted(keys) + list(OTHER_MODAL_TITLES)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("key", modal_title_keys())
def test_modal_titles_fit_slack_with_a_seven_digit_id(language: str, key: str) -> None:
    title = t(language, key, id=LONGEST_ID)
    assert len(title) <= TITLE_LIMIT, (language, key, title, len(title))


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_reason_and_assign_modals_show_their_whole_title(language: str) -> None:
    views = [build_assign_modal(LONGEST_ID, language),
             build_reason_modal("reject", LONGEST_ID, language),
             build_reason_modal("override", LONGEST_ID, language, {"version": 1})]
    for view in views:
        assert str(LONGEST_ID) in view["title"]["text"]
        assert not view["title"]["text"].endswith("…"), view["title"]
