"""Ingest: turn fetched mentions into stored, analysed, deduplicated mentions and alerts.

One call handles one source batch inside the caller's transaction (the polling service
commits it together with the source's new cursor, so a crash loses nothing and stores
nothing twice). Work is done in bulk: a few queries per batch, not per row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, cast, get_args

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.analysis.attention import LANGUAGE_NOT_ANALYSED
from bot.analysis.conversation import apply_direct
from bot.analysis.intent import Intent, IntentFlag
from bot.analysis.language import detect_language
from bot.analysis.pipeline import (
    Analysis,
    AnalysisInput,
    StoredAnalysis,
    analyze_many,
    prioritize_stored,
)
from bot.analysis.priority import WAITING_REASON, WRITES_AGAIN_REASON
from bot.analysis.sentiment import Label
from bot.analysis.topics import TopicMatch, topic_mask, topics_json
from bot.matching.fingerprint import content_fingerprint, story_key_for
from bot.matching.query import (
    MatchInput,
    Query,
    QueryError,
    handle_key,
    parse_query,
    searched_text,
)
from bot.services import backfill, cases, forgotten, influencers
from bot.services.opportunities import do_find_opportunities, do_retire_held_by_brand
from bot.services.outbox import KIND_CARD, KIND_UPDATE_CARD, card_rank, do_enqueue
from bot.services.topic_channels import channel_picker
from bot.services.triage_learning import alert_threshold
from bot.services.watch_links import (
    Known,
    KnownText,
    card_dedupe_key,
    do_link,
    do_mark_alerting,
    do_share_card,
    known_fingerprints,
    known_mentions,
    posted_card,
    poster_key,
    same_post,
    stories_in_watch,
)
from bot.sources.base import SEARCHED_ASIDE, FetchedMention
from bot.sources.text import to_utc
from bot.text_hygiene import clean_text
from storage.bulk import hold_watch, insert_mentions, one_of, upsert_authors
from storage.db_errors import bound_lock_waits, is_refused_item, is_size_bound
from storage.dialect import is_postgresql
from storage.models import Mention, MentionStatus, OutboxMessage, Watch, Workspace
from storage.models_base import INTEGER_MAX
from storage.models_competitors import WATCH_COMPETITOR

log = logging.getLogger(__name__)

MAX_TEXT = 40_000
MAX_CONTEXT = 500
MAX_EXTERNAL_ID = 500
MAX_SKIPPED_SHOWN = 5
MAX_REACH = INTEGER_MAX
"""A mention's reach is an INTEGER column: a follower count beyond it (a bad source) is capped."""


@dataclass
class IngestReport:
    """Counts of what happened to one batch."""

    received: int = 0
    filtered: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    stored: int = 0
    linked: int = 0
    """Mentions another watch had stored, linked to this watch."""
    alerts: int = 0
    """Cards queued: new mentions, and stories or cases a new post made urgent."""
    joined_stories: int = 0
    backfilled: int = 0
    """Stored quietly: older than the backfill window of a new or resumed source, or found
    late and published before the source's history began (``history_before``)."""
    late: int = 0
    """Stored posts the source found late (``FetchedMention.late``): dated well before
    newer posts it had returned already. Counted in ``stored`` too."""
    forgotten: int = 0
    """Posts of forgotten authors (``bot.services.forgotten``): dropped, never stored."""
    expired: int = 0
    """New posts retention purged (``purged_posts``): dropped, as purged posts a source
    brings back would be counted twice."""
    brand_posts: int = 0
    follow_ups: int = 0
    reopened: int = 0
    opportunities: int = 0
    """Conquest opportunities queued (a competitor watch in a group with conquest on)."""
    stored_ids: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Items the database refused (``network:external id (error kind)``), dropped alone."""

    def add(self, other: IngestReport) -> None:
        """Accumulate ``other`` into this report."""
        for name in ("received", "filtered", "duplicates", "near_duplicates", "stored",
                     "linked", "alerts", "joined_stories", "backfilled", "late", "forgotten",
                     "expired",
                     "brand_posts",
                     "follow_ups", "reopened", "opportunities"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.stored_ids.extend(other.stored_ids)
        self.skipped.extend(other.skipped)

    @property
    def skipped_note(self) -> str | None:
        """What to put in the source's health when items were dropped, else None."""
        if not self.skipped:
            return None
        shown = "; ".join(self.skipped[:MAX_SKIPPED_SHOWN])
        more = len(self.skipped) - MAX_SKIPPED_SHOWN
        return (f"{len(self.skipped)} item(s) could not be stored and were skipped: {shown}"
                + (f" and {more} more" if more > 0 else ""))

    @property
    def skipped_reasons(self) -> list[list[Any]] | None:
        """``skipped_note`` as catalogue reasons (``source_error.KEY`` and its parameters,
        as ``sources.last_error_reasons`` stores them), to word it for the reader; None
        when nothing was dropped."""
        if not self.skipped:
            return None
        params: dict[str, str | int] = {
            "count": len(self.skipped), "items": "; ".join(self.skipped[:MAX_SKIPPED_SHOWN])}
        more = len(self.skipped) - MAX_SKIPPED_SHOWN
        if more > 0:
            return [["skipped_items_more", {**params, "more": more}]]
        return [["skipped_items", params]]


class Matched(NamedTuple):
    """A fetched mention that matched its watch, with its dedupe keys (not analysed yet)."""

    # A named tuple: built once or twice per mention of every batch, in a fraction of a
    # frozen dataclass's time (whose fields are each set through object.__setattr__).

    fetched: FetchedMention
    fingerprint: str | None
    story_key: str | None
    language: str | None = None
    """Set when the watch's query needed the language to match (``lang:``)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A fetched mention that matched its watch, with its analysis and dedupe keys."""

    fetched: FetchedMention
    analysis: Analysis
    fingerprint: str | None
    story_key: str | None


def _key(item: FetchedMention) -> tuple[str, str]:
    """A fetched mention's (network, external id): what identifies it in a workspace."""
    return item.network, item.external_id


