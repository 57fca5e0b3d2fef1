"""The `vigie` command group."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Vigie: social listening and the community-management reply workflow, in Slack."""


