"""Renders a note (``bot.messages.notes``) as mrkdwn: each argument escaped, cut or
formatted by what it is."""

from __future__ import annotations

from bot.i18n import t
from bot.messages.notes import Arg, Date, Link, Note, RiskFlags, Text
from bot.slack.escape import escape, link, slack_date, truncate
from bot.slack.risk_words import flag_words


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
    return arg


def render_note(note: Note) -> str:
    """The note's phrases, translated with their rendered arguments, one per line."""
    return "\n".join(
        t(note.language, phrase.key,
          **{name: render_arg(arg, note.language) for name, arg in phrase.args})
        for phrase in note.phrases)
