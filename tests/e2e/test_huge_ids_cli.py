"""Ids past PostgreSQL's INTEGER (2**31 - 1) given to the CLI: unknown like any other id,
never a traceback from the database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import listening as _listening  # noqa: F401  (registers source and poll)
from bot.cli import opportunities as _opportunities  # noqa: F401  (registers opp)
from bot.cli import outbox as _outbox  # noqa: F401  (registers outbox)
from bot.cli.root import main

HUGE = "99999999999"


@pytest.mark.parametrize(("args", "expected"), [
    (["source", "test", HUGE], f"There is no source #{HUGE}"),
    (["source", "remove", HUGE], f"There is no source #{HUGE}"),
    (["opp", "assign", HUGE, "U07ALICE01"], f"There is no opportunity {HUGE}"),
    (["opp", "draft", HUGE, "Hi"], f"There is no opportunity {HUGE}"),
    (["opp", "contacted", HUGE], f"There is no opportunity {HUGE}"),
    (["opp", "dismiss", HUGE], f"There is no opportunity {HUGE}"),
    (["outbox", "retry", HUGE], "Nothing requeued."),
    (["poll", "--source", HUGE], ""),
])
def test_a_huge_id_is_unknown(cli_env: dict[str, str], args: list[str], expected: str) -> None:
    result = CliRunner().invoke(main, args, env=cli_env)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert expected in result.output
