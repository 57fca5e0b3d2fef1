"""Replies on Bluesky: an ``app.bsky.feed.post`` record written with a key of our own.

The record key (rkey) is a TID derived from the idempotency key, and the record is written
with ``com.atproto.repo.putRecord`` and ``swapRecord: null``, which means "only if no
record has this key" (the PDS answers ``InvalidSwap`` otherwise). So a repeated publish
can never create a second post: it finds the first one instead. ``createRecord`` with a
chosen rkey is not used because the reference PDS fails a duplicate key with a bare
server error, which looks like an unknown outcome.

Before writing, the parent post is read from the AppView (``app.bsky.feed.getPosts``,
proxied by the PDS): that gives its CID, the thread root (the parent's own root when it
is itself a reply), tells a deleted post apart, and says whether the account may reply
(``viewer.replyDisabled``: the author's threadgate leaves it out; the PDS would write the
reply but the AppView hides it, so it is refused before writing). Links, ``@handle``
mentions and ``#hashtags`` get facets with UTF-8 byte offsets; a mention's DID comes from
``com.atproto.identity.resolveHandle`` and a handle that does not resolve (HandleNotFound)
gets no facet; a malformed answer fails the attempt (retried) rather than post the mention
as plain text.

Signing in reuses the source's session code and cache (``bot.sources.bluesky.signed_in``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from bot.messages.notes import NetworkName, Text
from bot.net.errors import SourceError
from bot.net.fetcher import Fetcher
from bot.net.http import HttpStatusError
from bot.networks import NETWORKS
from bot.publishers.base import (
    PostedReply,
    Publisher,
    PublisherCredentials,
    PublishError,
    PublishRejected,
    PublishTargetGone,
    PublishUnknownOutcome,
    ReplyTarget,
    check_idempotency_key,
    lookup_error,
    network_detail,
    write_error,
)
from bot.replies.text import find_urls, grapheme_count
from bot.sources.bluesky import BlueskySession, signed_in
from bot.sources.json_fields import as_dict, as_str
from bot.sources.text import parse_iso

__all__ = [
    "MAX_BYTES",
    "MAX_GRAPHEMES",
    "BlueskyCredentials",
    "BlueskyPublisher",
    "Facet",
    "detect_facets",
    "record_key",
]

NETWORK_TITLE = NETWORKS["bluesky"].display_name
NETWORK = NetworkName("bluesky")
"""Bluesky in a phrase, named as each reader names it."""
POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
"""Limits of ``app.bsky.feed.post#text`` in the lexicon."""

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_RKEY_EPOCH_US = 1_672_531_200_000_000
"""2023-01-01T00:00:00Z: derived TIDs fall in a 400-day window after it, never in the future."""
_RKEY_SPAN_BITS = 45
# Handle syntax of the atproto spec; a mention starts a text or follows a space or "(".
_MENTION = re.compile(
    r"(?<![^\s(])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
_LANG = re.compile(r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{1,8})*$")
# A hashtag as Bluesky's RichText.detectFacets reads one: "#" or "＃" at the start of the
# text or after a space, then a run of characters up to a space or an invisible separator
# (soft hyphen, word joiner, zero-width spaces), not starting with the emoji selector.
_TAG_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_HASHTAG = re.compile(rf"(?<!\S)[#＃](?!\ufe0f)([^\s{_TAG_INVISIBLE}]+)")
MAX_TAG_CHARS = 64
"""Longest tag Bluesky's own apps facet (UTF-16 code units, as JavaScript counts)."""


class BlueskyCredentials(PublisherCredentials):
    """The brand account that replies on Bluesky."""

    handle: str = Field(
        min_length=3,
        description="Handle (or email) of the brand account, e.g. brand.bsky.social.",
    )
    app_password: SecretStr = Field(
        description="An app password of that account (Settings > Privacy > App passwords)."
    )
    service_url: str = Field(
        default="https://bsky.social",
        description="The account's PDS, where sessions are created and posts written.",
    )

    @field_validator("service_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if urlsplit(value).scheme not in {"http", "https"} or not urlsplit(value).hostname:
            raise ValueError("the service address must start with https://")
        return value

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        return value.strip().lstrip("@")


@dataclass(frozen=True, slots=True)
class Facet:
    """A link or mention in a post's text, by UTF-8 byte offsets (end exclusive)."""

    byte_start: int
    byte_end: int
    kind: str
    """``"link"``, ``"mention"`` or ``"tag"``."""
    value: str
    """The full URL of a link, the handle of a mention (without ``@``), or a hashtag's
    tag (without ``#``)."""

    def to_record(self, did: str | None = None) -> dict[str, Any]:
        """The ``app.bsky.richtext.facet`` object; a mention needs its ``did``."""
        if self.kind == "link":
            feature: dict[str, Any] = {"$type": "app.bsky.richtext.facet#link", "uri": self.value}
        elif self.kind == "tag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": self.value}
        else:
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        return {
            "index": {"byteStart": self.byte_start, "byteEnd": self.byte_end},
            "features": [feature],
        }


@dataclass(frozen=True, slots=True)
class _StrongRef:
    uri: str
    cid: str

    def as_dict(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


def record_key(idempotency_key: str) -> str:
    """The TID record key of the reply with this idempotency key (always the same).

    A TID is 64 bits, top bit zero, 53 bits of microseconds and 10 bits of clock id,
    written in base32-sortable; here both parts come from a SHA-256 of the key.
    """
    check_idempotency_key(idempotency_key)
    digest = hashlib.sha256(f"vigie-reply/{idempotency_key}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    micros = _RKEY_EPOCH_US + (number >> 10) % (1 << _RKEY_SPAN_BITS)
    value = (micros << 10) | (number & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _tag_of(run: str) -> str | None:
    """The tag a hashtag's ``run`` (what follows ``#``) stands for, as Bluesky's apps read
    it: without trailing punctuation; None when it has no letter or symbol (``#1``,
    ``#!!``) or is longer than ``MAX_TAG_CHARS``."""
    if all((ch.isascii() and ch.isdigit()) or _punctuation(ch) for ch in run):
        return None
    tag = run.strip()
    while tag and _punctuation(tag[-1]):
        tag = tag[:-1]
    if not tag or len(tag.encode("utf-16-le")) // 2 > MAX_TAG_CHARS:
        return None
    return tag


def _punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def detect_facets(text: str) -> list[Facet]:
    """Links (``http(s)://``, ``www.`` and bare domains on a real TLD, given ``https://``),
    ``@handle`` mentions and ``#hashtags`` of ``text``, in order, with UTF-8 byte offsets.
    A tag facet spans ``#`` and the tag, trailing punctuation left out ("#AcmeStatus." tags
    "AcmeStatus"), as Bluesky's RichText.detectFacets does."""
    facets: list[Facet] = []
    for url in find_urls(text):
        scheme = urlsplit(url.url).scheme.lower() if "://" in url.url else ""
        if scheme and scheme not in {"http", "https"}:
            continue
        full = url.url if scheme else f"https://{url.url}"
        facets.append(
            Facet(_byte_offset(text, url.start), _byte_offset(text, url.end), "link", full)
        )
    taken = [(f.byte_start, f.byte_end) for f in facets]
    for match in _MENTION.finditer(text):
        start, end = _byte_offset(text, match.start()), _byte_offset(text, match.end())
        if any(start < e and s < end for s, e in taken):
            continue
        facets.append(Facet(start, end, "mention", match.group(1).lower()))
        taken.append((start, end))
    for match in _HASHTAG.finditer(text):
        tag = _tag_of(match.group(1))
        if tag is None:
            continue
        start = _byte_offset(text, match.start())
        end = _byte_offset(text, match.start(1) + len(tag))
        if any(start < e and s < end for s, e in taken):
            continue
        facets.append(Facet(start, end, "tag", tag))
    return sorted(facets, key=lambda f: f.byte_start)


def _check_text(text: str) -> None:
    if not text.strip():
        raise PublishRejected("publish.empty", "invalid")
    count = grapheme_count(text)
    if count > MAX_GRAPHEMES:
        raise PublishRejected("publish.too_many_characters", "too_long", count=count,
                              network=NETWORK, limit=MAX_GRAPHEMES)
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise PublishRejected("publish.too_many_bytes", "too_long", network=NETWORK,
                              limit=MAX_BYTES)


def _bearer(session: BlueskySession) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.access_jwt}"}


class BlueskyPublisher(Publisher[BlueskyCredentials]):
    """Replies from a Bluesky account under a record key derived from the idempotency key."""

    kind: ClassVar[str] = "bluesky"
    title: ClassVar[str] = NETWORK_TITLE
    credentials_model: ClassVar[type[PublisherCredentials]] = BlueskyCredentials


    def publish(
        self,
        http: Fetcher,
        credentials: BlueskyCredentials,
        target: ReplyTarget,
        text: str,
        idempotency_key: str,
        *,
        language: str | None = None,
    ) -> PostedReply:
        """Write the reply record with ``putRecord`` only if its key is still free."""
        self.check_target(target)
        rkey = record_key(idempotency_key)
        _check_text(text)
        parent, root = self._thread(http, credentials, target)
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": _timestamp(self._now()),
            "reply": {"root": root.as_dict(), "parent": parent.as_dict()},
        }
        lang = language or target.language
        if lang and _LANG.match(lang):
            record["langs"] = [lang]
        facets = self._facets(http, credentials, text)
        if facets:
            record["facets"] = facets

        def put(session: BlueskySession) -> tuple[BlueskySession, Any]:
            body = {
                "repo": _repo(session, credentials),
                "collection": POST_COLLECTION,
                "rkey": rkey,
                "record": record,
                "swapRecord": None,
            }
            url = _xrpc(credentials, "com.atproto.repo.putRecord")
            # Written "only if absent" at a key-derived rkey: a repeat cannot post twice.
            response = http.post(url, json=body, headers=_bearer(session), idempotent=True)
            return session, response.json()

        try:
            session, created = signed_in(http, credentials, put)
        except HttpStatusError as err:
            if err.error_code != "InvalidSwap":
                raise _write_error(err) from None
            # The key is taken: an earlier attempt posted it.
            existing = self.find_existing(http, credentials, target, idempotency_key, text)
            if existing is None:
                raise PublishUnknownOutcome("publish.exists_unreadable",
                                            network=NETWORK) from None
            return existing
        except SourceError as err:
            raise _write_error(err) from None
        uri = created.get("uri") if isinstance(created, dict) else None
        if not isinstance(uri, str) or not uri.startswith("at://"):
            raise PublishUnknownOutcome("publish.no_new_post", network=NETWORK)
        cid = created.get("cid")
        return PostedReply(
            external_id=uri,
            url=_post_url(session, credentials, uri, rkey),
            posted_at=parse_iso(record["createdAt"]) or self._now(),
            extra={"rkey": rkey, **({"cid": cid} if isinstance(cid, str) else {})},
        )

    def find_existing(
        self,
        http: Fetcher,
        credentials: BlueskyCredentials,
        target: ReplyTarget,
        idempotency_key: str,
        text: str,
    ) -> PostedReply | None:
        """The record at this key's rkey (``com.atproto.repo.getRecord``), or None.

        Raises PublishRejected if the key holds a post that answers something else.
        """
        self.check_target(target)
        rkey = record_key(idempotency_key)

        def get(session: BlueskySession) -> tuple[BlueskySession, Any]:
            params = {"repo": _repo(session, credentials), "collection": POST_COLLECTION}
            response = http.get(
                _xrpc(credentials, "com.atproto.repo.getRecord"),
                params=params | {"rkey": rkey},
                headers=_bearer(session),
            )
            return session, response.json()

        try:
            session, found = signed_in(http, credentials, get)
        except HttpStatusError as err:
            if err.error_code == "RecordNotFound" or err.status_code in {404, 410}:
                return None
            raise lookup_error(err, self.kind) from None
        except SourceError as err:
            raise lookup_error(err, self.kind) from None
        value = as_dict(found).get("value")
        uri = as_str(as_dict(found).get("uri"))
        if not isinstance(value, dict) or uri is None or not uri.startswith("at://"):
            raise PublishError("publish.unexpected_reply", network=NETWORK)
        reply = value.get("reply")
        parent_uri = as_str(as_dict(as_dict(reply).get("parent")).get("uri"))
        if reply is not None and parent_uri is None:
            # Some reply, but not one we can read: neither ours nor provably another post.
            raise PublishError("publish.unexpected_reply", network=NETWORK)
        if parent_uri != target.external_id:
            raise PublishRejected("publish.key_taken", "duplicate", network=NETWORK)
        cid = found.get("cid")
        return PostedReply(
            external_id=uri,
            url=_post_url(session, credentials, uri, rkey),
            posted_at=parse_iso(value.get("createdAt")) or self._now(),
            extra={"rkey": rkey, **({"cid": cid} if isinstance(cid, str) else {})},
        )

    def _thread(
        self, http: Fetcher, credentials: BlueskyCredentials, target: ReplyTarget
    ) -> tuple[_StrongRef, _StrongRef]:
        """(parent, root) references of the post being answered; PublishRejected
        ("not_allowed") when the network says the account may not reply to it."""
        if not target.external_id.startswith("at://"):
            raise PublishError("publish.no_at_uri", network=NETWORK)

        def get(session: BlueskySession) -> Any:
            return http.get(
                _xrpc(credentials, "app.bsky.feed.getPosts"),
                params={"uris": target.external_id},
                headers=_bearer(session),
            ).json()

        try:
            payload = signed_in(http, credentials, get)
        except SourceError as err:
            raise lookup_error(err, self.kind) from None
        posts = payload.get("posts") if isinstance(payload, dict) else None
        candidates = posts if isinstance(posts, list) else []
        post = next(
            (p for p in candidates if isinstance(p, dict) and p.get("uri") == target.external_id),
            None,
        )
        if post is None:
            raise PublishTargetGone("publish.target_gone", network=NETWORK)
        if as_dict(post.get("viewer")).get("replyDisabled") is True:
            # The thread's author limited replies (threadgate) and the brand account is
            # not let in: a PDS writes the reply anyway, but the AppView hides it, so it
            # would be recorded as posted while nobody sees it.
            raise PublishRejected("publish.replies_restricted", "not_allowed", network=NETWORK)
        cid, record = as_str(post.get("cid")), post.get("record")
        if cid is None or not isinstance(record, dict):
            raise PublishError("publish.unexpected_post", sender=NETWORK)
        parent = _StrongRef(target.external_id, cid)
        reply = record.get("reply")
        if reply is None:
            return parent, parent
        root = as_dict(as_dict(reply).get("root"))
        root_uri, root_cid = as_str(root.get("uri")), as_str(root.get("cid"))
        if root_uri is None or root_cid is None:
            # A reply whose thread root is unreadable: answering it as a root would start
            # a broken thread on the network.
            raise PublishError("publish.unexpected_post", sender=NETWORK)
        return parent, _StrongRef(root_uri, root_cid)

    def _facets(
        self, http: Fetcher, credentials: BlueskyCredentials, text: str
    ) -> list[dict[str, Any]]:
        """Facet records; mentions whose handle does not resolve are left plain."""
        dids: dict[str, str | None] = {}
        records: list[dict[str, Any]] = []
        for facet in detect_facets(text):
            if facet.kind != "mention":
                records.append(facet.to_record())
                continue
            if facet.value not in dids:
                dids[facet.value] = self._resolve_handle(http, credentials, facet.value)
            did = dids[facet.value]
            if did:
                records.append(facet.to_record(did))
        return records

    def _resolve_handle(
        self, http: Fetcher, credentials: BlueskyCredentials, handle: str
    ) -> str | None:
        """The DID of ``handle``, or None when the network says it does not resolve.

        The lexicon's output requires a ``did``; its one documented error, HandleNotFound
        (a 400), is the only "no DID". Any other answer raises a retryable PublishError
        before anything is posted: read as "no DID", the reply went out with the mention
        as plain text.
        """
        try:
            payload = http.get(
                _xrpc(credentials, "com.atproto.identity.resolveHandle"),
                params={"handle": handle},
            ).json()
        except HttpStatusError as err:
            if err.status_code in {400, 404}:
                return None
            raise lookup_error(err, self.kind) from None
        except SourceError as err:
            raise lookup_error(err, self.kind) from None
        did = payload.get("did") if isinstance(payload, dict) else None
        if not isinstance(did, str) or len(did) > MAX_DID_CHARS or not _DID.match(did):
            raise PublishError("publish.handle_unchecked", retryable=True, network=NETWORK,
                               handle=Text(handle, 100))
        return did


_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]\Z")
"""DID syntax, as the AT Protocol's DID specification gives it."""
MAX_DID_CHARS = 2048


def _xrpc(credentials: BlueskyCredentials, method: str) -> str:
    return f"{credentials.service_url}/xrpc/{method}"


def _repo(session: BlueskySession, credentials: BlueskyCredentials) -> str:
    """The account's DID (or its handle when the server did not say)."""
    return session.did or session.handle or credentials.handle


def _post_url(session: BlueskySession, credentials: BlueskyCredentials, uri: str, rkey: str) -> str:
    handle = session.handle or ("" if "@" in credentials.handle else credentials.handle)
    profile = handle or uri.removeprefix("at://").split("/", 1)[0]
    return f"https://bsky.app/profile/{profile}/post/{rkey}"


def _timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z``, as Bluesky's apps write ``createdAt``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _write_error(err: SourceError) -> PublishError:
    if isinstance(err, HttpStatusError) and err.status_code == 400:
        message = str(err).lower()
        reason = "too_long" if "longer than" in message or "too long" in message else "invalid"
        return PublishRejected("publish.refused", reason, network=NETWORK,
                               detail=network_detail(err))
    return write_error(err, BlueskyPublisher.kind)
