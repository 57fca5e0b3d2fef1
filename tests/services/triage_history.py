"""A realistic labelled history for triage learning, from real customer tweets.

The tweets and their alert/digest labels are ../shared/data/intent/eval/attention_en_dev.tsv
(400 tweets to brands' support accounts, "Customer Support on Twitter", CC BY-NC-SA 4.0,
labelled by the project; see intent/twcs_attention_GUIDE.md). Each is analysed as ingest
analyses an X mention: addressed to the brand, posted five minutes earlier, reach unknown,
under a watch with default settings. Nothing is copied into the repository.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.analysis.evaluate import read_labelled_lines
from bot.analysis.evaluate_attention import ATTENTION_LABELS
from bot.analysis.pipeline import AnalysisInput, analyze_many

SEED = 20261205
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Tweet:
    """One labelled tweet with the priority Vigie gives it."""

    text: str
    alert: bool
    priority: int


def load_history(shared_data: Path) -> list[Tweet]:
    """The 400 labelled tweets in a fixed pseudo-random time order, analysed."""
    path = shared_data / "intent" / "eval" / "attention_en_dev.tsv"
    rows = [(row.label == "alert", row.text)
            for row in read_labelled_lines(path, ATTENTION_LABELS)]
    random.Random(SEED).shuffle(rows)
    now = START
    analyses = analyze_many([AnalysisInput(text, published_at=now - timedelta(minutes=5))
                             for _alert, text in rows], now=now)
    return [Tweet(text, alert, analysis.priority)
            for (alert, text), analysis in zip(rows, analyses, strict=True)]
