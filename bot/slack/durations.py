"""Durations in words, shared by the digest, statistics and cards."""

from __future__ import annotations

from bot.i18n import t


def duration(seconds: float | None, language: str) -> str:
    """A duration as minutes, hours and minutes, or days and hours."""
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 60:
        return t(language, "report.minutes", m=minutes)
    if minutes < 48 * 60:
        return t(language, "report.hours", h=minutes // 60, m=f"{minutes % 60:02d}")
    return t(language, "report.days", d=minutes // 1440, h=(minutes % 1440) // 60)
