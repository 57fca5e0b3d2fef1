"""Listing stored mentions with filters (CLI `vigie mentions`, `/cm mentions`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import (
    Connection,
    Row,
)
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.attention import LANGUAGE_NOT_ANALYSED
from bot.analysis.conversation import DIRECT_FLAG, direct_handle
from bot.analysis.text import fold_accents
from bot.analysis.topics import TOPICS, parse_topic, topic_mask
from bot.i18n import SUPPORTED_LANGUAGES, t
from bot.matching.query import (
    And,
    Field,
    MatchInput,
    Or,
    Query,
    QueryError,
    parse_query,
    searched_text,
)
from bot.matching.search_terms import (
    fts5_query,
    index_is_exact,
    least_hits,
    only_rare_terms,
    tsquery,
)
from bot.networks import network_names, normalize_network
from bot.services.errors import NotFound, ServiceError, Terms, query_error
from bot.services.topic_channels import topics_of_mask
from bot.services.watches import watch_id_by_name
from bot.text_hygiene import storable
from storage import search_index
from storage.dialect import is_postgresql
from storage.mention_listing import (
    EQUAL_FILTERS,
    MAX_ID,
    authors_with_handles,
    by_authors,
    by_language,
    by_networks,
    has_network,
    hits_statement,
    language_params,
    listing_statement,
    lowest_id_in_window,
    lowest_id_since,
    smallest_index,
)
from storage.models import MentionStatus

DURATION = re.compile(r"^(\d{1,12})(m|h|d|j|w|sem)$")
SECONDS = re.compile(r"^(\d{1,12})s$")
"""A bare ``s``: seconds to an English reader, "semaines" to some French ones (accepted as
weeks until this was refused): ``since:30s`` meant 30 weeks to Vigie and 30 seconds to
whoever typed it. No period of Vigie is in seconds, so it is refused, naming ``w``/``sem``."""
LONGEST_PERIOD = timedelta(days=36_500)
"""Periods longer than a century mean "everything" and are cut to one (no date overflow)."""
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks",
         "j": "days", "sem": "weeks"}
"""Units of a duration: English letters, and the French ``j`` (jours) and ``sem``
(semaines) the French help and errors name, each accepted in either language."""
SENTIMENTS = ("negative", "neutral", "positive")
MAX_LIMIT = 500
MAX_CONFIRM_PAGE = 2000
"""Most index candidates read at once when many of them fail the query's exclusions."""
SINCE_PROBE = 1000
"""Most mentions read from the published_at index to bound a ``since`` listing by id."""
MANY_HITS = 4
"""PostgreSQL counts a word's hits unless its statistics estimate MANY_HITS times
FEW_HITS or more (an estimate from a sample: a margin)."""


