"""The verbs `/cm` and the `vigie` command share (``bot.verbs``) accept and refuse the same
arguments, and read the same in both helps: one definition, no drift."""

from __future__ import annotations

import click
import pytest

from bot.cli import main
from bot.verbs import SHARED, SharedVerb
from handlers.commands import parse_command
from handlers.commands.registry import REGISTRY, Reply, Verb, Verbs
from tests.harness.constants import CHANNEL_ID, TEAM_ID

ARGUMENTS = ([], ["acme"], ["x", "@acmecare"], ["x", "@acmecare", "extra"], ["a", "b", "c", "d"])
"""Argument lists of every length a shared verb might be given."""


def _slack_verb(spec: SharedVerb) -> Verb:
    sub = REGISTRY.get(spec.group)
    assert sub is not None and isinstance(sub.role, Verbs), spec.group
    verb = sub.role.find(spec.name)
    assert verb is not None, spec
    return verb


def _cli_command(spec: SharedVerb) -> click.Command:
    group = main.commands[spec.group]
    assert isinstance(group, click.Group)
    return group.commands[spec.name]


def _slack_accepts(spec: SharedVerb, args: list[str]) -> bool:
    """Whether `/cm GROUP VERB ARGS` reaches the verb (not the usage)."""
    request = parse_command({"text": " ".join([spec.group, spec.name, *args]),
                             "team_id": TEAM_ID, "user_id": "U07ADMIN01",
                             "channel_id": CHANNEL_ID}, "en")
    sub = REGISTRY.get(spec.group)
    assert sub is not None and isinstance(sub.role, Verbs) and not isinstance(request, Reply)
    return sub.role.chosen(request) is not None


def _cli_accepts(spec: SharedVerb, args: list[str]) -> bool:
    """Whether `vigie GROUP VERB ARGS` parses (nothing runs)."""
    command = _cli_command(spec)
    try:
        command.make_context(spec.name, list(args))
    except click.UsageError:
        return False
    return True


@pytest.mark.parametrize("spec", SHARED, ids=lambda spec: f"{spec.group} {spec.name}")
def test_both_accept_and_refuse_the_same_arguments(spec: SharedVerb) -> None:
    verdicts = {len(args): (_slack_accepts(spec, args), _cli_accepts(spec, args))
                for args in ARGUMENTS}
    assert all(slack == cli for slack, cli in verdicts.values()), verdicts
    assert any(slack for slack, _cli in verdicts.values()), "some arguments are accepted"
    assert not all(slack for slack, _cli in verdicts.values()), "and some refused"


@pytest.mark.parametrize("spec", SHARED, ids=lambda spec: f"{spec.group} {spec.name}")
def test_both_helps_read_the_same_definition(spec: SharedVerb) -> None:
    verb = _slack_verb(spec)
    assert verb.alternatives() == [" ".join(p for p in (spec.name, spec.form()) if p)]
    command = _cli_command(spec)
    assert command.help == spec.help
    metavars = [param.make_metavar(click.Context(command)) for param in command.params
                if isinstance(param, click.Argument)]
    assert metavars == list(spec.args)  # click writes an optional one [NAME], as /cm does
