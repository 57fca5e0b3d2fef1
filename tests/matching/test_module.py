"""Package-level checks: purity of imports, doctests, adversarial inputs."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import bot.matching
from bot.matching import fingerprint, query, text
from bot.matching.fingerprint import canonical_url, content_fingerprint, story_key_for
from bot.matching.query import QueryError, parse_query, prepare


def test_matching_imports_nothing_impure() -> None:
    code = (
        "import sys, bot.matching\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('storage', 'handlers', 'sqlalchemy', 'slack_sdk', 'slack_bolt', 'httpx')"
        " or m.startswith(('bot.services', 'bot.slack', 'bot.sources'))]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("module", [text, query, fingerprint, bot.matching])
def test_doctests(module: object) -> None:
    failures, _ = doctest.testmod(module)  # type: ignore[arg-type]
    assert failures == 0


def test_public_api_is_exported() -> None:
    for name in bot.matching.__all__:
        assert getattr(bot.matching, name).__doc__


@pytest.mark.parametrize(
    "hostile",
    [
        " " * 200_000,
        "via @a " * 30_000,
        "a" * 100_000 + " via @" + "x." * 50_000,
        "RT @a: " * 30_000,
        "@a " * 50_000,
        "... " * 50_000,
        "-" * 200_000 + "x",
        "#" * 100_000,
        "é" * 100_000,
    ],
)
def test_hostile_inputs_complete(hostile: str) -> None:
    # No timing assertion: a regex with catastrophic backtracking would hit the
    # suite's timeout instead of finishing.
    content_fingerprint(hostile)
    canonical_url("https://example.com/" + hostile)
    story_key_for([hostile, "https://" + hostile], hostile)
    prepared = prepare(hostile, hostile[:1000])
    assert parse_query('"a b c" OR refund* OR x').matches(prepared) in (True, False)
    with pytest.raises(QueryError):
        parse_query(hostile)
