"""Every module of handlers/commands is loaded, and each one that is not a helper registers
a `/cm` subcommand: a new command module cannot be silently absent."""

from __future__ import annotations

from pathlib import Path

import handlers.commands
from handlers.commands import load_subcommands
from handlers.commands.registry import REGISTRY

HELPERS = {"parsing", "registry"}
"""Modules of the package that hold no subcommand."""


def test_every_command_module_is_loaded() -> None:
    on_disk = {path.stem for path in Path(handlers.commands.__file__).parent.glob("*.py")
               if path.stem != "__init__"}
    assert set(load_subcommands()) == on_disk


def test_every_command_module_registers_a_subcommand() -> None:
    modules = {sub.module.rsplit(".", 1)[-1] for sub in REGISTRY.all()}
    on_disk = {path.stem for path in Path(handlers.commands.__file__).parent.glob("*.py")
               if path.stem != "__init__"}
    assert modules == on_disk - HELPERS