def refuse_seconds(text: str) -> None:
    """Raise the ServiceError that says ``30s`` is ambiguous and how to write weeks or
    days, when ``text`` is a number of ``s``; nothing otherwise."""
    match = SECONDS.match(text.strip().lower())
    if match:
        raise ServiceError("mentions.seconds_unit", value=text.strip(), amount=match.group(1))


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w`` (``7j``, ``2sem`` in French) -> timedelta;
    ServiceError otherwise (``2s``, seconds or weeks, is refused: ``refuse_seconds``). Any
    length is accepted (``10000d``: everything), at most ``LONGEST_PERIOD``."""
    match = DURATION.match(text.strip().lower())
    if not match:
        refuse_seconds(text)
        raise ServiceError("mentions.bad_since", value=text)
    amount, unit = int(match.group(1)), UNITS[match.group(2)]
    longest = LONGEST_PERIOD / timedelta(**{unit: 1})
    return timedelta(**{unit: amount}) if amount < longest else LONGEST_PERIOD


def period_key(text: str) -> str:
    """A period as days in the English spelling the period tables use: ``7j`` and ``1sem``
    (French) -> ``7d``; anything else lower-cased and stripped, as given. ServiceError for
    a number of ``s`` (``refuse_seconds``), which no reader should see read as weeks."""
    refuse_seconds(text)
    value = text.strip().lower()
    match = DURATION.match(value)
    if not match or UNITS[match.group(2)] not in ("days", "weeks"):
        return value
    amount = int(match.group(1)) * (7 if UNITS[match.group(2)] == "weeks" else 1)
    return f"{amount}d"


@dataclass(frozen=True, slots=True)
class MentionFilter:
    """Filters of a mention listing; all optional."""

    watch: str | None = None
    since: timedelta | None = None
    status: str | None = None
    sentiment: str | None = None
    network: str | None = None
    assignee: str | None = None
    text: str | None = None
    topic: str | None = None
    before_id: int | None = None


@dataclass(slots=True)
class MentionRow:
    """One mention as listings show it (not frozen: a frozen dataclass sets each of its 21
    fields through object.__setattr__, half the cost of turning a listing row into one)."""

    id: int
    network: str
    external_id: str
    author: str | None
    author_followers: int | None
    text: str
    title: str | None
    url: str
    published_at: datetime
    status: str
    watch: str | None
    language: str | None
    sentiment: float | None
    sentiment_label: str | None
    intent: str | None
    priority: int
    priority_reason: str | None
    assignee: str | None
    topics: tuple[str, ...] = ()
    direct_to: str | None = None
    """The brand account the mention was addressed to."""
    language_analysed: bool = True
    aside: str | None = None
    """Words outside the text that the network's search reads (``Mention.aside``)."""

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601 UTC)."""
        return {
            "id": self.id, "network": self.network, "external_id": self.external_id,
            "author": self.author, "author_followers": self.author_followers,
            "text": self.text, "title": self.title, "url": self.url,
            "published_at": self.published_at.isoformat(), "status": self.status,
            "watch": self.watch, "language": self.language, "sentiment": self.sentiment,
            "sentiment_label": self.sentiment_label, "intent": self.intent,
            "priority": self.priority, "priority_reason": self.priority_reason,
            "assignee": self.assignee, "topics": list(self.topics),
            "direct_to": self.direct_to, "language_analysed": self.language_analysed,
        }


def _validate(filters: MentionFilter) -> None:
    # A NUL or a lone surrogate would fail the statement: no watch or network holds one.
    if filters.network is not None and (not filters.network.strip()
                                        or not storable(filters.network)):
        refuse_network(filters.network)
    if filters.watch is not None and not storable(filters.watch):
        raise NotFound("watch.not_found", name=filters.watch)
    if filters.status and filters.status not in STATUSES:
        raise ServiceError("mentions.bad_status", value=filters.status, valid=_STATUS_WORDS)
    if filters.sentiment and filters.sentiment not in SENTIMENTS:
        raise ServiceError("mentions.bad_sentiment", value=filters.sentiment)
    if filters.topic and filters.topic not in TOPICS:
        raise ServiceError("mentions.bad_topic", value=filters.topic, valid=_TOPIC_WORDS)


STATUSES = tuple(s.value for s in MentionStatus)
_STATUS_WORDS = Terms(f"status_word.{status}" for status in STATUSES)
_TOPIC_WORDS = Terms(f"topics.{topic}" for topic in TOPICS)


def _folded(value: str) -> str:
    return fold_accents(value.strip().lower()).replace("-", "_").replace(" ", "_")


def _words(prefix: str, codes: tuple[str, ...], extra: dict[str, str]) -> dict[str, str]:
    """Typed word (folded) -> code: each code, its word in every catalogue, and ``extra``."""
    words = {_folded(code): code for code in codes}
    for language in SUPPORTED_LANGUAGES:
        words.update({_folded(t(language, f"{prefix}.{code}")): code for code in codes})
    return words | extra


_STATUS_ALIASES = _words("status_word", STATUSES, {
    # The masculine and plural forms a French reader types for the card's "Nouvelle".
    "nouveau": "new", "nouveaux": "new", "nouvelles": "new", "attribue": "assigned",
    "attribuees": "assigned", "en_cours": "drafting", "a_valider": "awaiting_approval",
    "valide": "approved", "validees": "approved", "repondu": "replied",
    "repondues": "replied", "clos": "closed", "closes": "closed", "ignore": "ignored",
    "ignorees": "ignored", "relances": "follow_up"})
_SENTIMENT_ALIASES = _words("sentiment_word", SENTIMENTS, {
    "negatif": "negative", "negative": "negative", "negatifs": "negative",
    "positif": "positive", "positifs": "positive", "neutres": "neutral"})


def status_of(value: str) -> str:
    """The status a user typed (``new``, ``Nouvelle``, ``nouveau``, ``en attente``...),
    or ServiceError listing the statuses in the reader's words."""
    status = _STATUS_ALIASES.get(_folded(value))
    if status is None:
        raise ServiceError("mentions.bad_status", value=value[:40], valid=_STATUS_WORDS)
    return status


