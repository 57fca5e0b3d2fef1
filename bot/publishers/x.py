"""Replies on X: ``POST /2/tweets`` with an OAuth 2.0 user-context token.

X has no idempotency key. What keeps "one post per approved draft" is the reply service
calling ``find_existing`` before any second attempt: it reads the account's latest posts
(``GET /2/users/me`` then ``GET /2/users/:id/tweets``) for a reply to the same tweet with
the same text. X also refuses identical text from the same account for a while (403
"duplicate content"); ``publish`` then reconciles and returns the earlier post.

The text X gives back is not the text sent: it starts with the @handles of the reply's
audience (the replied-to author first, filled in by X), escapes ``&<>``, and every link X
detects, bare domains included ("acme.help/login"), is a t.co address. ``comparable_text``
reduces both to what survives.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from pydantic import Field, SecretStr, field_validator

from bot.messages.notes import NetworkName
from bot.net.errors import SourceAuthError, SourceError
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
from bot.replies.text import find_urls
from bot.sources.json_fields import as_dict, as_id, as_list, as_str
from bot.sources.text import collapse_whitespace, parse_iso

__all__ = ["XCredentials", "XPublisher", "comparable_text"]

NETWORK_TITLE = NETWORKS["x"].display_name
NETWORK = NetworkName("x")
"""X in a phrase, named as each reader names it."""
RECONCILE_PAGE_SIZE = 100
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^(?:@\w{1,15}\s+)+")
_TWEET_ID = re.compile(r"^\d{1,20}$")


class XCredentials(PublisherCredentials):
    """The brand account that replies on X."""

    access_token: SecretStr = Field(
        description="OAuth 2.0 user-context access token of the brand account, with the "
        "tweet.read, tweet.write and users.read scopes."
    )
    base_url: str = Field(default="https://api.x.com", description="Address of the X API.")

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if urlsplit(value).scheme not in {"http", "https"} or not urlsplit(value).hostname:
            raise ValueError("the API address must start with https://")
        return value


def comparable_text(text: str) -> str:
    """Text reduced to what survives X: entities decoded, links (which X shortens to
    t.co, bare domains too) replaced by one marker, the leading @handles (the reply's
    audience, which X puts first) dropped, NFC, single spaces.

    Every bare domain counts as a link here, even one X leaves as text ("readme.md"): the
    marker stands in for it on both sides, so it compares the same either way."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    for url in reversed(find_urls(text, short_domains=True)):
        text = text[: url.start] + "<link>" + text[url.end :]
    text = _URL.sub("<link>", text)
    return _REPLY_PREFIX.sub("", collapse_whitespace(text))


def _auth(credentials: XCredentials) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials.access_token.get_secret_value()}"}


def _id(value: object) -> str | None:
    """A tweet or user id (a string or number of digits), or None for anything else."""
    text = as_id(value)
    return text if text is not None and _TWEET_ID.match(text) else None


def _replied_to(tweet: dict[str, Any]) -> str | None:
    for ref in as_list(tweet.get("referenced_tweets")):
        replied = _id(as_dict(ref).get("id"))
        if as_dict(ref).get("type") == "replied_to" and replied:
            return replied
    return None


