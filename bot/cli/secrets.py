"""`vigie secrets new-key` and `vigie secrets rotate`: keys for secrets at rest."""

from __future__ import annotations

import click

from bot.cli.common import open_runtime, settings_or_exit
from bot.cli.root import main


@main.group()
def secrets() -> None:
    """Encryption keys for the tokens Vigie stores (VIGIE_SECRET_KEY)."""


@secrets.command("new-key")
def new_key() -> None:
    """Print a new random key to put first in VIGIE_SECRET_KEY."""
    from storage.secret_box import generate_key

    click.echo(generate_key())


@secrets.command()
def rotate() -> None:
    """Re-encrypt every stored secret (source tokens, Slack tokens) with the first key of
    VIGIE_SECRET_KEY; plain legacy values get encrypted. Keep the old keys in the list
    until this has run."""
    settings = settings_or_exit()
    if not settings.secret_keys:
        click.echo("Error: VIGIE_SECRET_KEY is not set; create a key with "
                   "`vigie secrets new-key`.", err=True)
        raise SystemExit(2)
    from bot.services.secrets import do_rotate_secrets
    from bot.slack.oauth import EncryptedInstallationStore
    from storage.secret_box import SecretBox, SecretKeyError

    with open_runtime(settings) as runtime:
        try:
            sources = do_rotate_secrets(runtime.sessions)
            store = EncryptedInstallationStore(settings.slack_client_id or "", runtime.engine,
                                               SecretBox(settings.secret_keys))
            tokens = store.rotate_tokens()
        except SecretKeyError as err:
            click.echo(f"Error: {err}", err=True)
            raise SystemExit(2) from None
    click.echo(f"Re-encrypted {sources} source secret(s) and {tokens} Slack token(s) with "
               "the first key. The other keys can now be removed from VIGIE_SECRET_KEY.")
