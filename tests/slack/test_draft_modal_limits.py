"""The draft editor opens whatever the post says: its excerpt is cut in the post's text, so
that escaped (``&`` becomes ``&amp;``, five characters) and quoted it still fits Slack's
3000-character section; Slack refused the whole view (``invalid_arguments``) for a post of
600 ``&``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.drafting import DraftContext
from bot.slack.escape import slack_len
from bot.slack.modals import build_draft_modal
from storage.models import DraftOrigin
from tests.harness.blockkit_limits import validate_view
from tests.harness.slack_standin import sdk_view_errors

HOSTILE = st.text(alphabet=st.sampled_from(["&", "<", ">", "😀", "é", " ", "\n", "a", "*", "|"]),
                  max_size=5000)
"""Post text made of what escaping lengthens (``&``, ``<``, ``>``), what Slack counts
twice (an emoji: two UTF-16 units), line breaks (each quoted line gains "> ") and
mrkdwn's markers."""


def editor(post: str, draft: str = "Thanks, we're on it.") -> DraftContext:
    return DraftContext(mention_id=42, network="mastodon", mention_text=post, author="@ana",
                        language="en", text=draft, origin=DraftOrigin.TEMPLATE,
                        used=len(draft), limit=500, risk_keys=(), risk_level="low")


def refusals(view: dict[str, Any]) -> list[str]:
    """What the Slack stand-in refuses in a view it is asked to open."""
    return validate_view(view, "modal") or sdk_view_errors(view)


def excerpt_of(view: dict[str, Any]) -> str:
    return str(view["blocks"][0]["text"]["text"])


@pytest.mark.parametrize("post", ["&" * 600, "<" * 600, ">" * 5000, "&" * 5000,
                                  "😀" * 5000, "&\n" * 2500, "&<>" * 1700])
def test_the_draft_editor_opens_for_a_post_escaping_lengthens(post: str) -> None:
    for language in ("en", "fr"):
        view = build_draft_modal(editor(post), language)
        assert refusals(view) == [], refusals(view)
        excerpt = excerpt_of(view)
        assert slack_len(excerpt) <= 3000
        assert excerpt.startswith("> ") and slack_len(excerpt) > 1000, excerpt[:20]  # shown


def test_a_short_post_is_quoted_whole() -> None:
    view = build_draft_modal(editor("Tom & Jerry <3\nsecond line"), "en")
    assert excerpt_of(view) == "> Tom &amp; Jerry &lt;3\n> second line"


@settings(max_examples=60, deadline=None)
@given(post=HOSTILE, draft=HOSTILE)
def test_any_post_and_draft_make_a_view_slack_accepts(post: str, draft: str) -> None:
    view = build_draft_modal(editor(post, draft), "fr")
    assert refusals(view) == [], refusals(view)
    assert "&amp;amp;" not in excerpt_of(view)
