from bot.analysis.spike_explain import (
    SpikeMention,
    explain_spike,
    mention_terms,
    normalize_link,
    sample_mentions,
    top_links,
    top_negative_authors,
    top_terms,
)

BASELINE = [
    SpikeMention("Love the new Acme phone camera", "ann"),
    SpikeMention("Acme phone delivery was quick", "bob"),
    SpikeMention("Is the Acme phone waterproof?", "cid"),
    SpikeMention("Acme support answered in minutes", "dan"),
] * 5

SPIKE = [
    SpikeMention(
        "Acme battery explodes!! https://news.example/acme-battery?utm_source=tw",
        "reporter",
        followers=250_000,
        sentiment_label="negative",
        engagement=900,
    ),
    SpikeMention("My Acme battery exploded, the battery recall is a joke", "eve", 120, "negative"),
    SpikeMention("Acme battery exploded in my kitchen", "fay", 3_000, "negative"),
    SpikeMention("acme battery exploded in my kitchen", "FAY", 3_000, "negative"),
    SpikeMention(
        "See https://news.example/acme-battery/ about the battery recall",
        "gus",
        followers=10,
        links=("https://www.news.example/acme-battery#top",),
    ),
    SpikeMention("Love my Acme phone anyway", "hal", 50, "positive"),
]


def test_mention_terms_drop_stopwords_and_urls() -> None:
    terms = mention_terms("The battery of l'appareil exploded! https://x.io #Recall")
    assert {"battery", "appareil", "exploded", "#recall", "appareil exploded"} <= terms
    assert "battery appareil" not in terms  # not adjacent: "of" stood between
    assert not {"the", "of", "x.io", "https"} & terms


def test_top_terms_are_what_is_new() -> None:
    stats = top_terms([m.text for m in SPIKE], [m.text for m in BASELINE], limit=4)
    terms = [s.term for s in stats]
    assert terms[0] == "acme battery"
    assert "battery recall" in terms
    assert "acme" not in terms and "phone" not in terms
    assert all(s.lift > 1 for s in stats)


def test_top_terms_without_baseline_rank_by_count() -> None:
    stats = top_terms(["late delivery", "late delivery again", "late again"], limit=2)
    assert [(s.term, s.count) for s in stats] == [("late", 3), ("late delivery", 2)]


def test_links_are_normalized_and_counted() -> None:
    assert normalize_link("HTTPS://www.News.example/a/?utm_source=x&id=3#frag") == (
        "https://news.example/a?id=3"
    )
    links = top_links(SPIKE)
    assert [(link.url, link.count) for link in links] == [("https://news.example/acme-battery", 2)]


def test_negative_authors_by_reach_grouped_case_insensitively() -> None:
    authors = top_negative_authors(SPIKE)
    assert [a.handle for a in authors] == ["reporter", "fay", "eve"]
    assert authors[1].mentions == 2


def test_samples_are_distinct_and_telling() -> None:
    samples = sample_mentions(SPIKE)
    assert [m.author for m in samples] == ["reporter", "fay", "eve"]


def test_explain_spike_bundles_everything() -> None:
    explanation = explain_spike(SPIKE, BASELINE, max_terms=3)
    assert len(explanation.terms) == 3
    assert explanation.links[0].count == 2
    assert explanation.negative_authors[0].handle == "reporter"
    assert len(explanation.samples) == 3


def test_empty_spike() -> None:
    explanation = explain_spike([])
    assert explanation.terms == explanation.links == explanation.samples == ()
