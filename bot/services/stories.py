"""Stories whose posts are deleted (a forget, a retention purge).

A story is one link several posts carry, or one text several people post (a copy-paste
campaign: ``bot.services.ingest``): its first post, in the
watch that stored them, holds the story's card and its place in open work and the SLA; the
posts that joined it (``Mention.story_id``) have neither, their alert decision made the
story's card urgent instead. So, before posts of a story are deleted:

- a story whose first post stays keeps it, and its card is rendered again without them
  (it counts, sums the reach of and names the posts stored: ``do_refresh_story_cards``,
  which a forget and the retention purge call);
- a story whose first post goes keeps a first post: the earliest of its posts left takes
  its place (the others join it), and, while the story was still open work (its first
  post not replied, closed or ignored), what is left goes through the alert decision again,
  as ingest takes it (each watch's threshold, a tracked influencer's post, never a
  backfilled post nor a case's follow-up): the new first post gets the card, in the
  channels where the posts left alert. A story that alerted only for the post that went
  waits for the digest, as it would have without that post. A card already queued or
  posted for the new first post is not posted again: it is shared and re-rendered.

The new first post also takes the story's work over, unless it has work of its own (a
status other than new, an assignee or a draft): the assignee, the status (in progress,
replied, closed, ignored stay so), the response times and the SLA clock, which keeps
counting from when the story's first post reached Vigie (``Mention.waiting_since``), as
do the SLA notices already sent (none is sent twice). The drafts go with it, unless one
of them names the author of a post that goes (a word of their name or handle will do)
or quotes its words (``QUOTED_WORDS`` in a row, whatever their case, accents or
punctuation) or link (a reply to them is not a reply to the next poster, and a forget
copies nothing of theirs): then no draft moves and the story goes back to assigned (or
new). An approval does not move: it
approved a reply to the post that went, so an approved draft waits for approval again.
Nothing else of the post that goes is copied (no text, author or link).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

from bot.matching.text import fold
from bot.services import backfill, cases, forgotten, influencers
from bot.services.actors import SCHEDULER, Actor
from bot.services.audit import record
from bot.services.notifications import mark_homes_stale
from bot.services.outbox import KIND_CARD, KIND_UPDATE_CARD, do_enqueue
from bot.services.topic_channels import channel_picker
from bot.services.triage_learning import alert_threshold
from bot.services.watch_links import (
    card_dedupe_key,
    do_mark_alerting,
    do_share_card,
    posted_card,
)
from storage.bulk import one_of
from storage.models import Author, Draft, Mention, MentionStatus, OutboxMessage, Watch, utcnow
from storage.models_competitors import WATCH_COMPETITOR
from storage.models_sla import SlaNotice
from storage.models_watches import MentionWatch

_OPEN = (MentionStatus.NEW.value, MentionStatus.ASSIGNED.value, MentionStatus.DRAFTING.value,
         MentionStatus.AWAITING_APPROVAL.value, MentionStatus.APPROVED.value)
"""A story's first post in one of these is still open work (``workflow.OPEN``)."""
_WITH_DRAFT = {MentionStatus.DRAFTING.value: MentionStatus.DRAFTING.value,
               MentionStatus.AWAITING_APPROVAL.value: MentionStatus.AWAITING_APPROVAL.value,
               MentionStatus.APPROVED.value: MentionStatus.AWAITING_APPROVAL.value}
"""The statuses a story's work has only with its draft, and the one it takes over with
the draft (an approval approved a reply to the post that went: it is asked again)."""
QUOTED_WORDS = 6
"""A draft holding this many words in a row of a post that goes quotes it."""


