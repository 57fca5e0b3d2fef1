"""Parsing of `/cm` arguments as Slack sends them (``should_escape`` is on)."""

from __future__ import annotations

import re
import shlex

USER_REF = re.compile(r"<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>")
CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
LINK_REF = re.compile(r"^<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>$")
NUMBER = re.compile(r"[0-9]{1,12}")
MENTION_REF = re.compile(r"#?([0-9]{1,12})")
VERSION_REF = re.compile(r"[vV]([0-9]{1,9})")
SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
                              "‘": "'", "’": "'"})
"""Slack clients type curly quotes; phrases use straight double quotes."""


class ArgumentError(ValueError):
    """The arguments could not be read; the message key explains why to the user."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


SLACK_ENTITY = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
"""What Slack writes for a #channel, an @user, a special mention or a link it recognised."""
SPECIAL_MENTIONS = {"!here": "@here", "!channel": "@channel", "!everyone": "@everyone"}


def unescape(text: str) -> str:
    """Undo Slack's HTML escaping of &, < and > in typed text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _as_typed(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target[:1] == "#":
        return "#" + label if label else match.group(0)
    if target[:1] == "@":
        return "@" + label.lstrip("@") if label else match.group(0)
    if target[:1] == "!":
        return label or SPECIAL_MENTIONS.get(target, match.group(0))
    return label or target


def typed_text(text: str) -> str:
    """Free text as the user typed it, from what Slack sends with ``should_escape`` on.

    Slack's slash-command docs (https://api.slack.com/interactivity/slash-commands,
    "Escaping": ``should_escape`` / "Escape channels, users, and links sent to your app")
    and its formatting reference (https://api.slack.com/reference/surfaces/formatting,
    "Escaping text" and "Linking to channels and users") say that, with escaping on, a typed
    ``#panne`` arrives as ``<#C0123ABCD|panne>``, ``@ana`` as ``<@U0123ABCD|ana>``, a typed
    ``status.acme.example`` as ``<https://status.acme.example|status.acme.example>``,
    ``@here`` as ``<!here>``, and a typed &, < or > as ``&amp;``, ``&lt;``, ``&gt;``. The
    label is what was typed; a link without one was typed as its URL."""
    return unescape(SLACK_ENTITY.sub(_as_typed, text))


def typed_handle(text: str) -> str:
    """An author handle argument as the user typed it (``typed_text``), except a Slack
    special mention (``<!channel>``, ``<!here>``, ``<!subteam^…>``): no author is written
    that way, so it stays as Slack sent it and the handle checks refuse it, rather than
    taking a typed @channel for the account "channel"."""
    return text if text.startswith("<!") else typed_text(text)


def text_after(raw_args: str, words: int) -> str:
    """The free text after the first ``words`` words of ``raw_args`` (what Slack sends after
    the subcommand), as the user typed it: line breaks, spacing and quotes kept, Slack's
    escaping undone (``typed_text``: ``@ana``, ``#support``, a link's typed text, ``&``).
    "" when nothing follows those words."""
    parts = raw_args.split(None, words)
    return typed_text(parts[words]).strip() if len(parts) > words else ""


def split_args(text: str) -> list[str]:
    """Split arguments like a shell: "quoted phrases" stay together; smart quotes count."""
    normalized = text.translate(SMART_QUOTES).strip()
    lexer = shlex.shlex(normalized, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""
    lexer.quotes = '"'  # apostrophes are text: "we're", "l'appli"
    try:
        return list(lexer)
    except ValueError:
        raise ArgumentError("help.bad_quotes") from None


GROUP_QUOTES = {'"': '"', "“": '”"', "„": '“”"', "«": "»"}
"""Double quotes as Slack clients type them (phones mix ``“`` and ``"``), and their closers."""
VALUE_QUOTES = {**GROUP_QUOTES, "“": '”“"', "”": '”"', "'": "'’", "‘": "’'", "’": "’'"}
"""An apostrophe opens a quoted span only where a setting's value starts (``query='…'``);
so does a closing curly quote, what macOS and iOS type after ``=`` (``query=”acme app”``),
and an opening one closes it as well as the closing one (``query=“acme app“``)."""
STRAIGHTEN = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
QUOTE_ESCAPE = re.compile(r"""\\(["“”„«»'‘’])""")


def _span_end(text: str, i: int) -> int | None:
    """Where the quoted span (or Slack entity ``<…>``) opening at ``text[i]`` closes, or
    None when nothing opens there or it is never closed (the quote is then text). A
    backslash before a quote keeps it from closing the span (``"\\"acme app\\" lang:en"``)."""
    char = text[i]
    closers = (">" if char == "<" else VALUE_QUOTES.get(char) if i > 0 and text[i - 1] == "="
               else GROUP_QUOTES.get(char))
    if closers is None:
        return None
    j = i + 1
    while j < len(text) and text[j] not in closers:
        j += 2 if text[j] == "\\" and closers != ">" else 1
    return j if j < len(text) else None


def setting_words(raw_args: str) -> list[str]:
    """``key=value`` arguments (`/cm source add`) as typed, quotes kept: cut at the
    whitespace outside quoted spans (straight or curly double quotes, guillemets, and an
    apostrophe that opens a value, ``query='"acme app" lang:en'``, so that "l'appli" stays
    text) and outside Slack's ``<…>`` entities. ``setting_value`` reads each value."""
    words: list[str] = []
    start: int | None = None
    i = 0
    while i < len(raw_args):
        if raw_args[i].isspace():
            if start is not None:
                words.append(raw_args[start:i])
                start = None
            i += 1
            continue
        if start is None:
            start = i
        end = _span_end(raw_args, i)
        i = (end if end is not None else i) + 1
    if start is not None:
        words.append(raw_args[start:])
    return words


def unquoted(value: str) -> str:
    """``value`` without the quotes around all of it (they only group words, as in a
    shell: ``query="acme OR acmeapp"``), and a backslashed quote as the quote itself."""
    if value[:1] in VALUE_QUOTES and _span_end("=" + value, 1) == len(value):
        value = value[1:-1]
    return QUOTE_ESCAPE.sub(r"\1", value)


def setting_value(value: str) -> str:
    """A setting's value (what follows ``key=`` in a ``setting_words`` argument) as the user
    typed it: quotes around all of it removed (``unquoted``), quotes inside it kept, as the
    network's phrase quotes (``query='"acme app" lang:en'``, ``query="“acme app” lang:en"``,
    ``query="\\"acme app\\" lang:en"`` all send the phrase "acme app"): curly double quotes
    and guillemets become straight ones, the only phrase quotes X and Reddit read. Slack's
    escaping is undone (``typed_text``: ``#acme``, a link's typed text, ``&``)."""
    return typed_text(unquoted(value).translate(STRAIGHTEN))


def number_of(arg: str) -> int | None:
    """``arg`` as a number when it is 1 to 12 ASCII digits, else None (``str.isdigit`` also
    accepts "¹" and "①", which ``int`` then refuses)."""
    return int(arg) if NUMBER.fullmatch(arg) else None


def _ids_in(arg: str) -> list[int] | None:
    """The mention ids one argument writes (``41``, ``#41``, ``41,42``, ``41,``), or None
    when it is not only ids and commas; [] for commas alone."""
    pieces = [piece for piece in arg.split(",") if piece]
    matches = [MENTION_REF.fullmatch(piece) for piece in pieces]
    if not all(matches):
        return None
    return [int(match.group(1)) for match in matches if match]


def leading_ids(args: list[str], *, last_word: bool = False) -> tuple[list[int], int]:
    """The mention ids ``args`` start with and how many arguments they took: the words
    after them are the command's text (a reason, a user, a link).

    Several ids are read only where the text could not be meant: written ``#41 #42``,
    joined by commas (``41,42``, ``41, 42``), or bare numbers with nothing but ids after
    them (``41 42 43``). Otherwise the first id is the only one: ``42 3 duplicates`` is #42
    with the reason "3 duplicates", never #42 and #3. ``last_word``: the command's text is
    one word that is never a number (assign's @user, replied's link), so bare numbers just
    before it are ids too (``41 42 @ana``)."""
    written = [_ids_in(arg) for arg in args]
    body = len(args) - 1 if last_word and args and not written[-1] else len(args)
    if body and all(written[:body]):
        # Nothing but ids up to the end (or the last word): no text can start among them.
        return [number for ids in written[:body] for number in ids or ()], body
    ids: list[int] = []
    used = 0
    joined = False  # the argument before ended with a comma: the list goes on
    for arg, numbers in zip(args, written, strict=True):
        if numbers is None or (not numbers and not ids):
            break
        if ids and not (joined or arg.startswith(("#", ","))):
            break  # a bare number after the ids: the text starts with it
        ids.extend(numbers)
        used += 1
        joined = arg.endswith(",")
    return ids, used


def version_of(arg: str) -> int | None:
    """A draft version as the card shows it, ``v3`` (ASCII digits), else None."""
    match = VERSION_REF.fullmatch(arg)
    return int(match.group(1)) if match else None


def user_id_of(arg: str) -> str | None:
    """The user id in an escaped mention ``<@U123|name>`` (or a bare id), else None."""
    match = USER_REF.fullmatch(arg)
    if match:
        return match.group(1)
    return arg if re.fullmatch(r"[UW][A-Z0-9]{4,30}", arg) else None


def channel_id_of(arg: str) -> str | None:
    """The channel id in ``<#C123|name>`` (or a bare id), else None."""
    match = CHANNEL_REF.match(arg)
    if match:
        return match.group(1)
    return arg if re.fullmatch(r"[CG][A-Z0-9]{4,}", arg) else None


def url_of(arg: str) -> str:
    """A URL typed in Slack arrives as ``<https://...>``: return the bare URL.

    Inside the brackets too, Slack writes a typed &, < or > as ``&amp;``, ``&lt;``,
    ``&gt;`` (https://api.slack.com/reference/surfaces/formatting, "Escaping text"): a
    feed's ``?q=a&amp;hl=fr`` is ``?q=a&hl=fr``."""
    match = LINK_REF.match(arg)
    return unescape(match.group(1) if match else arg)
