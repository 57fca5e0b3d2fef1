"""Two admins adding a watch of the same name at the same moment (`vigie watch add`,
`/cm watch add`), in the same case or not: one gets the watch, the other the refusal a late
add gets. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.competitors import do_create_group
from bot.services.errors import ServiceError
from bot.services.watches import WatchView, do_add_watch, list_watches
from tests.harness.constants import CHANNEL_ID
from tests.services.racing import race


def test_two_admins_adding_the_same_watch_name_at_once_one_is_refused(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """Both passed the 'already exists' check before either wrote: the second insert broke
    the unique name and the admin got an IntegrityError instead of the refusal."""

    def add() -> object:
        return do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                            channel_id=CHANNEL_ID)

    results = race(sessions, add, add)
    assert len([r for r in results if isinstance(r, WatchView)]) == 1, results
    (refused,) = [r for r in results if isinstance(r, Exception)]
    assert isinstance(refused, ServiceError) and refused.key == "watch.exists", results
    assert "A watch called `acme` already exists" in refused.message()
    assert [v.name for v in list_watches(sessions, workspace_id)] == ["acme"]


def test_two_admins_adding_one_name_in_two_cases_at_once_one_is_refused(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """Both passed the check, which compares names whatever their case, before either
    wrote: on PostgreSQL both rows landed ('Acme' and 'acme'), and every later lookup of
    the name picked one of them."""

    def add(name: str) -> object:
        return do_add_watch(sessions, workspace_id, CLI, name=name, query="acme",
                            channel_id=CHANNEL_ID)

    results = race(sessions, lambda: add("Acme"), lambda: add("acme"))
    (added,) = [r for r in results if isinstance(r, WatchView)]
    (refused,) = [r for r in results if isinstance(r, Exception)]
    assert isinstance(refused, ServiceError) and refused.key == "watch.exists", results
    # The refusal names the watch as it is written, not as the late admin typed it.
    assert f"A watch called `{added.name}` already exists" in refused.message()
    assert [v.name for v in list_watches(sessions, workspace_id)] == [added.name]


def test_a_name_taken_in_another_case_names_the_existing_watch_and_never_its_removal(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """'ACME' while 'acme' exists was refused as 'A watch called ACME already exists …
    remove it first with vigie watch remove ACME', which deletes acme and its sources."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID)
    try:
        do_add_watch(sessions, workspace_id, CLI, name="ACME", query="acme",
                     channel_id=CHANNEL_ID)
    except ServiceError as err:
        refused = err
    else:
        raise AssertionError("ACME was added next to acme")
    slack, slack_fr = refused.message("en"), refused.message("fr")
    terminal, terminal_fr = refused.message("en", plain=True), refused.message("fr", plain=True)
    assert "A watch called `acme` already exists" in slack
    assert "Une veille `acme` existe déjà" in slack_fr
    assert "A watch called 'acme' already exists" in terminal
    assert "Une veille 'acme' existe déjà" in terminal_fr
    for text in (slack, slack_fr, terminal, terminal_fr):
        assert "remove" not in text and "ACME" not in text, text
    assert "`/cm watch list`" in slack and "`/cm watch list`" in slack_fr
    assert "vigie watch list" in terminal and "vigie watch list" in terminal_fr
    assert [v.name for v in list_watches(sessions, workspace_id)] == ["acme"]


def test_a_name_with_an_accent_is_refused_saying_ascii_letters(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """'café' was refused though the message allowed 'letters'."""
    try:
        do_add_watch(sessions, workspace_id, CLI, name="café", query="café",
                     channel_id=CHANNEL_ID)
    except ServiceError as err:
        refused = err
    else:
        raise AssertionError("café was accepted")
    assert refused.key == "watch.bad_name"
    assert "ASCII letters" in refused.message("en")
    assert "lettres ASCII" in refused.message("fr")
    assert "ASCII letters" in refused.message("en", plain=True)


def test_a_name_or_channel_with_a_trailing_newline_is_refused(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # '$' also matches before a final newline: "acme\n" passed the name rule and was stored.
    for name, channel in (("acme\n", CHANNEL_ID), ("acme", f"{CHANNEL_ID}\n")):
        with pytest.raises(ServiceError):
            do_add_watch(sessions, workspace_id, CLI, name=name, query="acme",
                         channel_id=channel)
    assert list_watches(sessions, workspace_id) == []
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID)
    with pytest.raises(ServiceError):
        do_create_group(sessions, workspace_id, CLI, name="market\n", watch_names=["acme"])
