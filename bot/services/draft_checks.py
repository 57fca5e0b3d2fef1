"""What a reply draft is checked against, the same for the editor, saving and suggestions.

A draft answers the customer's newest post in the mention's case (``cases``); it may tag
the author and the brand's own accounts (the risk check warns about any other account);
and it is shown, counted, checked and saved as it will be posted: on Mastodon, mentioning
the author it answers (``bot.replies.addressing``), so the approver approves the real text.
The publisher adds the mention too (a draft saved before), by the same rule.

A conquest opportunity's draft (``bot.services.opportunities``), a message to the author of
a competitor's post, is checked the same way against that post (``post_audience``); Vigie
never posts it, so its text is left as written.

A draft holding personal data (an email, a phone or order number) that another person's
posts, or a reply to them, hold and this conversation does not is flagged
(``foreign_data``): an LLM steered by a post may have copied another customer's data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.replies.addressing import address_reply
from bot.replies.personal import distinctive_spans
from bot.replies.risk import RiskReport, check_draft
from bot.services.brand_accounts import BrandHandles
from storage.models import Draft, Mention, Workspace
from storage.models_cases import CasePost
from storage.repositories import latest_customer_post

__all__ = ["DraftAudience", "draft_audience", "foreign_data", "post_audience"]

MAX_LOOKED_UP = 8
"""Spans of one draft looked up in the workspace."""
LOOKBACK_ROWS = 20_000
"""Posts, and drafts, looked through for them: the newest stored (by id). A bounded scan,
since the check runs while Slack waits for the editor's answer: with 100,000 posts on SQLite,
a draft whose spans no other post holds took 0.75 s to check unbounded, 0.22 s so."""


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

    def check(self, text: str, link_allowlist: Iterable[str] | None = None,
              foreign: Iterable[str] = ()) -> RiskReport:
        """The risk check of ``text`` in this conversation; ``foreign``: its personal data
        found in other conversations (``foreign_data``)."""
        return check_draft(text, network=self.network, mention_text=self.answered,
                           link_allowlist=list(link_allowlist or ()),
                           brand_handles=self.brand_handles,
                           author_handle=self.author_handle, foreign_data=foreign)


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


def foreign_data(session: Session, mention: Mention, text: str) -> tuple[str, ...]:
    """The personal data of the draft ``text`` (``distinctive_spans``: emails, phone and
    order numbers) that another author's mentions, or the drafts answering them, hold and
    that neither this conversation (the mention, its case, the author's own posts) nor the
    workspace's voice guide (the brand's own contacts) holds. Among the newest
    ``LOOKBACK_ROWS`` posts and drafts only."""
    spans = distinctive_spans(text)
    if not spans:
        return ()
    workspace = session.get(Workspace, mention.workspace_id)
    own = [mention.text, mention.title or "", str(((workspace.settings if workspace else None)
                                                   or {}).get("voice") or "")]
    case_id = select(CasePost.case_id).where(
        CasePost.workspace_id == mention.workspace_id,
        CasePost.mention_id == mention.id).scalar_subquery()
    own += list(session.scalars(select(CasePost.text).where(CasePost.case_id == case_id)))
    folded_own = "\n".join(own).casefold()
    spans = [span for span in spans if span.casefold() not in folded_own][:MAX_LOOKED_UP]
    newest_post = session.scalar(select(func.max(Mention.id))) or 0
    newest_draft = session.scalar(select(func.max(Draft.id))) or 0
    others = [Mention.workspace_id == mention.workspace_id, Mention.id != mention.id]
    if mention.author_id is not None:
        others.append(or_(Mention.author_id.is_(None), Mention.author_id != mention.author_id))
    sources = (
        lambda wanted: select(Mention.text, Mention.title).where(
            Mention.id > newest_post - LOOKBACK_ROWS, *others, or_(*(
                column.icontains(span, autoescape=True)
                for span in wanted for column in (Mention.text, Mention.title)))),
        lambda wanted: select(Draft.text).join(Mention, Draft.mention_id == Mention.id).where(
            Draft.id > newest_draft - LOOKBACK_ROWS, *others,
            or_(*(Draft.text.icontains(span, autoescape=True) for span in wanted))),
    )
    found: list[str] = []
    for query in sources:
        # One scan finds a row holding any of the spans still unknown; the spans that row
        # holds are found, and the others looked for again: no leak (the usual case) costs
        # one scan of each table, not one per span.
        wanted = [span for span in spans if span not in found]
        while wanted:
            row = session.execute(query(wanted).limit(1)).first()
            if row is None:
                break
            held = " ".join(str(value or "") for value in row).casefold()
            matched = [span for span in wanted if span.casefold() in held]
            if not matched:  # the database folds case unlike Python: stop rather than loop
                break
            found += matched
            wanted = [span for span in wanted if span not in matched]
    return tuple(span for span in spans if span in found)
