"""App Home's influencer ranking is cached per process (``home_influencers``), but whether
a cached ranking still holds is kept in the database (``home_ranking_versions``): a forget,
or a watch removed or changing side, in another process (the CLI, `vigie web` while
`vigie worker` publishes the Homes) makes every process rank again. Before, the worker
republished the Homes the forget marked stale from its own 15-minute-old ranking, listing
the forgotten person. SQLite and PostgreSQL; the other process is a real `vigie` run."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.influencers import home_influencers
from bot.services.notifications import mark_homes_stale, refresh_homes
from bot.services.watches import do_add_watch
from storage.db import transaction
from tests.harness.constants import CHANNEL_ID
from tests.services.test_cases import NOW, ROOT, ingest, x_batch

ALICE = "U07CMALICE"


class _Publisher:
    """Keeps the Homes published, as Slack's views.publish would show them."""

    def __init__(self) -> None:
        self.homes: list[Any] = []

    def publish_home(self, team_id: str, user_id: str, home: Any) -> None:
        self.homes.append(home)


def _vigie(db_url: str, *args: str) -> None:
    """Run `vigie ARGS` as a separate process on the test's database."""
    env = dict(os.environ, VIGIE_DATABASE_URL=db_url)
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_worker_republishes_home_without_a_person_forgotten_by_the_cli(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        db_url: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    with transaction(sessions) as session:
        mark_homes_stale(session, workspace_id, [ALICE])
    published = _Publisher()
    # The worker publishes Alice's Home: its ranking is now cached here.
    refresh_homes(sessions, published, NOW)
    assert [i.handle for i in published.homes[-1].summary.influencers] == ["@ana_r"]

    _vigie(db_url, "forget", "@ana_r")
    # The forget marked the Homes stale; the worker publishes them again minutes later.
    assert refresh_homes(sessions, published, NOW + timedelta(minutes=2)) >= 1
    assert [i.handle for i in published.homes[-1].summary.influencers] == []


def test_a_brand_watch_removed_by_another_process_keeps_its_authors_the_brand_s(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        db_url: str) -> None:
    # A competitor's watch: Home ranks the brand's watches' authors, not the workspace's.
    # A removed brand watch's posts stay the brand's (its links keep their side, 0068), as
    # the reports' past figures do: the ranking Home reads again holds them.
    do_add_watch(sessions, workspace_id, CLI, name="rival", query="kettle",
                 channel_id=CHANNEL_ID, kind="competitor")
    ingest(sessions, workspace_id, x_batch(ROOT))
    assert [i.handle for i in home_influencers(sessions, workspace_id, now=NOW)] == ["@ana_r"]
    _vigie(db_url, "watch", "remove", watch_name)
    later = home_influencers(sessions, workspace_id, now=NOW + timedelta(minutes=5))
    assert [i.handle for i in later] == ["@ana_r"]


def test_a_watch_turned_competitor_by_another_process_leaves_home_s_ranking(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        db_url: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    assert [i.handle for i in home_influencers(sessions, workspace_id, now=NOW)] == ["@ana_r"]
    _vigie(db_url, "watch", "kind", watch_name, "competitor")
    later = home_influencers(sessions, workspace_id, now=NOW + timedelta(minutes=5))
    assert [i.handle for i in later] == []


def test_an_unchanged_ranking_is_read_from_the_cache(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    """The shared check costs one query, not a ranking: the same list is returned."""
    ingest(sessions, workspace_id, x_batch(ROOT))
    first = home_influencers(sessions, workspace_id, now=NOW)
    assert home_influencers(sessions, workspace_id, now=NOW + timedelta(minutes=1)) is first
