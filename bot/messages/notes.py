"""A note as data: translated phrases whose arguments say what they are (outside text,
a date, a link, risk flags), so services never write mrkdwn and the renderer in
``bot.slack.notes`` escapes, cuts and formats each argument in one place.

Notes go through the outbox as JSON (``note_to_json`` / ``note_from_json``) and are
rendered when the row is sent, maybe by an older release (a rolling deploy): a key or an
argument form it does not know raises ``bot.i18n.UnknownMessage``, never a wrong text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.i18n import UnknownMessage, has, network_name, t


@dataclass(frozen=True, slots=True)
class Text:
    """Outside text (a name, a reason, a post): escaped, and cut to ``limit`` characters
    at a word boundary when a limit is given."""

    value: str | None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Date:
    """A moment, shown in each reader's time zone."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Link:
    """A link with an escaped label; only the label when the URL is missing or unsafe."""

    url: str | None
    label: str


@dataclass(frozen=True, slots=True)
class RiskFlags:
    """A draft's risk flag codes, shown in words in the note's language."""

    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RiskLevel:
    """A draft's risk level (``warn``), shown in words in the note's language."""

    level: str


@dataclass(frozen=True, slots=True)
class Who:
    """Someone named in a message: a Slack user id (``U…``/``W…``) is shown as a mention,
    any other name as escaped text."""

    name: str


@dataclass(frozen=True, slots=True)
class NetworkName:
    """A network's stored name (``rss``), shown as the note's language names it."""

    name: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """One translated message (an ``bot.i18n`` key) and its arguments. It is an argument
    of another phrase too (a publisher's error inside the failed-reply note), translated
    in the reader's language with it."""

    key: str
    args: tuple[tuple[str, Arg], ...] = ()

    @classmethod
    def of(cls, key: str, **args: Arg) -> Phrase:
        """A phrase from keyword arguments (kept in the order given)."""
        return cls(key, tuple(args.items()))


Arg = str | int | Text | Date | Link | RiskFlags | RiskLevel | Who | NetworkName | Phrase
"""A phrase argument. ``str`` and ``int`` are our own values (ids, counts, network names,
``<@U…>`` references) and are inserted as they are; anything from outside is a ``Text``."""


@dataclass(frozen=True, slots=True)
class Note:
    """A thread note or a short message: its phrases, one per line, in ``language``."""

    language: str
    phrases: tuple[Phrase, ...]

    @classmethod
    def of(cls, language: str, key: str, **args: Arg) -> Note:
        """A note of one phrase."""
        return cls(language, (Phrase.of(key, **args),))

    def then(self, key: str, **args: Arg) -> Note:
        """This note with one more line."""
        return Note(self.language, (*self.phrases, Phrase.of(key, **args)))


def _arg_to_json(value: Arg) -> Any:
    if isinstance(value, Text):
        return {"text": value.value, "limit": value.limit}
    if isinstance(value, Date):
        return {"date": value.at.isoformat()}
    if isinstance(value, Link):
        return {"url": value.url, "label": value.label}
    if isinstance(value, RiskFlags):
        return {"flags": list(value.codes)}
    if isinstance(value, RiskLevel):
        return {"risk_level": value.level}
    if isinstance(value, Who):
        return {"who": value.name}
    if isinstance(value, NetworkName):
        # Releases before NetworkName read any other dict as risk flags and failed the
        # note for good (a rolling deploy runs both): they read this one as outside text,
        # the network's English name.
        return {"network": value.name, "text": network_name(value.name, "en")}
    if isinstance(value, Phrase):
        # Likewise: releases before phrases as arguments read it as outside text, the
        # phrase in English.
        return {"phrase": value.key,
                "args": {name: _arg_to_json(arg) for name, arg in value.args},
                "text": plain_text(value, "en")}
    return value