def sentiment_of(value: str) -> str:
    """The sentiment a user typed (``negative``, ``négatif``, ``negatif``...) or
    ServiceError."""
    sentiment = _SENTIMENT_ALIASES.get(_folded(value))
    if sentiment is None:
        raise ServiceError("mentions.bad_sentiment", value=value[:40])
    return sentiment


def topic_of(value: str) -> str:
    """The topic a user typed (``billing``, ``Outage``, ``bug``, ``panne``...) or
    ServiceError listing the topics in the reader's words."""
    topic = parse_topic(value)
    if topic is None:
        raise ServiceError("mentions.bad_topic", value=value[:40], valid=_TOPIC_WORDS)
    return topic


def refuse_network(network: str) -> NoReturn:
    """Refuse a network filter naming no network (``source:``, ``source:mastdon``) with the
    query language's own words for ``source:`` (its example, its "did you mean")."""
    typed = "source:" + "".join(network.split())
    parse_text(typed)
    # Spaces aside, a network the query language knows ("mast odon"): refused as typed.
    err = QueryError("unknown_source", len("source:"), network, typed,
                     {"value": network, "known": ", ".join(sorted(network_names()))})
    raise ServiceError("mentions.bad_text", error=query_error(err), pointer=err.pointer())


def parse_text(text: str) -> Query:
    """A listing's text filter in the watch query language (words, "phrases", prefix*,
    OR, -exclusions, fields), with a clear ServiceError when it cannot search."""
    try:
        query = parse_query(text)
    except QueryError as err:
        raise ServiceError("mentions.bad_text", error=query_error(err),
                           pointer=err.pointer()) from None
    if query.is_empty or (fts5_query(query) is None and _fields_kept(query) is None):
        raise ServiceError("mentions.text_needs_words", value=text)
    return query


@dataclass(frozen=True, slots=True)
class _FieldsKept:
    """What every mention a query without indexed words matches has: one of these authors'
    handles (``from:`` values), this network, one of these languages (``lang:`` values), or
    fields no index holds (``source:a OR source:b``), checked mention by mention."""

    handles: frozenset[str] | None = None
    network: str | None = None
    languages: tuple[str, ...] | None = None
    networks: tuple[str, ...] | None = None
    """Several networks (``source:x OR source:mastodon``), when no ``source:`` alone."""


