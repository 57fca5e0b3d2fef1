"""The `vigie` command group."""

from __future__ import annotations

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


class _Vigie(click.Group):
    """The root group: refuses undecodable arguments before any command sees them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Check every argument of the command line, then parse as usual."""
        refuse_undecodable(args)
        return super().parse_args(ctx, args)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"vigie {_version()}")
        ctx.exit()


@click.group(cls=_Vigie, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", "-V", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
def main() -> None:
    """Vigie: social listening and the community-management reply workflow, in Slack."""