def _arg_from_json(value: Any) -> Arg:
    if not isinstance(value, dict):
        return value if isinstance(value, int) else str(value)
    if "network" in value:
        return NetworkName(str(value["network"]))
    if "phrase" in value:
        return phrase_from_json(value)
    if "text" in value:
        return Text(value["text"], value.get("limit"))
    if "date" in value:
        return Date(datetime.fromisoformat(value["date"]))
    if "url" in value:
        return Link(value["url"], str(value["label"]))
    if "who" in value:
        return Who(str(value["who"]))
    if "risk_level" in value:
        return RiskLevel(str(value["risk_level"]))
    if "flags" in value:
        return RiskFlags(tuple(str(code) for code in value["flags"]))
    # A form a newer release added: it renders the note, not this one.
    raise UnknownMessage(f"an argument of a form this version does not know ({sorted(value)})")


def check_known(note: Note) -> None:
    """``UnknownMessage`` when the catalogue lacks a phrase of ``note`` (a newer release
    queued it): checked before it is sent, so it is not sent half-known."""
    for phrase in note.phrases:
        check_phrase(phrase)


def check_phrase(phrase: Phrase) -> None:
    """``UnknownMessage`` when the catalogue lacks ``phrase``'s key or that of a phrase
    among its arguments."""
    if not has(phrase.key):
        raise UnknownMessage(f"no string {phrase.key!r} in the catalogue")
    for _, arg in phrase.args:
        if isinstance(arg, Phrase):
            check_phrase(arg)


def phrase_to_json(phrase: Phrase) -> dict[str, Any]:
    """``phrase`` as JSON, with its English text for releases that read it as outside
    text (``text``)."""
    data = _arg_to_json(phrase)
    assert isinstance(data, dict)
    return data


def phrase_from_json(data: dict[str, Any]) -> Phrase:
    """The phrase stored by ``phrase_to_json``; ``UnknownMessage`` for an argument of a
    form this release does not know."""
    args = data.get("args") or {}
    return Phrase(str(data["phrase"]), tuple((str(name), _arg_from_json(arg))
                                             for name, arg in args.items()))


def _plain_arg(arg: Arg, language: str) -> str | int:
    if isinstance(arg, Text):
        value = arg.value or ""
        return value[:arg.limit] if arg.limit is not None else value
    if isinstance(arg, NetworkName):
        return network_name(arg.name, language)
    if isinstance(arg, Phrase):
        return plain_text(arg, language)
    if isinstance(arg, Date):
        return arg.at.isoformat()
    if isinstance(arg, Link):
        return arg.label
    if isinstance(arg, Who):
        return arg.name
    if isinstance(arg, RiskFlags):
        return ", ".join(arg.codes)
    if isinstance(arg, RiskLevel):
        return arg.level
    return arg


def plain_text(phrase: Phrase, language: str) -> str:
    """``phrase`` in ``language`` with its arguments as plain words, unescaped: for logs,
    the CLI and exceptions, never for Slack (``bot.slack.notes`` renders it there)."""
    return t(language, phrase.key,
             **{name: _plain_arg(arg, language) for name, arg in phrase.args})


def note_to_json(note: Note) -> dict[str, Any]:
    """The note as JSON for an outbox row's payload."""
    return {"language": note.language,
            "phrases": [{"key": phrase.key,
                         "args": {name: _arg_to_json(arg) for name, arg in phrase.args}}
                        for phrase in note.phrases]}


def note_from_json(data: dict[str, Any]) -> Note:
    """The note stored by ``note_to_json``."""
    return Note(str(data["language"]), tuple(
        Phrase(str(phrase["key"]), tuple((name, _arg_from_json(arg))
                                         for name, arg in phrase["args"].items()))
        for phrase in data["phrases"]))


@dataclass(frozen=True, slots=True)
class MentionRef:
    """A mention named in a DM: its id (linking to its card when posted, else to the post),
    author, network and an excerpt of its text."""

    id: int
    channel: str | None
    ts: str | None
    url: str
    author: str
    network: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class NoteWithMentions:
    """A note followed by one line per mention (bulleted when it lists several)."""

    note: Note
    mentions: tuple[MentionRef, ...]
    bullets: bool = False