def _fields_kept(query: Query) -> _FieldsKept | None:
    """The fields a query requires of every mention it matches (its top-level fields and
    ORs of fields only: ``from:a``, ``from:a OR from:b``, ``source:x``, ``lang:fr``,
    ``lang:fr OR lang:de``, ``source:x OR source:reddit``), None when it requires none."""
    if query.root is None:
        return None
    conjuncts = query.root.children if isinstance(query.root, And) else (query.root,)
    handles: frozenset[str] | None = None
    network: str | None = None
    languages: tuple[str, ...] | None = None
    networks: tuple[str, ...] | None = None
    fields = False
    for node in conjuncts:
        if isinstance(node, Field) or (
                isinstance(node, Or) and all(isinstance(c, Field) for c in node.children)):
            fields = True
        if isinstance(node, Field):
            if node.name == "from" and handles is None:
                handles = frozenset((node.value,))
            elif node.name == "source" and network is None:
                network = node.value
            elif node.name == "lang" and languages is None:
                languages = (node.value,)
        elif (isinstance(node, Or) and handles is None
              and all(isinstance(c, Field) and c.name == "from" for c in node.children)):
            handles = frozenset(c.value for c in node.children if isinstance(c, Field))
        elif (isinstance(node, Or) and languages is None
              and all(isinstance(c, Field) and c.name == "lang" for c in node.children)):
            languages = tuple(sorted({c.value for c in node.children if isinstance(c, Field)}))
        elif (isinstance(node, Or) and networks is None
              and all(isinstance(c, Field) and c.name == "source" for c in node.children)):
            networks = tuple(sorted({c.value for c in node.children if isinstance(c, Field)}))
    if network is not None:
        networks = None  # source:x AND (source:x OR source:y) is source:x's mentions
    return _FieldsKept(handles, network, languages, networks) if fields else None


@dataclass(frozen=True, slots=True)
class FieldsSearch:
    """How a search with no word the full-text index holds, only fields, is read: its
    ``candidates`` (an author's mentions through the authors' and the mentions' author
    indexes, else a language's through the language index; None: no such field) with
    their parameters, and the ``network`` (``source:``) to filter on as well, if any
    (not with authors: their few mentions are checked one by one)."""

    candidates: search_index.Candidates | None
    network: str | None


def fields_search(conn: Connection, workspace_id: int, query: Query) -> FieldsSearch | None:
    """The narrowing of ``query``, a search ``fts5_query`` has nothing for (only fields:
    ``from:alice``, ``lang:de``, ``source:mastodon lang:fr``), shared by the listings and
    the exports; None when no mention can match (no author has any of its ``from:``
    handles). Every row read must still be confirmed with ``Query.matches``."""
    kept = _fields_kept(query)
    assert kept is not None  # parse_text refused the others
    if kept.handles is not None:
        authors = authors_with_handles(conn, workspace_id, kept.handles)
        if not authors:
            return None
        search = by_authors(several=len(authors) > 1)
        return FieldsSearch(replace(search, params={"search_authors": authors}), None)
    if kept.languages is not None:
        return FieldsSearch(replace(by_language(len(kept.languages)),
                                    params=language_params(kept.languages)), kept.network)
    if kept.networks is not None and len(kept.networks) > 1:
        return FieldsSearch(by_networks(kept.networks), None)
    if kept.networks is not None:  # source:x OR source:twitter: one network
        return FieldsSearch(None, kept.networks[0])
    return FieldsSearch(None, kept.network)


def _row(r: Row[Any]) -> MentionRow:
    direct_to, analysed = _signals_of_flags(r[19])
    return MentionRow(
        id=r[0], network=r[1], external_id=r[2], text=r[3], title=r[4], url=r[5],
        published_at=r[6], status=r[7], language=r[8], sentiment=r[9], sentiment_label=r[10],
        intent=r[11], priority=r[12], priority_reason=r[13], assignee=r[14], author=r[15],
        author_followers=r[16], watch=r[17],
        topics=_TOPICS_OF_MASK[r[18] & _ALL_TOPICS] if r[18] else (),
        direct_to=direct_to, language_analysed=analysed, aside=r[20],
    )


_ALL_TOPICS = (1 << len(TOPICS)) - 1
_TOPICS_OF_MASK = tuple(topics_of_mask(mask) for mask in range(_ALL_TOPICS + 1))
"""Topic names per stored ``topic_mask`` (bits past the known topics ignored)."""
_FLAG_NAMES = (f'"{DIRECT_FLAG}"', f'"{LANGUAGE_NOT_ANALYSED}"')


