"""Free text given to `/cm` verbs (a draft, a reason, a template, the voice guide) arrives
as Slack sends it with ``should_escape`` on, and is kept as the member typed it: line
breaks and quotes kept, Slack's escaping undone (links, #channels, @users, &)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.services import voice
from bot.services.watches import get_watch_by_name
from handlers.commands.registry import REGISTRY, Verbs
from storage.models import Approval, Draft
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_listening import admin
from tests.e2e.test_workflow import answer_after_ack, grant, seed, settle, thread_notes
from tests.harness.constants import OTHER_USER_ID, TEAM_ID, USER_ID

TYPED = 'Hi Ana,\n\nsee acme.com/help for "Acme Care" & more. #support ping @bobby'
"""What the community manager typed."""
SENT = ('Hi Ana,\n\nsee <https://acme.com/help|acme.com/help> for "Acme Care" &amp; more. '
        '<#C07SUPPORT1|support> ping <@U07CMBOBBY|bobby>')
"""What Slack sends for it with should_escape on."""


def drafts(vigie: VigieApp) -> list[Draft]:
    with vigie.runtime.sessions() as session:
        return list(session.scalars(select(Draft).order_by(Draft.id)))


CUSTOMER = "@ana@mastodon.social "
"""What a draft of a reply on Mastodon opens with: the customer it answers, whom only a
mention reaches (bot.replies.addressing); the rest is the text as typed."""


def test_a_draft_is_the_text_as_typed(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    reply = vigie.slack.command_answer(f"draft {mention_id} {SENT}", user_id=USER_ID)
    assert "saved" in reply["text"], reply
    saved = drafts(vigie)[-1]
    assert saved.text == CUSTOMER + TYPED
    assert "slack_markup" not in (saved.risk_flags or [])


def test_a_draft_with_a_quote_left_open_is_saved_as_typed(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    reply = vigie.slack.command_answer(f'draft {mention_id} He said “hi\nand "bye',
                                       user_id=USER_ID)
    assert "watch add" not in reply["text"] and "saved" in reply["text"], reply
    assert drafts(vigie)[-1].text == CUSTOMER + 'He said “hi\nand "bye'


def test_reject_and_ignore_reasons_read_as_typed_in_the_thread(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.slash_command(f"draft {mention_id} We are on it.", user_id=USER_ID)
    rejected = vigie.slack.command_answer(
        f"reject {mention_id} see <https://acme.com/x|acme.com/x> &amp; ask "
        '<@U07CMBOBBY|bobby> "now',
        user_id=ADMIN_ID)
    assert "sent back" in rejected["text"], rejected
    settle(vigie)
    note = thread_notes(vigie)[-1]
    assert 'see acme.com/x &amp; ask @bobby "now' in note, note
    assert "&lt;" not in note
    ignored = vigie.slack.command_answer(
        f'ignore {mention_id} dup of <#C07SUPPORT1|support> "again', user_id=USER_ID)
    assert "ignored" in ignored["text"], ignored
    settle(vigie)
    note = thread_notes(vigie)[-1]
    assert 'Reason: dup of #support "again' in note, note


def test_an_override_reason_is_stored_as_typed(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    mention_id = seed(vigie)
    vigie.slack.slash_command(f"draft {mention_id} We will refund you, call +33 6 12 34 56 78 "
                              "or our lawyer. Card 4111 1111 1111 1111")
    grant(vigie, OTHER_USER_ID, "approver")
    ok = vigie.slack.command_answer(
        f'approve {mention_id} v1 legal OK per <https://acme.com/legal|acme.com/legal> "v2',
        user_id=OTHER_USER_ID)
    assert "Mark replied" in ok["text"], ok
    with vigie.runtime.sessions() as session:
        assert session.scalars(select(Approval)).one().reason == 'legal OK per acme.com/legal "v2'


def test_template_and_voice_text_as_typed(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    grant(vigie, OTHER_USER_ID, "approver")
    added = vigie.slack.command_answer(
        "template add help question en Hi {author},\n\nsee "
        "<https://acme.com/help|acme.com/help> &amp; <#C07SUPPORT1|support>",
        user_id=OTHER_USER_ID)
    assert "saved" in added["text"], added
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    (template,) = voice.list_templates(vigie.runtime.sessions, workspace_id)
    assert template.text == "Hi {author},\n\nsee acme.com/help & #support"
    saved = vigie.slack.command_answer('voice Say "hi". Link <https://acme.com|acme.com>',
                                       user_id=ADMIN_ID)
    assert "saved" in saved["text"], saved
    assert voice.get_voice(vigie.runtime.sessions, workspace_id) == 'Say "hi". Link acme.com'


ID_VERBS = ("show", "assign", "draft", "approve", "reject", "replied", "ignore", "reopen")
"""The verbs whose first argument is a mention id."""


@pytest.mark.parametrize("name", ID_VERBS)
def test_a_verb_without_its_id_shows_every_required_argument(vigie_sqlite: VigieApp,
                                                             name: str) -> None:
    sub = REGISTRY.get(name)
    assert sub is not None
    answer = vigie_sqlite.slack.command_answer(name, user_id=ADMIN_ID)["text"]
    assert f"`/cm {sub.usage}`" in answer, answer
    example = answer.rsplit("`/cm ", 1)[1].rstrip("`.")
    required = sub.usage.split("[", 1)[0].split()
    assert len(example.split()) >= len(required), answer


def test_a_verb_without_its_id_in_french(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    vigie.slack.slash_command("lang fr", user_id=ADMIN_ID)
    answer = vigie.slack.command_answer("reject", user_id=ADMIN_ID)["text"]
    assert answer.startswith("Usage : `/cm reject ID reason`, par ex. `/cm reject 42 "), answer


@pytest.mark.parametrize("language", ["en", "fr"])
def test_watch_usage_names_every_verb(vigie_sqlite: VigieApp, language: str) -> None:
    vigie = vigie_sqlite
    vigie.slack.slash_command(f"lang {language}", user_id=ADMIN_ID)
    answer = vigie.slack.command_answer("watch frobnicate", user_id=ADMIN_ID)["text"]
    watch = REGISTRY.get("watch")
    assert watch is not None and isinstance(watch.role, Verbs)
    for verb in watch.role.items:
        assert re.search(rf"\b{verb.name}\b", answer), (verb.name, answer)
    for option in ("kind:", "group:"):
        assert option in answer, answer


def test_lang_without_a_language_shows_its_usage(vigie_sqlite: VigieApp) -> None:
    answer = vigie_sqlite.slack.command_answer("lang", user_id=ADMIN_ID)["text"]
    assert answer == "Usage: `/cm lang en|fr`, e.g. `/cm lang fr`.", answer


def test_a_watch_query_is_read_as_typed(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    added = answer_after_ack(vigie, 'watch add site <http://acme.com|acme.com> OR '
                             '"acme &amp; co" OR <#C07SUPPORT1|panne>', ADMIN_ID)
    assert "created" in added, added
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with vigie.runtime.sessions() as session:
        watch = get_watch_by_name(session, workspace_id, "site")
        assert watch.query == 'acme.com OR "acme & co" OR #panne'


def test_handles_given_to_account_and_influencers_are_read_as_typed(
        vigie_sqlite: VigieApp) -> None:
    # A typed acme.bsky.social arrives as a link, an email-like Mastodon handle as a
    # mailto: link; both were refused as "not a handle" (the escaped text was read).
    vigie = vigie_sqlite
    added = admin(vigie, "account add bluesky <https://acme.bsky.social|acme.bsky.social>")
    assert "@acme.bsky.social on bluesky is now one of the brand's accounts" in added
    added = admin(vigie, "account add mastodon <mailto:acme@mastodon.social|acme@mastodon.social>")
    assert "@acme@mastodon.social on mastodon is now one of the brand's accounts" in added
    assert "removed" in admin(vigie, "account remove bluesky "
                                     "<https://acme.bsky.social|acme.bsky.social>")
    tracked = admin(vigie, "influencers track <https://alice.bsky.social|alice.bsky.social> "
                           "bluesky")
    assert "@alice.bsky.social (bluesky) is tracked" in tracked
