"""Every source kind, by name, and the help text of their settings."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError
from pydantic_core import PydanticUndefined

from bot.net.errors import SourceConfigError
from bot.sources.base import SETTING_RULE, Source, SourceConfig
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
            f"unknown source kind '{kind[:40]}'; choose one of: {valid}",
            key="unknown_kind", params={"kind": kind[:40], "valid": valid},
        ) from None


_RANGE_LIMITS = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le",
                 "less_than": "lt"}
_NUMBER_ERRORS = frozenset({"int_parsing", "int_type", "int_from_float", "int_parsing_size"})
_DECIMAL_ERRORS = frozenset({"float_parsing", "float_type", "finite_number", "decimal_parsing",
                             "decimal_type"})
_BOOL_ERRORS = frozenset({"bool_parsing", "bool_type"})
_TEXT_ERRORS = frozenset({"string_type", "string_unicode", "string_sub_type"})
_URL_ERRORS = frozenset({"url_type", "url_parsing", "url_syntax_violation", "url_too_long",
                         "url_scheme"})
_LENGTH_ERRORS = {"string_too_long": ("setting_too_long", "max_length"),
                  "string_too_short": ("setting_too_short", "min_length"),
                  "too_long": ("setting_too_many", "max_length"),
                  "too_short": ("setting_too_few", "min_length")}
"""A length refused: the catalogue key and the pydantic context naming the limit."""


def _choices(annotation: Any) -> list[str]:
    """The values a Literal or Enum setting takes (through ``X | None``), in order."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [str(value) for value in typing.get_args(annotation)]
    if origin in (typing.Union, types.UnionType):
        return [choice for arg in typing.get_args(annotation) for choice in _choices(arg)]
    return []


def _reason(model: type[SourceConfig], field: str, detail: Mapping[str, Any]
            ) -> tuple[str, dict[str, str | int]]:
    """The catalogue key (``source_error.KEY``) and parameters of one invalid setting."""
    kind, context = str(detail["type"]), detail.get("ctx") or {}
    if kind in {"literal_error", "enum"} and field in model.model_fields:
        # The choices themselves: pydantic's "'a' or 'b'" has an English "or" in it.
        choices = _choices(model.model_fields[field].annotation)
        if choices:
            return "setting_choice", {"name": field, "expected": ", ".join(choices)}
    if kind in _RANGE_LIMITS:
        limit = context.get(_RANGE_LIMITS[kind], "")
        low = kind.startswith("greater")
        return ("setting_too_small" if low else "setting_too_large",
                {"name": field, "limit": str(limit)})
    if kind.startswith(SETTING_RULE):  # a validator's own refusal, with its own parameters
        return (f"setting_rule.{kind.removeprefix(SETTING_RULE)}",
                {"name": field, **{k: v if isinstance(v, int) else str(v)
                                   for k, v in context.items()}})
    if kind == "string_pattern_mismatch":
        return "setting_pattern", {"name": field}
    if kind in _NUMBER_ERRORS:
        return "setting_number", {"name": field}
    if kind in _DECIMAL_ERRORS:
        return "setting_decimal", {"name": field}
    if kind in _BOOL_ERRORS:
        return "setting_bool", {"name": field}
    if kind in _TEXT_ERRORS:
        return "setting_text", {"name": field}
    if kind in _URL_ERRORS:
        return "setting_url", {"name": field}
    if kind in _LENGTH_ERRORS:
        key, limit_name = _LENGTH_ERRORS[kind]
        return key, {"name": field, "limit": str(context.get(limit_name, ""))}
    # Any other refusal: pydantic's English reason, which only the English sentence
    # quotes (the others say the value was refused, in their own words).
    return "setting_invalid", {"name": field,
                               "reason": str(detail["msg"]).removeprefix("Value error, ")}


def parse_config(kind: str, values: Mapping[str, Any]) -> SourceConfig:
    """Validate settings for ``kind``; SourceConfigError with one line per problem (and
    one ``reason`` each: the settings missing, those unknown, each invalid one).

    Messages name fields, never echo the values (which may be secrets).
    """
    model = get_source(kind).config_model
    try:
        config = model.model_validate(dict(values))
    except ValidationError as err:
        lines = []
        missing: list[str] = []
        unknown: list[str] = []
        reasons: list[tuple[str, dict[str, str | int]]] = []
        for detail in err.errors(include_url=False, include_input=False):
            field = ".".join(str(p) for p in detail["loc"]) or "settings"
            # A validator's own sentence, without pydantic's "Value error, " before it.
            lines.append(f"{field}: {detail['msg'].removeprefix('Value error, ')}")
            if detail["type"] == "missing":
                missing.append(field)
            elif detail["type"] == "extra_forbidden":
                unknown.append(field)
            else:
                reasons.append(_reason(model, field, detail))
        if unknown:
            reasons.insert(0, ("unknown_settings", {"names": ", ".join(unknown)}))
        if missing:
            reasons.insert(0, ("missing_settings", {"names": ", ".join(missing)}))
        raise SourceConfigError("; ".join(lines), key="bad_settings", reasons=reasons
                                ) from None
    # The sources check the scheme; an address without a host (``http://``) passes that.
    hostless = [name for name, value in config.model_dump().items()
                if name.endswith("url") and isinstance(value, str)
                and value.lower().startswith(("http:", "https:")) and not _host_of(value)]
    if hostless:
        raise SourceConfigError("; ".join(
            f"{name}: the address has no host name (as in https://example.com/feed.xml)"
            for name in hostless), key="bad_settings",
            reasons=[("setting_no_host", {"name": name}) for name in hostless])
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
