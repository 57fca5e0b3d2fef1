"""The `vigie` command: every subcommand module registers itself on ``main``."""

from bot.cli import (  # noqa: F401  (registers the subcommands)
    accounts,
    analysis,
    core,
    demo,
    influencers,
    listening,
    opportunities,
    outbox,
    privacy,
    reporting,
    secrets,
    settings,
    triage,
)
from bot.cli.root import main

__all__ = ["main"]
