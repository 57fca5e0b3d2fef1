"""The `vigie` command group."""

from __future__ import annotations

import logging
import sys

import click


def _version() -> str:
    # importlib.metadata (with email, zipfile, csv) is only worth importing for --version.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vigie-cm")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def refuse_undecodable(argv: list[str]) -> None:
    """Exit with a clear line when an argument is not valid UTF-8 (Python keeps such
    bytes as lone surrogates, which no database or Slack message can hold)."""
    for position, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            click.echo(f"Error: argument {position} ({shown}) is not valid UTF-8: check the "
                       "terminal's encoding (LANG=C.UTF-8) and type it again.", err=True)
            raise SystemExit(2) from None


DATABASE_URL_META = "vigie.database_url"
"""Key of ``click.Context.meta`` where ``bot.cli.common.settings_or_exit`` leaves the
database URL of the running command."""


def _database_error(ctx: click.Context, err: Exception) -> bool:
    """Print one line for a database that failed under a command (a read-only file that
    was read but refuses the first write, a lock held too long); False when ``err`` is no
    such error (it then goes on as a traceback: a bug to report)."""
    exc = sys.modules.get("sqlalchemy.exc")  # loaded by any command that used a database
    url = ctx.meta.get(DATABASE_URL_META)
    if exc is None or url is None or not isinstance(err, exc.OperationalError):
        return False
    from bot.database_diagnosis import database_failure

    logging.getLogger("vigie").debug("database error", exc_info=err)  # VIGIE_LOG_LEVEL=DEBUG
    click.echo(f"Database error: {database_failure(url, err)}", err=True)
    return True


class _Vigie(click.Group):
    """The root group: refuses undecodable arguments before any command sees them, and
    tells a database failure in one line instead of a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Check every argument of the command line, then parse as usual."""
        refuse_undecodable(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a database failure is one line and exit status 2."""
        try:
            return super().invoke(ctx)
        except Exception as err:
            if _database_error(ctx, err):
                raise SystemExit(2) from None
            raise


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"vigie {_version()}")
        ctx.exit()


@click.group(cls=_Vigie, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", "-V", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
def main() -> None:
    """Vigie: social listening and the community-management reply workflow, in Slack."""
