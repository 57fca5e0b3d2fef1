"""Pure renderers for `/cm help`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.i18n import t
from bot.slack.escape import escape

SECTION_BUDGET = 2800  # Slack allows 3000 characters in a section's text.


@dataclass(frozen=True, slots=True)
class HelpEntry:
    """What the help shows of one subcommand."""

    name: str
    usage: str
    summary: str
    examples: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    """More lines about what was asked (``help source rss``: the network's settings)."""


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
    lines.extend(entry.details)
    return "\n".join(lines), _sections(lines)


class SettingLine(Protocol):
    """What the help shows of one setting of a source kind."""

    @property
    def name(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def default(self) -> str | None: ...


def source_settings_lines(specs: Mapping[str, Sequence[SettingLine]], language: str
                          ) -> tuple[str, ...]:
    """The settings of each source kind in ``specs``, one line each, described in
    ``language`` (``source_setting.KIND.NAME``). Several kinds: one line per kind naming
    its required settings, and how to see the rest."""
    if len(specs) != 1:
        lines = [t(language, "help.source.kinds")]
        for kind, settings in specs.items():
            required = ", ".join(f"`{s.name}`" for s in settings if s.required)
            lines.append(t(language, "help.source.kind_line", kind=kind,
                           required=required or t(language, "help.source.nothing_required")))
        lines.append(t(language, "help.source.more"))
        return tuple(lines)
    ((kind, settings),) = specs.items()
    lines = [t(language, "help.source.settings", kind=kind)]
    for setting in settings:
        if setting.required:
            status = t(language, "help.source.required")
        elif setting.default is not None:
            status = t(language, "help.source.default", default=escape(setting.default))
        else:
            status = t(language, "help.source.optional")
        lines.append(t(language, "help.source.setting_line", name=setting.name, status=status,
                       description=t(language, f"source_setting.{kind}.{setting.name}")))
    return tuple(lines)
