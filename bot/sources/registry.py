"""Every source kind, by name, and the help text of their settings."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError
from pydantic_core import PydanticUndefined

from bot.net.errors import SourceConfigError
from bot.sources.base import Source, SourceConfig
from bot.sources.bluesky import BlueskySource
from bot.sources.hackernews import HackerNewsSource
from bot.sources.mastodon import MastodonSource
from bot.sources.reddit import RedditSource
from bot.sources.rss import RssSource
from bot.sources.webhook import WebhookSource
from bot.sources.x import XSource

SOURCES: dict[str, type[Source[Any]]] = {
    cls.kind: cls
    for cls in (
        RssSource,
        MastodonSource,
        BlueskySource,
        HackerNewsSource,
        RedditSource,
        XSource,
        WebhookSource,
    )
}
"""Source classes by ``kind``."""

POLLABLE_KINDS = frozenset(kind for kind in SOURCES if kind != WebhookSource.kind)
"""Kinds the scheduler polls; webhook sources only receive pushes."""

REQUIRED = "(required)"


def get_source(kind: str) -> type[Source[Any]]:
    """The source class for ``kind``; SourceConfigError listing valid kinds otherwise."""
    try:
        return SOURCES[kind.strip().lower()]
    except KeyError:
        valid = ", ".join(sorted(SOURCES))
        raise SourceConfigError(
            f"unknown source kind '{kind[:40]}'; choose one of: {valid}"
        ) from None


def parse_config(kind: str, values: Mapping[str, Any]) -> SourceConfig:
    """Validate settings for ``kind``; SourceConfigError with one line per problem.

    Messages name fields, never echo the values (which may be secrets).
    """
    model = get_source(kind).config_model
    try:
        config = model.model_validate(dict(values))
    except ValidationError as err:
        lines = []
        for detail in err.errors(include_url=False, include_input=False, include_context=False):
            field = ".".join(str(p) for p in detail["loc"]) or "settings"
            # A validator's own sentence, without pydantic's "Value error, " before it.
            lines.append(f"{field}: {detail['msg'].removeprefix('Value error, ')}")
        raise SourceConfigError("; ".join(lines)) from None
    # The sources check the scheme; an address without a host (``http://``) passes that.
    hostless = [name for name, value in config.model_dump().items()
                if name.endswith("url") and isinstance(value, str)
                and value.lower().startswith(("http:", "https:")) and not _host_of(value)]
    if hostless:
        raise SourceConfigError("; ".join(
            f"{name}: the address has no host name (as in https://example.com/feed.xml)"
            for name in hostless))
    return config


def _host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " | ".join(names) + " (optional)"
    if annotation is SecretStr:
        return "secret"
    return getattr(annotation, "__name__", str(annotation))


def describe_config(kind: str) -> list[tuple[str, str, str, str]]:
    """``(field, type, default, description)`` for each setting of ``kind``, in order.

    Required fields show ``(required)`` as default; secrets never show a default value.
    """
    model = get_source(kind).config_model
    rows: list[tuple[str, str, str, str]] = []
    for name, info in model.model_fields.items():
        if info.is_required() or info.default is PydanticUndefined:
            default = REQUIRED
        elif info.default is None:
            default = "none"
        else:
            default = str(info.default)
        rows.append((name, _type_name(info.annotation), default, info.description or ""))
    return rows
