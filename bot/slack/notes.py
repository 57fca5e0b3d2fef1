"""Renders a note (``bot.messages.notes``) as mrkdwn: each argument escaped, cut or
formatted by what it is."""

from __future__ import annotations

from bot.i18n import network_name, t
from bot.messages.notes import (
    Arg,
    Date,
    Link,
    MentionRef,
    NetworkName,
    Note,
    NoteWithMentions,
    RiskFlags,
    RiskLevel,
    Text,
    Who,
)
from bot.slack.escape import escape, escape_name, link, slack_date, truncate
from bot.slack.home import card_link
from bot.slack.risk_words import flag_words, level_words

EXCERPT = 120
"""Characters of a mention's text quoted in a DM."""


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
    if isinstance(arg, Who):
        name = arg.name
        return f"<@{name}>" if name[:1] in {"U", "W"} and name.isalnum() else escape(name)
    return arg


def render_note(note: Note) -> str:
    """The note's phrases, translated with their rendered arguments, one per line."""
    return "\n".join(
        t(note.language, phrase.key,
          **{name: render_arg(arg, note.language) for name, arg in phrase.args})
        for phrase in note.phrases)


def mention_line(ref: MentionRef, language: str = "en") -> str:
    """``#12 · @ana (Mastodon): _excerpt…_``, the id linking to the card (or the post)."""
    excerpt = truncate(ref.excerpt, EXCERPT)
    label = card_link(ref.channel, ref.ts, ref.url, f"#{ref.id}")
    network = escape(network_name(ref.network, language))
    line = f"{label} · {escape_name(truncate(ref.author, 80))} ({network})"
    # The excerpt is outside text inside an italic: its own *, _, ~ and ` must not format
    # it or close the italic early (as on cards, escape_name).
    return (t(language, "punct.labelled", label=line, value=f"_{escape_name(excerpt)}_")
            if excerpt else line)


def render_note_with_mentions(spec: NoteWithMentions) -> str:
    """The note, then one line per mention."""
    bullet = "• " if spec.bullets else ""
    return "\n".join([render_note(spec.note),
                      *(f"{bullet}{mention_line(ref, spec.note.language)}"
                        for ref in spec.mentions)])
