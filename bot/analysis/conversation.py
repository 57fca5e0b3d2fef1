"""Signals from the conversation around a mention (DESIGN.md "Triage").

The signals themselves reach the priority through ``AnalysisInput`` (``addressed``,
``repeat_contact``); this module records which brand account a mention was addressed to.
"""

from __future__ import annotations

from dataclasses import replace

from bot.analysis.intent import IntentFlag
from bot.analysis.pipeline import Analysis

DIRECT_FLAG = "direct"


def apply_direct(analysis: Analysis, handle: str) -> Analysis:
    """``analysis`` of a mention addressed to the brand's ``handle``, with a ``direct``
    flag naming it (for the card). The priority already counted it: ingest tells the
    analysis through ``AnalysisInput.addressed``."""
    return replace(analysis, flags=(*analysis.flags, IntentFlag(DIRECT_FLAG, (handle,))))


def direct_handle(flags: list[dict[str, object]] | None) -> str | None:
    """The brand handle a stored mention's ``intent_flags`` say it was addressed to."""
    for flag in flags or []:
        terms = flag.get("terms") if isinstance(flag, dict) else None
        if isinstance(flag, dict) and flag.get("name") == DIRECT_FLAG and isinstance(
                terms, list) and terms and isinstance(terms[0], str):
            return terms[0]
    return None
