"""Author reach: compact follower counts and a pure influence ranking."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


def format_reach(followers: int | None) -> str:
    """``48_213`` -> ``"48k"``, ``1_250`` -> ``"1.2k"``, ``2_400_000`` -> ``"2.4M"``.

    None (unknown) gives ``""``.

    Rounds down, so a count never reads bigger than it is (999_999 is "999k").
    """
    if followers is None:
        return ""
    if followers < 0:
        raise ValueError("followers cannot be negative")
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if followers >= size:
            value = followers / size
            if value < 10:
                tenths = math.floor(value * 10) / 10
                text = f"{tenths:.1f}".removesuffix(".0")
            else:
                text = str(math.floor(value))
            return text + suffix
    return str(followers)


def reach_points(followers: int | None, verified: bool = False) -> float:
    """0..1: 0 under 100 followers, +0.25 per tenfold up to 1M; verified adds 0.1."""
    base = 0.0
    if followers and followers > 100:
        base = min(1.0, (math.log10(followers) - 2.0) / 4.0)
    return min(1.0, base + (0.1 if verified else 0.0))


@dataclass(frozen=True, slots=True)
class AuthorActivity:
    """One author's activity over a period, as aggregated by the caller."""

    handle: str
    followers: int | None = None
    verified: bool = False
    mentions: int = 1
    negative: int = 0
    engagement: int = 0


def influence(author: AuthorActivity) -> float:
    """Reach, plus a little for engagement earned and for mentioning often."""
    return (
        reach_points(author.followers, author.verified)
        + 0.1 * math.log10(1 + max(0, author.engagement))
        + 0.05 * math.log2(max(1, author.mentions))
    )


def rank_authors(
    authors: Iterable[AuthorActivity], *, limit: int = 10, negative_only: bool = False
) -> list[AuthorActivity]:
    """The ``limit`` most influential authors (ties by handle); optionally only detractors."""
    pool = [a for a in authors if a.negative > 0] if negative_only else list(authors)
    pool.sort(key=lambda a: (-influence(a), a.handle.lower()))
    return pool[:limit]