def do_refresh_story_cards(session: Session, mention_ids: Sequence[int] | Select[Any]
                           ) -> None:
    """Before the mentions ``mention_ids`` (a list, or a select of ids) are deleted, in the
    caller's transaction: re-render the cards of the stories that lose some of them but
    not their first post (rendered at send time, once they are gone)."""
    among: ColumnElement[bool]
    outside: ColumnElement[bool]
    if isinstance(mention_ids, Select):
        among, outside = Mention.id.in_(mention_ids), Mention.id.not_in(mention_ids)
    else:
        ids = sorted(set(mention_ids))
        if not ids:
            return
        among, outside = one_of(session, Mention.id, ids), ~one_of(session, Mention.id, ids)
    for root, workspace_id, channel in session.execute(
            select(Mention.id, Mention.workspace_id, Mention.slack_channel).where(
                Mention.id.in_(select(Mention.story_id).where(among)), outside,
                Mention.slack_ts.is_not(None), Mention.slack_channel.is_not(None))
            .order_by(Mention.id)).tuples():
        do_enqueue(session, workspace_id=int(workspace_id), kind=KIND_UPDATE_CARD,
                   channel=str(channel), mention_id=int(root))


def do_keep_stories(session: Session, mention_ids: Sequence[int], *,
                    staying: Any = None, actor: Actor = SCHEDULER) -> None:
    """Before the mentions ``mention_ids`` are deleted (in the caller's transaction): the
    stories they are in keep their other posts carded (see the module docstring).

    ``staying``: a condition on ``Mention`` the posts left must meet to take a
    story over (a purge in batches: the posts the next batch deletes do not). ``actor``:
    who deletes them, whom the audit trail of a post taking a story's work names."""
    ids = sorted(set(mention_ids))
    if not ids:
        return
    left = select(Mention.id, Mention.story_id).where(
        one_of(session, Mention.story_id, ids), ~one_of(session, Mention.id, ids))
    if staying is not None:
        left = left.where(staying)
    orphans: dict[int, list[int]] = {}
    for mention_id, story_id in session.execute(left.order_by(Mention.id)):
        orphans.setdefault(int(story_id), []).append(int(mention_id))
    for first, posts in sorted(orphans.items()):
        _take_over(session, first, posts, ids, actor)


def _take_over(session: Session, gone: int, posts: list[int], deleted: list[int],
               actor: Actor) -> None:
    """``posts[0]`` becomes the first post of the story ``gone`` was first of, with its
    work, the other ``posts`` join it; the card follows the decision on ``posts`` if the
    story was open. ``deleted``: every post being deleted."""
    head, rest = posts[0], posts[1:]
    session.execute(update(Mention).where(Mention.id == head).values(story_id=None)
                    .execution_options(synchronize_session=False))
    if rest:
        session.execute(update(Mention).where(one_of(session, Mention.id, rest))
                        .values(story_id=head).execution_options(synchronize_session=False))
    _carry_work(session, gone, head, deleted, actor)
    workspace_id, status = session.execute(select(Mention.workspace_id, Mention.status)
                                           .where(Mention.id == gone)).one()
    if status in _OPEN:
        _decide(session, int(workspace_id), head, posts)
    card = session.execute(select(Mention.slack_channel, Mention.slack_ts)
                           .where(Mention.id == head)).one()
    if card.slack_channel and card.slack_ts:
        # Its own card (a watch without the old first post gave it one) is the story's now.
        do_enqueue(session, workspace_id=int(workspace_id), kind=KIND_UPDATE_CARD,
                   channel=str(card.slack_channel), mention_id=head)


