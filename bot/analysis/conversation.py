"""Signals from the conversation around a mention (DESIGN.md "Triage").

Kept apart from ``priority`` so the score's calibration and these bumps evolve separately:
a mention addressed to the brand's own account is the customer talking to the brand.
"""

from __future__ import annotations

from dataclasses import replace

from bot.analysis.intent import IntentFlag
from bot.analysis.pipeline import Analysis

DIRECT_BONUS = 15
"""Priority points for a mention addressed to one of the brand's accounts."""
DIRECT_FLAG = "direct"
MAX_REASON = 300


def apply_direct(analysis: Analysis, handle: str) -> Analysis:
    """``analysis`` of a mention addressed to the brand's ``handle``: priority raised by
    DIRECT_BONUS (at most 100), a ``direct`` flag naming the handle, the reason saying so."""
    reason = f"addressed to {handle}" + (f"; {analysis.reason}" if analysis.reason else "")
    return replace(analysis, priority=min(100, analysis.priority + DIRECT_BONUS),
                   flags=(*analysis.flags, IntentFlag(DIRECT_FLAG, (handle,))),
                   reason=reason[:MAX_REASON])


def direct_handle(flags: list[dict[str, object]] | None) -> str | None:
    """The brand handle a stored mention's ``intent_flags`` say it was addressed to."""
    for flag in flags or []:
        terms = flag.get("terms") if isinstance(flag, dict) else None
        if isinstance(flag, dict) and flag.get("name") == DIRECT_FLAG and isinstance(
                terms, list) and terms and isinstance(terms[0], str):
            return terms[0]
    return None
