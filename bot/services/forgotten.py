"""What ``forget`` erased stays erased: ingest drops the posts of a forgotten author.

``do_forget`` records, per workspace, a keyed hash of the forgotten handle and of each
deleted post's (network, id) in ``forgotten``; ingest hashes every fetched post's author
handle and key the same way and drops the matches before anything is stored or analysed
(every source, webhooks included), counting them in ``IngestReport.forgotten``. A post of
theirs is recognised by its id even under a new handle (a renamed account), and their new
posts by the handle on any network, as ``forget`` itself matches it (``is_called``): the
handle's hash is kept twice, in lower case for the networks that ignore case and as typed
for Hacker News, whose names have case. Forgets made before the second hash keep matching
every case there, as they did.

A feed entry's author is its byline on its site (``Admin@blog.example``,
``bot.sources.base.Author.site``): forgotten by that, or by the byline alone, which
forgets every site's author of that byline (who asks to forget "Admin" names no site).

Nothing personal is kept: the hashes are BLAKE2b keyed with a random key of the workspace
(``forget_keys``), stored like a source token, encrypted when ``VIGIE_SECRET_KEY`` is set
(``vigie secrets rotate`` re-encrypts it; its value, and so every hash, stays). Without the
key a hash cannot be tried against a list of handles. ``do_unforget`` deletes one forget's
rows when the person asks to be tracked again.

Retention keeps the posts it purges the same way, in ``purged_posts`` with the same key
(``remember_purged``): the counts still hold them, so ingest does not store them again
(``purged``), while a post never stored is stored however old it is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.net.errors import SourceConfigError
from bot.sources.base import FetchedMention, byline
from bot.sources.handles import CASE_SENSITIVE
from bot.text_hygiene import clean_name
from storage.bulk import one_of
from storage.claims import advisory_lock
from storage.models_privacy import ForgetKey, Forgotten, PurgedPost
from storage.secret_box import SecretKeyError, box_of
from storage.upserts import insert_or_skip

KIND_HANDLE = "handle"
KIND_EXACT = "exact"
"""The handle as typed, case kept: what a ``CASE_SENSITIVE`` network's posts are matched by."""
KIND_POST = "post"
_PERSON = b"vigie-forget"
MAX_HANDLE = 200
"""The longest handle an author row keeps (``authors.handle``)."""


FORGETTING = 0x56494746
"""First key of the advisory lock by which a forget and the batches storing posts of one
workspace take turns (the second is the workspace id)."""


def hold_for_ingest(session: Session, workspace_id: int) -> None:
    """Before a batch reads who is forgotten (PostgreSQL): wait for a forget in progress,
    and keep the next one waiting until this batch commits (batches do not wait for each
    other: the lock is shared)."""
    advisory_lock(session, FORGETTING, workspace_id, exclusive=False)


def hold_for_forget(session: Session, workspace_id: int) -> None:
    """Before a forget reads the person's authors (PostgreSQL): wait for the batches in
    flight, which may be storing their posts, and hold back the next ones until the forget
    commits, so that it deletes what those stored and the later ones see it. An advisory
    lock, not the watches' rows: a row lock would also meet the row locks of an agent's
    action on one of the person's posts, in the other order (a deadlock)."""
    advisory_lock(session, FORGETTING, workspace_id, exclusive=True)


def bare_handle(handle: str) -> str:
    """``handle`` without what the networks write in front of a name: ``@`` (X, Mastodon,
    Bluesky) or Reddit's ``u/`` and ``/u/`` (its API authors are stored ``u/name``, its
    feeds' ``/u/name``); its case kept. ``@alice@mastodon.social`` keeps its instance.
    Invisible characters are dropped as they were from the authors' handles (``clean_name``):
    a handle copied from a card or the terminal may hold zero-width spaces."""
    text = clean_name(handle)[:MAX_HANDLE]
    for prefix in ("/u/", "u/"):
        if text[:len(prefix)].lower() == prefix:
            return text[len(prefix):]
    return text.lstrip("@")


def normalized_handle(handle: str) -> str:
    """The form a handle is forgotten and recognised in on the networks that ignore case
    (all but ``CASE_SENSITIVE``): ``bare_handle`` in lower case."""
    return bare_handle(handle).lower()


def _legacy_handle(handle: str) -> str:
    """The form forgets kept before Reddit's prefixes were dropped (``u/bob`` as typed)."""
    return handle[:MAX_HANDLE].strip().lstrip("@").lower()


