"""`vigie workspace erase`: after it, no row of the workspace is left in any table (the
models' tables, the search index's, Slack's installation store), and another workspace's
rows are all there. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.competitors import do_create_group
from bot.services.erasure import do_erase_workspace, erase_plan
from bot.services.errors import ServiceError
from bot.services.ingest import do_ingest
from bot.services.privacy import do_forget
from bot.services.reporting.monthly import do_schedule_monthly
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.slack.oauth import OAUTH_METADATA, EncryptedInstallationStore
from storage import search_index
from storage.db import transaction
from storage.models import Workspace
from storage.models_base import Base
from storage.models_competitors import WATCH_COMPETITOR
from storage.secret_box import SecretBox
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_listening import admin
from tests.e2e.test_workflow import grant, seed, settle
from tests.harness.constants import CHANNEL_ID, OTHER_USER_ID, TEAM_ID
from tests.services.test_cases import BRAND_REPLY, FOLLOW_UP, NOW, ROOT, x_batch
from tests.services.test_same_words import _poll, _post

OTHER_TEAM = "T07OTHER001"
TOKEN_TABLES = [OAUTH_METADATA.tables["slack_installations"],
                OAUTH_METADATA.tables["slack_bots"]]
DANGLING = -1
"""What ``owners`` counts a row under whose referenced row is gone."""

def _rows(session: Session) -> dict[str, list[dict[str, Any]]]:
    return {table.name: [dict(row) for row in session.execute(select(table)).mappings()]
            for table in Base.metadata.sorted_tables}


def owners(session: Session) -> dict[str, Counter[int]]:
    """Per table, how many rows each workspace has: by their ``workspace_id``, else by the
    row their keys point to (``DANGLING`` when it is gone)."""
    rows = _rows(session)
    tables = {table.name: table for table in Base.metadata.sorted_tables}

    def workspace_of(table: Table, row: dict[str, Any]) -> int:
        if table.name == "workspaces":
            return int(row["id"])
        if "workspace_id" in table.c:
            return int(row["workspace_id"])
        for fk in table.foreign_keys:
            value = row[fk.parent.name]
            if value is None:
                continue
            parent = tables[fk.column.table.name]
            found = [r for r in rows[parent.name] if r[fk.column.name] == value]
            return workspace_of(parent, found[0]) if found else DANGLING
        return DANGLING

    return {name: Counter(workspace_of(tables[name], row) for row in table_rows)
            for name, table_rows in rows.items()}


def search_rows(session: Session) -> set[int]:
    """The mention ids the full-text index holds (SQLite's FTS5 table, PostgreSQL's)."""
    if session.get_bind().dialect.name == "sqlite":
        return set(session.scalars(text("SELECT rowid FROM mention_search_fts")))
    return set(session.scalars(text("SELECT mention_id FROM mention_search")))


def tokens(session: Session) -> Counter[str]:
    return Counter(team for table in TOKEN_TABLES
                   for team in session.scalars(select(table.c.team_id)))


def _fill(vigie: VigieApp, workspace_id: int) -> None:
    """Mentions, authors, a case with the brand's reply, a forget and what they leave."""
    sessions = vigie.runtime.sessions
    if get_watch_by_name_or_none(vigie, workspace_id) is None:
        do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                     channel_id=CHANNEL_ID, alert_threshold=0)
    _poll(sessions, workspace_id, [_post("bluesky", "7", "carol.bsky.social",
                                         "@acme my parcel came broken"),
                                   _post("x", "8", "dan", "@acme the app crashes again")])
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                  x_batch(ROOT, BRAND_REPLY), now=NOW)
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                  x_batch(FOLLOW_UP), now=NOW)
    do_forget(sessions, workspace_id, CLI, "dan")
    do_add_watch(sessions, workspace_id, CLI, name="rival", query="rival",
                 channel_id=CHANNEL_ID, kind=WATCH_COMPETITOR)
    do_create_group(sessions, workspace_id, CLI, name="market", watch_names=["acme", "rival"])
    do_schedule_monthly(sessions, workspace_id, CLI, channel_id=CHANNEL_ID, enabled=True)
    do_add_source(sessions, workspace_id, CLI, kind="webhook", watch_name="acme", values={})
    with transaction(sessions) as session:
        search_index.index_pending(session)


