"""The SQL of mention listings (``/cm mentions``, ``vigie mentions``): one statement per
combination of filters, built once, shaped for each engine's planner.

``bot.services.mention_search`` decides what to read (filters, full-text walks); the
statements here read it. Parameters are bound by name: ``ws`` (workspace id), ``limit``,
and one per filter in the statement's shape (``status``, ``sentiment``, ``network``,
``assignee``, ``watch`` (lower-cased name), ``topic`` (mask), ``since``, ``probe``,
``lowest``, ``before``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.exc import OperationalError

from bot.matching.query import handle_key, handle_matches
from storage import search_index
from storage.models import TOPIC_BITS, Author, Mention, Watch
from storage.models_base import INTEGER_MAX
from storage.models_watches import MentionWatch

MAX_ID = INTEGER_MAX
"""A cursor past every mention id (mentions.id is an INTEGER column)."""

_M = Mention.__table__.c
_A = Author.__table__.c
_W = Watch.__table__.c
LISTING_COLUMNS = (  # a listing row, read by position: add columns at the end
    _M.id, _M.network, _M.external_id, _M.text, _M.title, _M.url, _M.published_at, _M.status,
    _M.language, _M.sentiment, _M.sentiment_label, _M.intent, _M.priority,
    _M.priority_reason, _M.assignee_user_id, _A.handle, _A.followers, _W.name,
    # The topics as bits (written with the JSON list, migration 0018) and the flags as
    # their JSON text: most rows have none, and decoding every row's two JSON lists was
    # a fifth of an indexed listing's time.
    _M.topic_mask, cast(_M.intent_flags, Text),
    _M.aside,  # a search matches it with the text (bot.matching.query.searched_text)
)
_L = MentionWatch.__table__.c
EQUAL_FILTERS = {"status": _M.status, "sentiment": _M.sentiment_label, "network": _M.network,
                 "assignee": _M.assignee_user_id}
"""Equality filters: parameter name -> column (``watch`` goes through the links)."""
_STATEMENTS: dict[tuple[Any, ...], Select[Any]] = {}
_NAMED = Watch.__table__.alias("named_watch")
# The watch asked for, by name, inside the listing statement (one round trip); an empty
# listing then checks that the watch exists.
_WATCH_ID = (select(_NAMED.c.id)
             .where(_NAMED.c.workspace_id == bindparam("ws"),
                    func.lower(_NAMED.c.name) == bindparam("watch"))
             .limit(1).scalar_subquery())


def listing_statement(conn: Connection, shape: tuple[str, ...],
                      search: search_index.Candidates | None = None, *,
                      walk: str | None = None) -> Select[Any]:
    """The listing statement for one combination of filters (``shape``: the sorted names of
    its parameters besides ``ws`` and ``limit``), newest first, selecting
    ``LISTING_COLUMNS``; ``search``: full-text candidates the rows must be among. Built
    once per engine and reused (building and hashing a statement costs more than running
    an indexed listing).

    ``walk`` (SQLite, with a topic): the filter whose index the statement reads, ``topic``
    (the default) or one of ``status``, ``sentiment``, ``network`` (see
    ``smallest_index``); the other filters are checked on each row it reads."""
    dialect = conn.dialect.name
    if dialect != "sqlite" or "topic" not in shape or walk == "topic":
        walk = None
    key = (dialect, shape, search.key if search else None, walk)
    statement = _STATEMENTS.get(key)
    if statement is None:
        # Given a short list of full-text hits, read exactly those rows by primary key:
        # the other filters are wrapped so that no index on them looks cheaper (SQLite
        # without statistics guesses ~10 rows for any equality on an indexed column).
        by_id = search is not None and search.key.startswith("ids")

        def col(column: Any) -> Any:
            return func.coalesce(column, column) if by_id else column

        # A watch's listing holds every mention linked to it, whichever watch stored it
        # first, and its rows name that watch; other listings name the first watch. It
        # reads the watch's links newest first ((watch_id, mention_id) index) and each
        # mention by primary key; a short list of full-text hits is read by id instead.
        linked = "watch" in shape and not by_id
        rows: Any = Mention.__table__
        named: Any = _M.watch_id
        if linked:
            rows = MentionWatch.__table__.join(Mention.__table__, _M.id == _L.mention_id)
            named = _L.watch_id
        elif "watch" in shape:
            named = _WATCH_ID
        order = _L.mention_id if linked else _M.id
        statement = (
            select(*LISTING_COLUMNS)
            .select_from(rows.outerjoin(Author.__table__, _A.id == _M.author_id)
                         .outerjoin(Watch.__table__, _W.id == named))
            .where(col(_M.workspace_id) == bindparam("ws"))
        )
        if linked:
            statement = statement.where(_L.watch_id == _WATCH_ID)
        elif "watch" in shape:
            statement = statement.where(col(_M.id).in_(
                select(_L.mention_id).where(_L.watch_id == _WATCH_ID)))
        # SQLite takes a partial index to hold as many rows as the table: with a topic,
        # status, sentiment and network (often half the mentions) must not look cheaper
        # to walk than the topic's own index (``topic:churn status:new`` read every new
        # mention when none had that topic). An assignee's index stays usable.
        # ``walk``: the other way round, the topic's index must not be read.
        # Likewise an assignee's index is read rather than the status's, which SQLite
        # without statistics took for as small since it holds published_at (0035).
        by_topic = "topic" in shape and dialect == "sqlite"
        by_assignee = "assignee" in shape and dialect == "sqlite"
        for name in shape:
            if name in EQUAL_FILTERS:
                column: Any = EQUAL_FILTERS[name]
                if (by_topic or by_assignee) and name not in ("assignee", walk):
                    column = func.coalesce(column, column)
                statement = statement.where(col(column) == _equal_value(name))
        if "topic" in shape:
            # The bit is written into the SQL sent (one statement per topic): only then do
            # both planners see that the topic's partial index (storage.models) holds
            # every row wanted, and walk it newest first.
            mask: Any = _M.topic_mask
            if walk is not None:
                mask = func.coalesce(mask, mask)
            # The 0 too: SQLite prepares again, at every run, a statement whose plan
            # depended on a bound value (the partial index's WHERE), which took half of
            # ``topic:billing since:7d``'s time.
            statement = statement.where(col(mask).op("&")(
                bindparam("topic", literal_execute=True)) != literal_column("0"))
        if "since" in shape:
            published: Any = _M.published_at
            if by_id or dialect == "sqlite":
                # A window of more than ``probe`` mentions (no id bound): read newest ids
                # first and check the time. SQLite with sampled or no statistics guesses
                # the published_at range keeps few rows and reads the whole window instead.
                published = func.coalesce(published, published)
            statement = statement.where(published >= bindparam("since"))
        if "lowest" in shape:
            statement = statement.where(order >= bindparam("lowest"))
        elif "since" in shape and search is None:
            statement = statement.where(order >= _SINCE_BOUND)
        if "before" in shape:
            statement = statement.where(order < bindparam("before"))
        if search is not None and search.arms:
            statement = _merged(statement, search.arms, order)
        else:
            if search is not None:
                statement = statement.where(search.condition)
            statement = statement.order_by(order.desc()).limit(bindparam("limit"))
        _STATEMENTS[key] = statement
    return statement


def _merged(statement: Select[Any], arms: Sequence[Any], order: Any) -> Select[Any]:
    """``statement``'s newest rows meeting any of ``arms``: each arm's newest ``limit``,
    read through its own index (one ordered walk per value, as for one value), merged
    newest first. An IN list could not be walked in id order: both engines read the
    workspace's mentions newest first checking each (every mention, for values none
    has), or would read every row of the values and sort them."""
    parts = [select(*part.c) for part in (
        statement.where(arm).order_by(order.desc()).limit(bindparam("limit")).subquery()
        for arm in arms)]
    merged = union_all(*parts).subquery()
    newest = next(iter(merged.c))  # the mention's id, LISTING_COLUMNS' first
    return select(*merged.c).order_by(newest.desc()).limit(bindparam("limit"))


WALK_PROBE = 250
"""Newest index entries ``smallest_index`` reads per filter."""
_WALKABLE = ("topic", "status", "sentiment", "network")
_WALK_INDEXES = {"status": "ix_mentions_workspace_id_status_id_published_at",
                 "sentiment": "ix_mentions_workspace_id_sentiment_label_id",
                 "network": "ix_mentions_workspace_id_network_id"}


def _equal_value(name: str) -> Any:
    """An equality filter's value in a statement. A status is written into the SQL sent:
    the partial indexes of open work and answered mentions name statuses, and SQLite
    prepares a statement again at every run when the planner used a bound value to
    decide whether such an index applied (every ``status:`` listing did)."""
    return bindparam(name, type_=String(), literal_execute=name == "status")


def smallest_index(conn: Connection, params: dict[str, Any], probe: int = WALK_PROBE) -> str:
    """SQLite, a topic with status, sentiment or network filters: which of these filters'
    indexes is the sparsest among the workspace's mentions below ``before``, judged from
    each index's newest ``probe`` entries (read from the index alone, in one statement):
    the fewest entries per id they span, or, for an index holding fewer, per id below
    ``before``. ``topic`` on ties.

    SQLite ranks the topic's partial index as if it held the whole table and has no
    statistics per value: walking a common topic's index for a status that few of its
    mentions have (or none) reads every mention of the topic. With filters independent of
    each other, walking the sparsest index reads the fewest rows to fill a page; the
    newest entries are the ones a listing reads first, and reading a few of each costs
    far less than counting them all (a common topic's 10,000 entries took longer than
    the listing).
    """
    names = [n for n in _WALKABLE if n in params]
    if conn.dialect.name != "sqlite" or "topic" not in names or len(names) < 2:
        return "topic"
    counted: list[tuple[str, str]] = []
    for name in names:
        # Each read from its own index: SQLite would read a topic from another index
        # holding topic_mask (ix_mentions_influencer_window), every mention's entry.
        if name == "topic":
            bit = int(params["topic"])
            topic = next((t for t, b in TOPIC_BITS.items() if b == bit), None)
            if topic is None:
                return "topic"
            counted.append((f"ix_mentions_topic_{topic}", f"topic_mask & {bit} <> 0"))
        else:
            column = EQUAL_FILTERS[name].name
            counted.append((_WALK_INDEXES[name], f"{column} = :{name}"))
    below = int(params.get("before", MAX_ID))
    newest = " UNION ALL ".join(
        f"SELECT {i}, count(*), min(id), max(id) FROM (SELECT id FROM mentions "  # noqa: S608
        f"INDEXED BY {index} WHERE workspace_id = :ws AND {condition} AND id < :below "
        "ORDER BY id DESC LIMIT :probe)" for i, (index, condition) in enumerate(counted))
    statement = text(newest)
    if "status" in names:
        statement = statement.bindparams(_equal_value("status"))
    try:
        read = conn.execute(statement, {
            **{n: params[n] for n in (*names, "ws") if n in params}, "below": below,
            "probe": probe}).all()
    except OperationalError as err:
        # INDEXED BY refuses a missing index (a database behind its migrations, an index
        # an operator dropped): then the listing keeps its usual plan rather than failing.
        # Asked of SQLite's error rather than of sqlite_master first: one statement less
        # on every listing (a failed SELECT leaves SQLite's transaction as it was).
        if "no such index" not in str(err.orig):
            raise
        return "topic"
    # The ids a listing would walk: below ``before``, else below the newest entry read
    # (MAX_ID would make every span about 2**31, the densities near equal).
    top = below if "before" in params else 1 + max(
        (int(highest) for _, count, _, highest in read if count), default=0)
    density = [0.0] * len(names)
    for i, count, lowest, _ in read:
        # A full read spans the ids from its oldest entry; a short one is every entry.
        span = top - int(lowest) if count >= probe else top
        density[i] = count / max(span, 1)
    return names[min(range(len(names)), key=lambda i: (density[i], i))]  # topic first


# The authors with one of the keys, and any written without a key (by raw SQL): each part
# read from the (workspace_id, handle_key) index.
_AUTHORS_BY_KEY = union_all(
    select(_A.id, _A.handle).where(_A.workspace_id == bindparam("ws"),
                                   _A.handle_key.in_(bindparam("keys", expanding=True))),
    select(_A.id, _A.handle).where(_A.workspace_id == bindparam("ws"),
                                   _A.handle_key.is_(None)))


def authors_with_keys(conn: Connection, workspace_id: int, handles: Iterable[str]
                      ) -> list[tuple[int, str]]:
    """The id and handle of the workspace's authors whose handle key is that of one of
    ``handles`` (``bot.matching.query.handle_key``), and of any author stored without a
    key, read through the handle-key index: every author whose handle equals one of
    ``handles`` case-insensitively, or which ``from:HANDLE`` matches, is among them."""
    keys = sorted({handle_key(h) for h in handles})
    return [(int(author_id), str(handle)) for author_id, handle in conn.execute(
        _AUTHORS_BY_KEY, {"ws": workspace_id, "keys": keys})]


def authors_with_handles(conn: Connection, workspace_id: int, handles: Iterable[str]
                         ) -> list[int]:
    """The ids of the workspace's authors ``from:HANDLE`` matches for one of ``handles``
    (values as the query parser normalized them), read through the handle-key index."""
    wanted = sorted(set(handles))
    return [author_id for author_id, handle in authors_with_keys(conn, workspace_id, wanted)
            if any(handle_matches(value, handle) for value in wanted)]


def by_authors(several: bool) -> search_index.Candidates:
    """Candidates written by some authors (parameter ``search_authors``, their ids).

    One author's mentions are walked newest first on (author_id, id). Several authors'
    are read as the ids the same index holds for each, then by primary key and sorted
    (``ids`` key: the other filters are checked on those rows): SQLite, to avoid sorting,
    walked every mention of the workspace instead."""
    authors: Any = bindparam("search_authors", expanding=True)
    if not several:
        return search_index.Candidates("authors", _M.author_id.in_(authors), {})
    return search_index.Candidates(
        "ids_authors", _M.id.in_(select(_M.id).where(_M.author_id.in_(authors))), {})


def by_language(count: int = 1) -> search_index.Candidates:
    """Candidates in one language (parameter ``search_language``: a code as ``lang:``
    normalized it), walked newest first on (workspace_id, language, id); in one of
    ``count`` languages (``lang:fr OR lang:es``; parameters ``search_language_0`` ... for
    a listing, which walks each language so and merges them, ``search_languages``, the
    list, for a read of them all).

    Ingest stores the codes ``bot.analysis.language`` gives (``de``, never ``DE`` nor
    ``de-AT``), so the mentions ``lang:de`` matches are exactly those stored as ``de``;
    ``Query.matches`` still confirms each row."""
    if count == 1:
        return search_index.Candidates(
            "language", _M.language == bindparam("search_language", type_=String()), {})
    return search_index.Candidates(
        f"languages{count}", _M.language.in_(bindparam("search_languages", expanding=True)),
        {}, tuple(_M.language == bindparam(f"search_language_{i}", type_=String())
                  for i in range(count)))


def language_params(languages: Sequence[str]) -> dict[str, Any]:
    """The parameters of ``by_language(len(languages))`` for these ``languages``."""
    if len(languages) == 1:
        return {"search_language": languages[0]}
    return {"search_languages": list(languages),
            **{f"search_language_{i}": language for i, language in enumerate(languages)}}


def by_networks(networks: Sequence[str]) -> search_index.Candidates:
    """Candidates on one of several ``networks`` (``source:x OR source:mastodon``), with
    their parameters: a listing walks each network's mentions newest first on
    (workspace_id, network, id) and merges them, as ``by_language`` does languages; a read
    of them all takes the list (``search_networks``)."""
    count = len(networks)
    return search_index.Candidates(
        f"networks{count}", _M.network.in_(bindparam("search_networks", expanding=True)),
        {"search_networks": list(networks),
         **{f"search_network_{i}": network for i, network in enumerate(networks)}},
        tuple(_M.network == bindparam(f"search_network_{i}", type_=String())
              for i in range(count)))


def hits_statement(conn: Connection, shape: tuple[str, ...]) -> Select[Any]:
    """``listing_statement`` restricted to a list of full-text hits by id (parameter
    ``search_ids``, to be supplied)."""
    return listing_statement(conn, shape, search_index.by_ids(conn.dialect.name))


_IN_WINDOW = (_M.workspace_id == bindparam("ws"), _M.published_at >= bindparam("since"))
# Counted from the (workspace_id, published_at) index alone; the smallest id (read from
# the rows on PostgreSQL, whose index does not hold it) only for a window under
# ``probe`` mentions: both engines evaluate a CASE branch's subquery only when taken.
_WINDOW_COUNT = select(func.count()).select_from(
    select(literal_column("1").label("one")).where(*_IN_WINDOW).order_by(_M.published_at)
    .limit(bindparam("probe")).subquery()).scalar_subquery()
_WINDOW_IDS = (select(_M.id.label("id")).where(*_IN_WINDOW).order_by(_M.published_at)
               .limit(bindparam("probe")).subquery())
# Through the window's index (ORDER BY ... LIMIT), never a walk of every older id.
_WINDOW_LOWEST = select(func.min(_WINDOW_IDS.c.id)).scalar_subquery()
_SINCE_BOUND = case((bindparam("probe") <= _WINDOW_COUNT, 0),
                    else_=func.coalesce(_WINDOW_LOWEST, MAX_ID))
"""The lowest id of a ``since`` window: 0 for a window of ``probe`` mentions or more,
past every id (MAX_ID) for an empty one. Inside a listing statement: one round trip."""


def has_network(conn: Connection, workspace_id: int, network: str) -> bool:
    """Whether some mention of the workspace is stored under ``network`` (one probe of the
    (workspace_id, network, id) index)."""
    return conn.execute(select(_M.id).where(_M.workspace_id == workspace_id,
                                            _M.network == network).limit(1)).first() is not None


def lowest_id_since(conn: Connection, workspace_id: int, since: datetime, probe: int
                    ) -> int | None:
    """The smallest id among mentions published since ``since`` (0: there are none), when
    there are fewer than ``probe`` of them; None for a larger window.

    The bound is read from every mention of the window, never inferred from insertion
    order: a backfill stores old posts after new ones, so ids do not follow published
    time, yet no mention of the window has an id below its smallest.

    Listings read newest ids first; with ``id >= lowest`` added, an index on
    (workspace, column, id) stops at the window's edge instead of reading every older
    row when the window holds fewer matches than a page (``since:1h status:approved``).
    """
    bound = conn.execute(select(_SINCE_BOUND), {"ws": workspace_id, "since": since,
                                                "probe": probe}).scalar_one()
    if bound == 0:
        return None
    return 0 if bound == MAX_ID else int(bound)


# Any ``probe`` mentions of the window, in one pass over its index (no order): all of
# them when it holds fewer. SQLite's (workspace_id, published_at) index holds the ids.
_WINDOW_ANY = (select(_M.id.label("id")).where(*_IN_WINDOW).limit(bindparam("probe"))
               .subquery())
_WINDOW_SPAN = select(func.count(), func.min(_WINDOW_ANY.c.id))


def lowest_id_in_window(conn: Connection, workspace_id: int, since: datetime, probe: int
                        ) -> int | None:
    """``lowest_id_since`` read in one pass over the window's index entries, for a
    window of up to ``probe`` mentions (a larger ``probe`` than a listing pays for up
    front: SQLite reads the ids from the index alone, about 3 ms for 20,000 mentions).
    PostgreSQL's index on the window does not hold the ids: it would read every row."""
    count, lowest = conn.execute(_WINDOW_SPAN, {"ws": workspace_id, "since": since,
                                                "probe": probe}).one()
    if count >= probe:
        return None
    return 0 if lowest is None else int(lowest)