def _signals_of_flags(raw: str | None) -> tuple[str | None, bool]:
    """The brand handle a mention was addressed to and whether its language was read,
    from its ``intent_flags`` as JSON text: decoded only when it names either flag
    (JSON writes these ASCII names as they are)."""
    if raw is None or not any(name in raw for name in _FLAG_NAMES):
        return None, True
    try:
        flags = json.loads(raw)
    except ValueError:
        return None, True
    return direct_handle(flags if isinstance(flags, list) else None), language_read(flags)


def _matches(query: Query, row: MentionRow) -> bool:
    return query.matches(MatchInput(text=searched_text(row.text, row.aside), title=row.title,
                                    author_handle=row.author,
                                    language=row.language, network=row.network))


_ONE_SNAPSHOT = {"isolation_level": "REPEATABLE READ"}
"""PostgreSQL's isolation for a listing: every statement reads the snapshot of its first."""


def search_mentions(
    sessions: sessionmaker[Session], workspace_id: int, filters: MentionFilter, *,
    limit: int = 20, now: datetime,
) -> list[MentionRow]:
    """The newest mentions matching ``filters`` (keyset pagination with ``before_id``).

    The text filter is the watch query language, answered by the full-text index and
    confirmed mention by mention with ``Query.matches`` (the index may over-select, never
    miss; plain words the index answers exactly skip it), so a listing shows exactly what
    a watch with that query would match.
    """
    _validate(filters)
    if filters.network:  # `--network twitter` is x, as source:twitter is in a query
        filters = replace(filters, network=normalize_network(filters.network))
    text_query = parse_text(filters.text) if filters.text else None
    limit = max(1, min(limit, MAX_LIMIT))
    with sessions() as session:
        # A listing may take several statements (a window's id bound, a word's hits, then
        # the rows): on PostgreSQL they share one snapshot, as they do in SQLite's read
        # transaction, or a row committed between two of them (ids are not committed in
        # order by several workers) could show while an older one did not.
        conn = session.connection(execution_options=_ONE_SNAPSHOT if is_postgresql(session)
                                  else None)
        rows = _listing(conn, workspace_id, filters, text_query, limit, now)
        if not rows and filters.watch:
            watch_id_by_name(conn, workspace_id, filters.watch)  # NotFound if there is none
        if (not rows and filters.network and filters.network not in network_names()
                and not has_network(conn, workspace_id, filters.network)):
            # A feed's or webhook's own label ("news") is a network of its mentions only.
            refuse_network(filters.network)
        return rows


