"""Two admins adding a watch of the same name at the same moment (`vigie watch add`,
`/cm watch add`), in the same case or not: one gets the watch, the other the refusal a late
add gets. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
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
    late = "acme" if added.name == "Acme" else "Acme"
    assert f"A watch called `{late}` already exists" in refused.message()
    assert [v.name for v in list_watches(sessions, workspace_id)] == [added.name]