def _by_network(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for network, value in pairs:
        grouped.setdefault(network, []).append(value)
    return grouped


_NO_SIGNAL: tuple[bool | None, bool] = (None, False)
"""A mention's signals when nothing is known: addressed unknown, not writing again."""


def _analysis_input(item: FetchedMention, signal: tuple[bool | None, bool] = _NO_SIGNAL
                    ) -> AnalysisInput:
    return AnalysisInput(
        f"{item.title}\n{item.text}" if item.title else item.text,
        lang_hint=item.language_hint, followers=item.author.followers,
        verified=item.author.verified, engagement=item.engagement,
        published_at=item.published_at, addressed=signal[0], repeat_contact=signal[1],
    )


def _needs_language(query: Query) -> bool:
    return any(f.name == "lang" for f in query.fields())


def match_batch(
    watch: Watch, fetched: Sequence[FetchedMention], *, report: IngestReport,
    keys: bool = True,
) -> list[Matched]:
    """Keep the mentions matching the watch's query (first of each id), with their keys
    (``keys=False``: without, for ``_drop_known`` to add to the mentions not stored yet)."""
    try:
        query = parse_query(watch.query or "", stored=True)
    except QueryError:
        report.filtered += len(fetched)
        return []
    seen: set[tuple[str, str]] = set()
    unique: list[FetchedMention] = []
    for item in fetched:
        if len(item.external_id) > MAX_EXTERNAL_ID:
            item = replace(item, external_id=item.external_id[:MAX_EXTERNAL_ID])
        key = _key(item)
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        unique.append(item)
    # Analysis costs more than matching: only a lang: filter needs the language first.
    languages: list[str | None] = [None] * len(unique)
    if _needs_language(query):
        languages = [detect_language(i.text, i.lang_hint) for i in map(_analysis_input, unique)]
    kept: list[int] = []
    if query.is_empty:  # keeps everything: no match input to build per mention
        kept = list(range(len(unique)))
    else:
        for n, item in enumerate(unique):
            if query.matches(MatchInput(
                    text=_searched_text(item), title=item.title,
                    author_handle=None if item.author.anonymous else item.author.handle,
                    language=languages[n], network=item.network)):
                kept.append(n)
            else:
                report.filtered += 1
    if not keys:
        return [Matched(unique[n], None, None, languages[n]) for n in kept]
    return [_with_keys(Matched(unique[n], None, None, languages[n])) for n in kept]


def _searched_text(item: FetchedMention) -> str:
    """What a watch's query reads of ``item`` (``searched_text``: its text and its aside)."""
    return searched_text(item.text, _aside(item))


def _aside(item: FetchedMention) -> str | None:
    """The words aside from ``item``'s text that the network's search reads too
    (``SEARCHED_ASIDE``: an image description, a poll's options), one a line; stored with
    the mention (``Mention.aside``) so its query is matched again the way ingest did."""
    aside = item.extra.get(SEARCHED_ASIDE)
    if not isinstance(aside, list | tuple):
        return None
    return "\n".join(line for line in aside if isinstance(line, str) and line)[:MAX_TEXT] or None


def _with_keys(matched: Matched) -> Matched:
    """``matched`` with its dedupe keys (content fingerprint, story key)."""
    item = matched.fetched
    return Matched(item, content_fingerprint(item.text),
                   story_key_for(list(item.links), item.url), matched.language)


def analyse_matched(watch: Watch, matched: Sequence[Matched], *, now: datetime,
                    signals: dict[tuple[str, str], tuple[bool | None, bool]] | None = None,
                    ) -> list[Candidate]:
    """Analyse the matched mentions in the context of their watch (``signals``: per
    (network, external id), addressed to the brand and writing again in an open case)."""
    languages: list[str | None] | None = None
    if matched and _needs_language(parse_query(watch.query or "", stored=True)):
        languages = [m.language for m in matched]
    known = signals or {}
    inputs = [_analysis_input(m.fetched, known.get(
        _key(m.fetched), _NO_SIGNAL)) for m in matched] if known else [
        _analysis_input(m.fetched) for m in matched]
    analyses = analyze_many(inputs, now=now, watch_weight=watch.weight, languages=languages)
    return [Candidate(m.fetched, analysis, m.fingerprint, m.story_key)
            for m, analysis in zip(matched, analyses, strict=True)]


def match_and_analyze(
    watch: Watch, fetched: Sequence[FetchedMention], *, now: datetime, report: IngestReport
) -> list[Candidate]:
    """Keep the mentions matching the watch's query (first of each id) and analyse them
    (what a source test or a dry run shows, before any dedupe against stored mentions)."""
    return analyse_matched(watch, match_batch(watch, fetched, report=report), now=now)


def _drop_known(session: Session, watch: Watch, candidates: list[Matched],
                report: IngestReport) -> tuple[list[Matched], dict[int, Matched]]:
    """The candidates not stored yet, and the stored mentions this watch does not hold yet
    (mention id -> candidate), which it is linked to.

    A stored post is known by its (network, external id), or by its content fingerprint
    when a source gives it under another id (two Google Alerts feeds, two feeds syndicating
    one post, a feed rewriting its GUIDs): either way it is linked to this watch unless the
    watch holds it already. One known by its id counts as a duplicate; one known by its
    text counts as a near duplicate only when the watch holds it already (or links it from
    an earlier item of the batch), so a watch is never alerted twice for one text. Known
    by its text means by the same poster too, where the network names people
    (``same_post``): another customer's copy of the words is a new mention."""
    workspace_id = watch.workspace_id
    known: dict[tuple[str, str], Known] = {}
    for network, external_ids in _by_network(
            _key(c.fetched) for c in candidates).items():
        found = known_mentions(session, workspace_id, watch.id, network,
                               one_of(session, Mention.external_id, external_ids))
        known.update(((network, e), k) for e, k in found.items())
    # The keys of a stored post are not needed (it is linked, not stored again).
    candidates = [c if _key(c.fetched) in known else _with_keys(c)
                  for c in candidates]
    to_link: dict[int, Matched] = {}
    rest: list[Matched] = []
    for candidate in candidates:
        stored = known.get(_key(candidate.fetched))
        if stored is None:
            rest.append(candidate)
            continue
        report.duplicates += 1
        if not stored.linked:
            to_link[stored.mention_id] = candidate
    known_prints = known_fingerprints(session, workspace_id, watch.id, [
        c.fingerprint for c in rest if c.fingerprint])
    kept: list[Matched] = []
    for candidate in rest:
        if not candidate.fingerprint:
            kept.append(candidate)
            continue
        fetched = candidate.fetched
        author = poster_key(fetched.network,
                            None if fetched.author.anonymous else fetched.author.handle,
                            fetched.text, f"{fetched.network}:{fetched.external_id}")
        print_of = same_post(known_prints.get(candidate.fingerprint, []), author)
        if print_of is None:
            # Stored for this watch below: later items of the batch with this text (and
            # this author) are near duplicates of this one (the watch holds it; no id yet).
            known_prints.setdefault(candidate.fingerprint, []).append(
                KnownText(Known(0, True, None), author))
            kept.append(candidate)
        elif print_of.linked or print_of.mention_id in to_link:
            report.near_duplicates += 1
        else:
            to_link[print_of.mention_id] = candidate
    return kept, to_link


def _upsert_authors(session: Session, workspace_id: int, candidates: list[Candidate],
                    now: datetime) -> dict[tuple[str, str], int]:
    latest: dict[tuple[str, str], FetchedMention] = {}
    counts: dict[tuple[str, str], int] = {}
    for candidate in candidates:
        if candidate.fetched.author.anonymous:  # a placeholder: one row would merge them all
            continue
        key = (candidate.fetched.network, candidate.fetched.author.handle[:200])
        latest[key] = candidate.fetched
        counts[key] = counts.get(key, 0) + 1
    if not latest:
        return {}
    # One upsert: new authors arrive with their count, known ones add to theirs and keep
    # their name, reach and URL unless this batch brings new values.
    rows = [{"workspace_id": workspace_id, "network": n, "handle": h, "handle_key": handle_key(h),
             "name": (m.author.name or "")[:300] or None, "url": m.author.url,
             "site": m.author.site, "followers": m.author.followers,
             "verified": m.author.verified,
             "mention_count": counts[(n, h)], "first_seen_at": now, "last_seen_at": now}
            # Sorted: concurrent batches lock shared authors in one order, no deadlock.
            for (n, h), m in sorted(latest.items(), key=lambda item: item[0])]
    return upsert_authors(session, rows)


def _published(published_at: datetime, now: datetime) -> datetime:
    """The time periods count a post by: its published time, or the discovery time when
    that is in the future (a wrong clock, a bad feed)."""
    if published_at.tzinfo is UTC and now.tzinfo is UTC:  # what sources give: no conversion
        return published_at if published_at <= now else now
    return published_at if to_utc(published_at) <= to_utc(now) else now


_NEW = MentionStatus.NEW.value
"""A new mention's status (an enum member's value is a Python property: read once)."""
_LINK, _WORDS = "link", "words"
"""What a story's posts share (``_link_stories``): a link, or the same words."""
CAMPAIGN_WINDOW = timedelta(days=2)
"""How long after a text's first post was received its copies by other people still join
its story (a copy-paste campaign); a copy later is a post of its own again."""


def _reach(followers: int | None) -> int:
    """The stored reach of a follower count: unknown is 0, a count past the column is
    capped (``max(0, min(followers or 0, MAX_REACH))``, without two builtin calls)."""
    if not followers or followers < 0:
        return 0
    return followers if followers <= MAX_REACH else MAX_REACH


def _context(item: FetchedMention) -> str | None:
    """What a comment answers, as its source gives it (``extra["context"]``: a Reddit
    thread's or an HN story's title): shown on its card, never matched as its words."""
    context = item.extra.get("context")
    if not isinstance(context, str):
        return None
    return clean_text(context)[:MAX_CONTEXT] or None


def _row(workspace_id: int, watch_id: int, source_id: int | None, candidate: Candidate,
         author_id: int | None, now: datetime) -> dict[str, Any]:
    item, analysis = candidate.fetched, candidate.analysis
    topics, flags = analysis.topics, analysis.flags  # most mentions have neither
    sentiment, sentiment_label = analysis.stored_sentiment
    return {
        "workspace_id": workspace_id, "watch_id": watch_id, "source_id": source_id,
        "author_id": author_id, "network": item.network, "external_id": item.external_id,
        "url": item.url, "title": item.title, "text": item.text[:MAX_TEXT],
        "context": _context(item), "aside": _aside(item),
        "language": analysis.language, "published_at": _published(item.published_at, now),
        "fingerprint": candidate.fingerprint, "story_key": candidate.story_key,
        "parent_external_id": item.parent_external_id, "engagement": item.engagement,
        "reach": _reach(item.author.followers),
        "sentiment": sentiment, "sentiment_label": sentiment_label,
        "intent": analysis.intent,
        "intent_flags": [{"name": f.name, "terms": list(f.terms)} for f in flags] if flags else [],
        "topics": topics_json(topics) if topics else [],
        "topic_mask": topic_mask([t.name for t in topics]) if topics else 0,
        "priority": analysis.priority, "priority_reason": analysis.reason,
        "status": _NEW, "created_at": now, "updated_at": now,
    }


def _link_stories(session: Session, watch: Watch, inserted: dict[tuple[str, str], int],
                  candidates: list[Candidate], report: IngestReport, now: datetime
                  ) -> dict[int, int]:
    """Attach mentions sharing a link, or the same words, to the watch's first mention of
    that story (the card lives in the watch's channel); return id -> primary id.

    A story is one link that several sources carry (an article syndicated or shared), or,
    for posts that carry no link, one text that several people post (a copy-paste
    campaign: a boycott call copied by twenty accounts, by its content fingerprint;
    the same poster's copies are not stored twice at all), within ``CAMPAIGN_WINDOW`` of
    its first post being received. A mention waiting for the brand's answer
    (``Analysis.waiting``: a customer writing to the brand with a complaint, a question or
    a risk) is never part of one, neither member nor first post: it keeps its own card,
    its own SLA and its place in open work, however many others share its link or its
    words (twenty customers asking the brand where their order is are twenty answers
    owed)."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for candidate in candidates:
        mention_id = inserted.get(_key(candidate.fetched))
        if mention_id is None or candidate.analysis.waiting:
            continue
        if candidate.story_key:
            by_key.setdefault((_LINK, candidate.story_key), []).append(mention_id)
        elif candidate.fingerprint:
            by_key.setdefault((_WORDS, candidate.fingerprint), []).append(mention_id)
    if not by_key:
        return {}
    # The stored mentions of these stories other than the batch's own (which the loop
    # below sees already): most batches share no story with a stored mention, and then
    # no row comes back instead of one per mention just stored.
    ours = sorted(mention_id for ids in by_key.values() for mention_id in ids)
    firsts = (Mention.workspace_id == watch.workspace_id, Mention.watch_id == watch.id,
              Mention.story_id.is_(None), ~one_of(session, Mention.id, ours),
              ~_waits_for_answer())
    primaries: dict[tuple[str, str], int] = {}
    for kind, column, extra in (
            (_LINK, Mention.story_key, ()),
            (_WORDS, Mention.fingerprint, (Mention.story_key.is_(None),
                                           Mention.created_at >= now - CAMPAIGN_WINDOW))):
        keys = sorted(value for key_kind, value in by_key if key_kind == kind)
        if not keys:
            continue
        for key, mention_id in session.execute(
                select(column, Mention.id).where(*firsts, one_of(session, column, keys),
                                                 *extra).order_by(Mention.id)).all():
            primaries.setdefault((kind, str(key)), int(mention_id))
    links: dict[int, int] = {}
    for key, ids in by_key.items():
        primary = min(ids) if key not in primaries else min(primaries[key], *ids)
        for mention_id in ids:
            if mention_id != primary:
                links[mention_id] = primary
    if links:
        session.execute(update(Mention), [{"id": m, "story_id": p} for m, p in links.items()])
        report.joined_stories += len(links)
    return links


def _waits_for_answer() -> ColumnElement[bool]:
    """A stored mention waiting for the brand's answer, as its stored reason says it (the
    reason is written from ``Analysis.waiting``: ``bot.analysis.priority``)."""
    reason = func.coalesce(Mention.priority_reason, "")
    return or_(reason.contains(WAITING_REASON), reason.contains(WRITES_AGAIN_REASON))


def _after_purges(session: Session, workspace_id: int, matched: list[Matched],
                  report: IngestReport) -> list[Matched]:
    """The new posts but those retention purged, which the counts still hold (counted in
    ``report.expired``). A workspace no purge deleted anything from costs one read."""
    if not matched:
        return matched
    horizon = session.scalar(select(Workspace.purged_before).where(
        Workspace.id == workspace_id))
    if horizon is None:
        return matched
    gone = forgotten.purged(session, workspace_id, [
        (c.fetched.network, c.fetched.external_id) for c in matched])
    if not gone:
        return matched
    kept = [c for c in matched if (c.fetched.network, c.fetched.external_id) not in gone]
    report.expired += len(matched) - len(kept)
    return kept


def do_ingest(
    session: Session, watch: Watch, source_id: int | None,
    fetched: Sequence[FetchedMention], *, now: datetime,
    backfill_before: datetime | None = None, history_before: datetime | None = None,
    give_up: Callable[[FetchedMention], bool] | None = None,
) -> IngestReport:
    """Store the batch's new mentions for ``watch`` and queue the alerts they need.

    Posts of forgotten authors (``bot.services.forgotten``) are dropped first, counted in
    ``report.forgotten``. Mentions published before ``backfill_before`` (a new or resumed
    source's history) are stored and counted, never alerted and never given an SLA. So are
    the mentions found late (``FetchedMention.late``) published before ``history_before``,
    where the source's history began (its first poll's backfill cut-off): a post a new
    source would have backfilled quietly is as quiet when an older source finds it late.
    Other late mentions are new to the team and go through the alert decision like any
    other (the priority already ages routine posts, not complaints or risks).

    On PostgreSQL the watch's row is locked first (``hold_watch``): no one can delete it
    before the batch commits, and a batch whose watch is gone stores nothing. The batch then
    runs in a savepoint: when the database refuses it (an item normalisation let through),
    each item is retried alone and the ones refused are dropped and listed in
    ``report.skipped``, so one poison item never fails its batch (nor freezes its source's
    cursor). A batch failing for a passing reason its size may explain (a statement
    timeout: ``storage.db_errors.is_size_bound``) is retried item by item the same way;
    any other passing failure (a lock timeout, a deadlock, a lost connection) is raised
    at once, as each item would wait or fail the same way. Only a
    refusal of the item's data drops it: an item's statement failing for a passing reason
    (a lock or statement timeout, a cancel, a deadlock, a lost connection) is raised, for
    the caller to roll the whole batch back (and leave its source's cursor where it was).
    SQLite stores any text and any clamped count, so it needs no such fallback (and skips
    the savepoint's cost). On PostgreSQL the transaction's lock waits are bounded below its
    statement timeout first (``bound_lock_waits``), so that a statement timeout is the
    statement's own time, never a lock's.

    ``give_up`` is asked about an item whose own statement exceeded a statement timeout
    (``is_size_bound``): True skips it as a refused item (logged, in ``report.skipped``)
    where it is raised; a caller that can never fetch it again (a webhook) says when it
    has failed so for too long. It is never asked about a lock, a deadlock or a lost
    connection, which say nothing of the item.
    """
    if not is_postgresql(session):
        return _ingest(session, watch, source_id, fetched, now=now,
                       backfill_before=backfill_before, history_before=history_before)
    # Before the savepoint (which would undo it): a lock wait must not read as a statement
    # timeout, which would send the batch item by item (waiting again) or give an item up.
    bound_lock_waits(session)
    forgotten.hold_for_ingest(session, watch.workspace_id)
    if not hold_watch(session, watch.id):
        # Deleted since it was read: nothing is stored for it (PostgreSQL does not check
        # the watch key of each row a batch writes; this lock is what keeps it valid).
        return IngestReport(received=len(fetched), skipped=[
            f"{item.network}:{item.external_id[:100]} (watch deleted)" for item in fetched])
    try:
        with session.begin_nested():
            return _ingest(session, watch, source_id, fetched, now=now,
                           backfill_before=backfill_before, history_before=history_before)
    except DBAPIError as err:
        if err.connection_invalidated or not (is_refused_item(err) or is_size_bound(err)):
            # A bug, no savepoint to go back to (the connection is gone), or a passing
            # failure smaller statements would meet the same way (a lock timeout, a
            # deadlock): the caller rolls back now, rather than wait for the lock again.
            raise
        if len(fetched) == 1 and not is_refused_item(err):
            # The item's own statement timed out: alone, it would wait as long.
            if give_up is None or not give_up(fetched[0]):
                raise
            return IngestReport(received=1, skipped=[_given_up(fetched[0], err)])
        # A statement_timeout a large batch always exceeds goes item by item too: one
        # item failing the same way is raised below, and the caller's transaction rolls
        # back.
        log.warning("a batch of %d mentions failed (%s); storing them one by one",
                    len(fetched), type(err.orig).__name__)
    report = IngestReport(received=len(fetched))
    for item in fetched:
        try:
            with session.begin_nested():
                part = _ingest(session, watch, source_id, [item], now=now,
                               backfill_before=backfill_before,
                               history_before=history_before)
        except DBAPIError as err:
            if is_refused_item(err):
                report.skipped.append(
                    f"{item.network}:{item.external_id[:100]} ({type(err.orig).__name__})")
                continue
            if give_up is not None and is_size_bound(err) and give_up(item):
                report.skipped.append(_given_up(item, err))
                continue
            raise
        part.received = 0
        report.add(part)
    return report


def _given_up(item: FetchedMention, err: DBAPIError) -> str:
    """The ``report.skipped`` entry of an item ``do_ingest``'s caller gave up on (logged
    with its id: its post is not stored, and will not be offered again)."""
    label = f"{item.network}:{item.external_id[:100]}"
    log.warning("gave up storing %s: its own insert has failed (%s) for too long",
                label, type(err.orig).__name__)
    return f"{label} ({type(err.orig).__name__})"


def _ingest(
    session: Session, watch: Watch, source_id: int | None,
    fetched: Sequence[FetchedMention], *, now: datetime,
    backfill_before: datetime | None = None, history_before: datetime | None = None,
) -> IngestReport:
    report = IngestReport(received=len(fetched))
    workspace_id = watch.workspace_id
    # A forgotten author's posts never come back (nor their words reach any analysis).
    fetched, report.forgotten = forgotten.drop_forgotten(session, workspace_id, fetched)
    fetched = cases.resolve_local_parents(session, workspace_id, fetched)
    fetched = _known_edits(session, workspace_id, fetched)
    handles = cases.BrandHandles.load(session, workspace_id)
    # Nor the brand's answers to them (parents resolved first: a Mastodon reply names its
    # parent by a local id until then).
    fetched, answers = cases.drop_brand_posts_to_forgotten(session, workspace_id, fetched,
                                                           handles)
    report.forgotten += answers
    customers, handles, report.brand_posts = cases.take_brand_posts(session, workspace_id,
                                                                    fetched, handles)
    # Mentions already stored are dropped before the analysis, the costliest step; those
    # another watch stored are linked to this one.
    # Replies and thread posts only (and a cut id, which can read as one once cut): the
    # conversation look-ups and the cases skip a batch of none.
    threaded = any(item.parent_external_id or len(item.external_id) > MAX_EXTERNAL_ID
                   or cases.thread_root(item) for item in customers)
    continuing = _continuing(session, workspace_id, customers) if threaded else {}
    matched_here = match_batch(watch, customers, report=report, keys=False)
    continuing = _with_returning(session, watch, customers, matched_here, handles,
                                 continuing, now)
    matched, to_link = _drop_known(session, watch, _with_follow_ups(
        customers, matched_here, continuing, report), report)
    matched = _after_purges(session, workspace_id, matched, report)
    priorities: dict[int, int] = {}
    story_links: dict[int, int] = {}
    silenced: set[int] = set()
    topics: dict[int, set[str]] = {}
    loud: set[int] = set()
    if matched:
        candidates = _analysed(session, watch, matched, handles, continuing, now)
        author_ids = _upsert_authors(session, workspace_id, candidates, now)
        watch_id = watch.id  # read once: an ORM attribute costs a Python call per read
        rows = [_row(workspace_id, watch_id, source_id, c, author_ids.get(
            (c.fetched.network, c.fetched.author.handle[:200])), now) for c in candidates]
        # Keyed by network too: a webhook batch may hold the same id on two networks.
        inserted: dict[tuple[str, str], int] = {}
        for mention_id, network, external_id, priority in insert_mentions(session, rows):
            inserted[(network, external_id)] = mention_id
            priorities[mention_id] = priority
        report.duplicates += len(rows) - len(inserted)
        # A tracked influencer's new post alerts whatever its priority (one lookup).
        loud = influencers.tracked_posts(session, workspace_id, {
            inserted[key]: r["author_id"] for r in rows
            if (key := (r["network"], r["external_id"])) in inserted})
        report.stored = len(inserted)
        report.stored_ids = sorted(inserted.values())
        late = [c.fetched for c in candidates if c.fetched.late and _key(c.fetched) in inserted]
        report.late = len(late)
        story_links = _link_stories(session, watch, inserted, candidates, report, now)
        if threaded or handles or watch.kind != WATCH_COMPETITOR or (
                backfill_before is not None) or (late and history_before is not None):
            # (else no mention is quiet, none is a reply, a thread post or a brand's, and
            # none returns to a case)
            silenced = _conversation_hooks(session, watch, inserted, candidates, priorities,
                                           backfill_before, handles, now, report,
                                           history_before=history_before)
        topics = {inserted[key]: {t.name for t in c.analysis.topics}
                  for c in candidates if (key := _key(c.fetched)) in inserted}
        if len(inserted) < len(rows):
            # Another worker stored some of them a moment ago: this watch links to them.
            _add_raced(session, watch, matched, inserted, to_link)
    # The brand's replies to this batch's posts that no stored post took (``attach_mentions``).
    cases.settle_brand_replies(session, workspace_id, fetched, handles)
    linked = _link_known(session, watch, to_link, handles, continuing, now=now)
    report.linked = len(linked)
    if not watch.paused and watch.kind == WATCH_COMPETITOR:
        # A competitor's mentions are counted, never alerted; the unhappy ones may be
        # offered to the brand's team (conquest opportunities), never the backfilled ones.
        fresh = [m for m in priorities if m not in silenced]
        report.opportunities = do_find_opportunities(
            session, watch, fresh + list(_alerting_links(session, linked)), now)
        tracked = {m: p for m, p in priorities.items() if m in loud and m not in silenced}
        if tracked:
            # A tracked influencer is followed wherever they post: about a competitor too
            # (a card; never an SLA, which competitors' watches do not give).
            _queue_alerts(session, watch, tracked, story_links, report,
                          channel_picker(session, watch, topics), loud)
    elif not watch.paused:
        # A post a competitor's watch offered as an opportunity alerts here: one card.
        do_retire_held_by_brand(session, watch, list(linked))
        channel_for = channel_picker(session, watch, topics)
        _queue_alerts(session, watch, {m: p for m, p in priorities.items() if m not in silenced},
                      story_links, report, channel_for, loud)
        _queue_linked_alerts(session, watch, _alerting_links(session, linked), report,
                             channel_for)
    return report


def _known_edits(session: Session, workspace_id: int, fetched: Sequence[FetchedMention]
                 ) -> Sequence[FetchedMention]:
    """``fetched`` with each edit of a stored post (an X post edited after a poll stored
    it comes back under a new id, its earlier ids in ``extra["edited_from"]``) given the
    stored post's id: it is that mention, never a second one nor its author writing
    again. The stored mention takes the edited words (text and fingerprint), and its
    posted cards are updated to show them (a card not posted yet renders them when it
    goes)."""
    earlier = {(item.network, old_id) for item in fetched
               for old_id in item.extra.get("edited_from") or ()}
    if not earlier:
        return fetched
    stored: dict[tuple[str, str], tuple[int, str]] = {}
    for network, ids in _by_network(earlier).items():
        rows = session.execute(select(Mention.external_id, Mention.id).where(
            Mention.workspace_id == workspace_id, Mention.network == network,
            one_of(session, Mention.external_id, ids))).all()
        stored.update(((network, str(external_id)), (int(mention_id), str(external_id)))
                      for external_id, mention_id in rows)
    result: list[FetchedMention] = []
    for item in fetched:
        found = next((stored[key] for old_id in item.extra.get("edited_from") or ()
                      if (key := (item.network, old_id)) in stored), None)
        if found is None:
            result.append(item)
            continue
        mention_id, external_id = found
        words = item.text[:MAX_TEXT]
        # The same edit is fetched again (a second X source, a backlog read again): its
        # card is updated only when the words changed.
        changed = session.execute(update(Mention).where(
            Mention.id == mention_id, Mention.text != words).values(
            text=words, fingerprint=content_fingerprint(item.text)))
        if changed.rowcount:  # type: ignore[attr-defined]
            _update_posted_card(session, workspace_id, mention_id)
        result.append(replace(item, external_id=external_id))
    return result


def _update_posted_card(session: Session, workspace_id: int, mention_id: int) -> None:
    """Queue an update of the cards of an edited mention, once its first card is posted
    (``do_enqueue`` reaches its cards in other channels; pending updates of one card are
    sent as one chat.update)."""
    channel, ts = session.execute(select(Mention.slack_channel, Mention.slack_ts).where(
        Mention.id == mention_id)).one()
    if channel and ts:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_CARD,
                   channel=channel, mention_id=mention_id)


def _analysed(session: Session, watch: Watch, matched: Sequence[Matched],
              handles: cases.BrandHandles, continuing: dict[tuple[str, str], bool],
              now: datetime) -> list[Candidate]:
    """``analyse_matched`` told whether each mention is addressed to the brand and writes
    again in a case; a direct mention's flag names the brand account (for the card)."""
    direct = _direct(session, watch.workspace_id, handles, [m.fetched for m in matched])
    signals = _signals_of(direct, handles, continuing)
    if not direct:  # no brand account: no mention is direct
        return analyse_matched(watch, matched, now=now, signals=signals)
    return [replace(c, analysis=apply_direct(c.analysis, handle)) if (
        handle := direct.get(_key(c.fetched))) else c
        for c in analyse_matched(watch, matched, now=now, signals=signals)]


def _signals_of(direct: dict[tuple[str, str], str | None], handles: cases.BrandHandles,
                continuing: dict[tuple[str, str], bool]
                ) -> dict[tuple[str, str], tuple[bool | None, bool]]:
    """Per mention, addressed to the brand (None: unknown) and writing again in a case;
    a mention not listed has neither (``_NO_SIGNAL``)."""
    if not handles:  # no brand account: addressed is unknown; only writing again is known
        return {key: (None, True) for key, again in continuing.items() if again}
    return {key: (None if handle is None and not handles.covers(key[0]) else bool(handle),
                  continuing.get(key, False))
            for key, handle in direct.items()}


def _signals(session: Session, watch: Watch, matched: Sequence[Matched],
             handles: cases.BrandHandles, continuing: dict[tuple[str, str], bool]
             ) -> dict[tuple[str, str], tuple[bool | None, bool]]:
    return _signals_of(_direct(session, watch.workspace_id, handles,
                               [m.fetched for m in matched]), handles, continuing)


def _add_raced(session: Session, watch: Watch, matched: Sequence[Matched],
               inserted: dict[tuple[str, str], int], to_link: dict[int, Matched]) -> None:
    for network, external_ids in _by_network(
            key for m in matched if (key := _key(m.fetched)) not in inserted).items():
        found = known_mentions(session, watch.workspace_id, watch.id, network,
                               one_of(session, Mention.external_id, external_ids))
        by_id = {m.fetched.external_id: m for m in matched if m.fetched.network == network}
        for external_id, stored in found.items():
            if not stored.linked and external_id in by_id:
                to_link[stored.mention_id] = by_id[external_id]


def _link_known(session: Session, watch: Watch, to_link: dict[int, Matched],
                handles: cases.BrandHandles, continuing: dict[tuple[str, str], bool], *,
                now: datetime) -> dict[int, int]:
    """Link the stored mentions of ``to_link`` to ``watch``, each with its priority for this
    watch; return the links made (mention id -> priority)."""
    if not to_link:
        return {}
    ids = sorted(to_link)
    stored = _stored_analyses(session, to_link)
    priorities: dict[int, int] = {}
    if stored:
        # Language, sentiment and intent depend on the text only: read, not worked out
        # again; the signals (addressed, writing again) and the priority are this watch's.
        reused = [i for i in ids if i in stored]
        signals = _signals(session, watch, [to_link[i] for i in reused], handles, continuing)
        inputs = [(_analysis_input(f, signals.get(_key(f), _NO_SIGNAL)),
                   stored[i])
                  for i in reused for f in (to_link[i].fetched,)]
        priorities.update((i, p) for i, (p, _) in zip(
            reused, prioritize_stored(inputs, now=now, watch_weight=watch.weight), strict=True))
    rest = [i for i in ids if i not in stored]
    if rest:
        analysed = _analysed(session, watch, [to_link[i] for i in rest], handles, continuing,
                             now)
        priorities.update((i, c.analysis.priority) for i, c in zip(rest, analysed, strict=True))
    return do_link(session, watch, {i: priorities[i] for i in ids}, now)


_LABELS = frozenset(get_args(Label))
_INTENTS = frozenset(get_args(Intent))


def _stored_analyses(session: Session, to_link: dict[int, Matched]
                     ) -> dict[int, StoredAnalysis]:
    """The stored analyses of the mentions to link whose stored text is the one fetched
    (then the analysis of the text is the stored one; an edited or cut text is analysed
    again)."""
    out: dict[int, StoredAnalysis] = {}
    for chunk in _chunks(sorted(to_link), 1000):
        for row in session.execute(select(
                Mention.id, Mention.title, Mention.text, Mention.language, Mention.sentiment,
                Mention.sentiment_label, Mention.intent, Mention.intent_flags,
                Mention.topics).where(
                one_of(session, Mention.id, chunk))):
            item = to_link[row.id].fetched
            score, label = row.sentiment, row.sentiment_label
            if score is None and label is None and isinstance(row.intent_flags, list) and any(
                    isinstance(f, dict) and f.get("name") == LANGUAGE_NOT_ANALYSED
                    for f in row.intent_flags):
                # No model read it, so none is stored, and the priority ignores it.
                score, label = 0.0, "neutral"
            if (row.title != item.title or row.text != item.text or score is None
                    or label not in _LABELS or row.intent not in _INTENTS
                    or not isinstance(row.intent_flags, list)):
                continue
            out[row.id] = StoredAnalysis(
                row.language, score, cast(Label, label),
                cast(Intent, row.intent),
                tuple(IntentFlag(str(f["name"]), tuple(map(str, f["terms"])))
                      for f in row.intent_flags if isinstance(f, dict)
                      and isinstance(f.get("terms"), list)),
                tuple(TopicMatch(str(t["name"]), tuple(map(str, t["terms"])))
                      for t in row.topics if isinstance(t, dict)
                      and isinstance(t.get("terms"), list))
                if isinstance(row.topics, list) else ())
    return out


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    return (ids[n:n + size] for n in range(0, len(ids), size))


def _continuing(session: Session, workspace_id: int, fetched: Sequence[FetchedMention]
                ) -> dict[tuple[str, str], bool]:
    """Posts replying into a conversation Vigie holds: True when by its customer (writing
    again), False when only replying to a brand post."""
    return cases.conversation_items(session, workspace_id, fetched)


def _with_returning(session: Session, watch: Watch, fetched: Sequence[FetchedMention],
                    matched: list[Matched], handles: cases.BrandHandles,
                    continuing: dict[tuple[str, str], bool], now: datetime
                    ) -> dict[tuple[str, str], bool]:
    """``continuing`` plus the new posts by a customer returning to their open case
    (``cases.returning_customers``): they write again, and one addressed to the brand is
    kept whatever the query says, as a reply in the case's thread is."""
    returning = cases.returning_customers(session, watch, fetched, handles, now)
    if not returning:
        return continuing
    kept = {_key(m.fetched) for m in matched}
    return {**continuing, **{key: True for key, addressed in returning.items()
                             if addressed or key in kept}}


def _with_follow_ups(fetched: Sequence[FetchedMention], matched: list[Matched],
                     continuing: dict[tuple[str, str], bool], report: IngestReport
                     ) -> list[Matched]:
    """``matched`` plus the posts continuing a conversation, whatever the query says
    ("still nothing", an order number are follow-ups, not noise)."""
    if not continuing:
        return matched
    kept = {_key(m.fetched) for m in matched}
    added: list[Matched] = []
    for item in fetched:
        key = _key(item)
        if key in continuing and key not in kept:
            kept.add(key)
            added.append(Matched(item, None, None))
    report.filtered -= len(added)
    return matched + added


def _direct(session: Session, workspace_id: int, handles: cases.BrandHandles,
            items: list[FetchedMention]) -> dict[tuple[str, str], str | None]:
    """Per item, the brand account it is addressed to (None: not addressed, or unknown);
    empty when the workspace has no brand account (no item is addressed to one)."""
    if not handles:
        return {}
    replies_to_brand = cases.brand_parents(session, workspace_id, items)
    return {_key(i): handles.addressed(i) or replies_to_brand.get(
        (i.network, i.parent_external_id or "")) for i in items}


def _alerting_links(session: Session, linked: dict[int, int]) -> dict[int, int]:
    """The links that may alert: a follow-up joined its case once (the case's cards hear
    it) and a backfilled mention never alerts, whichever watch links them."""
    if not linked:
        return linked
    ids = sorted(linked)
    silent = cases.follow_ups_among(session, ids) | backfill.quiet_among(session, ids)
    return {m: p for m, p in linked.items() if m not in silent}


def _conversation_hooks(session: Session, watch: Watch, inserted: dict[tuple[str, str], int],
                        candidates: list[Candidate], priorities: dict[int, int],
                        backfill_before: datetime | None, handles: cases.BrandHandles,
                        now: datetime, report: IngestReport, *,
                        history_before: datetime | None = None) -> set[int]:
    """Quiet backfill and cases for the stored mentions; the ids that get no card."""
    by_id = {inserted[key]: c.fetched for c in candidates
             if (key := _key(c.fetched)) in inserted}
    quiet: set[int] = set()
    if backfill_before is not None:
        quiet = {m for m, item in by_id.items() if item.published_at < backfill_before}
    if history_before is not None:
        quiet |= {m for m, item in by_id.items()
                  if item.late and item.published_at < history_before}
    if quiet:
        backfill.mark_quiet(session, sorted(quiet))
        report.backfilled += len(quiet)
    attached = cases.attach_mentions(session, watch, by_id, priorities, quiet, now=now,
                                     handles=handles)
    report.follow_ups += attached.follow_ups
    report.alerts += attached.alerts
    report.reopened += attached.reopened
    return quiet | attached.silenced


def _queue_alerts(session: Session, watch: Watch, priorities: dict[int, int],
                  story_links: dict[int, int], report: IngestReport,
                  channel_for: Callable[[int], str], loud: set[int]) -> None:
    updated_primaries: set[int] = set()
    threshold = alert_threshold(session, watch)  # the watch's, shifted by triage learning
    cards = _CardQueue(session, watch, [
        (story_links.get(mention_id, mention_id), channel_for(mention_id))
        for mention_id in sorted(priorities)
        if priorities[mention_id] >= threshold or mention_id in loud], known=priorities)
    for mention_id in sorted(priorities):
        alerts = priorities[mention_id] >= threshold or mention_id in loud
        primary = story_links.get(mention_id)
        if primary is not None:
            # The first post's card: this post's priority (or author) decided, not its own.
            if alerts and cards.add(primary, channel_for(mention_id), forced=True):
                # The story's first post waited for the digest; this one makes it urgent.
                report.alerts += 1
                continue
            updated_primaries.add(primary)
            continue
        if alerts and cards.add(mention_id, channel_for(mention_id),
                                forced=mention_id in loud):
            # (not when its follow-up in this batch queued its card already: one card)
            report.alerts += 1
    cards.flush()
    for primary in sorted(updated_primaries):
        card = session.get(Mention, primary)
        if card is not None and card.slack_ts and card.slack_channel:
            do_enqueue(session, workspace_id=watch.workspace_id, kind=KIND_UPDATE_CARD,
                       channel=card.slack_channel, mention_id=primary)


class _CardQueue:
    """A batch's cards, each queued once per channel (its dedupe key): the cards already
    queued are read in one query and the new ones written in one flush, in the order they
    were added (``do_enqueue`` per card cost a query and a flush each). Each card added is
    ``watch``'s decision to alert, recorded on its link (``do_mark_alerting``) even when the
    channel's card was queued already by another watch."""

    def __init__(self, session: Session, watch: Watch,
                 wanted: Sequence[tuple[int, str]], *,
                 known: dict[int, int] | None = None) -> None:
        self.session = session
        # The stored priorities of the mentions this batch stored (what their insert
        # returned): their cards' ranks need no read; a story's older first post does.
        self.known = known or {}
        self.workspace_id = watch.workspace_id
        self.watch_id = watch.id
        # Each decision, and whether it was forced (a threshold decision on it wins).
        self.decided: dict[int, bool] = {}
        keys = sorted({card_dedupe_key(m, c) for m, c in wanted})
        self.taken: set[str] = set() if not keys else {str(k) for k in session.scalars(
            select(OutboxMessage.dedupe_key).where(
                one_of(session, OutboxMessage.dedupe_key, keys)))}
        self.rows: list[OutboxMessage] = []

    def add(self, mention_id: int, channel: str, *, forced: bool = False) -> bool:
        """Queue the mention's card in ``channel`` unless queued already; True if queued.
        ``forced``: the watch alerts on it whatever its threshold (``do_mark_alerting``)."""
        self.decided[mention_id] = self.decided.get(mention_id, True) and forced
        key = card_dedupe_key(mention_id, channel)
        if key in self.taken:
            return False
        self.taken.add(key)
        self.rows.append(OutboxMessage(workspace_id=self.workspace_id, kind=KIND_CARD,
                                       channel=channel, payload={}, mention_id=mention_id,
                                       dedupe_key=key))
        return True

    def flush(self) -> None:
        """Write the cards queued and the decisions to alert."""
        do_mark_alerting(self.session, self.watch_id, list(self.decided),
                         forced=[m for m, forced in self.decided.items() if forced])
        self.decided = {}
        if self.rows:
            known = self.known
            unknown = sorted({r.mention_id for r in self.rows
                              if r.mention_id is not None and r.mention_id not in known})
            read: dict[int, int] = {} if not unknown else dict(self.session.execute(
                select(Mention.id, Mention.priority).where(
                    one_of(self.session, Mention.id, unknown))).tuples().all())
            for row in self.rows:
                mention_id = row.mention_id or 0
                row.send_rank = card_rank(known[mention_id] if mention_id in known
                                          else read.get(mention_id))
            self.session.add_all(self.rows)
            self.session.flush()
            self.rows = []


def _queue_linked_alerts(session: Session, watch: Watch, linked: dict[int, int],
                         report: IngestReport, channel_for: Callable[[int], str]) -> None:
    """This watch's alert decision on the stored mentions just linked to it: a card in its
    channel (or its topic route's), or, when that channel has the mention's card already,
    the card names it too.

    A mention in a story alerts as it did when first stored: through its story's card,
    when the watch holds the story's first post too (else with a card of its own)."""
    if not linked:
        return
    threshold = alert_threshold(session, watch)  # the watch's, shifted by triage learning
    ids = [mention_id for mention_id in sorted(linked) if linked[mention_id] >= threshold]
    story_of = stories_in_watch(session, watch.id, ids)
    alerting = list(dict.fromkeys(
        (story_of.get(mention_id, mention_id), channel_for(mention_id)) for mention_id in ids))
    cards = _CardQueue(session, watch, alerting)
    own = set(ids)
    for mention_id, channel in alerting:
        # A story's first post carded for a later one: not its own priority's decision.
        if cards.add(mention_id, channel, forced=mention_id not in own):
            report.alerts += 1
            continue
        ts = posted_card(session, mention_id, channel)
        if ts is not None:
            cards.flush()  # the outbox keeps the order the decisions were made in
            do_share_card(session, mention_id, watch.id, channel, ts)
            do_enqueue(session, workspace_id=watch.workspace_id, kind=KIND_UPDATE_CARD,
                       channel=channel, mention_id=mention_id, payload={"ts": ts})
    cards.flush()