def _listing(conn: Connection, workspace_id: int, filters: MentionFilter,
             text_query: Query | None, limit: int, now: datetime) -> list[MentionRow]:
    params: dict[str, Any] = {"ws": workspace_id, "limit": limit}
    if filters.watch:
        params["watch"] = filters.watch.lower()  # the statement looks its id up
    for name in ("status", "sentiment", "assignee"):
        if getattr(filters, name):
            params[name] = getattr(filters, name)
    if filters.network:
        params["network"] = filters.network.lower()
    if filters.topic:
        params["topic"] = topic_mask([filters.topic])
    if filters.since is not None:
        params["since"] = now - filters.since
        # PostgreSQL plans a watch's listing before the statement computes its bound: taking
        # it to keep a third of the links, it read and sorted the whole window instead of
        # walking the links (``watch:w1 since:24h``, 9 ms against 0.3 at 1M). It is given
        # the bound's value (a wide window: none), one round trip more.
        bound_first = text_query is not None or (
            filters.watch is not None and conn.dialect.name == "postgresql")
        if not bound_first:  # the listing statement bounds the ids itself
            params["probe"] = SINCE_PROBE
        else:
            lowest = lowest_id_since(conn, workspace_id, params["since"], SINCE_PROBE)
            if lowest == 0:
                return []
            if lowest is not None:
                params["lowest"] = lowest
            elif text_query is None:  # a wide window: no bound
                params["lowest"] = 0
            else:  # a wide window: the walk's listing statement bounds the ids itself
                params["probe"] = SINCE_PROBE
    if filters.before_id is not None:
        # A forged More button's cursor past every id (no INTEGER holds it) lists from the
        # newest, as no cursor does: PostgreSQL would refuse to compare ids with it.
        params["before"] = min(filters.before_id, MAX_ID)
    if text_query is not None and fts5_query(text_query) is None:
        return _by_fields(conn, params, text_query, limit)
    if text_query is None:
        statement = listing_statement(conn, tuple(sorted(
            n for n in params if n not in ("ws", "limit"))), walk=smallest_index(conn, params))
        return [_row(r) for r in conn.execute(statement, params)]
    # SQLite walks every search: FTS5 reads a word's postings newest first, so a rare
    # word's first step is all its hits. PostgreSQL's planner must be told whether a
    # word is rare: by its statistics' common terms, else by counting its hits.
    if search_index.hits_come_newest_first(conn):
        return _walked(conn, params, text_query, limit)
    common = search_index.common_term_hits(conn)
    rare = None if common is None else only_rare_terms(text_query, common.__contains__)
    if rare:
        return _walked(conn, params, text_query, limit, rare=rare)
    filtered = _filtered(params)
    search = None
    # Counting a common word's hits reads thousands of them (most of ``love
    # topic:billing``): not when the statistics say there are far more than FEW_HITS.
    surely_many = common is not None and least_hits(
        text_query, lambda term: common.get(term, 0.0)) > search_index.FEW_HITS * MANY_HITS
    if (rare is None or filtered) and not surely_many:
        # A word among the common terms may still have under FEW_HITS hits: their id
        # list is cheaper than any plan checking vectors row by row.
        search = search_index.few_candidates(conn, fts5_query(text_query), tsquery(text_query))
    if search is None and filtered:
        # A common word and other filters: one statement, the planner choosing between
        # walking the filters' index checking each vector and intersecting the index's
        # hits with it (its statistics know both how common the word is and how
        # selective the filters are).
        search = search_index.many_candidates(conn, fts5_query(text_query),
                                              tsquery(text_query))
    if search is None:
        return _walked(conn, params, text_query, limit)
    return _confirmed(conn, params | search.params, search, text_query, limit)


def _by_fields(conn: Connection, params: dict[str, Any], text_query: Query, limit: int
               ) -> list[MentionRow]:
    """A search with no word the full-text index holds, only fields (``from:alice``,
    ``source:mastodon lang:fr``), read as ``fields_search`` says (a network with the
    listing's network filter); each row is confirmed with ``Query.matches``."""
    found = fields_search(conn, params["ws"], text_query)
    if found is None:
        return []
    if found.network is not None and "network" not in params:
        params = params | {"network": found.network}
    search = found.candidates
    return _confirmed(conn, params | (search.params if search else {}), search, text_query,
                      limit)


def _confirmed(conn: Connection, params: dict[str, Any],
               search: search_index.Candidates | None, text_query: Query, limit: int
               ) -> list[MentionRow]:
    """Pages of index candidates, newest first, kept when the query really matches."""
    shape = tuple(sorted(n for n in (*params, "before") if n in _FILTER_PARAMS))
    statement = listing_statement(conn, shape, search)
    found: list[MentionRow] = []
    size = limit
    before = params.get("before", MAX_ID)
    checked: set[int] | None = None  # None: every row is checked
    if search is not None and "queued" not in search.key and index_is_exact(text_query):
        checked = set(search.params.get("search_always", ()))
    while len(found) < limit:
        rows = [_row(r) for r in conn.execute(statement, {**params, "before": before,
                                                          "limit": size})]
        for row in rows:  # newest first: once the page is full, the rest need no check
            if (checked is not None and row.id not in checked) or _matches(text_query, row):
                found.append(row)
                if len(found) == limit:
                    return found
        if len(rows) < size:
            break
        before = rows[-1].id
        # Exclusions and fields are only checked here: read faster when they reject many.
        size = min(size * 4, MAX_CONFIRM_PAGE)
    return found[:limit]


