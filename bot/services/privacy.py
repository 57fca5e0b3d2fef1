"""Data retention and the right to be forgotten.

Retention purges mentions found more than N days ago in batches, and the other messages
Vigie sent (or gave up on) before then (``bot.services.outbox_retention``). Their figures
survive:
they stay counted in the hourly, daily and priority counts the reports read (the counts are
raised by as much as the links' delete triggers lower them). A forget, or
any other deletion, takes the mentions out of the counts. ``do_forget`` deletes an
author's data everywhere and records that it was done, with a keyed hash instead of the handle;
it also keeps keyed hashes of the handle and of the deleted posts (``bot.services.forgotten``)
so that no source stores them again, until ``do_unforget``.

A post's other names (``post_aliases``: the id a Mastodon status has on the instance it was
fetched through, by which replies name their parent) live as long as the post they name:
they go with their mention (retention, forget), and ``AliasSweep`` removes those of posts
Vigie did not keep (neither a mention nor a case post) once ``ALIAS_GRACE`` has passed. A
reply weeks later still joins its case while the case's posts are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t
from bot.services import forgotten, stories
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.brand_accounts import BrandHandles
from bot.services.errors import ServiceError
from bot.services.forget_messages import ForgottenPerson, redact_messages
from bot.services.influencer_cache import home_ranking_changed
from bot.services.influencers import forget_home_cache, forget_tracking_handles
from bot.services.outbox import KIND_REDACT, do_enqueue
from bot.services.outbox_retention import purge_outbox
from bot.services.permissions import require_role
from bot.services.workspaces import workspace_language
from bot.sources.base import byline
from bot.sources.reddit import NETWORK as REDDIT
from storage import search_index
from storage.db import transaction
from storage.models import Author, Mention, MentionStatus, Role, Workspace
from storage.models_base import utcnow
from storage.models_cases import Case, CasePost, PostAlias
from storage.models_influencers import TrackedInfluencer
from storage.models_reporting import MentionDayCount, MentionHourCount, MentionPriorityCount
from storage.models_watches import MentionWatch
from storage.reporting_counts import hour_of, keep_counts_of

log = logging.getLogger(__name__)

BATCH = 5000
ALIAS_GRACE = timedelta(days=2)
"""How long the other name of a post Vigie did not keep is remembered (a reply fetched
meanwhile still names its parent by the parent's URI)."""
SLACK_MARKUP = ("<", ">", "|")
"""Characters of Slack's markup that no network's handle holds."""


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What was deleted for one handle."""

    authors: int
    mentions: int


def do_forget(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
              handle: str) -> ForgetReport:
    """Delete every author called ``handle`` (any network) and all their mentions, and
    keep their posts out from now on; a handle no author has yet is kept out too (the
    report then counts nothing deleted). Their words leave SQLite's search index when
    ``do_compact_search_index`` runs next (the caller nudges it; a job runs it every
    minute and at start)."""
    _checked_handle(handle)
    if len(handle.strip().lstrip("@")) > forgotten.MAX_HANDLE:
        raise ServiceError("privacy.bad_handle", value=handle[:60])
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        # A post of theirs a batch is storing now is deleted with the rest, and a later
        # batch sees them forgotten; else it outlived the forget, with its card.
        forgotten.hold_for_forget(session, workspace_id)
        author_ids = _authors_called(session, workspace_id, handle)
        # No author yet: the request still holds (nothing to delete, their first posts are
        # never stored), else whoever asks before Vigie saw them is tracked anyway.
        language = workspace_language(session, workspace_id)
        # Every card of their mentions: one per watch channel (links hold each one's ts).
        link = MentionWatch
        cards = (select(link.mention_id, link.slack_channel, link.slack_ts)
                 .join(Mention, Mention.id == link.mention_id)
                 .where(Mention.author_id.in_(author_ids), link.slack_ts.is_not(None)))
        firsts = select(Mention.id, Mention.slack_channel, Mention.slack_ts).where(
            Mention.author_id.in_(author_ids), Mention.slack_ts.is_not(None))
        done: set[tuple[str, str]] = set()
        for mention_id, channel, ts in sorted(set(session.execute(cards).tuples())
                                              | set(session.execute(firsts).tuples())):
            # The card in Slack shows their words: replace it (the outbox row has no
            # mention id, so it survives the deletion below).
            if (str(channel), str(ts)) in done:
                continue
            done.add((str(channel), str(ts)))
            text = t(language, "privacy.redacted", id=mention_id)
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_REDACT,
                       channel=str(channel), payload={"ts": ts, "text": text, "blocks": [
                           {"type": "section", "text": {"type": "mrkdwn", "text": text}}]})
        # Every other message that quotes or names them (thread notes, DMs, opportunity
        # cards, spike alerts, digests), posted or waiting: found before their outbox rows
        # go with their mentions (bot.services.forget_messages).
        redact_messages(session, workspace_id,
                        ForgottenPerson.read(session, workspace_id, author_ids, handle),
                        language, done)
        # The stories they are in keep showing what is stored (their cards were queued
        # again above); a story losing its first post gets it from the next one.
        stories.do_keep_stories(session, list(session.scalars(select(Mention.id).where(
            Mention.workspace_id == workspace_id, Mention.author_id.in_(author_ids)))),
            actor=actor)
        posts = [(network, external_id) for network, external_id in session.execute(
            select(Mention.network, Mention.external_id).where(
                Mention.workspace_id == workspace_id, Mention.author_id.in_(author_ids)))]
        # Never again: no source stores their posts (by handle or by post) after this.
        forgotten.remember(session, workspace_id, handle, posts)
        # Drafts, approvals, replies, audit rows and outbox rows of their mentions cascade;
        # their other names (which name the author in the status URI) go too.
        _drop_aliases_of(session, select(Mention.id).where(
            Mention.workspace_id == workspace_id, Mention.author_id.in_(author_ids)))
        mentions = session.execute(delete(Mention).where(
            Mention.workspace_id == workspace_id, Mention.author_id.in_(author_ids)))
        # The brand's posts left that name them or answer them: outside a case (the post
        # answered was never stored, or went before), or in someone else's case.
        _settle_brand_posts_to(session, workspace_id, handle)
        # The audit rows older versions wrote naming them in clear keep a digest instead.
        forget_tracking_handles(session, workspace_id, author_ids, handle)
        session.execute(delete(Author).where(Author.id.in_(author_ids)))
        count = int(mentions.rowcount or 0)  # type: ignore[attr-defined]
        record(session, workspace_id, actor, "privacy.forget",
               detail={"handle_digest": forgotten.subject_digest(session, workspace_id,
                                                                 handle),
                       "authors": len(author_ids), "mentions": count})
        # Their words stay in SQLite's full-text index pages until its segments merge: the
        # compaction (seconds holding the write lock) runs after the answer, in the
        # background, and the flag set with the deletion survives a restart.
        if count:
            search_index.mark_compaction_due(session)
        # The App Homes it marks stale rank without them in every process (last: it locks).
        home_ranking_changed(session, workspace_id)
    # The App Homes published again (bot.services.forget_messages) must not rank them
    # among the influencers from this process's cache.
    forget_home_cache(sessions, workspace_id)
    return ForgetReport(len(author_ids), count)


def _checked_handle(handle: str) -> str:
    """``handle`` in the form it is forgotten in (``forgotten.normalized_handle``), or
    ``privacy.bad_handle`` when it names no one: empty, or still holding Slack's markup
    (``<``, ``>``, ``|``: a ``<@U…>`` or ``<https://…|…>`` the caller did not read back as
    typed). No network's handle holds those; a suppression of such text would match no
    author while the admin is told the person is forgotten."""
    cleaned = forgotten.normalized_handle(handle)
    if not cleaned or any(mark in handle for mark in SLACK_MARKUP):
        raise ServiceError("privacy.bad_handle", value=handle[:60])
    return cleaned


def _authors_called(session: Session, workspace_id: int, handle: str) -> list[int]:
    """The workspace's authors ``handle`` names (``forgotten.is_called``: ``@``, ``u/`` or
    ``/u/`` in front or not, in any case but on Hacker News). Compared in Python past
    ASCII: SQLite's ``lower`` folds ASCII letters only, and so does PostgreSQL's in a
    database whose ctype is C, so "Élodie Martin" (an RSS author's name) was never found
    there. That reads the workspace's handles once (a forget is rare).

    A feed entry's author (``Admin@blog.example``, its byline on its site) is named by that
    or by the byline alone, which names every site's author of that byline."""
    cleaned = forgotten.normalized_handle(handle)
    # The name Reddit's feeds gave a poster before names their author now (0061 renamed it).
    reddit_name = forgotten.reddit_name_now(handle)
    query = select(Author.id, Author.network, Author.handle, Author.site).where(
        Author.workspace_id == workspace_id)
    if cleaned.isascii():
        forms = [cleaned, f"@{cleaned}", f"u/{cleaned}", f"/u/{cleaned}"]
        named = [func.lower(Author.handle).in_(forms),
                 Author.site.is_not(None) & or_(*(func.lower(Author.handle).startswith(
                     f"{form}@", autoescape=True) for form in forms))]
        if reddit_name is not None:
            named.append((Author.network == REDDIT)
                         & (func.lower(Author.handle) == reddit_name.lower()))
        query = query.where(or_(*named))
    return [author_id for author_id, network, stored, site in session.execute(query)
            if forgotten.is_called(network, stored, handle) or (
                (by_line := byline(stored, site)) is not None
                and forgotten.is_called(network, by_line, handle)) or (
                reddit_name is not None and network == REDDIT
                and forgotten.is_called(network, stored, reddit_name))]


def do_compact_search_index(sessions: sessionmaker[Session]) -> bool:
    """Rewrite SQLite's full-text index without the words of the mentions a forget or a
    purge deleted, when one did (``search_index.compaction_due``); whether it ran. The
    check is a read: only a due compaction takes the write lock (seconds at hundreds of
    thousands of mentions). Nothing on PostgreSQL."""
    with sessions() as session:
        if not search_index.compaction_due(session):
            return False
    with transaction(sessions) as session:
        ran = search_index.compact_if_due(session)
    if ran:
        log.info("search index compacted: the deleted mentions' words are gone")
    return ran


def do_unforget(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                handle: str) -> int:
    """Undo ``do_forget``'s suppression of ``handle`` (the person asks to be tracked again):
    their new posts, and the ones deleted, may be stored again. Deleted data is not
    restored. Returns how many suppression records went."""
    cleaned = _checked_handle(handle)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        removed = forgotten.remove(session, workspace_id, handle)
        if not removed:
            raise ServiceError("privacy.not_forgotten", handle=cleaned)
        record(session, workspace_id, actor, "privacy.unforget",
               detail={"handle_digest": forgotten.subject_digest(session, workspace_id,
                                                                 handle)})
        return removed


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted: mentions, and the other Slack messages' outbox rows."""

    mentions: int
    messages: int


def purge_older_than(sessions: sessionmaker[Session], days: int, now: datetime
                     ) -> PurgeReport:
    """Delete the mentions found more than ``days`` ago, keeping their figures: they stay
    counted in the hourly, daily and priority counts every report reads (volumes,
    sentiment, networks, reach, hours, per watch). Their text, cards, drafts and cases
    go, then the brand's posts filed outside a case before then and the authors left with
    no mention (``purge_authors``), and so do the other messages sent (or given up) before then
    (``outbox_retention.purge_outbox``). Returns how many mentions and messages went.
    The posts deleted are kept as keyed hashes (``forgotten.remember_purged``), and the
    cut-off becomes ``purged_before`` of the workspaces they were in: ingest does not store
    a purged post again (brought back, it would be counted twice); a post never stored is
    stored however old it is."""
    if days <= 0:
        return PurgeReport(0, 0)
    cutoff = now - timedelta(days=days)
    purged = 0
    while True:
        with transaction(sessions) as session:
            ids = list(session.scalars(select(Mention.id).where(Mention.created_at < cutoff)
                                       .order_by(Mention.id).limit(BATCH)))
            if not ids:
                _drop_emptied_counts(session, cutoff)
                break
            # In the transaction of the delete: a source bringing one back meanwhile sees it
            # stored, and afterwards purged.
            _remember_purged(session, ids, cutoff)
            # Their delete triggers count them down: counted once more first, they stay.
            keep_counts_of(session, ids)
            _drop_aliases_of(session, ids)
            _release_follow_ups(session, ids)
            # The posts of their stories that stay keep a card (the next post takes it), and
            # a story losing posts but not its first has its card counting what is left.
            stories.do_refresh_story_cards(session, ids)
            stories.do_keep_stories(session, ids, staying=Mention.created_at >= cutoff)
            session.execute(delete(Mention).where(Mention.id.in_(ids)))
            # Their words stay in SQLite's full-text index pages until the compaction job.
            search_index.mark_compaction_due(session)
            purged += len(ids)
    # The brand's posts filed outside a case (what they answer was never stored, or went):
    # found then as the mentions are, and naming whom they answer.
    _purge_brand_posts(sessions, cutoff)
    # Then who wrote them: an author whose mentions all went is a handle, a name, a reach
    # and a profile kept for nothing.
    authors = purge_authors(sessions, cutoff)
    if authors:
        log.info("retention: %d authors with no mention left purged", authors)
    # The messages Vigie sent then, whatever they were about (digests, DMs, spike alerts):
    # their rows hold what the messages said. Those of the mentions went with them.
    messages = purge_outbox(sessions, cutoff)
    if messages:
        log.info("retention: %d Slack messages sent before %s purged from the outbox",
                 messages, cutoff.isoformat(timespec="seconds"))
    return PurgeReport(purged, messages)


def purge_authors(sessions: sessionmaker[Session], cutoff: datetime) -> int:
    """Delete the authors last seen before ``cutoff`` that no mention and no tracked
    influencer needs, walking each workspace's such authors by id, a batch per transaction;
    how many went. A tracked influencer's author stays (``tracked_influencers`` names the
    person by it, and ingest recognises their posts by it); nothing else refers to an
    author (cases, brand accounts and opportunities keep handles or mentions of their own).
    On PostgreSQL each batch waits for the ingest batches of its workspace in flight and
    holds the next ones back (``forgotten.hold_for_forget``): a batch storing a mention
    of the author commits first, and the delete sees it; so does a tracking
    (``influencers.do_track`` takes the same lock), or it runs after the delete and finds
    no author to track."""
    deleted = 0
    with sessions() as session:
        workspaces = list(session.scalars(select(Author.workspace_id).where(
            Author.last_seen_at < cutoff).distinct().order_by(Author.workspace_id)))
    for workspace_id in workspaces:
        after = 0
        while True:
            with transaction(sessions) as session:
                forgotten.hold_for_forget(session, workspace_id)
                # Only those last seen before the cut-off: the others are no batch's
                # business, and each batch holds the workspace's ingest back.
                window = list(session.scalars(select(Author.id).where(
                    Author.workspace_id == workspace_id, Author.id > after,
                    Author.last_seen_at < cutoff)
                    .order_by(Author.id).limit(BATCH)))
                if not window:
                    break
                gone = session.execute(delete(Author).where(
                    Author.id.in_(window), Author.last_seen_at < cutoff,
                    ~exists().where(Mention.author_id == Author.id),
                    ~exists().where(TrackedInfluencer.workspace_id == workspace_id,
                                     TrackedInfluencer.author_id == Author.id))
                    .execution_options(synchronize_session=False))
                if gone.rowcount:  # type: ignore[attr-defined]
                    deleted += int(gone.rowcount)  # type: ignore[attr-defined]
                    # App Home must not rank them from any process's cache (last: it locks).
                    home_ranking_changed(session, workspace_id)
            after = window[-1]
            if len(window) < BATCH:
                break
    return deleted


def _orphan_posts(workspace_id: int | None = None) -> list[Any]:
    """The conditions of the case posts in no case and of no mention (the brand's)."""
    where = [CasePost.case_id.is_(None), CasePost.mention_id.is_(None)]
    return where if workspace_id is None else [CasePost.workspace_id == workspace_id, *where]


def _settle_brand_posts_to(session: Session, workspace_id: int, handle: str) -> None:
    """Delete or redact the brand's posts that name ``handle`` or answer anyone forgotten
    (``forgotten.settle_answers``, this forget included), in a case or in none: those that
    answer only forgotten people go, with their other names; those that also answer someone
    else (``@alice @bob we're on it`` in Alice's case) keep Alice's answer with every
    forgotten name replaced (``forgotten.REDACTED``), ``handle`` written bare too. Called
    once the person's own cases went (their posts with them). The posts are read by batches
    of ids: their texts may be many (a forget is rare)."""
    own = [name for names in BrandHandles.load(session, workspace_id).by_network.values()
           for name in names]
    gone: list[int] = []
    redacted: list[dict[str, Any]] = []
    after = 0
    while True:
        rows = session.execute(select(CasePost.id, CasePost.network, CasePost.external_id,
                                      CasePost.parent_external_id, CasePost.text).where(
            CasePost.workspace_id == workspace_id, CasePost.mention_id.is_(None),
            CasePost.id > after).order_by(CasePost.id).limit(BATCH)).all()
        if not rows:
            break
        after = rows[-1].id
        settled = forgotten.settle_answers(session, workspace_id, [
            ((row.network, row.external_id), row.parent_external_id, row.text, None)
            for row in rows], own)
        for row in rows:
            key = (row.network, row.external_id)
            if key in settled and settled[key] is None:
                gone.append(row.id)
                continue
            text = forgotten.redact_handle(handle, settled.get(key) or row.text)
            if text != row.text:
                redacted.append({"id": row.id, "text": text})
    if redacted:
        session.execute(update(CasePost), redacted)
    _delete_posts(session, gone)


def _purge_brand_posts(sessions: sessionmaker[Session], cutoff: datetime) -> int:
    """Delete the case posts in no case filed before ``cutoff`` (the brand's posts whose
    customer post is not stored), with their other names, in batches; how many went."""
    deleted = 0
    while True:
        with transaction(sessions) as session:
            ids = list(session.scalars(select(CasePost.id).where(
                *_orphan_posts(), CasePost.created_at < cutoff)
                .order_by(CasePost.id).limit(BATCH)))
            _delete_posts(session, ids)
        deleted += len(ids)
        if len(ids) < BATCH:
            return deleted


def _delete_posts(session: Session, ids: list[int]) -> None:
    """Delete the case posts ``ids`` and their other names (``post_aliases``)."""
    if not ids:
        return
    _drop_aliases_by_key(session, session.execute(
        select(CasePost.workspace_id, CasePost.network, CasePost.external_id)
        .where(CasePost.id.in_(ids))).tuples())
    session.execute(delete(CasePost).where(CasePost.id.in_(ids)))


def _remember_purged(session: Session, ids: list[int], cutoff: datetime) -> None:
    """Keep the keyed hashes of the posts ``ids`` and move their workspaces' cut-off."""
    posts: dict[int, list[tuple[str, str]]] = {}
    for workspace_id, network, external_id in session.execute(
            select(Mention.workspace_id, Mention.network, Mention.external_id)
            .where(Mention.id.in_(ids))):
        posts.setdefault(workspace_id, []).append((network, external_id))
    for workspace_id, keys in sorted(posts.items()):
        forgotten.remember_purged(session, workspace_id, keys)
    session.execute(update(Workspace).where(
        Workspace.id.in_(sorted(posts)),
        or_(Workspace.purged_before.is_(None), Workspace.purged_before < cutoff))
        .values(purged_before=cutoff))


def _release_follow_ups(session: Session, ids: list[int]) -> None:
    """Give ``new`` back to the follow-ups kept of the cases whose first mention is among
    ``ids``: their case goes with it (cascade), and a follow-up of no case is one nobody
    could work (every action reads its case's first mention)."""
    kept_posts = (select(CasePost.mention_id).join(Case, Case.id == CasePost.case_id)
                  .where(Case.root_mention_id.in_(ids), CasePost.mention_id.is_not(None)))
    session.execute(update(Mention).where(
        Mention.id.in_(kept_posts), Mention.id.not_in(ids),
        Mention.status == MentionStatus.FOLLOW_UP.value)
        .values(status=MentionStatus.NEW.value, version=Mention.version + 1,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))


def _drop_emptied_counts(session: Session, cutoff: datetime) -> None:
    # Count rows a forget or a relabel emptied (the purge keeps its mentions counted) can
    # go: nothing new is ever counted in an hour before the cut-off.
    for table in (MentionHourCount, MentionPriorityCount):
        session.execute(delete(table).where(table.mentions == 0,
                                            table.hour < hour_of(cutoff)))
    session.execute(delete(MentionDayCount).where(MentionDayCount.mentions == 0,
                                                  MentionDayCount.day < hour_of(cutoff) // 24))


def _drop_aliases_of(session: Session, mention_ids: Any) -> None:
    """Delete the other names of the mentions ``mention_ids`` (a list or a select of ids),
    by their keys: one statement per workspace and network, reading the aliases' key index."""
    # The brand's replies in the cases these mentions root go with their case (cascade);
    # the customers' posts there are mentions, whose aliases their own mention keeps.
    brand_posts = (select(CasePost.workspace_id, CasePost.network, CasePost.external_id)
                   .join(Case, Case.id == CasePost.case_id)
                   .where(Case.root_mention_id.in_(mention_ids), CasePost.mention_id.is_(None)))
    _drop_aliases_by_key(session, [*session.execute(
        select(Mention.workspace_id, Mention.network, Mention.external_id)
        .where(Mention.id.in_(mention_ids))).tuples(), *session.execute(brand_posts).tuples()])


def _drop_aliases_by_key(session: Session, posts: Iterable[tuple[int, str, str]]) -> None:
    """Delete the other names of ``posts`` ((workspace id, network, external id))."""
    keys: dict[tuple[int, str], list[str]] = {}
    for workspace_id, network, external_id in posts:
        keys.setdefault((workspace_id, network), []).append(external_id)
    for (workspace_id, network), external_ids in keys.items():
        session.execute(delete(PostAlias).where(
            PostAlias.workspace_id == workspace_id, PostAlias.network == network,
            PostAlias.external_id.in_(external_ids)))


class AliasSweep:
    """Removes the other names of posts Vigie did not keep, ``ALIAS_GRACE`` after they were
    written, walking ``post_aliases`` in the order they were written from where its last run
    stopped: each alias is read once (the first run of a process reads them all once).
    Aliases of kept posts stay; they go with their mention (``purge_older_than``,
    ``do_forget``). The walk is by (created_at, id), not by id alone: SQLite gives a
    deleted highest id to the next row."""

    def __init__(self) -> None:
        self.after: tuple[datetime, int] | None = None
        """The (created_at, id) of the last alias read and settled."""

    def run(self, sessions: sessionmaker[Session], now: datetime) -> int:
        """Delete the aliases that are due, one batch per transaction; how many went."""
        cutoff = now - ALIAS_GRACE
        kept = or_(
            exists().where(Mention.workspace_id == PostAlias.workspace_id,
                           Mention.network == PostAlias.network,
                           Mention.external_id == PostAlias.external_id),
            exists().where(CasePost.workspace_id == PostAlias.workspace_id,
                           CasePost.network == PostAlias.network,
                           CasePost.external_id == PostAlias.external_id))
        deleted, more = 0, True
        while more:
            query = (select(PostAlias.id, PostAlias.created_at, kept)
                     .where(PostAlias.created_at < cutoff)
                     .order_by(PostAlias.created_at, PostAlias.id).limit(BATCH))
            if self.after is not None:
                query = query.where(tuple_(PostAlias.created_at, PostAlias.id)
                                    > tuple_(literal(self.after[0], PostAlias.created_at.type),
                                             literal(self.after[1])))
            with transaction(sessions) as session:
                rows = session.execute(query).all()
                due = [alias_id for alias_id, _created, is_kept in rows if not is_kept]
                if due:
                    session.execute(delete(PostAlias).where(PostAlias.id.in_(due)))
            if rows:
                self.after = (rows[-1].created_at, rows[-1].id)
            deleted += len(due)
            more = len(rows) == BATCH
        return deleted
