"""Renders one translated phrase (``bot.messages.notes.Phrase``) as mrkdwn: each argument
escaped, cut or formatted by what it is."""

from __future__ import annotations

from bot.i18n import network_name, t
from bot.messages.notes import (
    Arg,
    Date,
    Link,
    NetworkName,
    Phrase,
    RiskFlags,
    RiskLevel,
    Text,
    Who,
)
from bot.slack.escape import escape, link, slack_date, truncate
from bot.slack.risk_words import flag_words, level_words


def render_arg(arg: Arg, language: str) -> str | int:
    """One phrase argument as mrkdwn (our own ``str``/``int`` values as they are)."""
    if isinstance(arg, Text):
        value = arg.value or ""
        return escape(truncate(value, arg.limit) if arg.limit is not None else value)
    if isinstance(arg, Date):
        return slack_date(arg.at)
    if isinstance(arg, Link):
        return link(arg.url, arg.label)
    if isinstance(arg, RiskFlags):
        return ", ".join(flag_words(arg.codes, language))
    if isinstance(arg, RiskLevel):
        return level_words(arg.level, language)
    if isinstance(arg, NetworkName):
        return escape(network_name(arg.name, language))
    if isinstance(arg, Phrase):
        return render_phrase(arg, language)
    if isinstance(arg, Who):
        name = arg.name
        return f"<@{name}>" if name[:1] in {"U", "W"} and name.isalnum() else escape(name)
    return arg


def render_phrase(phrase: Phrase, language: str) -> str:
    """One phrase translated in ``language`` with its rendered arguments."""
    return t(language, phrase.key,
             **{name: render_arg(arg, language) for name, arg in phrase.args})
