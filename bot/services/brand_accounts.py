"""The brand's own accounts: the handles it posts from, per network.

A post by one of them is the brand speaking (a reply, not an alert); a mention addressed
to one of them (``@handle`` in the text, a reply to a brand post, an X reply to the brand's
user) is *direct*. Handles are stored as the sources write authors, lower case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.networks import normalize_network
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError
from bot.services.permissions import require_role
from bot.sources import handles
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Role
from storage.models_cases import BrandAccount

MAX_ACCOUNTS = 50

# The typed examples brand accounts show in their errors (a brand's handle, not a person's).
_EXAMPLES = {"x": "@acmecare", "mastodon": "@acme@mastodon.social",
             "bluesky": "@acme.bsky.social", "reddit": "u/acme_support", "hackernews": "acme"}
NETWORKS = tuple(_EXAMPLES)


@dataclass(frozen=True, slots=True)
class AccountView:
    """A brand account as listed."""

    id: int
    network: str
    handle: str


def normalize_handle(network: str, raw: str) -> tuple[str, str]:
    """``(network, handle)`` in stored form; ServiceError naming the expected shape."""
    network = normalize_network(network)
    if network not in _EXAMPLES:
        raise ServiceError("account.bad_network", value=network[:40],
                           valid=", ".join(NETWORKS))
    try:
        # Stored lower case whatever the network: a brand account is compared without case.
        return network, handles.stored_handle(network, raw).lower()
    except handles.HandleError:
        raise ServiceError("account.bad_handle", value=raw.strip()[:80], network=network,
                           example=_EXAMPLES[network]) from None


def do_add_account(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                   network: str, handle: str) -> AccountView:
    """Declare a handle the brand posts from (admins)."""
    network, handle = normalize_handle(network, handle)
    try:
        with transaction(sessions) as session:
            if actor.user_id:
                require_role(session, workspace_id, actor, Role.ADMIN)
            count = len(session.scalars(select(BrandAccount.id).where(
                BrandAccount.workspace_id == workspace_id)).all())
            if count >= MAX_ACCOUNTS:
                raise ServiceError("account.too_many", limit=str(MAX_ACCOUNTS))
            row = BrandAccount(workspace_id=workspace_id, network=network, handle=handle,
                               created_by=actor.name)
            session.add(row)
            session.flush()
            record(session, workspace_id, actor, "account.add",
                   detail={"network": network, "handle": handle})
            return AccountView(row.id, network, handle)
    except IntegrityError:
        raise ServiceError("account.exists", network=network, handle=handle) from None


def do_remove_account(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                      network: str, handle: str) -> AccountView:
    """Forget a brand handle (admins); what it already marked replied stays so."""
    network, handle = normalize_handle(network, handle)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        row = session.scalar(select(BrandAccount).where(
            BrandAccount.workspace_id == workspace_id, BrandAccount.network == network,
            BrandAccount.handle == handle))
        if row is None:
            raise NotFound("account.not_found", network=network, handle=handle)
        view = AccountView(row.id, network, handle)
        session.delete(row)
        record(session, workspace_id, actor, "account.remove",
               detail={"network": network, "handle": handle})
        return view


def list_accounts(sessions: sessionmaker[Session], workspace_id: int) -> list[AccountView]:
    """The workspace's brand accounts, by network and handle."""
    with sessions() as session:
        return [AccountView(r.id, r.network, r.handle) for r in session.scalars(
            select(BrandAccount).where(BrandAccount.workspace_id == workspace_id)
            .order_by(BrandAccount.network, BrandAccount.handle))]


@dataclass(frozen=True, slots=True)
class BrandHandles:
    """The brand's handles by network, loaded once per ingest batch."""

    by_network: dict[str, frozenset[str]]

    @classmethod
    def load(cls, session: Session, workspace_id: int) -> BrandHandles:
        """Read the workspace's accounts."""
        grouped: dict[str, set[str]] = {}
        for network, handle in session.execute(select(
                BrandAccount.network, BrandAccount.handle).where(
                BrandAccount.workspace_id == workspace_id)):
            grouped.setdefault(network, set()).add(handle)
        return cls({n: frozenset(h) for n, h in grouped.items()})

    def __bool__(self) -> bool:
        return bool(self.by_network)

    def covers(self, network: str) -> bool:
        """Whether the brand declared accounts on ``network`` (else "addressed" is unknown)."""
        return bool(self.by_network.get(network))

    def is_brand(self, item: FetchedMention) -> bool:
        """Whether the brand wrote ``item``."""
        handles = self.by_network.get(item.network)
        return bool(handles) and item.author.handle.lower() in handles  # type: ignore[operator]

    def addressed(self, item: FetchedMention) -> str | None:
        """The brand handle ``item`` names in its text, or replies to on X; else None."""
        handles = self.by_network.get(item.network)
        if not handles:
            return None
        replied = item.extra.get("in_reply_to_handle")
        if isinstance(replied, str) and replied.lower() in handles:
            return replied.lower()
        text = item.text.lower()
        for handle in sorted(handles):
            if named_in(handle, item.network, text):
                return handle
        return None


def named_in(handle: str, network: str, text: str) -> bool:
    """Whether ``text`` (lower case) names ``handle`` as the network writes mentions."""
    if network == "hackernews":
        return False  # no mention syntax: a bare word is not an address
    names = [handle]
    if network == "mastodon":
        names.append("@" + handle.split("@")[1])  # "@acme" without its instance
    elif network == "reddit":
        names.append("/" + handle)
    for name in names:
        for found in re.finditer(re.escape(name), text):
            before = text[found.start() - 1] if found.start() else " "
            after = text[found.end()] if found.end() < len(text) else " "
            if not (before.isalnum() or before in "@_/") and not (
                    after.isalnum() or after in "_" or (after in "@." and network != "x"
                                                        and found.end() + 1 < len(text)
                                                        and text[found.end() + 1].isalnum())):
                return True
    return False
