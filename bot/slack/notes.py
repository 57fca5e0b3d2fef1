"""Renders a note (``bot.messages.notes``) as mrkdwn, its phrases by ``bot.slack.phrases``,
and the mentions a DM names."""

from __future__ import annotations

from bot.i18n import network_name, t
from bot.messages.notes import MentionRef, Note, NoteWithMentions
from bot.slack.escape import escape, escape_name, truncate
from bot.slack.home import card_link
from bot.slack.phrases import render_phrase

EXCERPT = 120
"""Characters of a mention's text quoted in a DM."""


def render_note(note: Note) -> str:
    """The note's phrases, translated with their rendered arguments, one per line."""
    return "\n".join(render_phrase(phrase, note.language) for phrase in note.phrases)


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
