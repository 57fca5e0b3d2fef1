"""Replies on Mastodon: ``POST /api/v1/statuses`` with an ``Idempotency-Key``.

The reply always mentions the author it answers (``@acct``, as Mastodon's own apps
prefill it): a direct or followers-only reply is seen only by whom it mentions, and only a
mention notifies. The mention's status is first found on the brand account's own
instance (status ids are per instance): directly when the mention was read there,
otherwise by a resolving search for its URI. The reply's visibility is the configured one
(public by default) but never wider than the status it answers, as Mastodon's own apps do:
a reply to an unlisted status is unlisted, to a followers-only one followers-only, and to
a status whose visibility is missing or not one of Mastodon's four (Pleroma's "local",
"list") direct.

Mastodon keeps an ``Idempotency-Key`` for about an hour and answers a repeated key with
the first status. Beyond that, ``find_existing`` looks for a reply by the account with
the same text among the replies to the status itself (``/context``: up to 4,096
descendants for an authenticated caller, however many statuses the account posted since),
then among the account's recent statuses (a thread too large for ``/context``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from pydantic import Field, SecretStr, field_validator

from bot.messages.notes import NetworkName, Phrase, Text
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
from bot.replies.addressing import address_reply
from bot.sources.json_fields import as_dict, as_id, as_str
from bot.sources.text import collapse_whitespace, html_to_text, parse_iso

__all__ = ["MastodonCredentials", "MastodonPublisher", "comparable_text", "reply_visibility"]

log = logging.getLogger(__name__)

NETWORK_TITLE = NETWORKS["mastodon"].display_name
NETWORK = NetworkName("mastodon")
"""Mastodon in a phrase, named as each reader names it."""
VISIBILITIES = ("public", "unlisted", "private", "direct")
"""From the widest audience to the narrowest."""
RECONCILE_PAGES = 3
PAGE_SIZE = 40
SOURCE_CHECKS = 5
"""Most replies to the same status whose plain-text source is fetched when reconciling."""

Visibility = Literal["public", "unlisted", "private", "direct"]

_REMOTE_MENTION = re.compile(r"(?<![\w/])(@[\w.\-]+)@[\w\-]+(?:\.[\w\-]+)+")


class MastodonCredentials(PublisherCredentials):
    """The brand account that replies on Mastodon."""

    option_fields: ClassVar[frozenset[str]] = frozenset({"visibility"})

    instance_url: str = Field(
        description="Address of the brand account's instance, e.g. https://mastodon.social."
    )
    access_token: SecretStr = Field(
        description="Access token of an app on that instance with the 'write:statuses' and "
        "'read' scopes (read is needed to find the post and check what was posted)."
    )
    visibility: Visibility = Field(
        default="public",
        description="Widest visibility of replies (public, unlisted, private, direct); a "
        "reply is never more visible than the post it answers.",
    )

    @field_validator("instance_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if urlsplit(value).scheme not in {"http", "https"} or not urlsplit(value).hostname:
            raise ValueError("the instance address must start with https://")
        return value


@dataclass(frozen=True, slots=True)
class _Parent:
    """The status being answered, as the replying account's instance knows it."""

    status_id: str
    visibility: str | None
    acct: str | None = None
    """Its author as the instance names them: ``user`` if local, else ``user@domain``."""


def reply_visibility(widest: str, parent: str | None) -> str:
    """The narrower of the configured visibility and the parent status's visibility.

    A parent visibility outside Mastodon's four, or none at all, is read as "direct": the
    reply then reaches only the people it mentions. Pleroma and Akkoma add "local" (only the
    instance's users see it) and "list" / "list:ID" (only a list's members), per their API
    docs and TootSDK issue #61 (github.com/TootSDK/TootSDK/issues/61); other servers may add
    more. No wider Mastodon value fits them: "private" reaches every follower, remote ones
    included, and "unlisted" anyone. An unknown audience must not become a public reply.
    """
    if parent not in VISIBILITIES:
        parent = "direct"
    return max(widest, parent, key=VISIBILITIES.index)


