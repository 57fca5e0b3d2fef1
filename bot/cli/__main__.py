"""`python -m bot.cli` runs the `vigie` command."""

from bot.cli import main

main()
