"""The `vigie` command: every subcommand module registers itself on ``main``."""

from bot.cli import analysis, core, listening, privacy, reporting  # noqa: F401  (registers the subcommands)
from bot.cli.root import main

__all__ = ["main"]