def comparable_text(text: str) -> str:
    """Text reduced to what survives Mastodon's rendering: NFC, single spaces, and
    ``@user@domain`` shown as ``@user``."""
    text = unicodedata.normalize("NFC", text)
    return collapse_whitespace(_REMOTE_MENTION.sub(r"\1", text))


def _same_host(first: str, second: str) -> bool:
    a, b = urlsplit(first.rstrip("/")), urlsplit(second.rstrip("/"))
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def _on_instance(url: str, instance_url: str) -> bool:
    """Whether ``url`` is an http(s) address on the host of ``instance_url``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (parts.scheme in {"http", "https"} and parts.hostname is not None
            and parts.hostname == urlsplit(instance_url).hostname
            and not any(ch in url for ch in "<>| \t\r\n"))


def _language(tag: str | None) -> str | None:
    """The ISO 639 code Mastodon wants ("fr" from "fr-CA"), or None."""
    primary = (tag or "").split("-")[0].strip().lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


class MastodonPublisher(Publisher[MastodonCredentials]):
    """Replies from a Mastodon account, deduplicated by the instance's Idempotency-Key."""

    kind: ClassVar[str] = "mastodon"
    title: ClassVar[str] = NETWORK_TITLE
    credentials_model: ClassVar[type[PublisherCredentials]] = MastodonCredentials


    def publish(
        self,
        http: Fetcher,
        credentials: MastodonCredentials,
        target: ReplyTarget,
        text: str,
        idempotency_key: str,
        *,
        language: str | None = None,
    ) -> PostedReply:
        """Post ``text`` in reply to ``target`` with the ``Idempotency-Key`` header."""
        self.check_target(target)
        check_idempotency_key(idempotency_key)
        if not text.strip():
            raise PublishRejected("publish.empty", "invalid")
        parent = self._parent(http, credentials, target)
        body: dict[str, Any] = {
            "status": _addressed(text, parent, credentials),
            "in_reply_to_id": parent.status_id,
            "visibility": reply_visibility(credentials.visibility, parent.visibility),
        }
        lang = _language(language or target.language)
        if lang:
            body["language"] = lang
        headers = _auth(credentials) | {"Idempotency-Key": idempotency_key}
        try:
            # The instance answers a repeated Idempotency-Key with the status it made first
            # (https://docs.joinmastodon.org/methods/statuses/#create): a repeat cannot post
            # twice.
            status = http.post(
                f"{credentials.instance_url}/api/v1/statuses", json=body, headers=headers,
                idempotent=True,
            ).json()
        except SourceError as err:
            raise _write_error(err) from None
        posted = self._posted(status, credentials.instance_url)
        if posted is None:
            raise PublishUnknownOutcome("publish.no_new_post", network=NETWORK)
        if as_id(as_dict(status).get("in_reply_to_id")) != parent.status_id:
            # A repeated Idempotency-Key is answered with the status it made first, whatever
            # this request asked for ("Idempotency keys are stored for up to 1 hour",
            # https://docs.joinmastodon.org/methods/statuses/#create): a key another
            # database used (a restored backup, a staging copy on the same account) gives
            # back a reply in another thread, which is not this one.
            raise PublishRejected("publish.key_taken", "duplicate", network=NETWORK)
        return posted

    def find_existing(
        self,
        http: Fetcher,
        credentials: MastodonCredentials,
        target: ReplyTarget,
        idempotency_key: str,
        text: str,
    ) -> PostedReply | None:
        """The account's recent reply to ``target`` with this text, if any.

        Compares the rendered text first, then the plain-text source of the other
        replies to the same status. Raises PublishTargetGone when the status cannot be
        found any more.
        """
        self.check_target(target)
        check_idempotency_key(idempotency_key)
        parent = self._parent(http, credentials, target)
        wanted = comparable_text(_addressed(text, parent, credentials))
        base = credentials.instance_url
        try:
            me = http.get(
                f"{base}/api/v1/accounts/verify_credentials", headers=_auth(credentials)
            ).json()
            account_id = as_id(as_dict(me).get("id"))
            if account_id is None:
                raise PublishError("publish.unknown_account", network=NETWORK)
            seen: set[str] = set()
            unreadable = False
            for statuses in (
                lambda: self._thread_replies(http, credentials, parent.status_id),
                lambda: self._recent(http, credentials, account_id),
            ):
                mine = [
                    s for s in statuses()
                    if _is_reply(s, parent.status_id, account_id) and as_id(s.get("id")) not in seen
                ]
                seen.update(i for s in mine if (i := as_id(s.get("id"))) is not None)
                matches = self._same_text(http, credentials, mine, wanted)
                found = next(filter(None, (self._posted(s, base) for s in matches)), None)
                if found is not None:
                    return found
                unreadable = unreadable or bool(matches)
        except SourceError as err:
            raise lookup_error(err, self.kind) from None
        if unreadable:
            # It is there: "not found" would have it posted a second time.
            raise PublishError("publish.posted_without_id", network=NETWORK)
        return None

    def _same_text(
        self,
        http: Fetcher,
        credentials: MastodonCredentials,
        statuses: list[dict[str, Any]],
        wanted: str,
    ) -> list[dict[str, Any]]:
        """The statuses whose rendered text is ``wanted``; if none, the first whose
        plain-text source is (read for statuses with an id only)."""
        matches = [s for s in statuses
                   if comparable_text(html_to_text(as_str(s.get("content")))) == wanted]
        if matches:
            return matches
        readable = [s for s in statuses if as_id(s.get("id")) is not None]
        for status in readable[:SOURCE_CHECKS]:
            if self._source_text(http, credentials, as_id(status.get("id")) or "") == wanted:
                return [status]
        return []

    def _thread_replies(
        self, http: Fetcher, credentials: MastodonCredentials, status_id: str
    ) -> list[dict[str, Any]]:
        """The replies below ``status_id`` (``/context`` descendants), or [] if unavailable."""
        url = f"{credentials.instance_url}/api/v1/statuses/{quote(status_id, safe='')}/context"
        try:
            context = http.get(url, headers=_auth(credentials)).json()
        except HttpStatusError as err:
            if err.status_code in {404, 410, 501}:
                return []  # a server without the endpoint: the recent statuses remain
            raise
        descendants = context.get("descendants") if isinstance(context, dict) else None
        return [s for s in descendants if isinstance(s, dict)] if isinstance(
            descendants, list) else []

    def _recent(
        self, http: Fetcher, credentials: MastodonCredentials, account_id: str
    ) -> list[dict[str, Any]]:
        """The account's latest statuses, newest first, a few pages at most."""
        url = f"{credentials.instance_url}/api/v1/accounts/{quote(account_id, safe='')}/statuses"
        params: dict[str, Any] = {"limit": PAGE_SIZE, "exclude_reblogs": "true"}
        found: list[dict[str, Any]] = []
        for _ in range(RECONCILE_PAGES):
            page = http.get(url, params=params, headers=_auth(credentials)).json()
            statuses = [s for s in page if isinstance(s, dict)] if isinstance(page, list) else []
            found.extend(statuses)
            ids = [i for i in (as_id(s.get("id")) for s in statuses) if i is not None]
            if len(statuses) < PAGE_SIZE or not ids:
                break
            params["max_id"] = min(ids, key=lambda i: (len(i), i))
        return found

    def _source_text(self, http: Fetcher, credentials: MastodonCredentials, status_id: str) -> str:
        """The plain text a status was written with (Mastodon 3.5+), or "" when unknown."""
        url = f"{credentials.instance_url}/api/v1/statuses/{quote(status_id, safe='')}/source"
        try:
            source = http.get(url, headers=_auth(credentials)).json()
        except HttpStatusError as err:
            if err.status_code in {404, 410}:
                return ""
            raise
        return comparable_text(as_str(as_dict(source).get("text")) or "")

    def _parent(
        self, http: Fetcher, credentials: MastodonCredentials, target: ReplyTarget
    ) -> _Parent:
        """Find the status being answered on the account's instance."""
        base = credentials.instance_url
        try:
            if target.status_id and target.instance and _same_host(target.instance, base):
                status = http.get(
                    f"{base}/api/v1/statuses/{quote(target.status_id, safe='')}",
                    headers=_auth(credentials),
                ).json()
                return _parent_of(status, credentials)
            for query in dict.fromkeys(q for q in (target.external_id, target.url) if q):
                found = _search_hit(http, credentials, query)
                if found is not None:
                    return _parent_of(found, credentials)
        except SourceError as err:
            raise lookup_error(err, self.kind) from None
        raise PublishTargetGone("publish.not_found_from", network=NETWORK,
                                host=_host(credentials))

    def _posted(self, status: Any, instance_url: str) -> PostedReply | None:
        """The PostedReply of a status entity, or None if it is not one.

        Its link is its ``url`` (else ``uri``) only if that is an http(s) address on the
        account's instance, where our own status lives; otherwise the reply is recorded
        without a link (and a warning), rather than with one that leads nowhere.
        """
        status = as_dict(status)
        status_id = as_id(status.get("id"))
        uri, url = as_str(status.get("uri")), as_str(status.get("url"))
        if status_id is None or (uri or url) is None:
            return None
        link = next((x for x in (url, uri) if x and _on_instance(x, instance_url)), None)
        if link is None:
            log.warning("Mastodon answered reply status %s without a link on %s (url %.100r, "
                        "uri %.100r); it is recorded without a link", status_id,
                        urlsplit(instance_url).hostname, url, uri)
        return PostedReply(
            external_id=uri or url or "",
            url=link,
            posted_at=parse_iso(status.get("created_at")) or self._now(),
            extra={"status_id": status_id},
        )


