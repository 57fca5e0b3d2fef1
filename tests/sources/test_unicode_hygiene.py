"""Author names, handles and texts lose control, bidi and invisible characters at
normalisation (issue 19, item 10: "author names keep RTL-override and zero-width
characters"; item 6: a NUL in a name froze a source on PostgreSQL)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from bot.sources.base import (
    MAX_COUNT,
    MAX_ID_CHARS,
    MAX_NETWORK_CHARS,
    Author,
    FetchedMention,
)
from bot.sources.mastodon import parse_statuses
from bot.text_hygiene import clean_id, clean_name, clean_text, normalize_untrusted


def test_a_mastodon_display_name_with_an_rtl_override_is_shown_as_written() -> None:
    status = {
        "id": "1", "uri": "https://toot.example/s/1", "created_at": "2026-11-20T10:00:00Z",
        "content": "<p>acme \u202egnp.exe\u202c rocks\u200b!</p>",
        "account": {"acct": "ev\u200be@toot.example",
                    "display_name": "\u202eAcme Support\u202c\u200b\u2066 \u3164",
                    "followers_count": -1},
    }
    (mention,) = parse_statuses([status], "https://toot.example")
    assert mention.author.name == "Acme Support"
    assert mention.author.handle == "@eve@toot.example"
    assert mention.author.followers is None  # Mastodon's -1: hidden
    assert mention.text == "acme gnp.exe rocks!"


@pytest.mark.parametrize(("raw", "name"), [
    ("Ann\x00e", "Anne"),
    ("  Bob \n\t Smith ", "Bob Smith"),
    ("Zoé 👩\u200d💻", "Zoé 👩💻"),
    ("\u2067Mallory\u2069", "Mallory"),
    ("\ufeffTom\u00ad", "Tom"),
])
def test_names(raw: str, name: str) -> None:
    assert clean_name(raw) == name
    assert Author(handle="h", name=raw).name == name


def test_texts_keep_line_breaks_and_emoji_joiners() -> None:
    text = "Famille 👨\u200d👩\u200d👧\nmerci\u200b \u202ebeau\u202c"
    assert clean_text(text) == "Famille 👨\u200d👩\u200d👧\nmerci beau"


def test_a_mention_is_built_clean_whatever_the_source_sent() -> None:
    mention = FetchedMention(
        network="rss", external_id="id\x00\ud800-1" + "x" * 600, url="https://a.example/\x00",
        author=Author(handle="\x00", name="\u200b", followers=2**63),
        text="a\x00b", published_at=datetime(2026, 1, 1, tzinfo=UTC), engagement=-5,
        parent_external_id="\x00", links=("https://l.example/\x00",))
    assert mention.external_id.startswith("id-1") and len(mention.external_id) == 500
    assert mention.url == "https://a.example/" and mention.links == ("https://l.example/",)
    assert mention.author.handle == "unknown" and mention.author.name is None
    assert mention.author.followers == MAX_COUNT
    assert mention.text == "ab" and mention.engagement == 0
    assert mention.parent_external_id is None


@pytest.mark.parametrize(("field", "raw", "clean"), [
    ("network", "n" * 40, "n" * 32),
    ("external_id", "x" * 600, "x" * 500),
    ("url", "https://a.example/\x00", "https://a.example/"),
    ("text", "a\u200bb", "ab"),
    ("title", "t\x00", "t"),
    ("language_hint", "", None),
    ("language_hint", "e\x00n", "en"),
    ("parent_external_id", "", None),
    ("parent_external_id", "p" * 501, "p" * 500),
    ("engagement", True, 0),
    ("engagement", -1, 0),
    ("engagement", 2**40, MAX_COUNT),
    ("links", ("https://l.example/\x00",), ("https://l.example/",)),
])
def test_one_unclean_field_is_cleaned_among_clean_ones(field: str, raw: object,
                                                       clean: object) -> None:
    # A mention whose other fields are all clean still has this one cleaned.
    fields: dict[str, object] = {
        "network": "rss", "external_id": "e1", "url": "https://a.example/1",
        "author": Author(handle="h"), "text": "hello", "title": "hi",
        "published_at": datetime(2026, 1, 1, tzinfo=UTC), "language_hint": "en",
        "parent_external_id": "p1", "engagement": 3, "links": ("https://l.example/",)}
    mention = FetchedMention(**{**fields, field: raw})  # type: ignore[arg-type]
    assert getattr(mention, field) == clean
    assert all(getattr(mention, name) == value for name, value in fields.items()
               if name != field)


# Printable and not: accents, emoji, CJK, spaces of every kind, controls, bidi, zero-width,
# a lone surrogate.
_PIECES = ["a", "Z", "9", " ", "é", "ß", "😀", "👍🏽", "漢", "-", "/", ":", ".", "\u00a0",
           "\u3000", "\n", "\t", "\r", "\x00", "\x1f", "\x7f", "\u200b", "\u200d", "\u202e",
           "\u2028", "\ufeff", "\ud800", "\U000e0041"]


def test_a_mention_holds_what_each_field_cleaner_makes_of_it_clean_or_not() -> None:
    # The gate skips the per-field cleaners when every field looks clean: whatever the
    # fields, a mention must hold exactly what the cleaners make of them, so a step added
    # to a cleaner (or a new length limit) cannot be skipped silently.
    rng = random.Random(2026)
    unchanged = 0
    for _ in range(3000):
        clean_looking = rng.random() < 0.5  # printable pieces only (NBSP is not)
        pieces = _PIECES[:13] if clean_looking else _PIECES

        def text(longest: int, pieces: list[str] = pieces) -> str:
            return "".join(rng.choice(pieces) for _ in range(rng.randrange(longest)))

        fields = {
            "network": text(40) or "x", "external_id": text(600) or "e",
            "url": text(30), "text": text(60), "title": rng.choice([None, text(20)]),
            "language_hint": rng.choice([None, "", text(4)]),
            "parent_external_id": rng.choice([None, "", text(520)]),
            "engagement": rng.choice([0, 5, -1, MAX_COUNT, MAX_COUNT + 1, True]),
            "links": tuple(text(20) for _ in range(rng.randrange(3)))}
        mention = FetchedMention(author=Author(handle="h"),
                                 published_at=datetime(2026, 1, 1, tzinfo=UTC),
                                 **fields)  # type: ignore[arg-type]
        hint, parent = fields["language_hint"], fields["parent_external_id"]
        assert (mention.network, mention.external_id, mention.url, mention.text) == (
            clean_id(str(fields["network"]))[:MAX_NETWORK_CHARS],
            clean_id(str(fields["external_id"]))[:MAX_ID_CHARS],
            clean_id(str(fields["url"])), clean_text(str(fields["text"])))
        title = fields["title"]
        assert mention.title == (None if title is None else clean_text(str(title)))
        assert mention.language_hint == (None if hint is None else clean_id(str(hint)) or None)
        assert mention.parent_external_id == (
            None if parent is None else clean_id(str(parent))[:MAX_ID_CHARS] or None)
        engagement = fields["engagement"]
        assert mention.engagement == (
            0 if engagement is True or engagement == -1 else min(int(engagement), MAX_COUNT))
        assert mention.links == tuple(clean_id(link) for link in fields["links"])  # type: ignore[union-attr]
        unchanged += all(getattr(mention, name) == value for name, value in fields.items())
    assert unchanged > 100  # the gate's fast check ran on many of them (148)


@pytest.mark.parametrize(("followers", "clean"), [
    (None, None), (0, 0), (MAX_COUNT, MAX_COUNT), (-1, None), (True, None),
    (MAX_COUNT + 1, MAX_COUNT)])
def test_an_author_follower_count_is_kept_or_cleaned(followers: object,
                                                     clean: int | None) -> None:
    assert Author(handle=" h ", followers=followers).followers == clean  # type: ignore[arg-type]
    assert Author(handle=" h ", name=" N ").handle == "h"


def test_the_untrusted_normalisation_folds_lookalike_letters_and_drops_joiners() -> None:
    assert normalize_untrusted("ｉｇｎｏｒｅ 𝐚𝐥𝐥 ig\u200dnore\u0301") == "ignore all ignoré"