WALK_FIRST = 32
"""Ids read by each side's first step (four times more hits with other filters)."""
WALK_TRY_ROWS = 8
"""The rows walk is tried once fewer than 1 hit in WALK_TRY_ROWS passes the filters."""
WALK_STEP_COST = 40
"""What one statement costs, in rows read (for choosing the side to walk)."""
JOIN_HITS = 50_000
"""SQLite: a filtered search whose word has at most this many hits (estimated from the
first step's) is, after its second step, one statement with the hits as a subquery."""
WINDOW_PROBE = 50_000
"""SQLite: that statement is bounded to the ``since`` window's ids when the window holds
fewer mentions than this (read from its index: about 8 ms at most)."""


def _walked(conn: Connection, params: dict[str, Any], text_query: Query, limit: int, *,
            rare: bool = False) -> list[MentionRow]:
    """The newest mentions matching a text query, by two walks down the ids that share
    one cursor, each step settling every id between the cursor and its last row.

    - *hits*: the index's next hits below the cursor (newest first; both engines stop
      early), plus the mentions the index cannot answer for, read by primary key with
      the other filters;
    - *rows*: the next mentions passing the other filters (their listing index), each
      checked with ``Query.matches``.

    A common word with no other filter fills a page from its first hits, a rare word's
    first step reads all its hits; when the other filters keep few of the hits, the rows
    walk is tried (``assignee:`` with no mention ends at once). Once both ran, the side
    that settled more ids per row read goes on, reading four times more each step.
    ``rare``: PostgreSQL reads the hits from the GIN index (see ``hits_below``).
    """
    match, dialect_query = fts5_query(text_query), tsquery(text_query)
    shape = tuple(sorted(n for n in (*params, "before") if n in _FILTER_PARAMS))
    by_rows = listing_statement(conn, shape)
    by_hits = hits_statement(conn, shape)
    cursor = params.get("before", MAX_ID)  # every id >= cursor is settled
    floor = params.get("lowest", 0)
    # Other filters keep only some hits: start with more of them (fewer round trips).
    filtered = _filtered(params)
    exact = index_is_exact(text_query)
    first = WALK_FIRST * 4 if filtered else WALK_FIRST
    if exact and not filtered:
        first = limit + 1  # each hit of the workspace is a result: a page of hits will do
    size = {"hits": first, "rows": WALK_FIRST}
    settled = {"hits": 0, "rows": 0}
    spent = {"hits": 0, "rows": 0}
    # PostgreSQL reads a common word's hits row by row: with other filters, first see
    # whether they keep any mention at all (one page of their rows).
    side = ("rows" if filtered and not search_index.hits_come_newest_first(conn) and not rare
            else "hits")
    if side == "rows":
        size["rows"] = limit
    found: list[MentionRow] = []
    hits: list[int] = []
    steps = 0
    density = (0, 1)  # the first step's hits and the ids they spread over
    while len(found) < limit and cursor > floor:
        checked: set[int] | None = None  # None: every row is checked
        if side == "hits":
            hits, unindexed = search_index.hits_below(
                conn, match, dialect_query, below=cursor, floor=floor, limit=size[side],
                rare=rare)
            low = hits[-1] if len(hits) == size[side] else floor
            if len(unindexed) == size[side]:  # a backlog: settle fewer ids this step
                low = max(low, unindexed[-1])
            ids = sorted({*(h for h in hits if h >= low), *(u for u in unindexed if u >= low)},
                         reverse=True)
            wanted = len(ids)
            if exact:
                checked = set(unindexed)
                if not checked:  # every row read is a result: read no more than the page
                    wanted = min(wanted, limit - len(found))
            rows = [_row(r) for r in conn.execute(by_hits, {
                **params, "before": cursor, "limit": wanted, "search_ids": ids})] if ids else []
            if len(rows) == wanted < len(ids):  # the page is full
                return [*found, *rows]
            spent[side] += WALK_STEP_COST + len(ids) + len(rows)
        else:
            rows = [_row(r) for r in conn.execute(by_rows, {**params, "before": cursor,
                                                            "limit": size[side]})]
            low = rows[-1].id if len(rows) == size[side] else floor
            spent[side] += WALK_STEP_COST + 2 * len(rows)  # each row is matched here
        before = len(found)
        for row in rows:  # newest first: once the page is full, the rest need no check
            if (checked is not None and row.id not in checked) or _matches(text_query, row):
                found.append(row)
                if len(found) == limit:
                    return found
        # Settled from the newest id read, not from MAX_ID: a first step would otherwise
        # seem to settle two billion ids and keep its side walking (``love topic:billing``
        # read thousands of hits by id while the topic's rows walk ended in a few steps).
        newest = (ids[0] if ids else low) if side == "hits" else (rows[0].id if rows else low)
        settled[side] += (cursor if cursor < MAX_ID else newest + 1) - low
        cursor = low
        if side == "hits" and steps == 0 and cursor > floor:
            density = (len(hits), max(newest + 1 - low, 1))
        if (steps == 1 and density[0] and filtered and cursor > floor
                and search_index.hits_come_newest_first(conn)
                and density[0] * (cursor - floor) <= JOIN_HITS * density[1]):
            # SQLite: the first hits say the word has at most JOIN_HITS below the cursor,
            # and the second step (often the filters' rows: an assignee with no mention
            # ends there) did not settle them: one statement walks the filters' index
            # and checks each id against the hits below the cursor, read once into a
            # list, instead of a walk turning hundreds of rows into Python objects
            # (``love status:approved``, ``love topic:billing``).
            window: dict[str, int] = {}
            if "since" in params and "lowest" not in params:
                # A window too wide to bound up front, yet the filters keep few of its
                # hits: bounded now, the statement reads only the window's hits
                # (``love since:7d status:approved`` probed all 12,000 hits of love with
                # the status's index: 52 ms at 1M).
                lowest = lowest_id_in_window(conn, params["ws"], params["since"],
                                             WINDOW_PROBE)
                if lowest == 0:
                    return found
                if lowest is not None:
                    window["lowest"] = lowest
            search = search_index.many_candidates(conn, match, dialect_query, walk=True,
                                                  floor="lowest" in {**params, **window})
            if search is not None:
                return [*found, *_confirmed(conn, {**params, **search.params, "before": cursor,
                                                   **window},
                                            search, text_query, limit - len(found))]
        steps += 1
        size[side] = min(size[side] * 4, MAX_CONFIRM_PAGE)
        if spent["rows"] and spent["hits"]:
            side = max(("hits", "rows"), key=lambda s: settled[s] / spent[s])
        elif spent["rows"]:
            side = "hits"
        elif (len(found) - before) * WALK_TRY_ROWS < len(ids):
            side = "rows"  # the other filters keep few hits: try walking their rows
    return found[:limit]


def _filtered(params: dict[str, Any]) -> bool:
    """Whether filters other than the text keep only some mentions."""
    return any(name in params for name in (*EQUAL_FILTERS, "watch", "topic", "since"))


_FILTER_PARAMS = frozenset({*EQUAL_FILTERS, "watch", "topic", "since", "lowest", "before"})


def language_read(flags: object) -> bool:
    """Whether a model read the language of a mention with these stored ``intent_flags``
    (False when the analysis flagged it "language not analysed")."""
    if not isinstance(flags, list):
        return True
    return not any(isinstance(f, dict) and f.get("name") == LANGUAGE_NOT_ANALYSED
                   for f in flags)


def topic_names_of(stored: object) -> tuple[str, ...]:
    """Topic names from a mention's stored ``topics`` (unknown or malformed entries skipped)."""
    if not isinstance(stored, list):
        return ()
    return tuple(item["name"] for item in stored
                 if isinstance(item, dict) and item.get("name") in TOPICS)