def _auth(credentials: MastodonCredentials) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {credentials.access_token.get_secret_value()}",
        "Accept": "application/json",
    }


def _search_hit(
    http: Fetcher, credentials: MastodonCredentials, query: str
) -> dict[str, Any] | None:
    """The status whose URI or URL is ``query``, fetched by the instance if need be."""
    payload = http.get(
        f"{credentials.instance_url}/api/v2/search",
        params={"q": query, "type": "statuses", "resolve": "true", "limit": 5},
        headers=_auth(credentials),
    ).json()
    statuses = payload.get("statuses") if isinstance(payload, dict) else None
    for status in statuses if isinstance(statuses, list) else []:
        # A search may also match on words; only the very status is a valid parent.
        if isinstance(status, dict) and query in (status.get("uri"), status.get("url")):
            return status
    return None


def _parent_of(status: Any, credentials: MastodonCredentials) -> _Parent:
    status = as_dict(status)
    status_id = as_id(status.get("id"))
    if status_id is None:
        raise PublishError("publish.unexpected_post", sender=_host(credentials))
    return _Parent(status_id, as_str(status.get("visibility")),
                   as_str(as_dict(status.get("account")).get("acct")))


def _addressed(text: str, parent: _Parent, credentials: MastodonCredentials) -> str:
    """``text`` mentioning the author it answers, as Mastodon's apps prefill a reply: a
    direct or followers-only reply reaches only whom it mentions, and only a mention
    notifies (``bot.replies.addressing``)."""
    return address_reply(text, "mastodon", parent.acct,
                         local_domain=urlsplit(credentials.instance_url).hostname)


def _is_reply(status: dict[str, Any], parent_id: str, account_id: str) -> bool:
    """Whether ``status`` answers ``parent_id`` and was written by ``account_id`` (ids of
    any other JSON type are no ids). Its own id may be unreadable: it may still be ours."""
    return (
        as_id(status.get("in_reply_to_id")) == parent_id
        and as_id(as_dict(status.get("account")).get("id")) == account_id
    )


def _write_error(err: SourceError) -> PublishError:
    if isinstance(err, HttpStatusError) and err.status_code == 422:
        message = str(err).lower()
        reason = "too_long" if "limit" in message or "too long" in message else "invalid"
        return PublishRejected("publish.refused", reason, network=NETWORK,
                               detail=network_detail(err))
    return write_error(err, MastodonPublisher.kind)


def _host(credentials: MastodonCredentials) -> Text | Phrase:
    """The account's instance named in a phrase: its host name, else "the instance"."""
    host = urlsplit(credentials.instance_url).hostname
    return Text(host) if host else Phrase.of("publish.the_instance")