class XPublisher(Publisher[XCredentials]):
    """Replies from an X account; reconciled by reading the account's latest posts."""

    kind: ClassVar[str] = "x"
    title: ClassVar[str] = NETWORK_TITLE
    credentials_model: ClassVar[type[PublisherCredentials]] = XCredentials

    def publish(
        self,
        http: Fetcher,
        credentials: XCredentials,
        target: ReplyTarget,
        text: str,
        idempotency_key: str,
        *,
        language: str | None = None,
    ) -> PostedReply:
        """Post the reply; a "duplicate content" refusal returns the earlier post.

        ``language`` is ignored: X detects the language itself.
        """
        self.check_target(target)
        check_idempotency_key(idempotency_key)
        tweet_id = _tweet_id(target)
        if not text.strip():
            raise PublishRejected("publish.empty", "invalid")
        body = {"text": text, "reply": {"in_reply_to_tweet_id": tweet_id}}
        try:
            payload = http.post(
                f"{credentials.base_url}/2/tweets", json=body, headers=_auth(credentials)
            ).json()
        except SourceError as err:
            if _is_duplicate(err):
                return self._duplicate(http, credentials, target, text)
            raise _write_error(err) from None
        new_id = _id(as_dict(as_dict(payload).get("data")).get("id"))
        if new_id is None:
            raise PublishUnknownOutcome("publish.no_new_post", network=NETWORK)
        return PostedReply(
            external_id=new_id,
            url=f"https://x.com/i/web/status/{new_id}",
            posted_at=self._now(),
        )

    def find_existing(
        self,
        http: Fetcher,
        credentials: XCredentials,
        target: ReplyTarget,
        idempotency_key: str,
        text: str,
    ) -> PostedReply | None:
        """The account's reply to ``target`` with this text among its latest 100 posts."""
        self.check_target(target)
        check_idempotency_key(idempotency_key)
        return self._with_text(http, credentials, target, text)[0]

    def _duplicate(self, http: Fetcher, credentials: XCredentials, target: ReplyTarget,
                   text: str) -> PostedReply:
        """After X refused ``text`` as duplicate content: the earlier reply to ``target``
        with it, else why X refused it.

        X creates posts with no idempotency key and refuses the same text from the same
        account for a while (403 "You are not allowed to create a Tweet with duplicate
        content", https://docs.x.com/x-api/fundamentals/response-codes-and-errors: 403 is
        "no permission for this action"). The account's timeline lags behind its writes,
        so a post an earlier attempt made (a 503 or a lost answer that did post) may not
        be listed yet: only a post with this text seen elsewhere explains the refusal
        (a reply reused for another post: rewording is then right). Otherwise the post X
        remembers is most likely this reply: the outcome stays unknown (looked for again,
        never posted blindly), and nobody is told to change the text, which would post it
        twice."""
        mine, elsewhere = self._with_text(http, credentials, target, text)
        if mine is not None:
            return mine
        if elsewhere:
            raise PublishRejected("publish.same_text", "same_text", network=NETWORK)
        raise PublishUnknownOutcome("publish.same_text_unconfirmed", network=NETWORK)

    def _with_text(self, http: Fetcher, credentials: XCredentials, target: ReplyTarget,
                   text: str) -> tuple[PostedReply | None, bool]:
        """Among the account's latest 100 posts: its reply to ``target`` with ``text``
        (None when not listed), and whether a post of it elsewhere has that text."""
        tweet_id = _tweet_id(target)
        wanted = comparable_text(text)
        elsewhere = False
        try:
            me = http.get(f"{credentials.base_url}/2/users/me", headers=_auth(credentials)).json()
            user = as_dict(as_dict(me).get("data"))
            user_id = _id(user.get("id"))
            if user_id is None:
                raise PublishError("publish.unknown_account", network=NETWORK)
            payload = http.get(
                f"{credentials.base_url}/2/users/{quote(user_id, safe='')}/tweets",
                params={
                    "max_results": RECONCILE_PAGE_SIZE,
                    "exclude": "retweets",
                    "tweet.fields": "created_at,referenced_tweets",
                },
                headers=_auth(credentials),
            ).json()
        except SourceError as err:
            raise lookup_error(err, self.kind) from None
        for tweet in as_list(as_dict(payload).get("data")):
            found_id = _id(as_dict(tweet).get("id"))
            if found_id is None:
                continue
            if comparable_text(as_str(tweet.get("text")) or "") != wanted:
                continue
            if _replied_to(tweet) != tweet_id:
                elsewhere = True
                continue
            username = as_str(user.get("username"))
            path = f"{username}/status" if username else "i/web/status"
            return PostedReply(
                external_id=found_id,
                url=f"https://x.com/{path}/{found_id}",
                posted_at=parse_iso(tweet.get("created_at")) or self._now(),
            ), elsewhere
        return None, elsewhere


def _tweet_id(target: ReplyTarget) -> str:
    tweet_id = target.external_id.strip()
    if not _TWEET_ID.match(tweet_id):
        raise PublishError("publish.no_post_id", network=NETWORK)
    return tweet_id


def _is_duplicate(err: SourceError) -> bool:
    return isinstance(err, SourceAuthError) and "duplicate" in str(err).lower()


def _write_error(err: SourceError) -> PublishError:
    message = str(err).lower()
    if isinstance(err, SourceAuthError):
        # X answers 403 for refusals that have nothing to do with the token.
        if "deleted or not visible" in message:
            return PublishTargetGone("publish.target_gone", network=NETWORK)
        if "not allowed" in message and "conversation" in message:
            return PublishRejected("publish.replies_restricted", "not_allowed", network=NETWORK)
        if "too long" in message:
            return PublishRejected("publish.too_long_refused", "too_long", network=NETWORK,
                                   detail=network_detail(err))
    if isinstance(err, HttpStatusError) and err.status_code == 400:
        reason = "too_long" if "too long" in message else "invalid"
        return PublishRejected("publish.refused", reason, network=NETWORK,
                               detail=network_detail(err))
    return write_error(err, XPublisher.kind)
