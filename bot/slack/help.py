"""Pure renderers for `/cm help`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import t

SECTION_BUDGET = 2800  # Slack allows 3000 characters in a section's text.


@dataclass(frozen=True, slots=True)
class HelpEntry:
    """What the help shows of one subcommand."""

    name: str
    usage: str
    summary: str
    examples: tuple[str, ...] = ()


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > SECTION_BUDGET:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    return blocks


def build_help(entries: list[HelpEntry], language: str) -> tuple[str, list[dict[str, Any]]]:
    """The full help: every subcommand with its one-line description."""
    lines = [f"`/cm {entry.name}`  {entry.summary}" for entry in entries]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": t(language, "help.title")}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": t(language, "help.intro")}]},
        *_sections(lines),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": t(language, "help.footer")}]},
    ]
    text = "\n".join([t(language, "help.title"), *lines, t(language, "help.footer")])
    return text, blocks


def build_subcommand_help(entry: HelpEntry, language: str) -> tuple[str, list[dict[str, Any]]]:
    """Help for one subcommand: description, usage and examples."""
    lines = [f"*/cm {entry.name}*  {entry.summary}", t(language, "help.usage", usage=entry.usage)]
    if entry.examples:
        lines.append(t(language, "help.examples"))
        lines.extend(f"`/cm {example}`" for example in entry.examples)
    return "\n".join(lines), _sections(lines)