def _decide(session: Session, workspace_id: int, head: int, posts: list[int]) -> None:
    """Each watch of ``posts`` decides again whether they alert, as ingest would: a card in
    its channel (or its topic route's) for the story's first post ``head`` when the watch
    holds it, else for the post itself; a post that has its own card there keeps it."""
    links: dict[int, dict[int, int]] = {}
    for mention_id, watch_id, priority in session.execute(
            select(MentionWatch.mention_id, MentionWatch.watch_id, MentionWatch.priority)
            .where(one_of(session, MentionWatch.mention_id, posts))):
        links.setdefault(int(watch_id), {})[int(mention_id)] = int(priority)
    silent = cases.follow_ups_among(session, posts) | backfill.quiet_among(session, posts)
    loud = influencers.tracked_posts(session, workspace_id, dict(session.execute(
        select(Mention.id, Mention.author_id).where(one_of(session, Mention.id, posts)))
        .tuples().all()))
    for watch in session.scalars(select(Watch).where(Watch.id.in_(sorted(links)))
                                 .order_by(Watch.id)):
        if watch.paused:
            continue
        held = links[watch.id]
        threshold = alert_threshold(session, watch)
        channel_for = channel_picker(session, watch, {})
        wanted: list[tuple[int, str]] = []
        # The cards whose post's own priority reached the threshold; the others (a tracked
        # author's post, the first post carded for a later one) are no threshold decision.
        decided: set[int] = set()
        for mention_id in sorted(held):
            by_threshold = watch.kind != WATCH_COMPETITOR and held[mention_id] >= threshold
            if mention_id in silent or not (mention_id in loud or by_threshold):
                continue
            channel = channel_for(mention_id)
            if head in held and mention_id != head and not _carded(session, mention_id,
                                                                   channel):
                mention_id, by_threshold = head, False
            if by_threshold and mention_id not in loud:
                decided.add(mention_id)
            wanted.append((mention_id, channel))
        for mention_id, channel in dict.fromkeys(wanted):
            key = card_dedupe_key(mention_id, channel)
            if not _carded(session, mention_id, channel):
                do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD, channel=channel,
                           mention_id=mention_id, dedupe_key=key)
            elif (ts := posted_card(session, mention_id, channel)) is not None:
                do_share_card(session, mention_id, watch.id, channel, ts)
            do_mark_alerting(session, watch.id, [mention_id],
                             forced=[] if mention_id in decided else [mention_id])


def _carded(session: Session, mention_id: int, channel: str) -> bool:
    """Whether the mention's card in ``channel`` is queued or posted already."""
    return session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.dedupe_key == card_dedupe_key(mention_id, channel)).limit(1)) is not None


def _carry_work(session: Session, gone: int, head: int, deleted: list[int],
                actor: Actor) -> None:
    """The story's work on ``gone`` goes to ``head`` (see the module docstring)."""
    old = session.execute(select(Mention).where(Mention.id == gone)).scalar_one()
    new = session.execute(select(Mention).where(Mention.id == head)).scalar_one()
    if new.status != MentionStatus.NEW.value or new.assignee_user_id is not None or \
            session.scalar(select(Draft.id).where(Draft.mention_id == head).limit(1)):
        return  # its own work stays (someone took it up on its own)
    drafts = list(session.scalars(select(Draft.text).where(Draft.mention_id == gone)))
    gone_words = _words_of(session, gone, deleted) if drafts else None
    moves = gone_words is not None and not any(_quotes(text, *gone_words) for text in drafts)
    status = old.status
    if status in _WITH_DRAFT:
        status = _WITH_DRAFT[status] if moves else (
            MentionStatus.ASSIGNED.value if old.assignee_user_id else MentionStatus.NEW.value)
    elif status == MentionStatus.FOLLOW_UP.value:
        status = MentionStatus.NEW.value
    clock = cases.sla_starts(session, [gone]).get(gone) or old.waiting_since or old.created_at
    values: dict[str, Any] = {
        "status": status, "assignee_user_id": old.assignee_user_id,
        "first_response_at": old.first_response_at, "replied_at": old.replied_at,
        "waiting_since": clock if clock < new.created_at else new.waiting_since,
        "version": Mention.version + 1, "updated_at": utcnow()}
    session.execute(update(Mention).where(Mention.id == head).values(**values)
                    .execution_options(synchronize_session=False))
    if moves:
        # The approvals stay with the post that went (and go with it): see _WITH_DRAFT.
        session.execute(update(Draft).where(Draft.mention_id == gone).values(mention_id=head)
                        .execution_options(synchronize_session=False))
    # The SLA notices sent about the story's wait are not sent again (one of a kind the
    # post was sent already, on a card of its own elsewhere, stays its own).
    session.execute(update(SlaNotice).where(
        SlaNotice.mention_id == gone, SlaNotice.kind.not_in(
            select(SlaNotice.kind).where(SlaNotice.mention_id == head)))
        .values(mention_id=head).execution_options(synchronize_session=False))
    record(session, old.workspace_id, actor, "mention.story_taken_over", mention_id=head,
           from_status=new.status, to_status=status, detail={"from": gone, "drafts": moves})
    if old.assignee_user_id:
        mark_homes_stale(session, old.workspace_id, [old.assignee_user_id])
    session.expire(new)


