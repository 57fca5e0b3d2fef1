"""The contract every reply publisher follows: post one approved reply to one network.

A publisher turns ``(target, text, idempotency_key)`` into exactly one post on the
network, and can tell afterwards whether that post exists (``find_existing``). It knows
nothing of Slack, storage or drafts: the reply service stores the idempotency key before
calling ``publish``, records the :class:`PostedReply` after, and reconciles with
``find_existing`` when a crash or a :class:`PublishUnknownOutcome` left it not knowing.

How each network keeps "one post per key" (DESIGN.md "Reliability rules"):

- Bluesky: the record key is derived from the idempotency key and written "only if
  absent", so a repeated ``publish`` can never create a second post.
- Mastodon: the ``Idempotency-Key`` header makes the instance return the first status
  for a repeated key, but only for about an hour.
- X: no idempotency at all; X refuses identical text from the same account for a while.

So after an unknown outcome or a crash, call ``find_existing`` before publishing again
(:func:`publish_once` does exactly that).

Errors are the :class:`PublishError` family; each carries its reason as a catalogue phrase
(``err.phrase``, a ``publish.*`` key and its arguments, the network's own words as outside
text), put in words in each reader's language when shown; ``str(err)`` is those words in
English (logs, the CLI). Neither contains a token.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from bot.i18n import has
from bot.messages.notes import Arg, NetworkName, Phrase, Text, plain_text
from bot.net.errors import SourceAuthError, SourceConfigError, SourceError, SourceRateLimited
from bot.net.fetcher import Fetcher
from bot.net.http import HttpStatusError

if TYPE_CHECKING:
    from bot.sources.base import FetchedMention

__all__ = [
    "PostedReply",
    "PublishAuthError",
    "PublishError",
    "PublishRateLimited",
    "PublishRejected",
    "PublishTargetGone",
    "PublishUnavailable",
    "PublishUnknownOutcome",
    "Publisher",
    "PublisherCredentials",
    "ReplyTarget",
    "check_idempotency_key",
    "lookup_error",
    "network_detail",
    "publish_once",
    "write_error",
]

_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
DETAIL_LIMIT = 300
"""Characters of a network's own error words kept in a phrase (a card holds the sentence)."""


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The post a reply answers, as much as Vigie knows of it.

    Only ``network`` and ``external_id`` are required; every publisher looks the rest up
    when it is missing (the mentions table keeps ``external_id``, ``url``, ``language`` and
    ``parent_external_id`` but not a source's ``extra``).

    - Mastodon: ``external_id`` is the status URI (its ActivityPub id, as
      ``bot.sources.mastodon`` sets it), resolved on the replying account's instance;
      ``status_id`` + ``instance`` (``extra["status_id"]``, ``extra["instance"]``) skip that
      search when the mention was read on the same instance.
    - Bluesky: ``external_id`` is the post's ``at://`` URI; its CID and thread root are
      read from the AppView before replying (``cid`` from ``extra["cid"]`` is informative).
    - X: ``external_id`` is the tweet id.
    """

    network: str
    external_id: str
    url: str | None = None
    language: str | None = None
    """BCP-47 tag of the mention, the default language of the reply."""
    status_id: str | None = None
    """Mastodon: the status id on ``instance``."""
    instance: str | None = None
    """Mastodon: base URL of the instance where ``status_id`` is valid."""
    cid: str | None = None
    """Bluesky: the post's CID when the source saw one."""

    @classmethod
    def from_mention(cls, mention: FetchedMention) -> ReplyTarget:
        """The target of a freshly fetched mention, with its network-specific ``extra``."""
        extra: Mapping[str, Any] = mention.extra or {}

        def text(key: str) -> str | None:
            value = extra.get(key)
            return str(value) if value else None

        return cls(
            network=mention.network,
            external_id=mention.external_id,
            url=mention.url or None,
            language=mention.language_hint,
            status_id=text("status_id"),
            instance=text("instance"),
            cid=text("cid"),
        )


@dataclass(frozen=True, slots=True)
class PostedReply:
    """A reply that exists on the network.

    ``external_id`` follows the sources' convention (Mastodon status URI, Bluesky
    ``at://`` URI, X tweet id), so the brand's own reply is recognised if it is ingested.
    """

    external_id: str
    url: str | None
    """Where the reply can be read; None when the network gave no usable address."""
    posted_at: datetime
    extra: Mapping[str, str] = field(default_factory=dict)
    """Network ids useful later (Mastodon ``status_id``, Bluesky ``cid`` and ``rkey``)."""


class PublishError(Exception):
    """Posting failed, for the reason ``phrase`` says (a ``publish.*`` catalogue key and its
    arguments, shown in each reader's language); ``str(err)`` is it in English.

    ``retryable`` says whether trying again later may succeed; ``may_have_posted`` whether
    the post may exist despite the error (then reconcile with ``find_existing`` first).
    """

    retryable: bool = False
    may_have_posted: ClassVar[bool] = False

    def __init__(self, key: str, *, retryable: bool | None = None, **args: Arg) -> None:
        """Keep the phrase ``key`` with ``args``; ``retryable`` overrides the class default."""
        self.phrase = Phrase.of(key, **args)
        super().__init__(plain_text(self.phrase, "en"))
        if retryable is not None:
            self.retryable = retryable


class PublishAuthError(PublishError):
    """The network refused the account's credentials or their permissions."""


class PublishRateLimited(PublishError):
    """The network asked us to slow down; nothing was posted. Retry after ``retry_after``."""

    retryable = True

    def __init__(self, key: str, retry_after: float | None = None, **args: Arg) -> None:
        """Keep the wait the network asked for (seconds), when it said."""
        super().__init__(key, retryable=None, **args)
        self.retry_after = retry_after


class PublishRejected(PublishError):
    """The network refused this reply as written; ``reason`` is ``"too_long"``,
    ``"duplicate"``, ``"same_text"`` (the account posted this text lately, X),
    ``"not_allowed"`` (e.g. replies restricted) or ``"invalid"``."""

    def __init__(self, key: str, reason: str = "invalid", **args: Arg) -> None:
        """Keep the short machine-readable reason next to the phrase."""
        super().__init__(key, retryable=None, **args)
        self.reason = reason


class PublishTargetGone(PublishError):
    """The post being answered was deleted (or is no longer visible to the account)."""


class PublishUnavailable(PublishError):
    """The network could not be reached before anything was sent: nothing was posted."""

    retryable = True


class PublishUnknownOutcome(PublishError):
    """The write was sent but its answer was lost (timeout, dropped connection, server
    error): the post MAY exist. Call ``find_existing`` before publishing again."""

    retryable = True
    may_have_posted = True


class PublisherCredentials(BaseModel):
    """Base of every publisher's typed credentials; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    option_fields: ClassVar[frozenset[str]] = frozenset()
    """Fields that set how replies are posted, not which account posts them (left out of
    the account's identity: ``bot.services.replies.account_key``)."""


K = TypeVar("K", bound=PublisherCredentials)


class Publisher(ABC, Generic[K]):
    """Posting replies to one network: its kind, credentials model, publish and reconcile."""

    kind: ClassVar[str]
    """Network kind, the same as the source's (``"mastodon"``, ``"bluesky"``, ``"x"``)."""
    title: ClassVar[str]
    """Human name shown in Slack."""
    credentials_model: ClassVar[type[PublisherCredentials]]

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        """``now`` stands in for the clock (stamps, and dates a network leaves out)."""
        self._now = now or (lambda: datetime.now(UTC))

    @abstractmethod
    def publish(
        self,
        http: Fetcher,
        credentials: K,
        target: ReplyTarget,
        text: str,
        idempotency_key: str,
        *,
        language: str | None = None,
    ) -> PostedReply:
        """Post ``text`` as a reply to ``target`` and return it.

        ``language`` (BCP-47) defaults to the target's. Raises the PublishError family;
        only :class:`PublishUnknownOutcome` means the post may exist.
        """

    @abstractmethod
    def find_existing(
        self,
        http: Fetcher,
        credentials: K,
        target: ReplyTarget,
        idempotency_key: str,
        text: str,
    ) -> PostedReply | None:
        """The reply posted earlier for this key (or, where the network has no key, the
        account's recent reply to ``target`` with this text), or None if there is none."""

    def check_target(self, target: ReplyTarget) -> None:
        """Refuse a target of another network or without an id (a programming error
        upstream, reported in plain words)."""
        if target.network.strip().lower() != self.kind:
            raise PublishError(
                "publish.wrong_network", network=NetworkName(self.kind),
                source=NetworkName(target.network[:40]) if target.network.strip()
                else Phrase.of("publish.an_unknown_network"))
        if not target.external_id.strip():
            raise PublishError("publish.no_post_id", network=NetworkName(self.kind))


def check_idempotency_key(key: str) -> str:
    """``key`` if it is 1-128 printable ASCII characters without spaces (it travels in an
    HTTP header and derives record keys); ValueError otherwise."""
    if not _KEY.match(key):
        raise ValueError("the idempotency key must be 1-128 printable ASCII characters")
    return key


def publish_once(
    publisher: Publisher[K],
    http: Fetcher,
    credentials: K,
    target: ReplyTarget,
    text: str,
    idempotency_key: str,
    *,
    attempted_before: bool,
    language: str | None = None,
) -> PostedReply:
    """Publish unless an earlier attempt with this key already did.

    ``attempted_before`` is True when the key was stored by an attempt whose result was
    never recorded (a crash, or :class:`PublishUnknownOutcome`): the network is asked
    first, and the existing post is returned instead of posting a second one.
    """
    if attempted_before:
        existing = publisher.find_existing(http, credentials, target, idempotency_key, text)
        if existing is not None:
            return existing
    try:
        return publisher.publish(
            http, credentials, target, text, idempotency_key, language=language
        )
    except PublishRejected as err:
        if not attempted_before or err.reason != "same_text":
            raise
        # After a lost answer the post X remembers is most likely ours, though not found
        # (yet) among the account's latest posts: "change the reply a little" would post
        # it twice. It stays unknown: looked for again, never posted blindly.
        raise PublishUnknownOutcome("publish.same_text_unconfirmed",
                                    network=NetworkName(publisher.kind)) from None


def lookup_error(err: Exception, network: str) -> PublishError:
    """Map an error of a read made *before* posting (nothing was sent) to PublishError;
    ``network`` is the publisher's kind."""
    name, detail = NetworkName(network), network_detail(err)
    if isinstance(err, SourceRateLimited):
        return PublishRateLimited("publish.rate_limited", err.retry_after, network=name)
    if isinstance(err, SourceAuthError):
        return PublishAuthError("publish.lookup_auth", network=name, detail=detail)
    if isinstance(err, SourceConfigError):
        return PublishError("publish.bad_address", network=name, detail=detail)
    if isinstance(err, HttpStatusError) and err.status_code in {404, 410}:
        return PublishTargetGone("publish.target_gone", network=name)
    if isinstance(err, HttpStatusError) and 400 <= err.status_code < 500:
        return PublishError("publish.lookup_refused", network=name, detail=detail)
    return PublishUnavailable("publish.unreachable", network=name, detail=detail)


def write_error(err: Exception, network: str) -> PublishError:
    """Map an error of the write itself: anything but a clear refusal is an unknown outcome;
    ``network`` is the publisher's kind."""
    name, detail = NetworkName(network), network_detail(err)
    if isinstance(err, SourceRateLimited):
        return PublishRateLimited("publish.rate_limited", err.retry_after, network=name)
    if isinstance(err, SourceAuthError):
        return PublishAuthError("publish.write_auth", network=name, detail=detail)
    if isinstance(err, SourceConfigError):
        return PublishError("publish.bad_address", network=name, detail=detail)
    if isinstance(err, HttpStatusError) and err.status_code in {404, 410}:
        return PublishTargetGone("publish.target_gone", network=name)
    if isinstance(err, HttpStatusError) and 400 <= err.status_code < 500:
        return PublishRejected("publish.refused", network=name, detail=detail)
    return PublishUnknownOutcome("publish.unconfirmed", network=name, detail=detail)


def network_detail(err: Exception) -> Phrase | Text:
    """What went wrong on the way to the network, inside a phrase: the HTTP layer's words
    as its catalogue phrase (``source_error.KEY``), what the server said in them as outside
    text; an error without one catalogue phrase is its English words as outside text."""
    reasons = err.reasons if isinstance(err, SourceError) else ()
    if len(reasons) != 1 or not has(f"source_error.{reasons[0][0]}"):
        return Text(str(err), DETAIL_LIMIT)
    key, params = reasons[0]
    return Phrase.of(f"source_error.{key}", **{
        name: Text(value, DETAIL_LIMIT) if isinstance(value, str) else value
        for name, value in params.items()})