def is_called(network: str, stored: str, handle: str) -> bool:
    """Whether an author stored as ``stored`` on ``network`` is the person ``handle``
    names: the same bare name, in any case except on a ``CASE_SENSITIVE`` network."""
    if network in CASE_SENSITIVE:
        return bare_handle(stored) == bare_handle(handle)
    return normalized_handle(stored) == normalized_handle(handle)


def _key(session: Session, workspace_id: int, *, create: bool) -> bytes | None:
    """The workspace's hashing key (made on first use when ``create``); None when it has
    none (nothing was ever forgotten there)."""
    row = session.get(ForgetKey, workspace_id)
    box = box_of(session)
    if row is None:
        if not create:
            return None
        # Two first forgets at once: the second keeps the first one's key (no error).
        session.execute(insert_or_skip(session, ForgetKey).values(
            workspace_id=workspace_id, key=box.seal(secrets.token_hex(32))))
        row = session.get(ForgetKey, workspace_id, populate_existing=True)
        assert row is not None
    try:
        return bytes.fromhex(box.open(row.key))
    except SecretKeyError as err:
        # Storing a forgotten person's posts again is worse than a failed poll: say why.
        raise SourceConfigError(
            "the key of this workspace's forgotten authors is encrypted with a key Vigie "
            "does not have: put the key it was written with back in VIGIE_SECRET_KEY") from err


def _digest(key: bytes, value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=key, digest_size=16,
                           person=_PERSON).hexdigest()


def _handle_digest(key: bytes, handle: str) -> str:
    return _digest(key, "h\0" + normalized_handle(handle))


def _exact_digest(key: bytes, handle: str) -> str:
    return _digest(key, "c\0" + bare_handle(handle))


def _folded_digests(key: bytes, handle: str) -> list[str]:
    """The digests by which a case-blind forget of ``handle`` is found: the current form,
    and the one forgets kept before (when they differ)."""
    digests = [_handle_digest(key, handle)]
    legacy = _digest(key, "h\0" + _legacy_handle(handle))
    return digests if legacy in digests else [*digests, legacy]


def _post_digest(key: bytes, network: str, external_id: str) -> str:
    return _digest(key, f"p\0{network}\0{external_id}")


def remember(session: Session, workspace_id: int, handle: str,
             posts: Sequence[tuple[str, str]]) -> None:
    """Record that ``handle`` and its ``posts`` ((network, external id)) were forgotten."""
    key = _key(session, workspace_id, create=True)
    assert key is not None
    subject = _handle_digest(key, handle)
    rows = [{"workspace_id": workspace_id, "kind": KIND_HANDLE, "digest": subject,
             "subject": subject}]
    # The case-sensitive networks' own row, unless an earlier forget of this name made
    # before those rows exists: it keeps every case out there, and stays as wide.
    if not _made_before_exact_rows(session, workspace_id, subject):
        rows.append({"workspace_id": workspace_id, "kind": KIND_EXACT, "subject": subject,
                     "digest": _exact_digest(key, handle)})
    rows += [{"workspace_id": workspace_id, "kind": KIND_POST, "subject": subject,
              "digest": _post_digest(key, network, external_id)}
             for network, external_id in sorted(set(posts))]
    session.execute(insert_or_skip(session, Forgotten), rows)


def _made_before_exact_rows(session: Session, workspace_id: int, subject: str) -> bool:
    """Whether the forget ``subject`` exists without a ``KIND_EXACT`` row (it was made
    before forgets wrote them)."""
    kinds = set(session.scalars(select(Forgotten.kind).where(
        Forgotten.workspace_id == workspace_id, Forgotten.subject == subject,
        Forgotten.kind.in_([KIND_HANDLE, KIND_EXACT]))))
    return kinds == {KIND_HANDLE}


def subject_digest(session: Session, workspace_id: int, handle: str) -> str:
    """The keyed digest naming ``handle`` in the workspace's records (its suppression rows,
    the audit trail): no one without the workspace's key can test it against a list of
    handles, as an unkeyed hash can be."""
    key = _key(session, workspace_id, create=True)
    assert key is not None
    return _handle_digest(key, handle)


