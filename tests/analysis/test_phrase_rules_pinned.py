"""The phrase rules of intent and topics, pinned on real tweets and reviews.

Every text of five real-data files of tests/data (English tweets to brands, customer
tweets to support accounts, English tweets, French tweets and French reviews: 4,285
texts, 2,070 raising a flag and 581 a topic) goes through ``detect_intent`` and
``detect_topics``; the digest of every intent, flag, topic and matched term must stay
what it was when the rule matcher was shared between the two modules (a restructuring
that changes no result). A change of the rules themselves changes these digests on
purpose: print the new ones with ``python -m tests.analysis.test_phrase_rules_pinned``
and say why in the commit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.analysis.intent import detect_intent
from bot.analysis.topics import detect_topics

DATA = Path(__file__).resolve().parents[1] / "data"
PINNED = {
    "intent/eval/complaints_en_train.tsv":
        "85a8f534e382feecbd83f72df41794096ce4d8f153444359a49280b4d440d11e",
    "intent/eval/attention_en_dev.tsv":
        "d379dc79909d8f24e5fd16d750f24275501d70f08f4b54db580dfc7e733f1745",
    "sentiment/eval/en_tweets_test.tsv":
        "d0ae72496c3666c5e5fe547b55633f2f51902b7ac2744d67c72a67265631f05d",
    "sentiment/eval/fr_tweets_val.tsv":
        "5ce4083d77553aa6e4e551e2c7bac2085aeb4b7e52e4aa28e92eb94df156e63a",
    "sentiment/eval/fr_reviews_dev.tsv":
        "186ec016a4d41a93fde60897c73b7962f0832ab357aaa8b7ac001fb45a226277",
}


def texts(name: str) -> list[str]:
    """The texts of a LABEL<TAB>TEXT file, in order."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[1] for line in lines if "\t" in line]


def outputs(text: str) -> str:
    """Everything both matchers say about ``text``, as one line."""
    intent = detect_intent(text)
    flags = ";".join(f"{f.name}={'|'.join(f.terms)}" for f in intent.flags)
    topics = ";".join(f"{m.name}={'|'.join(m.terms)}" for m in detect_topics(text))
    return f"{intent.intent}\t{flags}\t{topics}"


def digest(name: str) -> str:
    """SHA-256 of the outputs of every text of ``name``, one line each."""
    lines = "\n".join(outputs(text) for text in texts(name))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("name", sorted(PINNED))
def test_rules_give_the_pinned_outputs(name: str) -> None:
    assert len(texts(name)) >= 300
    assert digest(name) == PINNED[name]


if __name__ == "__main__":
    for file_name in sorted(PINNED):
        print(f'    "{file_name}": "{digest(file_name)}",')
