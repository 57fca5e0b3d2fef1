"""Mastodon conversations join their case (issue 14), on SQLite and PostgreSQL.

A status's ``in_reply_to_id`` is an id local to the instance that served it; Vigie keys
statuses by their URI. The statuses here are the real mastodon.social status of
tests/data/api/mastodon/mastodonpy_status_plain.json (Mastodon.py's cassette), given the
ids, accounts and replies of a customer-care conversation seen through one instance:
a customer on another instance (a remote account, with a mastodon.social-local id), the
brand's account on mastodon.social. The self-reply and the reply to another account are
the real shapes of mastodonpy_status_with_media.json and mastodonpy_status_quote_reply.json.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.ingest import IngestReport, do_ingest
from bot.services.watches import get_watch_by_name
from bot.sources.base import FetchedMention
from bot.sources.mastodon import status_to_mention
from storage.db import transaction
from storage.models import Mention
from storage.models_cases import Case, CasePost

INSTANCE = "https://mastodon.social"
OTHER_INSTANCE = "https://hachyderm.io"
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ANA = {"id": "109000000000000042", "username": "ana", "acct": "ana@other.social",
       "url": "https://other.social/@ana", "uri": "https://other.social/users/ana"}
ACME = {"id": "7", "username": "acme", "acct": "acme", "url": "https://mastodon.social/@acme",
        "uri": "https://mastodon.social/users/acme"}


@pytest.fixture
def template(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / "api/mastodon/mastodonpy_status_plain.json").read_text())


def status(template: dict[str, Any], local_id: str, account: dict[str, Any], uri: str,
           text: str, minute: int, reply_to: tuple[str, str] | None = None) -> dict[str, Any]:
    """The template status, as ``local_id`` on the instance, by ``account``."""
    body = copy.deepcopy(template)
    body.update(id=local_id, uri=uri, url=uri, content=f"<p>{text}</p>", language="en",
                created_at=f"2026-12-05T08:{minute:02d}:00.000Z", edited_at=None,
                in_reply_to_id=reply_to[0] if reply_to else None,
                in_reply_to_account_id=reply_to[1] if reply_to else None)
    body["account"] = {**body["account"], **account}
    return body


def fetched(raw: dict[str, Any], instance: str = INSTANCE) -> FetchedMention:
    item = status_to_mention(raw, instance)
    assert item is not None
    return item


def ingest(sessions: sessionmaker[Session], workspace_id: int, *items: FetchedMention
           ) -> IngestReport:
    with transaction(sessions) as session:
        return do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                         list(items), now=NOW)


def conversation(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    root = status(template, "9001", ANA, "https://other.social/users/ana/statuses/777",
                  "@acme my order 5512 never arrived", 0)
    reply = status(template, "9002", ACME, "https://mastodon.social/users/acme/statuses/9002",
                   "@ana@other.social so sorry, please DM us the order number", 20,
                   reply_to=("9001", ANA["id"]))
    chaser = status(template, "9003", ANA, "https://other.social/users/ana/statuses/778",
                    "sent it an hour ago, still nothing", 50, reply_to=("9002", ACME["id"]))
    return {"root": root, "reply": reply, "chaser": chaser}


def test_a_self_reply_names_its_parent_by_uri(shared_data: Path) -> None:
    raw = json.loads((shared_data / "api/mastodon/mastodonpy_status_with_media.json")
                     .read_text())
    item = fetched(raw)
    assert item.parent_external_id == (
        "https://mastodon.social/users/halcy/statuses/110447001287656894")
    # A reply to someone else names its parent by its id on this instance only.
    quote = fetched(json.loads((shared_data / "api/mastodon/mastodonpy_status_quote_reply.json")
                               .read_text()))
    assert quote.parent_external_id == "https://mastodon.social/statuses/115044053131672379"


def test_a_mastodon_brand_reply_and_follow_up_join_the_case(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        template: dict[str, Any]) -> None:
    do_add_account(sessions, workspace_id, CLI, "mastodon", "@acme@mastodon.social")
    posts = conversation(template)
    ingest(sessions, workspace_id, fetched(posts["root"]))
    assert ingest(sessions, workspace_id, fetched(posts["reply"])).brand_posts == 1
    with sessions() as session:
        root = session.scalars(select(Mention)).one()
        assert root.status == "replied"  # the brand's reply outside Vigie
        assert root.first_response_at == datetime(2026, 12, 5, 8, 20, tzinfo=UTC)
    report = ingest(sessions, workspace_id, fetched(posts["chaser"]))
    assert (report.stored, report.follow_ups, report.reopened, report.alerts) == (1, 1, 1, 0)
    with sessions() as session:
        assert len(session.scalars(select(Case)).all()) == 1
        assert [p.by_brand for p in session.scalars(
            select(CasePost).order_by(CasePost.published_at))] == [False, True, False]


def test_a_reply_arriving_before_its_parent_joins_when_the_parent_comes(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        template: dict[str, Any]) -> None:
    do_add_account(sessions, workspace_id, CLI, "mastodon", "@acme@mastodon.social")
    posts = conversation(template)
    ingest(sessions, workspace_id, fetched(posts["reply"]))  # the brand's reply first
    ingest(sessions, workspace_id, fetched(posts["root"]))
    with sessions() as session:
        assert session.scalars(select(Mention)).one().status == "replied"


def test_the_same_batch_joins_through_local_ids(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        template: dict[str, Any]) -> None:
    do_add_account(sessions, workspace_id, CLI, "mastodon", "@acme@mastodon.social")
    posts = conversation(template)
    report = ingest(sessions, workspace_id,
                    *(fetched(posts[k]) for k in ("root", "reply", "chaser")))
    assert (report.stored, report.brand_posts, report.follow_ups) == (2, 1, 1)


def test_a_reply_seen_through_another_instance_is_not_joined(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        template: dict[str, Any]) -> None:
    """hachyderm.io gives the same posts its own local ids: nothing in the chaser says
    that its parent 5502 there is the brand reply 9002 of mastodon.social."""
    do_add_account(sessions, workspace_id, CLI, "mastodon", "@acme@mastodon.social")
    posts = conversation(template)
    ingest(sessions, workspace_id, fetched(posts["root"]), fetched(posts["reply"]))
    chaser = {**posts["chaser"], "id": "5503", "in_reply_to_id": "5502",
              "in_reply_to_account_id": "31"}
    report = ingest(sessions, workspace_id, fetched(chaser, OTHER_INSTANCE))
    assert (report.stored, report.follow_ups) == (1, 0)
