"""Why a spike happened: the terms and links driving it, who is loudest, three examples.

Works on plain ``SpikeMention`` values (the caller maps its rows onto them). Terms are
words and bigrams (EN/FR stopwords removed) counted once per mention and ranked by
how much more often they appear in the spike than in the baseline mentions:
score = count × log(lift), with add-half smoothing; without a baseline, by count.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.analysis.reach import AuthorActivity, rank_authors, reach_points
from bot.analysis.stopwords import is_stopword
from bot.analysis.text import URL_RE, extract_urls, fold_accents


@dataclass(frozen=True, slots=True)
class SpikeMention:
    """What the explanation needs to know about one mention."""

    text: str
    author: str
    followers: int | None = None
    sentiment_label: str = "neutral"
    engagement: int = 0
    links: tuple[str, ...] = ()
    url: str | None = None
    mention_id: str | None = None


@dataclass(frozen=True, slots=True)
class TermStat:
    """A term over-represented in the spike."""

    term: str
    count: int
    baseline_count: int
    lift: float


@dataclass(frozen=True, slots=True)
class LinkStat:
    """A link shared by several spike mentions."""

    url: str
    count: int


@dataclass(frozen=True, slots=True)
class SpikeExplanation:
    """Everything shown under a spike alert."""

    terms: tuple[TermStat, ...]
    links: tuple[LinkStat, ...]
    negative_authors: tuple[AuthorActivity, ...]
    samples: tuple[SpikeMention, ...]


_TOKEN_RE = re.compile(r"[#@]?\w[\w'-]*\w|\w")
_ELISION_RE = re.compile(r"^(?:[ldjmnstc]|qu)'")


def mention_terms(text: str) -> set[str]:
    """The distinct words and bigrams of ``text`` worth reporting (stopwords dropped)."""
    words = []
    for raw in _TOKEN_RE.findall(fold_accents(URL_RE.sub(" ", text)).replace("’", "'")):
        word = _ELISION_RE.sub("", raw).strip("'-")
        words.append(word if word and not is_stopword(word.lstrip("#")) else "")
    terms = {w for w in words if w}
    terms.update(f"{a} {b}" for a, b in pairwise(words) if a and b)
    return terms


def top_terms(
    spike_texts: Sequence[str],
    baseline_texts: Sequence[str] = (),
    *,
    limit: int = 8,
    min_count: int = 2,
) -> list[TermStat]:
    """Terms that set the spike apart from the baseline (see module doc)."""
    spike = Counter(t for text in spike_texts for t in mention_terms(text))
    base = Counter(t for text in baseline_texts for t in mention_terms(text))
    n_spike, n_base = len(spike_texts), len(baseline_texts)
    scored: list[tuple[float, TermStat]] = []
    for term, count in spike.items():
        if count < min_count:
            continue
        if n_base:
            lift = ((count + 0.5) / (n_spike + 1)) / ((base[term] + 0.5) / (n_base + 1))
            if lift <= 1.0:
                continue
            score = count * math.log(lift)
        else:
            lift, score = 1.0, float(count)
        scored.append((score, TermStat(term, count, base[term], round(lift, 2))))
    scored.sort(key=lambda s: (-s[0], -s[1].count, s[1].term))
    bigrams = [s for _, s in scored if " " in s.term]
    chosen: list[TermStat] = []
    for _, stat in scored:
        # A word mostly seen inside one bigram is better told by that bigram.
        if " " not in stat.term and any(
            stat.term in b.term.split() and b.count >= 0.8 * stat.count for b in bigrams
        ):
            continue
        chosen.append(stat)
        if len(chosen) == limit:
            break
    return chosen


def normalize_link(url: str) -> str:
    """Drop tracking parameters, fragment, ``www.`` and a trailing slash."""
    parts = urlsplit(url.strip())
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query) if not k.lower().startswith(("utm_", "fbclid"))]
    )
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit((parts.scheme.lower() or "https", host, parts.path.rstrip("/"), query, ""))


def top_links(
    mentions: Iterable[SpikeMention], *, limit: int = 5, min_count: int = 2
) -> list[LinkStat]:
    """Links carried by at least ``min_count`` mentions, most shared first."""
    counts: Counter[str] = Counter()
    for mention in mentions:
        links = mention.links or tuple(extract_urls(mention.text))
        counts.update({normalize_link(u) for u in links if u})
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [LinkStat(url, n) for url, n in ranked if n >= min_count][:limit]


def top_negative_authors(
    mentions: Iterable[SpikeMention], *, limit: int = 5
) -> list[AuthorActivity]:
    """Authors of negative mentions, by reach (see ``reach.rank_authors``)."""
    grouped: dict[str, list[SpikeMention]] = {}
    for mention in mentions:
        grouped.setdefault(mention.author.lower(), []).append(mention)
    authors = []
    for items in grouped.values():
        negative = sum(1 for m in items if m.sentiment_label == "negative")
        known = [m.followers for m in items if m.followers is not None]
        authors.append(
            AuthorActivity(
                handle=items[0].author,
                followers=max(known) if known else None,
                mentions=len(items),
                negative=negative,
                engagement=sum(max(0, m.engagement) for m in items),
            )
        )
    return rank_authors(authors, limit=limit, negative_only=True)


def sample_mentions(mentions: Sequence[SpikeMention], *, count: int = 3) -> list[SpikeMention]:
    """``count`` telling examples: negative first, then by reach and engagement.

    One per author and per text, so a retweet wave shows once.
    """

    def weight(m: SpikeMention) -> float:
        """Negative first, then reach, then engagement."""
        negative = 1.0 if m.sentiment_label == "negative" else 0.0
        return negative + reach_points(m.followers) + 0.2 * math.log10(1 + max(0, m.engagement))

    chosen: list[SpikeMention] = []
    authors: set[str] = set()
    texts: set[str] = set()
    for mention in sorted(mentions, key=weight, reverse=True):
        key = " ".join(fold_accents(URL_RE.sub("", mention.text)).split())
        if mention.author.lower() in authors or key in texts:
            continue
        chosen.append(mention)
        authors.add(mention.author.lower())
        texts.add(key)
        if len(chosen) == count:
            break
    return chosen


def explain_spike(
    mentions: Sequence[SpikeMention],
    baseline: Sequence[SpikeMention] = (),
    *,
    max_terms: int = 8,
    max_links: int = 5,
    max_authors: int = 5,
    samples: int = 3,
    authors: Iterable[AuthorActivity] | None = None,
) -> SpikeExplanation:
    """Terms, links, loudest negative authors and sample mentions of a spike.

    ``mentions`` are those of the spike hour(s); ``baseline`` some earlier mentions of
    the same watch (a few hundred are plenty) to tell what is new. ``authors``, when
    given, is every author's activity over the whole spike (aggregated by the caller) and
    ranks the negative authors instead of ``mentions``, which may be only a sample.
    """
    loudest = (rank_authors(authors, limit=max_authors, negative_only=True)
               if authors is not None else top_negative_authors(mentions, limit=max_authors))
    return SpikeExplanation(
        terms=tuple(
            top_terms([m.text for m in mentions], [m.text for m in baseline], limit=max_terms)
        ),
        links=tuple(top_links(mentions, limit=max_links)),
        negative_authors=tuple(loudest),
        samples=tuple(sample_mentions(mentions, count=samples)),
    )
