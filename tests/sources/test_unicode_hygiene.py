"""Author names, handles and texts lose control, bidi and invisible characters at
normalisation (issue 19, item 10: "author names keep RTL-override and zero-width
characters"; item 6: a NUL in a name froze a source on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.sources.base import MAX_COUNT, Author, FetchedMention
from bot.sources.mastodon import parse_statuses
from bot.text_hygiene import clean_name, clean_text, normalize_untrusted


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


@pytest.mark.parametrize(("followers", "clean"), [
    (None, None), (0, 0), (MAX_COUNT, MAX_COUNT), (-1, None), (True, None),
    (MAX_COUNT + 1, MAX_COUNT)])
def test_an_author_follower_count_is_kept_or_cleaned(followers: object,
                                                     clean: int | None) -> None:
    assert Author(handle=" h ", followers=followers).followers == clean  # type: ignore[arg-type]
    assert Author(handle=" h ", name=" N ").handle == "h"


def test_the_untrusted_normalisation_folds_lookalike_letters_and_drops_joiners() -> None:
    assert normalize_untrusted("ｉｇｎｏｒｅ 𝐚𝐥𝐥 ig\u200dnore\u0301") == "ignore all ignoré"