def _words_of(session: Session, gone: int, deleted: list[int]
              ) -> tuple[set[str], set[str], set[str], set[str]]:
    """The handles (and names), the words a draft names them by, the texts and the links
    of the story's posts being deleted."""
    handles: set[str] = set()
    names: set[str] = set()
    texts: set[str] = set()
    links: set[str] = set()
    rows = session.execute(
        select(Mention.text, Mention.title, Mention.url, Author.handle, Author.name)
        .outerjoin(Author, Author.id == Mention.author_id)
        .where((Mention.id == gone) | (Mention.story_id == gone),
               one_of(session, Mention.id, deleted)))
    for text, title, url, handle, name in rows:
        texts.update(value for value in (text, title) if value)
        links.update(value for value in (url,) if value)
        handles.update(forgotten.normalized_handle(value) for value in (handle, name) if value)
        if handle:  # Its name, not its server's: "alice" of alice@mastodon.social.
            names |= _name_words(forgotten.bare_handle(handle).split("@")[0].split(".")[0])
        if name:
            names |= _name_words(name)
    return handles, names, texts, links


_NOT_NAMES = frozenset({
    "the", "and", "for", "you", "your", "our", "with", "from", "not", "but", "all", "are",
    "has", "its", "dans", "des", "les", "une", "pour", "avec", "vous", "nous", "sur", "par",
    "qui", "que", "pas", "est", "son", "ses", "aux"})
"""Words too common to be what a draft says of a person whose name holds them
("The Kettle Fan" is not named by "the")."""
_WORD = re.compile(r"[^\W_]+")
"""A word of folded text: letters and digits (punctuation, ``_`` and spaces part words)."""


def _words(text: str) -> list[str]:
    """The words of ``text``, case and accents folded, its punctuation dropped."""
    return _WORD.findall(fold(text))


def _name_words(handle: str) -> set[str]:
    """The words of a handle or display name a draft names its person by: each of at
    least 3 letters, bar the most common words (a first name alone names them)."""
    return {word for word in _words(handle)
            if sum(char.isalpha() for char in word) >= 3 and word not in _NOT_NAMES}


def _quotes(draft: str, handles: Iterable[str], names: set[str], texts: Iterable[str],
            links: Iterable[str]) -> bool:
    """Whether ``draft`` names one of ``handles`` (whole, or by one of the ``names``: a
    first name alone), holds one of ``links`` or quotes ``QUOTED_WORDS`` words in a row
    (or the whole) of one of ``texts``, words compared with case, accents and punctuation
    folded. It errs on the person's side: a draft kept back only has to be written again."""
    lowered = " ".join(draft.lower().split())
    if any(link and link.lower() in lowered for link in links):
        return True
    folded = fold(lowered)
    words = _words(draft)
    for handle in handles:
        if handle and re.search(rf"(?<![\w]){re.escape(fold(handle))}(?!\w)", folded):
            return True
    if not names.isdisjoint(words):
        return True
    for text in texts:
        quoted = _words(text)
        size = min(QUOTED_WORDS, len(quoted))
        if not size:
            continue
        runs = {tuple(words[n:n + size]) for n in range(len(words) - size + 1)}
        if any(tuple(quoted[n:n + size]) in runs for n in range(len(quoted) - size + 1)):
            return True
    return False
