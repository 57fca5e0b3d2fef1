"""Cases: a customer's conversation with the brand, built from the parent ids sources read.

Ingest calls three hooks, inside its transaction:

- ``take_brand_posts`` (before matching): posts by the brand's own accounts are not
  mentions. Each is filed as a case post; one that replies to a customer's mention marks
  that case replied, with the brand post's published time as the first response. One that
  replies to a post of the same batch is linked once that post is stored and in its case
  (``attach_mentions``; ``settle_brand_replies`` when it was not stored): a follow-up's
  answer is its case's.
- ``conversation_items`` (before matching): posts replying into a known conversation are
  kept even when they do not match the watch's query ("still nothing", an order number);
  ``returning_customers`` lists the new posts that will join an open case (they write
  again, and are kept too when addressed to the brand).
- ``attach_mentions`` (after insert): a customer's follow-up joins the case instead of
  getting a card of its own: a reply in its thread (or where their first reply, in no case
  yet, replied: twice under a brand post Vigie never held), or a new post of theirs on the same
  network while the case is open and active within ``RETURNING_WINDOW`` (addressed to the
  brand, or matched by a watch holding the case; for brand watches, outside stories).
  The case's cards (one per channel its watches and topic routes sent it to) are updated
  and their threads get the follow-up, and a replied case reopens with its SLA restarted
  when the follow-up is a reply in its thread written after the brand's latest answer
  (whichever reached Vigie first); a new post never reopens an answered case:
  it is a new request, with its own card. A case whose first mention never had a card (it
  waited for the digest, or the brand answered first) gets its card when a follow-up is
  above the watch's threshold, or reopens it: it waits on the brand, and is open work as a
  card. The follow-up's status becomes ``follow_up``: it is no open work of its own
  (listings, the digest, the Home, SLA checks leave it out), and the workflow acts on the
  case's first mention for its id (``bot.services.workflow``).

Cases are created lazily, when a second post of a conversation arrives. Several workers
and sources never create a case or file a post twice: inserts go through the unique keys
(``ON CONFLICT DO NOTHING``) and the winner's row is read back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import handle_key
from bot.messages.notes import Note, Text
from bot.messages.show import ConversationPost
from bot.networks import get_network
from bot.services import forgotten
from bot.services.actors import BRAND_ACCOUNT, CUSTOMER
from bot.services.audit import record
from bot.services.brand_accounts import BrandHandles, named_in
from bot.services.errors import ServiceError
from bot.services.late_cards import never_carded, queue_card
from bot.services.topic_channels import channel_picker
from bot.services.triage_learning import alert_threshold
from bot.services.workflow import OPEN, RULES, CardNotes, mark_replied, transition
from bot.services.workspaces import workspace_language
from bot.sources.base import FetchedMention, anonymous_handle
from storage.bulk import one_of, one_of_read_first
from storage.claims import advisory_lock
from storage.models import Author, Mention, MentionStatus, Watch, utcnow
from storage.models_base import as_utc
from storage.models_cases import Case, CasePost, PostAlias, QuietMention
from storage.models_competitors import WATCH_BRAND
from storage.models_sla import SlaNotice
from storage.models_watches import MentionWatch
from storage.upserts import insert_or_skip

log = logging.getLogger(__name__)

BRAND = BRAND_ACCOUNT
"""Who marks a case replied when the brand answered from its own account."""
NOTE_TEXT = 500
REOPENS = frozenset({MentionStatus.REPLIED.value, MentionStatus.CLOSED.value})
RETURNING_WINDOW = timedelta(hours=24)
"""How recent a customer's open case must be (its last post) for a new post of theirs
that is not a reply in it to join it. A customer asking again the same day ("still no
answer?", "3rd time asking") is chasing the question the team has not answered yet: one
card, one SLA, one answer; a day later with nothing heard it is as likely a new request,
and a busy day's backlog is still inside it."""
_OPEN_VALUES = sorted(s.value for s in OPEN)


def thread_root(item: FetchedMention) -> str | None:
    """The conversation root a source gave (X ``conversation_id``, Bluesky reply root)."""
    value = item.extra.get("conversation_id") or item.extra.get("thread_root")
    return str(value)[:500] if value and str(value) != item.external_id else None


@dataclass(frozen=True, slots=True)
class _Stored:
    """A post Vigie already holds: a case post or a stored mention."""

    case_id: int | None
    mention_id: int | None
    author: str
    by_brand: bool


def _stored(session: Session, workspace_id: int, network: str, external_id: str
            ) -> _Stored | None:
    row = session.execute(select(CasePost.case_id, CasePost.mention_id, CasePost.author,
                                 CasePost.by_brand).where(
        CasePost.workspace_id == workspace_id, CasePost.network == network,
        CasePost.external_id == external_id)).first()
    if row is not None and (row.case_id is not None or row.by_brand):
        return _Stored(row.case_id, row.mention_id, row.author, row.by_brand)
    found = session.execute(select(Mention.id, Author.handle).join(
        Author, Author.id == Mention.author_id, isouter=True).where(
        Mention.workspace_id == workspace_id, Mention.network == network,
        Mention.external_id == external_id)).first()
    if found is None:
        return None
    return _Stored(None, found.id, (found.handle or "").lower(), False)


class _Known:
    """The posts a batch's replies name (their parents and thread roots) as ``_stored``
    reads them: two statements for the batch, then kept as the batch files its posts
    (``filed``); a post whose row changed otherwise is read again (``forget``)."""

    def __init__(self, session: Session, workspace_id: int,
                 items: Iterable[FetchedMention]) -> None:
        self.session = session
        self.workspace_id = workspace_id
        wanted: dict[str, set[str]] = {}
        for item in items:
            for key in (item.parent_external_id, thread_root(item)):
                if key:
                    wanted.setdefault(item.network, set()).add(key)
        self.posts: dict[tuple[str, str], _Stored | None] = {}
        case_ids: set[int] = set()
        for network, keys in wanted.items():
            listed = sorted(keys)
            mentions = {key: _Stored(None, mention_id, (handle or "").lower(), False)
                        for key, mention_id, handle in session.execute(
                            select(Mention.external_id, Mention.id, Author.handle).join(
                                Author, Author.id == Mention.author_id, isouter=True).where(
                                Mention.workspace_id == workspace_id,
                                Mention.network == network,
                                one_of(session, Mention.external_id, listed)))}
            posts = {}
            for key, case_id, mention_id, author, by_brand in session.execute(select(
                    CasePost.external_id, CasePost.case_id, CasePost.mention_id,
                    CasePost.author, CasePost.by_brand).where(
                    CasePost.workspace_id == workspace_id, CasePost.network == network,
                    one_of(session, CasePost.external_id, listed))):
                if case_id is not None or by_brand:
                    posts[key] = _Stored(case_id, mention_id, author, by_brand)
                    if case_id is not None:
                        case_ids.add(case_id)
            for key in listed:
                self.posts[(network, key)] = posts.get(key, mentions.get(key))
        if case_ids:  # the cases they are in, for session.get
            session.scalars(select(Case).where(one_of(session, Case.id, sorted(case_ids))))\
                .all()

    def get(self, network: str, key: str) -> _Stored | None:
        """What ``_stored`` reads for ``key`` now."""
        if (network, key) not in self.posts:
            self.posts[(network, key)] = _stored(self.session, self.workspace_id, network, key)
        return self.posts[(network, key)]

    def filed(self, item: FetchedMention, case_id: int, mention_id: int) -> None:
        """``item`` was just filed in ``case_id`` as the customer's ``mention_id``."""
        self.posts[(item.network, item.external_id)] = _Stored(
            case_id, mention_id, item.author.handle.lower(), False)

    def forget(self, network: str, key: str) -> None:
        """The post ``key`` may have been filed in a case since it was read."""
        self.posts.pop((network, key), None)


def _file_post(session: Session, workspace_id: int, item: FetchedMention, *,
               case_id: int | None, mention_id: int | None, by_brand: bool) -> bool:
    """Insert ``item`` as a case post; False when it was already filed."""
    statement = insert_or_skip(session, CasePost).values(
        workspace_id=workspace_id, case_id=case_id, mention_id=mention_id,
        network=item.network, external_id=item.external_id,
        parent_external_id=item.parent_external_id, by_brand=by_brand,
        author=item.author.handle.lower(), url=item.url, text=item.text[:4000],
        published_at=item.published_at)
    # RETURNING, not rowcount: PostgreSQL's driver gives -1 for an INSERT that returns the
    # new id, which read as filed when the post was in a case already.
    return session.execute(statement.returning(CasePost.id)).first() is not None


def _case_of_mention(session: Session, workspace_id: int, mention_id: int,
                     thread: str | None) -> Case:
    """The case ``mention_id`` belongs to, created with it as its root if it has none."""
    case_id = session.scalar(select(CasePost.case_id).where(CasePost.mention_id == mention_id))
    if case_id is not None:
        case = session.get(Case, case_id)
        assert case is not None
        return case
    mention = session.get(Mention, mention_id)
    assert mention is not None
    if mention.author is None:
        # Anonymous (``Author.anonymous``): two such posts in one thread are two people, so
        # the post is a customer of its own, in upper case as no lower-cased handle is: no
        # other post's case is found or kept by it. Its case post shows the placeholder.
        customer = f"ANONYMOUS:{mention.id}"
        author = anonymous_handle(mention.network).lower()
    else:
        customer = author = mention.author.handle.lower()
    key = thread or mention.external_id
    session.execute(insert_or_skip(session, Case).values(
        workspace_id=workspace_id, network=mention.network, thread_key=key,
        customer=customer, root_mention_id=mention.id, state="open",
        follow_ups=0, reopened=0, created_at=mention.created_at,
        updated_at=mention.created_at))
    case = session.scalar(select(Case).where(
        (Case.root_mention_id == mention.id) | (
            (Case.workspace_id == workspace_id) & (Case.network == mention.network)
            & (Case.thread_key == key) & (Case.customer == customer))).order_by(Case.id)
        .limit(1))
    assert case is not None
    session.execute(insert_or_skip(session, CasePost).values(
        workspace_id=workspace_id, case_id=case.id, mention_id=mention.id,
        network=mention.network, external_id=mention.external_id,
        parent_external_id=mention.parent_external_id, by_brand=False, author=author,
        url=mention.url, text=mention.text[:4000], published_at=mention.published_at,
    ))
    return case


def _case_for(session: Session, workspace_id: int, item: FetchedMention,
              customer: str | None, known: _Known | None = None) -> Case | None:
    """The case ``item`` continues: through its parent (a case post, the customer's own
    mention, or a brand post in a case) or its thread root. ``customer`` None: any
    customer's mention (a brand reply); otherwise only that customer's case. ``known``:
    the batch's posts read already. A brand reply found only through its thread root (its
    parent is a post Vigie does not hold: someone else's, perhaps) is the case's only when
    addressed to its customer (``_addressed_to``)."""
    root = thread_root(item)
    for key in (item.parent_external_id, root):
        if not key:
            continue
        stored = (known.get(item.network, key) if known is not None
                  else _stored(session, workspace_id, item.network, key))
        if stored is None:
            continue
        guessed = (customer is None and item.parent_external_id is not None
                   and key != item.parent_external_id)
        if stored.case_id is not None:
            case = session.get(Case, stored.case_id)
            if guessed and case is not None and not _addressed_to(item, case.customer):
                continue
        elif stored.mention_id is not None and customer in (None, stored.author):
            if guessed and not _addressed_to(item, stored.author):
                continue
            case = _case_of_mention(session, workspace_id, stored.mention_id, root)
            if known is not None:
                known.forget(item.network, key)
        else:
            continue
        if case is not None and customer in (None, case.customer):
            return case
    if customer and (root or item.parent_external_id):
        case = session.scalar(select(Case).where(
            Case.workspace_id == workspace_id, Case.network == item.network,
            Case.thread_key == root, Case.customer == customer)) if root else None
        if case is None:
            earlier = _earlier_in_thread(session, workspace_id, item, customer, root)
            if earlier is not None:
                case = _case_of_mention(session, workspace_id, earlier[0], root)
                if known is not None:
                    known.forget(item.network, earlier[1])
        return case
    return None


def _earlier_in_thread(session: Session, workspace_id: int, item: FetchedMention,
                       customer: str, root: str | None) -> tuple[int, str] | None:
    """The first open mention by ``customer`` (id, external id), written before ``item``
    and replying where it replies (to its parent or to the thread root ``root``), in no
    case but one it roots: twice under a brand post Vigie never held ("your update broke
    my login", then "still can't log in"), they are one request, whose case the first
    starts."""
    keys = sorted({key for key in (root, item.parent_external_id) if key})
    authors = select(Author.id).where(
        Author.workspace_id == workspace_id, Author.network == item.network,
        Author.handle_key == handle_key(customer),
        func.lower(Author.handle, type_=Author.handle.type) == customer)
    found = session.execute(
        select(Mention.id, Mention.external_id).where(
            Mention.author_id.in_(authors), Mention.workspace_id == workspace_id,
            Mention.network == item.network, Mention.external_id != item.external_id,
            Mention.published_at <= item.published_at,
            Mention.parent_external_id.in_(keys), Mention.status.in_(_OPEN_VALUES),
            ~select(CasePost.id).join(Case, Case.id == CasePost.case_id).where(
                CasePost.mention_id == Mention.id,
                Case.root_mention_id != Mention.id).exists())
        .order_by(Mention.published_at, Mention.id).limit(1)).first()
    return None if found is None else (found.id, found.external_id)


def _addressed_to(item: FetchedMention, customer: str) -> bool:
    """Whether the brand's reply ``item`` answers ``customer`` (a lower-case handle): X
    names the account it replies to (``in_reply_to_handle``); a Bluesky post's address
    names its author's account (``at://DID/...``): a reply to a post by the thread root's
    author answers them; elsewhere its text must name them (an HN reply names no one: it
    waits for the post it answers, ``_answers_waiting``).
    """
    replied = item.extra.get("in_reply_to_handle")
    if isinstance(replied, str):
        return replied.lower() == customer
    parent, root = _account_of(item.parent_external_id), _account_of(thread_root(item))
    if parent is not None and parent == root:
        return True
    return bool(customer) and named_in(customer, item.network, item.text.lower())


def _account_of(uri: str | None) -> str | None:
    """The account (DID) an AT URI's post is by; None for other ids."""
    if not uri or not uri.startswith("at://"):
        return None
    return uri[len("at://"):].split("/", 1)[0] or None


def resolve_local_parents(session: Session, workspace_id: int,
                          fetched: Sequence[FetchedMention]) -> list[FetchedMention]:
    """``fetched`` with each parent named by a local key (a Mastodon ``in_reply_to_id``,
    see ``bot.sources.mastodon``) replaced by the parent's external id when a post
    fetched through the same instance had that key (in this batch or stored before);
    the batch's own local keys are remembered for the replies to come. Two statements
    for a batch that has local keys, none otherwise."""
    own = {(item.network, str(item.extra["local_key"])): item.external_id
           for item in fetched if item.extra.get("local_key")}
    if not own:
        return list(fetched)
    session.execute(insert_or_skip(session, PostAlias), [
        {"workspace_id": workspace_id, "network": network, "alias": alias[:500],
         "external_id": external_id, "created_at": utcnow()}
        for (network, alias), external_id in sorted(own.items())])
    wanted = {(item.network, str(item.extra["in_reply_to_local"])) for item in fetched
              if item.extra.get("in_reply_to_local")
              and item.parent_external_id == item.extra["in_reply_to_local"]}
    missing = sorted(key for key in wanted if key not in own)
    known = dict(own)
    for network in {network for network, _alias in missing}:
        known.update(((network, alias), external_id) for alias, external_id in session.execute(
            select(PostAlias.alias, PostAlias.external_id).where(
                PostAlias.workspace_id == workspace_id, PostAlias.network == network,
                PostAlias.alias.in_([a for n, a in missing if n == network]))))
    return [replace(item, parent_external_id=known[key])
            if (key := (item.network, str(item.extra.get("in_reply_to_local")))) in wanted
            and key in known else item for item in fetched]


def drop_brand_posts_to_forgotten(session: Session, workspace_id: int,
                                  fetched: Sequence[FetchedMention], handles: BrandHandles
                                  ) -> tuple[list[FetchedMention], int]:
    """``fetched`` without the brand's posts that answer a forgotten person alone (reply to
    one of the posts a forget deleted, or address no one else), and how many went: filed,
    they kept the person's handle and what the brand wrote them, the post they answer gone.
    A post that also addresses someone not forgotten stays, their names redacted
    (``forgotten.settle_answers``), as a forget leaves it: it is the other person's
    answer (their case is answered, its SLA stops)."""
    if not handles:
        return list(fetched), 0
    settled = forgotten.settle_answers(session, workspace_id, [
        ((item.network, item.external_id), item.parent_external_id, item.text,
         replied if isinstance(replied := item.extra.get("in_reply_to_handle"), str) else None)
        for item in fetched if handles.is_brand(item)],
        [handle for names in handles.by_network.values() for handle in names])
    if not settled:
        return list(fetched), 0
    kept: list[FetchedMention] = []
    for item in fetched:
        key = (item.network, item.external_id)
        if key not in settled or not handles.is_brand(item):
            kept.append(item)
        elif (text := settled[key]) is not None:
            kept.append(replace(item, text=text))
    return kept, len(fetched) - len(kept)


def take_brand_posts(session: Session, workspace_id: int, fetched: Sequence[FetchedMention],
                     handles: BrandHandles | None = None
                     ) -> tuple[list[FetchedMention], BrandHandles, int]:
    """File the brand's own posts (never alerts); return the others, the brand's handles
    (read when not given), and how many brand posts there were."""
    if handles is None:
        handles = BrandHandles.load(session, workspace_id)
    if not handles:
        return list(fetched), handles, 0
    others: list[FetchedMention] = []
    replies: list[FetchedMention] = []
    brand = 0
    for item in fetched:
        if not handles.is_brand(item):
            others.append(item)
            continue
        brand += 1
        if _file_post(session, workspace_id, item, case_id=None, mention_id=None,
                      by_brand=True) and item.parent_external_id:
            replies.append(item)
    if replies:
        _rendezvous(session, workspace_id, exclusive=True)
    batch = {(item.network, item.external_id) for item in others}
    for item in replies:
        if (item.network, item.parent_external_id) in batch and _stored(
                session, workspace_id, item.network, str(item.parent_external_id)) is None:
            # It answers a post of this batch, not stored yet: that post may join a case
            # (a follow-up), whose answer this is. Linked once the batch's posts are in
            # their cases (``attach_mentions``, else ``settle_brand_replies``).
            continue
        _link_brand_reply(session, workspace_id, item)
    return others, handles, brand


def _link_brand_reply(session: Session, workspace_id: int, item: FetchedMention) -> None:
    """File the brand's reply ``item`` in the case it answers, which it marks replied."""
    case = _case_for(session, workspace_id, item, None)
    if case is not None:
        session.execute(update(CasePost).where(
            CasePost.workspace_id == workspace_id, CasePost.network == item.network,
            CasePost.external_id == item.external_id).values(case_id=case.id))
        _mark_replied(session, case, item.url, item.published_at, item.author.handle)


def settle_brand_replies(session: Session, workspace_id: int,
                         fetched: Sequence[FetchedMention], handles: BrandHandles) -> None:
    """After the batch's posts are stored and in their cases: the brand's replies of
    ``fetched`` to a post of the same batch that are still in no case (the post they
    answer was not stored: another watch's words, a duplicate) are linked as
    ``take_brand_posts`` links the others (through the thread)."""
    if not handles:
        return
    batch = {(item.network, item.external_id) for item in fetched if not handles.is_brand(item)}
    for item in fetched:
        if not (handles.is_brand(item) and item.parent_external_id
                and (item.network, item.parent_external_id) in batch):
            continue
        if session.scalar(select(CasePost.id).where(
                CasePost.workspace_id == workspace_id, CasePost.network == item.network,
                CasePost.external_id == item.external_id, CasePost.by_brand.is_(True),
                CasePost.case_id.is_(None))) is not None:
            _link_brand_reply(session, workspace_id, item)


RENDEZVOUS = 0x56494745
"""First key of the advisory locks by which brand replies and customer mentions of one
workspace meet (the second is the workspace id)."""


def _rendezvous(session: Session, workspace_id: int, *, exclusive: bool) -> None:
    """On PostgreSQL, until the transaction ends: brand replies look for the mentions they
    answer (``exclusive``) only when no batch that stored mentions is still uncommitted,
    and mentions look for the brand replies filed before them (shared) only once the
    batches filing replies have committed. A reply and the post it answers, stored at
    the same instant by two workers, each invisible to the other's transaction, are
    linked whichever arrives first: the second to take the lock sees the first. (One
    process holds SQLite, and one batch sees its own rows.)"""
    advisory_lock(session, RENDEZVOUS, workspace_id, exclusive=exclusive)


def _mark_replied(session: Session, case: Case, url: str | None, when: datetime,
                  handle: str) -> None:
    """The brand answered ``case`` at ``when``. Found after the customer wrote again (a
    follow-up published later, that reached Vigie first), it is what arriving in order
    would have made it: the case's first response, then reopened by that follow-up."""
    later = session.execute(
        select(CasePost.mention_id, Mention.created_at)
        .join(Mention, Mention.id == CasePost.mention_id)
        .where(CasePost.case_id == case.id, CasePost.by_brand.is_(False),
               CasePost.published_at > when)
        .order_by(CasePost.published_at.desc(), CasePost.id.desc()).limit(1)).first()
    root = session.get(Mention, case.root_mention_id)
    if later is not None and root is not None and root.first_response_at is not None:
        return  # answered already; this older answer changes nothing: they still wait
    if later is None:
        case.state = "replied"
    if root is None or root.status not in {s.value for s in OPEN}:
        return  # already answered (a reply Vigie posted comes back through the feed)
    try:
        mark_replied(session, case.workspace_id, BRAND, root, reply_url=url, now=when,
                     note_key="cases.note_brand_reply", note_params={"handle": handle})
    except ServiceError as err:  # a reply Vigie is posting, or a concurrent change
        log.info("case %s: brand reply not recorded on #%s (%s)", case.id, root.id, err.key)
        return
    if later is not None:
        # From when that follow-up reached Vigie, as its arrival in order would have.
        language = workspace_language(session, case.workspace_id)
        _reopen(session, case, root, later.created_at, Note.of(language, "cases.note_reopened"),
                later.mention_id)


def _reopen(session: Session, case: Case, root: Mention, started: datetime, note: Note,
            follow_up: int, cards: CardNotes | None = None) -> bool:
    """The customer's follow-up ``follow_up`` came after the brand's answer: ``case`` waits
    on the brand again, its SLA from ``started``. Whether its first mention reopened."""
    session.execute(update(Case).where(Case.id == case.id).values(
        state="open", sla_started_at=started, reopened=Case.reopened + 1))
    session.expire(case, ["state", "sla_started_at", "reopened"])
    session.execute(delete(SlaNotice).where(SlaNotice.mention_id == root.id))
    try:
        transition(session, case.workspace_id, root, CUSTOMER, "reopen", RULES["reopen"],
                   note=note, detail={"follow_up": follow_up}, cards=cards)
    except ServiceError as err:
        log.info("case %s: not reopened (%s)", case.id, err.key)
        return False
    return True


def conversation_items(session: Session, workspace_id: int,
                       fetched: Iterable[FetchedMention]) -> dict[tuple[str, str], bool]:
    """(network, external id) -> True for the posts by a conversation's customer replying
    into it (writing again), False for replies to a brand post (addressed to the brand):
    both are kept whatever the watch's query says. A bystander's reply is not listed."""
    wanted: dict[str, set[str]] = {}
    for item in fetched:
        for key in (item.parent_external_id, thread_root(item)):
            if key:
                wanted.setdefault(item.network, set()).add(key)
    owners: dict[tuple[str, str], set[str]] = {}
    anyone = "*"
    for network, keys in wanted.items():
        listed = sorted(keys)
        for key, handle in session.execute(select(Mention.external_id, Author.handle).join(
                Author, Author.id == Mention.author_id, isouter=True).where(
                Mention.workspace_id == workspace_id, Mention.network == network,
                Mention.external_id.in_(listed))):
            owners.setdefault((network, key), set()).add((handle or "").lower())
        for key, author, by_brand, customer in session.execute(select(
                CasePost.external_id, CasePost.author, CasePost.by_brand, Case.customer).join(
                Case, Case.id == CasePost.case_id, isouter=True).where(
                CasePost.workspace_id == workspace_id, CasePost.network == network,
                CasePost.external_id.in_(listed))):
            owners.setdefault((network, key), set()).add(
                anyone if by_brand else (customer or author))
        for key, customer in session.execute(select(Case.thread_key, Case.customer).where(
                Case.workspace_id == workspace_id, Case.network == network,
                Case.thread_key.in_(listed))):
            owners.setdefault((network, key), set()).add(customer)
    kept: dict[tuple[str, str], bool] = {}
    for item in fetched:
        # An anonymous author is no conversation's customer (a reply to the brand still is
        # addressed to it).
        author = None if item.author.anonymous else item.author.handle.lower()
        for key in (item.parent_external_id, thread_root(item)):
            allowed = owners.get((item.network, key or ""), set())
            if author is not None and author in allowed:
                kept[(item.network, item.external_id)] = True
            elif anyone in allowed:
                kept.setdefault((item.network, item.external_id), False)
    return kept


def brand_parents(session: Session, workspace_id: int, fetched: Iterable[FetchedMention]
                  ) -> dict[tuple[str, str], str]:
    """(network, id) -> brand handle, for the parents among ``fetched`` the brand wrote."""
    wanted: dict[str, set[str]] = {}
    for item in fetched:
        if item.parent_external_id:
            wanted.setdefault(item.network, set()).add(item.parent_external_id)
    found: dict[tuple[str, str], str] = {}
    for network, keys in wanted.items():
        found.update(((network, key), author) for key, author in session.execute(
            select(CasePost.external_id, CasePost.author).where(
                CasePost.workspace_id == workspace_id, CasePost.network == network,
                CasePost.by_brand.is_(True), CasePost.external_id.in_(sorted(keys)))))
    return found


@dataclass
class Attached:
    """What ``attach_mentions`` did: mentions that must not get cards of their own."""

    silenced: set[int] = field(default_factory=set)
    follow_ups: int = 0
    alerts: int = 0
    """Cases a follow-up made urgent: their root's card was queued."""
    reopened: int = 0
    replied: int = 0


def attach_mentions(session: Session, watch: Watch, items: dict[int, FetchedMention],
                    priorities: dict[int, int], quiet: set[int], *, now: datetime,
                    handles: BrandHandles) -> Attached:
    """File the batch's new mentions (id -> fetched) into cases; see the module docstring."""
    done = Attached()
    answers: list[CasePost] = []
    if handles and items:
        _rendezvous(session, watch.workspace_id, exclusive=False)
        answers = _answers_waiting(session, watch.workspace_id, items)
    replies = {m: item for m, item in items.items()
               if item.parent_external_id or thread_root(item)}
    known = _Known(session, watch.workspace_id, replies.values()) if replies else None
    # The brand replies filed before the posts they answer (in this batch too) and the
    # customer's replies go in turns, as the conversation went: a brand reply to a post
    # that is a reply waits until that post has joined its case (the answer is then its
    # case's, not a case of its own), and a reply to a brand post waits until that post
    # is in its case (the follow-up then finds it). A brand reply whose post joins no case
    # starts one with it (``forced``), and the replies to it are tried again.
    # An anonymous author is no customer to tell: their posts are never "their" case's.
    waiting = sorted(m for m, item in replies.items() if not item.author.anonymous)
    forced = False
    while True:
        answers, answered = _answered_before(session, watch.workspace_id, items, answers,
                                             done, known, () if forced else waiting)
        joining: list[_Joining] = []
        left: list[int] = []
        for mention_id in waiting:
            item = replies[mention_id]
            case = _case_for(session, watch.workspace_id, item, item.author.handle.lower(),
                             known)
            if case is None:
                left.append(mention_id)
                continue
            if case.root_mention_id == mention_id or not _file_post(
                    session, watch.workspace_id, item, case_id=case.id,
                    mention_id=mention_id, by_brand=False):
                continue
            if known is not None:
                known.filed(item, case.id, mention_id)
            joining.append(_Joining(case, mention_id, item, priorities.get(mention_id, 0),
                                    mention_id in quiet))
        _join(session, watch, joining, now, done)
        waiting = left
        if not (answered or joining):
            if forced or not answers:
                break
            forced = True
    if watch.kind == WATCH_BRAND:
        _join_returning(session, watch, items, priorities, quiet, now, handles, done)
    return done


@dataclass(frozen=True, slots=True)
class _OpenCase:
    """A customer's open case (or open mention, the root of the case it will start)."""

    mention_id: int
    activity: datetime
    in_watch: bool
    """Whether the watch at hand holds it."""


REPOSTED_BY = ("retweeted_by", "reblogged_by")
"""The ``extra`` keys a source sets on a post it unwrapped from someone else's repost."""


def _top_level(item: FetchedMention, now: datetime) -> bool:
    """Whether ``item`` may return to its author's open case as a new post: it is no reply
    in a thread, on a network of people the team answers; a feed's entries (a news site's
    articles, one author for all) are publications, not a customer asking again. Nor is
    a post someone else reposted (a retweet, a boost: the repost is the other person's
    doing, the post may be weeks old), nor one written before ``RETURNING_WINDOW``, nor
    one by an anonymous author (``Author.anonymous``: two deleted accounts are not one)."""
    network = get_network(item.network)
    return (network is not None and network.drafts_replies and not item.author.anonymous
            and not (item.parent_external_id or thread_root(item))
            and not any(item.extra.get(key) for key in REPOSTED_BY)
            and as_utc(item.published_at) >= as_utc(now) - RETURNING_WINDOW)


def _open_cases(session: Session, watch: Watch, items: Iterable[FetchedMention],
                now: datetime, batch: Sequence[int] = ()
                ) -> dict[tuple[str, str], list[_OpenCase]]:
    """(network, lower-case handle) -> the open cases of the authors of ``items`` active
    within ``RETURNING_WINDOW``: a mention by them that is open work (alerted, taken up,
    or among ``batch``: this batch's mentions about to alert), in a brand watch, neither
    backfilled nor in a story, and the root of an open case or in none yet. One statement
    per network."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        wanted.setdefault(item.network, set()).add(item.author.handle.lower()[:200])
    since = now - RETURNING_WINDOW
    brand = select(Watch.id).where(Watch.workspace_id == watch.workspace_id,
                                   Watch.kind == WATCH_BRAND)
    in_watch = select(MentionWatch.mention_id).where(
        MentionWatch.mention_id == Mention.id, MentionWatch.watch_id == watch.id).exists()
    found: dict[tuple[str, str], list[_OpenCase]] = {}
    for network, customers in wanted.items():
        authors = select(Author.id).where(
            Author.workspace_id == watch.workspace_id, Author.network == network,
            one_of(session, Author.handle_key, sorted({handle_key(h) for h in customers})),
            one_of(session, func.lower(Author.handle, type_=Author.handle.type),
                   sorted(customers)))
        for mention_id, customer, created_at, updated_at, here in session.execute(
                select(Mention.id, func.lower(Author.handle), Mention.created_at,
                       Case.updated_at, in_watch)
                .join(Author, Author.id == Mention.author_id)
                .outerjoin(CasePost, CasePost.mention_id == Mention.id)
                .outerjoin(Case, Case.id == CasePost.case_id)
                .where(Mention.workspace_id == watch.workspace_id,
                       Mention.network == network,
                       one_of_read_first(session, Mention.author_id, authors),
                       Mention.status.in_(_OPEN_VALUES), Mention.story_id.is_(None),
                       or_(Mention.alerted.is_(True),
                           Mention.status != MentionStatus.NEW.value,
                           one_of(session, Mention.id, sorted(batch)),
                           select(MentionWatch.mention_id).where(  # its card is queued
                               MentionWatch.mention_id == Mention.id,
                               MentionWatch.alerted.is_(True)).exists()),
                       or_(Case.id.is_(None), and_(Case.root_mention_id == Mention.id,
                                                   Case.state == "open")),
                       or_(Mention.created_at >= since, Case.updated_at >= since),
                       ~select(QuietMention.mention_id).where(
                           QuietMention.mention_id == Mention.id).exists(),
                       select(MentionWatch.mention_id).where(
                           MentionWatch.mention_id == Mention.id,
                           MentionWatch.watch_id.in_(brand)).exists())):
            activity = max(created_at, updated_at or created_at)
            if activity >= since:
                found.setdefault((network, customer), []).append(
                    _OpenCase(mention_id, activity, bool(here)))
    return found


def _returns_to(item: FetchedMention, options: Iterable[_OpenCase], handles: BrandHandles,
                before: int | None = None) -> _OpenCase | None:
    """The open case ``item`` joins: its author's most recently active one, when ``item``
    is addressed to the brand or the watch at hand holds that case."""
    addressed = bool(handles and handles.addressed(item))
    chosen = [o for o in options if (addressed or o.in_watch)
              and (before is None or o.mention_id < before)]
    return max(chosen, key=lambda o: (o.activity, o.mention_id)) if chosen else None


def returning_customers(session: Session, watch: Watch, fetched: Sequence[FetchedMention],
                        handles: BrandHandles, now: datetime) -> dict[tuple[str, str], bool]:
    """(network, external id) -> addressed to the brand, for the new posts (not replies in
    a thread) of ``fetched`` by a customer who has an open case (``_open_cases``) that
    they will join (``attach_mentions``): they write again. Empty for a competitor's
    watch."""
    if watch.kind != WATCH_BRAND:
        return {}
    loose = [item for item in fetched if _top_level(item, now)]
    if not loose:
        return {}
    found = _open_cases(session, watch, loose, now)
    return {(item.network, item.external_id): bool(handles and handles.addressed(item))
            for item in loose if _returns_to(
                item, found.get((item.network, item.author.handle.lower()[:200]), ()),
                handles) is not None}


def _join_returning(session: Session, watch: Watch, items: dict[int, FetchedMention],
                    priorities: dict[int, int], quiet: set[int], now: datetime,
                    handles: BrandHandles, done: Attached) -> None:
    """A customer's new post (not a reply in a thread) while they have an open case joins
    it as a follow-up, as a reply in its thread does; one whose case was answered is a
    case of its own (a new request; a reply in the thread reopens it instead)."""
    loose = {m: item for m, item in items.items()
             if _top_level(item, now) and m not in done.silenced and m not in quiet}
    if not loose:
        return
    in_story = set(session.scalars(select(Mention.id).where(
        one_of(session, Mention.id, sorted(loose)), Mention.story_id.is_not(None))))
    threshold = alert_threshold(session, watch)
    alerting = [m for m in sorted(items) if m not in quiet and m not in done.silenced
                and m not in in_story and priorities.get(m, 0) >= threshold]
    found = _open_cases(session, watch, loose.values(), now, alerting)
    channel_for = channel_picker(session, watch, {})
    joined: set[int] = set()
    joining: list[_Joining] = []
    for mention_id in sorted(loose):
        item = loose[mention_id]
        if mention_id in in_story:
            continue
        # A post the watch's topic routes send elsewhere (a double charge to billing, the
        # case a crash report in the product channel) keeps its own card: joining would
        # hide it from the team that handles it.
        channel = channel_for(mention_id)
        options = [o for o in found.get((item.network, item.author.handle.lower()[:200]), ())
                   if o.mention_id not in joined and channel_for(o.mention_id) == channel]
        target = _returns_to(item, options, handles, before=mention_id)
        if target is None:
            continue
        case = _case_of_mention(session, watch.workspace_id, target.mention_id, None)
        if case.state != "open" or not _file_post(
                session, watch.workspace_id, item, case_id=case.id, mention_id=mention_id,
                by_brand=False):
            continue
        joined.add(mention_id)
        joining.append(_Joining(case, mention_id, item, priorities.get(mention_id, 0), False))
    _join(session, watch, joining, now, done)


@dataclass(frozen=True, slots=True)
class _Joining:
    """A customer's post filed into ``case``, about to join it as a follow-up."""

    case: Case
    mention_id: int
    item: FetchedMention
    priority: int
    quiet: bool


def _join(session: Session, watch: Watch, joining: Sequence[_Joining], now: datetime,
          done: Attached) -> None:
    """The customers wrote again in their cases: no card of their own; each case's card
    hears them, in the order of ``joining``. A statement for all the follow-ups' statuses,
    one for the cases' counts, one reading (and locking) the cases' first mentions and two
    reading their cards (``CardNotes``: the notes then add their rows without reading);
    what a follow-up does to its case's first mention (a late card, a reopen, a note)
    depends on what the follow-ups before it did, and goes one follow-up after the other."""
    if not joining:
        return
    ids = [j.mention_id for j in joining]
    done.silenced.update(ids)
    done.follow_ups += len(joining)
    session.execute(update(Mention).where(
        one_of(session, Mention.id, sorted(ids)), Mention.status == MentionStatus.NEW.value)
        .values(status=MentionStatus.FOLLOW_UP.value, version=Mention.version + 1)
        .execution_options(synchronize_session=False))
    counts: dict[int, int] = {}
    for j in joining:
        counts[j.case.id] = counts.get(j.case.id, 0) + 1
    cases = cast(Table, Case.__table__)
    session.execute(update(cases).where(cases.c.id == bindparam("case")).values(
        follow_ups=cases.c.follow_ups + bindparam("joined"), updated_at=now),
        [{"case": case_id, "joined": n} for case_id, n in sorted(counts.items())])
    for j in joining:
        session.expire(j.case, ["follow_ups", "updated_at"])
    wanted = sorted({j.case.root_mention_id for j in joining if not j.quiet})
    roots = {m.id: m for m in session.scalars(
        select(Mention).where(one_of(session, Mention.id, wanted))
        .order_by(Mention.id).with_for_update())} if wanted else {}
    notes = CardNotes(session, [roots[m] for m in sorted(roots)])
    answered_at = {case_id: at for case_id, at in session.execute(  # the brand's last answers
        select(CasePost.case_id, func.max(CasePost.published_at)).where(
            one_of(session, CasePost.case_id, sorted(counts)), CasePost.by_brand.is_(True))
        .group_by(CasePost.case_id))}
    language = workspace_language(session, watch.workspace_id)
    threshold: int | None = None  # read once, when a follow-up first needs it
    for j in joining:
        record(session, watch.workspace_id, CUSTOMER, "mention.follow_up",
               mention_id=j.mention_id, from_status=MentionStatus.NEW.value,
               to_status=MentionStatus.FOLLOW_UP.value,
               detail={"case_mention": j.case.root_mention_id})
        root = roots.get(j.case.root_mention_id)
        if root is None or j.quiet:
            continue
        # Written before the brand's latest answer (found with it, or after it), the
        # follow-up is what that answer answered: it reopens nothing.
        answered = answered_at.get(j.case.id)
        reopens = root.status in REOPENS and (
            answered is None or as_utc(j.item.published_at) > as_utc(answered))
        # The case waited for the digest; this follow-up makes it urgent, or reopens it
        # (whatever its priority: the customer writes again after the brand's answer, and
        # open work is what alerted as a card or was taken up, so reopened without a card
        # it would be in no list, ``bot.services.reporting.queries``): its card, once,
        # where the watch at hand sends the root's alerts; queued first, so that the notes
        # below go to its thread.
        waiting = never_carded(root) and not watch.paused and root.status != "ignored"
        urgent = reopens
        if waiting and not urgent:
            if threshold is None:
                threshold = alert_threshold(session, watch)
            urgent = j.priority >= threshold
        if waiting and urgent:
            # (the follow-up's priority or the reopen decided, not the root's own)
            if queue_card(session, watch, root, forced=True) is not None:
                done.alerts += 1
            notes.changed(root)
        note = Note.of(language, "cases.note_follow_up", id=j.mention_id,
                       author=Text(j.item.author.handle, 80), text=Text(j.item.text, NOTE_TEXT))
        if reopens:
            # The customer writes again after the brand's answer: the case waits on the
            # brand, from when the follow-up reached Vigie (its received time,
            # bot.services.sla), not from when it was posted: one found late is not overdue
            # on arrival.
            if _reopen(session, j.case, root, now, note.then("cases.note_reopened"),
                       j.mention_id, notes):
                done.reopened += 1
        else:
            notes.note(root, note)


def _answers_waiting(session: Session, workspace_id: int, items: dict[int, FetchedMention]
                     ) -> list[CasePost]:
    """The brand replies filed before the mention of ``items`` they answer arrived (another
    source, another order, earlier in this batch), in no case yet, oldest first."""
    found: list[CasePost] = []
    for network, ids in sorted(_batch_keys(items).items()):
        found.extend(session.execute(select(CasePost).where(
            CasePost.workspace_id == workspace_id, CasePost.network == network,
            CasePost.by_brand.is_(True), CasePost.case_id.is_(None),
            CasePost.parent_external_id.in_(sorted(ids))).order_by(
            CasePost.published_at, CasePost.id)).scalars().all())
    return found


def _batch_keys(items: dict[int, FetchedMention]) -> dict[str, dict[str, int]]:
    """network -> the keys a reply may name each of ``items`` by -> its mention id."""
    by_network: dict[str, dict[str, int]] = {}
    for mention_id, item in items.items():
        by_network.setdefault(item.network, {})[item.external_id] = mention_id
        if item.extra.get("local_key"):  # a reply filed before its parent's URI was known
            by_network[item.network][str(item.extra["local_key"])] = mention_id
    return by_network


def _answered_before(session: Session, workspace_id: int, items: dict[int, FetchedMention],
                     answers: Sequence[CasePost], done: Attached, known: _Known | None,
                     waiting: Iterable[int]) -> tuple[list[CasePost], int]:
    """File ``answers`` (``_answers_waiting``) in the cases of the mentions they answer,
    except those answering one of ``waiting`` (a reply not in its case yet): the case is
    replied, and a mention that starts it needs no card. The answers left, and how many
    were filed."""
    if not answers:
        return [], 0
    by_network = _batch_keys(items)
    held = set(waiting)
    left: list[CasePost] = []
    for post in answers:
        mention_id = by_network[post.network][str(post.parent_external_id)]
        if mention_id in held:
            left.append(post)
            continue
        case = _case_of_mention(session, workspace_id, mention_id, None)
        post.case_id = case.id
        if known is not None:
            known.forget(post.network, post.external_id)
        _mark_replied(session, case, post.url, post.published_at, post.author)
        done.silenced.add(mention_id)
        done.replied += 1
    return left, len(answers) - len(left)


def conversation(session: Session, workspace_id: int, mention_id: int
                 ) -> list[ConversationPost]:
    """The whole conversation of the case ``mention_id`` belongs to, oldest first (empty
    when it is in no case)."""
    case_id = session.scalar(select(CasePost.case_id).where(
        CasePost.workspace_id == workspace_id, CasePost.mention_id == mention_id))
    if case_id is None:
        return []
    return [ConversationPost(p.mention_id, p.by_brand, p.author, p.text, p.url,
                             p.published_at)
            for p in session.scalars(select(CasePost).where(CasePost.case_id == case_id)
                                     .order_by(CasePost.published_at, CasePost.id))]


def follow_ups_among(session: Session, mention_ids: Sequence[int]) -> set[int]:
    """The ones of ``mention_ids`` that joined a case as follow-ups (not its root)."""
    if not mention_ids:
        return set()
    return set(session.scalars(select(CasePost.mention_id).join(
        Case, Case.id == CasePost.case_id).where(
        one_of(session, CasePost.mention_id, list(mention_ids)),
        CasePost.mention_id != Case.root_mention_id)))


def sla_starts(session: Session, mention_ids: Sequence[int]) -> dict[int, datetime]:
    """Root mention id -> when its case's current wait began, for cases that reopened."""
    if not mention_ids:
        return {}
    return {root: started for root, started in session.execute(
        select(Case.root_mention_id, Case.sla_started_at).where(
            Case.root_mention_id.in_(list(mention_ids)), Case.sla_started_at.is_not(None)))}


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """What a case's card says about its conversation."""

    posts: int
    follow_ups: int
    reopened: int


def case_summary(session: Session, mention_id: int) -> CaseSummary | None:
    """The case whose card ``mention_id`` carries, summed up; None when it roots none."""
    case = session.scalar(select(Case).where(Case.root_mention_id == mention_id))
    if case is None:
        return None
    posts = len(session.scalars(select(CasePost.id).where(CasePost.case_id == case.id)).all())
    return CaseSummary(posts, case.follow_ups, case.reopened)


def load_conversation(sessions: sessionmaker[Session], workspace_id: int, mention_id: int
                      ) -> list[ConversationPost]:
    """``conversation`` in its own read-only session (for ``/cm show``)."""
    with sessions() as session:
        return conversation(session, workspace_id, mention_id)


def follow_ups_stored(session: Session, workspace_id: int, watch_ids: Sequence[int] | None,
                      start: datetime, end: datetime) -> int:
    """Actionable follow-ups published in [start, end): reports count the case (its first
    mention) once, not each of them. Counted like the report's totals: once per mention,
    workspace-wide (``watch_ids`` None) or in a scope of some watches (a follow-up two of
    them hold is one follow-up)."""
    query = (select(func.count()).select_from(CasePost)
             .join(Case, Case.id == CasePost.case_id)
             .join(Mention, Mention.id == CasePost.mention_id)
             .where(CasePost.mention_id != Case.root_mention_id,
                    Mention.workspace_id == workspace_id,
                    Mention.published_at >= start, Mention.published_at < end,
                    Mention.status != MentionStatus.IGNORED.value,
                    func.coalesce(Mention.intent, "") != "spam"))
    if watch_ids is not None:
        if not watch_ids:
            return 0
        query = query.where(Mention.id.in_(select(MentionWatch.mention_id).where(
            MentionWatch.watch_id.in_(list(watch_ids)))))
    return int(session.scalar(query) or 0)
