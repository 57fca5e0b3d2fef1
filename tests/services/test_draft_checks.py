"""A draft may tag the author it answers and the brand's own accounts: the risk check of
the editor, of a saved draft and of an LLM suggestion all know them (one audience,
``bot.services.draft_checks``), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.llm import from_config
from bot.messages.notes import plain_text
from bot.replies.limits import measure
from bot.services import opportunities, workflow
from bot.services.actors import CLI, Actor
from bot.services.brand_accounts import do_add_account
from bot.services.drafting import draft_context
from bot.services.suggestions import suggested_context
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import AuditEvent, Draft, Workspace
from storage.models_competitors import Opportunity
from tests.e2e.test_llm_drafting import FakeLLM
from tests.services import test_competitors as competitors_tests
from tests.services import test_mastodon_cases as mastodon_cases
from tests.services.test_cases import ROOT, ingest, mention, tweet, x_batch
from tests.services.test_mastodon_cases import template  # noqa: F401  (fixture)

AGENT = Actor("U0AGENT01", "slash_command")
# Tags the customer (@ana_r, who wrote the mention) and a brand account the mention does not
# name (@AcmeHelp); nobody else.
TEXT = "@ana_r sorry about this! @AcmeHelp will DM you today."
STRANGER = "@ana_r sorry! Ask @someone_else too."


def _saved_flags(sessions: sessionmaker[Session], mention_id: int) -> list[str]:
    with sessions() as session:
        draft = session.query(Draft).filter_by(mention_id=mention_id).order_by(
            Draft.version.desc()).first()
        assert draft is not None
        return [flag["code"] for flag in draft.risk_flags]


def test_the_author_and_brand_accounts_are_not_strangers(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeHelp")
    ingest(sessions, workspace_id, x_batch(ROOT))
    root = mention(sessions, "1001").id

    workflow.do_save_draft(sessions, workspace_id, AGENT, root, TEXT)
    assert "other_accounts" not in _saved_flags(sessions, root)
    context = draft_context(sessions, workspace_id, root)
    assert "risk.other_accounts" not in " ".join(context.risk_keys)
    assert context.risk_level == "none"
    suggested = suggested_context(context, TEXT)
    assert suggested.risk_level == "none"

    # Anyone else is still reported, by all three.
    workflow.do_save_draft(sessions, workspace_id, AGENT, root, STRANGER)
    assert "other_accounts" in _saved_flags(sessions, root)
    assert any("other_accounts" in key
               for key in draft_context(sessions, workspace_id, root).risk_keys)
    assert any("other_accounts" in key
               for key in suggested_context(context, STRANGER).risk_keys)


def test_a_follow_up_is_what_the_draft_is_checked_against(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    """Saving checks the draft against the post it answers, as the editor does."""
    follow_up = tweet("1003", "11", "@AcmeCare still nothing, ask @courier_jo", 50,
                      conversation="1001", reply_to="1001", reply_to_user="11")
    ingest(sessions, workspace_id, x_batch(ROOT, follow_up))
    root = mention(sessions, "1001").id
    text = "@ana_r we asked @courier_jo, sorry for the wait."

    workflow.do_save_draft(sessions, workspace_id, AGENT, root, text)

    assert "other_accounts" not in _saved_flags(sessions, root)
    assert draft_context(sessions, workspace_id, root).risk_level == "none"


def test_a_mastodon_draft_mentions_the_author_as_it_will_be_posted(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        template: dict[str, Any]) -> None:  # noqa: F811  (the fixture)
    """The editor, a suggestion and a saved draft mention the customer on Mastodon (their
    full handle, which counts as its username only), unless the text already does."""
    root = mastodon_cases.status(template, "9001", mastodon_cases.ANA,
                                 "https://other.social/users/ana/statuses/777",
                                 "@acme my order 5512 never arrived", 0)
    mastodon_cases.ingest(sessions, workspace_id, mastodon_cases.fetched(root))
    mention_id = mention(sessions, "https://other.social/users/ana/statuses/777").id

    context = draft_context(sessions, workspace_id, mention_id)
    assert context.text.startswith("@ana@other.social ")
    assert context.used == measure(context.text.replace("@ana@other.social", "@ana"), None)[0]
    assert context.risk_level in {"none", "low"}
    suggested = suggested_context(context, "We're on it!")
    assert suggested.text == "@ana@other.social We're on it!"
    assert (suggested.used, suggested.limit) == (len("@ana We're on it!"), 500)

    workflow.do_save_draft(sessions, workspace_id, AGENT, mention_id, "Sorry Ana!")
    assert _saved_text(sessions, mention_id) == "@ana@other.social Sorry Ana!"
    # Already mentioned (any case, anywhere): kept as written.
    workflow.do_save_draft(sessions, workspace_id, AGENT, mention_id,
                           "Sorry @Ana@other.social!")
    assert _saved_text(sessions, mention_id) == "Sorry @Ana@other.social!"
    assert "other_accounts" not in _saved_flags(sessions, mention_id)


def _saved_text(sessions: sessionmaker[Session], mention_id: int) -> str:
    with sessions() as session:
        draft = session.query(Draft).filter_by(mention_id=mention_id).order_by(
            Draft.version.desc()).first()
        assert draft is not None
        return draft.text


# A competitor's customer on X asking for an alternative: a conquest opportunity.
RIVAL_POST = "Anyone know an alternative to Rivalo? Their app keeps logging me out."
OPP_TEXT = "@ana_r happy to help! @AcmeHelp can show you Acme at acme.help/switch"
OPP_STRANGER = "@ana_r happy to help! Ask @someone_else too."


def _opportunity(sessions: sessionmaker[Session], workspace_id: int) -> int:
    competitors_tests._setup(sessions, workspace_id, conquest=True)
    item = FetchedMention(network="x", external_id="7001", url="https://x.com/ana_r/status/7001",
                          text=RIVAL_POST, author=FetchedAuthor(handle="ana_r", followers=900),
                          published_at=competitors_tests.NOW - timedelta(minutes=5))
    assert competitors_tests._poll(sessions, workspace_id, "rivalo", [item]).opportunities == 1
    with sessions() as session:
        return session.scalars(select(Opportunity.id)).one()


def test_an_opportunity_draft_is_checked_as_a_reply_draft(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer) -> None:
    """The opportunity's editor, its LLM suggestion and a saved draft are risk-checked as a
    reply's are: the post's author and the brand's accounts may be tagged, anyone else is
    reported; links outside the allowed domains too; the length is the network's (X: a
    link counts 23)."""
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeHelp")
    opportunity = _opportunity(sessions, workspace_id)
    act = opportunities.do_opportunity_action

    saved = act(sessions, workspace_id, AGENT, opportunity, "draft", draft=OPP_TEXT,
                link_allowlist=["acme.help"])
    assert (saved.risk_keys, saved.risk_level) == ((), "none")
    start = opportunities.draft_start(sessions, workspace_id, AGENT, opportunity,
                                      link_allowlist=["acme.help"])
    assert (start.text, start.risk_keys, start.risk_level) == (OPP_TEXT, (), "none")
    assert start.used == len("@ana_r happy to help! @AcmeHelp can show you Acme at ") + 23
    # Without the domain allowed, its link is reported, by the editor and on save.
    assert "risk.link_not_allowed" in opportunities.draft_start(
        sessions, workspace_id, AGENT, opportunity).risk_keys
    assert "risk.link_not_allowed" in act(sessions, workspace_id, AGENT, opportunity,
                                          "draft", draft=OPP_TEXT).risk_keys

    # Anyone else tagged is reported: on save (and audited), in the editor, in a suggestion.
    saved = act(sessions, workspace_id, AGENT, opportunity, "draft", draft=OPP_STRANGER)
    assert saved.risk_keys == ("risk.other_accounts",) and saved.risk_level == "warn"
    with sessions() as session:
        detail = session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "opportunity.draft").order_by(AuditEvent.id.desc())).first()
    assert detail is not None and detail["risk_flags"] == ["other_accounts"]
    start = opportunities.draft_start(sessions, workspace_id, AGENT, opportunity)
    assert start.risk_keys == ("risk.other_accounts",)
    assert opportunities.checked_start(start, OPP_STRANGER).risk_keys == (
        "risk.other_accounts",)
    FakeLLM(httpserver, OPP_STRANGER)
    llm = from_config(httpserver.url_for("/v1"), "sk-test-key-not-real-000000",
                      "test-model")
    assert llm is not None
    suggested, error = opportunities.suggest_draft(sessions, llm, replace(start, text=""))
    assert error is None and suggested.text == OPP_STRANGER
    assert suggested.risk_keys == ("risk.other_accounts",)
    # An empty editor (no draft saved yet) warns of nothing.
    assert opportunities.checked_start(start, "").risk_keys == ()
    # A failure says why as a phrase, worded in the reader's language.
    httpserver.clear()
    httpserver.expect_request("/v1/chat/completions").respond_with_data("oops", status=400)
    _, error = opportunities.suggest_draft(sessions, llm, replace(start, text=""))
    assert error is not None
    assert plain_text(error, "fr") == "le fournisseur du LLM a refusé la requête (HTTP 400)"


def test_personal_data_of_another_conversation_is_flagged(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    """A draft to Ana quoting Bob's email, his order number or the case number of the
    reply he got is flagged (an LLM steered by a post may have copied them); Ana's own
    data (this case, her other posts) and the brand's contact in the voice guide are not."""
    ingest(sessions, workspace_id, x_batch(
        ROOT,
        tweet("2001", "22", "@AcmeCare order 778899 lost, write me at bob@mail.example", 5),
        tweet("3001", "11", "@AcmeCare you can reach me at ana@mail.example", 10)))
    root, bob = mention(sessions, "1001").id, mention(sessions, "2001").id
    workflow.do_save_draft(sessions, workspace_id, AGENT, bob,
                           "@bob sorry! Case CS-44551 is open; help@acme.example answers.")
    with transaction(sessions) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        workspace.settings = {**(workspace.settings or {}),
                              "voice": "Friendly. Our contact: help@acme.example"}

    leak = "@ana_r sorry! Like bob@mail.example (order 778899, case CS-44551), it's fixed."
    workflow.do_save_draft(sessions, workspace_id, AGENT, root, leak)
    with sessions() as session:
        draft = session.query(Draft).filter_by(mention_id=root).one()
        (flag,) = [flag for flag in draft.risk_flags if flag["code"] == "foreign_data"]
    assert set(flag["evidence"]) == {"bob@mail.example", "778899", "CS-44551"}
    assert flag["severity"] == "high"
    assert "risk.foreign_data" in draft_context(sessions, workspace_id, root).risk_keys

    own = "@ana_r sorry about order 5512! We wrote to ana@mail.example; help@acme.example too."
    workflow.do_save_draft(sessions, workspace_id, AGENT, root, own)
    assert "foreign_data" not in _saved_flags(sessions, root)


@pytest.mark.parametrize("reason", ["length", "content_filter"])
def test_an_opportunity_suggestion_cut_at_the_token_limit_keeps_its_sentences(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
        reason: str) -> None:
    """finish_reason "length" (or the content filter's): the first message was offered
    whole, ending mid-sentence."""
    start = opportunities.draft_start(sessions, workspace_id, AGENT,
                                      _opportunity(sessions, workspace_id))
    llm = from_config(httpserver.url_for("/v1"), "sk-test-key-not-real-000000", "test-model")
    assert llm is not None
    FakeLLM(httpserver, "@ana_r happy to help! We can show you how to move your",
            finish_reason=reason)
    suggested, error = opportunities.suggest_draft(sessions, llm, replace(start, text=""))
    assert error is None and suggested.text == "@ana_r happy to help!"
    assert suggested.risk_keys == ("risk.cut_off",)
    httpserver.clear()
    FakeLLM(httpserver, "@ana_r we can show you how to move your", finish_reason=reason)
    _, error = opportunities.suggest_draft(sessions, llm, replace(start, text=""))
    assert error is not None and plain_text(error, "en") == (
        "the LLM stopped (at its length limit or its content filter) before finishing a "
        "single sentence")