def remove(session: Session, workspace_id: int, handle: str) -> int:
    """Forget that ``handle`` was forgotten (its posts' rows too); how many rows went."""
    key = _key(session, workspace_id, create=False)
    if key is None:
        return 0
    result = session.execute(delete(Forgotten).where(
        Forgotten.workspace_id == workspace_id,
        Forgotten.subject.in_(_folded_digests(key, handle))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _older_names(item: FetchedMention) -> tuple[str, ...]:
    """The names an earlier release stored the post's author under, which a forget made
    then was typed as: a Reddit poster read from a feed (``mode=rss``) was the feed's byline
    on its site, ``/u/NAME@reddit.com`` (or the byline alone, ``/u/NAME``), now ``u/NAME``
    as the API names them."""
    handle = item.author.handle
    if item.network == "reddit" and handle.startswith("u/"):
        return (f"/{handle}@reddit.com", f"/{handle}")
    return ()


_FEED_BYLINE = re.compile(r"(?:/?u/)?([A-Za-z0-9_-]{1,32})@reddit\.com", re.IGNORECASE)


def reddit_name_now(handle: str) -> str | None:
    """``u/NAME`` when ``handle`` is the name Reddit's feeds gave a poster before
    (``/u/NAME@reddit.com``: ``_older_names``), which migration 0061 renamed their author
    to; None for any other handle."""
    match = _FEED_BYLINE.fullmatch(handle[:MAX_HANDLE].strip().lstrip("@"))
    return f"u/{match.group(1)}" if match else None


def drop_forgotten(session: Session, workspace_id: int, fetched: Sequence[FetchedMention]
                   ) -> tuple[list[FetchedMention], int]:
    """``fetched`` without the posts of forgotten authors (by handle or by post), and how
    many were dropped. A workspace that never forgot anyone nor purged a post costs one key
    lookup."""
    if not fetched:
        return list(fetched), 0
    key = _key(session, workspace_id, create=False)
    if key is None:
        return list(fetched), 0
    # Per post: the digests that drop it, and (case-sensitive networks) the case-blind
    # ones that drop it only for a forget made before exact rows were written.
    sure: list[list[str]] = []
    older: list[list[str]] = []
    for item in fetched:
        post = _post_digest(key, item.network, item.external_id)
        if item.network in CASE_SENSITIVE:
            sure.append([_exact_digest(key, item.author.handle), post])
            older.append(_folded_digests(key, item.author.handle))
        else:
            named = [*_folded_digests(key, item.author.handle), post]
            by_line = byline(item.author.handle, item.author.site)
            if by_line is not None:
                # A feed author forgotten by their byline alone ("Admin"), which names
                # them on every site, as well as by byline and site ("Admin@blog.example").
                named += _folded_digests(key, by_line)
            for legacy in _older_names(item):
                named += _folded_digests(key, legacy)
            sure.append(named)
            older.append([])
    wanted = sorted({d for digests in (*sure, *older) for d in digests})
    found = set(session.scalars(select(Forgotten.digest).where(
        Forgotten.workspace_id == workspace_id, one_of(session, Forgotten.digest, wanted))))
    if not found:
        return list(fetched), 0
    maybe = sorted({d for digests in older for d in digests} & found)
    older_found: set[str] = set()
    if maybe:
        # A handle row's digest is its forget's subject.
        older_found = set(maybe) - set(session.scalars(select(Forgotten.subject).where(
            Forgotten.workspace_id == workspace_id, Forgotten.kind == KIND_EXACT,
            one_of(session, Forgotten.subject, maybe))))
    kept = [item for item, by_sure, by_older in zip(fetched, sure, older, strict=True)
            if found.isdisjoint(by_sure) and older_found.isdisjoint(by_older)]
    return kept, len(fetched) - len(kept)


_AT_NAME = re.compile(r"(?<![\w@])@([\w.\-]+(?:@[\w\-]+(?:\.[\w\-]+)+)?)")
"""An ``@name`` a post's text addresses (``@ana_r``, ``@alice@mastodon.social``)."""


Answer = tuple[tuple[str, str], str | None, str, str | None]
"""A post as ``settle_answers`` reads it: ((network, external id), the parent's
external id, its text, the handle it replies to)."""


def _naming(handle: str) -> re.Pattern[str] | None:
    """The places a text names ``handle`` (see ``names_handle``); None for an empty one."""
    bare = bare_handle(handle)
    if not bare:
        return None
    return re.compile(r"(?<![\w@/.\-])(?:@|/?u/)?" + re.escape(bare)
                      + r"(?![\w@]|[.\-][\w])", re.IGNORECASE)


def names_handle(handle: str, text: str) -> bool:
    """Whether ``text`` names ``handle`` (``bare_handle``, any case): as ``@handle``,
    ``u/handle`` or the bare word, not as part of a longer name (``@handle@instance``,
    ``handle.bsky.social``, ``handle2``)."""
    pattern = _naming(handle)
    return pattern is not None and pattern.search(text) is not None


REDACTED = "[…]"
"""What stands for a forgotten person's name in a brand post kept for someone else (the
sign of a cut in English and French alike)."""


def redact_handle(handle: str, text: str) -> str:
    """``text`` with every place that names ``handle`` (``names_handle``) replaced by
    ``REDACTED``."""
    pattern = _naming(handle)
    return text if pattern is None else pattern.sub(REDACTED, text)


_WORD = re.compile(r"\w[\w.\-]*")
"""A word of a post's text that may be a handle written bare (``bob``, ``bob.bsky.social``)."""


def settle_answers(session: Session, workspace_id: int, posts: Sequence[Answer],
                   own: Iterable[str]) -> dict[tuple[str, str], str | None]:
    """What becomes of the brand's ``posts`` that concern someone forgotten, by (network,
    external id): None for a post to delete, as it answers them alone (it replies to a post
    a forget recorded, or to a forgotten handle on X, or addresses no ``@name`` but
    forgotten ones and the brand's own handles, ``own``);
    else its text with every forgotten name (addressed or written bare) replaced by
    ``REDACTED``: it also answers someone not forgotten, whose conversation keeps it, and
    nothing of it names them any more (its author and link are the brand's own post, its
    parent the other person's). Posts concerning no one forgotten are not listed. One
    lookup; none in a workspace that never forgot."""
    if not posts:
        return {}
    key = _key(session, workspace_id, create=False)
    if key is None:
        return {}
    brand = {normalized_handle(handle) for handle in own}
    digests: dict[str, list[str]] = {}

    def digests_of(name: str) -> list[str]:
        # A brand's posts repeat their words: each is hashed once.
        if name not in digests:
            digests[name] = _folded_digests(key, name)
        return digests[name]

    read: list[tuple[Answer, str | None, set[str], set[str]]] = []
    wanted: set[str] = set()
    for post in posts:
        (network, _external_id), parent, text, replied = post
        parent_digest = _post_digest(key, network, parent) if parent else None
        addressed = {match.group(1).rstrip(".-") for match in _AT_NAME.finditer(text)}
        words = {match.group(0).rstrip(".-") for match in _WORD.finditer(text)}
        read.append((post, parent_digest, addressed, words))
        wanted.update([parent_digest] if parent_digest else [])
        for name in {*addressed, *words, *([replied] if replied else [])}:
            wanted.update(digests_of(name))
    found = set(session.scalars(select(Forgotten.digest).where(
        Forgotten.workspace_id == workspace_id, Forgotten.kind.in_([KIND_HANDLE, KIND_POST]),
        one_of(session, Forgotten.digest, sorted(wanted)))))
    if not found:
        return {}

    def is_forgotten(name: str) -> bool:
        return not found.isdisjoint(digests_of(name))

    settled: dict[tuple[str, str], str | None] = {}
    for (post_key, _parent, text, replied), parent_digest, addressed, words in read:
        if parent_digest in found or (replied and is_forgotten(replied)):
            settled[post_key] = None
            continue
        gone = {name for name in addressed if is_forgotten(name)}
        others = {name for name in addressed - gone if normalized_handle(name) not in brand}
        if gone and not others:
            settled[post_key] = None
            continue
        redacted = text
        for name in sorted(gone | {word for word in words if is_forgotten(word)},
                           key=len, reverse=True):
            redacted = redact_handle(name, redacted)
        if redacted != text:
            settled[post_key] = redacted
    return settled


def remember_purged(session: Session, workspace_id: int,
                    posts: Sequence[tuple[str, str]]) -> None:
    """Record that retention deleted ``posts`` ((network, external id)) of the workspace:
    ``purged`` finds them when a source brings them back."""
    if not posts:
        return
    key = _key(session, workspace_id, create=True)
    assert key is not None
    session.execute(insert_or_skip(session, PurgedPost), [
        {"workspace_id": workspace_id, "digest": _post_digest(key, network, external_id)}
        for network, external_id in sorted(set(posts))])


def purged(session: Session, workspace_id: int, posts: Sequence[tuple[str, str]]
           ) -> set[tuple[str, str]]:
    """The ``posts`` ((network, external id)) retention deleted from the workspace: one
    lookup of their keyed hashes (by the table's primary key)."""
    if not posts:
        return set()
    key = _key(session, workspace_id, create=False)
    if key is None:
        return set()
    digests = {_post_digest(key, network, external_id): (network, external_id)
               for network, external_id in posts}
    found = session.scalars(select(PurgedPost.digest).where(
        PurgedPost.workspace_id == workspace_id,
        one_of(session, PurgedPost.digest, sorted(digests))))
    return {digests[digest] for digest in found}