def get_watch_by_name_or_none(vigie: VigieApp, workspace_id: int) -> Any:
    with vigie.runtime.sessions() as session:
        try:
            return get_watch_by_name(session, workspace_id, "acme")
        except ServiceError:
            return None


def _install(vigie: VigieApp, team: str) -> None:
    store = EncryptedInstallationStore("1234.5678", vigie.runtime.engine, SecretBox())
    store.save(Installation(app_id="A07VIGIE", enterprise_id=None, team_id=team,
                            user_id=ADMIN_ID, bot_token=f"xoxb-{team}", bot_id="B07VIGIE",
                            bot_user_id="U07VIGIEBOT", installed_at=datetime.now(UTC).timestamp()))


def test_erase_leaves_no_row_of_the_workspace_and_every_row_of_the_other(
        vigie: VigieApp) -> None:
    sessions = vigie.runtime.sessions
    # The workspace erased, through Slack as its people used it.
    mention_id = seed(vigie)
    seed(vigie, text="Never again, terrible service", handle="@bob@mastodon.social")
    grant(vigie, OTHER_USER_ID, "approver")
    vigie.slack.slash_command(f"draft {mention_id} Sorry Ana, we are on it!")
    admin(vigie, "influencers track @ana@mastodon.social mastodon")
    admin(vigie, "forget @bob@mastodon.social")
    admin(vigie, "lang fr")
    settle(vigie)
    erased = vigie.runtime.workspaces.ensure(TEAM_ID).id
    _fill(vigie, erased)
    kept = vigie.runtime.workspaces.ensure(OTHER_TEAM).id
    _fill(vigie, kept)
    for team in (TEAM_ID, OTHER_TEAM):
        _install(vigie, team)
    settle(vigie)

    # Installed: refused, nothing deleted.
    with pytest.raises(ServiceError) as refused:
        do_erase_workspace(sessions, TEAM_ID, token_tables=TOKEN_TABLES)
    assert refused.value.key == "erase.installed"
    vigie.slack.event({"type": "app_uninstalled"})
    eventually(lambda: sessions().scalar(select(Workspace.uninstalled_at).where(
        Workspace.team_id == TEAM_ID)) is not None)

    with sessions() as session:
        before = owners(session)
        index_before = search_rows(session)
        tokens_before = tokens(session)
    had = {name for name, counts in before.items() if counts[erased]}
    # What the workspace held: the test erases these, not empty tables.
    assert {"workspaces", "members", "watches", "authors", "mentions", "mention_watches",
            "drafts", "draft_authors", "cases", "case_posts", "brand_accounts",
            "tracked_influencers", "outbox", "audit_events", "forgotten", "forget_keys",
            "mention_hour_counts", "mention_day_counts", "watch_groups",
            "watch_group_members", "report_schedules", "sources"} <= had, sorted(had)
    assert tokens_before[TEAM_ID] and tokens_before[OTHER_TEAM]
    plan = erase_plan(sessions, TEAM_ID, TOKEN_TABLES)
    assert {name for name in plan.rows if name not in {t.name for t in TOKEN_TABLES}} == had

    do_erase_workspace(sessions, TEAM_ID, token_tables=TOKEN_TABLES)

    with sessions() as session:
        after = owners(session)
        kept_mentions = set(session.scalars(text(
            "SELECT id FROM mentions WHERE workspace_id = :w"), {"w": kept}))
        assert search_rows(session) <= kept_mentions
        assert search_rows(session) == index_before & kept_mentions
        assert session.get(Workspace, erased) is None
        assert tokens(session) == Counter({OTHER_TEAM: tokens_before[OTHER_TEAM]})
        assert not search_index.compaction_due(session)
    for name, counts in after.items():
        assert erased not in counts and DANGLING not in counts, (name, counts)
        assert counts[kept] == before[name][kept], name
