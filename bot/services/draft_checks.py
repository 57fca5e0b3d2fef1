"""What a reply draft is checked against, the same for the editor, saving and suggestions.

A draft answers the customer's newest post in the mention's case (``cases``); it may tag
the author and the brand's own accounts (the risk check warns about any other account);
and it is shown, counted, checked and saved as it will be posted: on Mastodon, mentioning
the author it answers (``bot.replies.addressing``), so the approver approves the real text.
The publisher adds the mention too (a draft saved before), by the same rule.

A conquest opportunity's draft (``bot.services.opportunities``), a message to the author of
a competitor's post, is checked the same way against that post (``post_audience``); Vigie
never posts it, so its text is left as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.replies.addressing import address_reply
from bot.replies.risk import RiskReport, check_draft
from bot.services.brand_accounts import BrandHandles
from storage.models import Mention
from storage.repositories import latest_customer_post

__all__ = ["DraftAudience", "draft_audience", "post_audience"]


@dataclass(frozen=True, slots=True)
class DraftAudience:
    """The post a draft answers and the accounts it may tag."""

    network: str
    answered: str
    """Text of the post the reply answers (the customer's newest in the case)."""
    author_handle: str | None = None
    brand_handles: tuple[str, ...] = ()
    follow_up: bool = False
    """``answered`` is a follow-up, not the mention itself."""

    def as_posted(self, text: str) -> str:
        """``text`` as it will be posted (on Mastodon, mentioning the author)."""
        return address_reply(text, self.network, self.author_handle)

    def check(self, text: str, link_allowlist: Iterable[str] | None = None) -> RiskReport:
        """The risk check of ``text`` in this conversation."""
        return check_draft(text, network=self.network, mention_text=self.answered,
                           link_allowlist=list(link_allowlist or ()),
                           brand_handles=self.brand_handles,
                           author_handle=self.author_handle)


def draft_audience(session: Session, mention: Mention) -> DraftAudience:
    """The audience of a reply to ``mention``: its newest customer post, its author, and
    the brand's accounts on its network."""
    latest = latest_customer_post(session, mention)
    brand = BrandHandles.load(session, mention.workspace_id).by_network.get(mention.network)
    return DraftAudience(
        network=mention.network,
        answered=latest.text if latest is not None else mention.text,
        author_handle=mention.author.handle if mention.author else None,
        brand_handles=tuple(sorted(brand or ())),
        follow_up=latest is not None,
    )


def post_audience(session: Session, mention: Mention) -> DraftAudience:
    """The audience of a message to ``mention``'s author about that post itself (a conquest
    opportunity: no case, no follow-up): its text (its title when it has none), its author,
    and the brand's accounts on its network."""
    brand = BrandHandles.load(session, mention.workspace_id).by_network.get(mention.network)
    return DraftAudience(
        network=mention.network,
        answered=mention.text.strip() or (mention.title or ""),
        author_handle=mention.author.handle if mention.author else None,
        brand_handles=tuple(sorted(brand or ())),
    )
