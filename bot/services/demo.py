"""`vigie demo`: a watch fed once from a sample feed, so a newcomer sees Vigie work.

The demo watch stays (with its mentions) for the newcomer to explore with `vigie mentions`,
`vigie watch test` and `vigie digest --preview`; the source does not, since its feed is
served only while the demo runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.services import sources_admin, watches
from bot.services.actors import CLI
from bot.services.errors import NotFound
from bot.services.polling import HttpFactory, run_poll_tick

DEMO_WATCH = "demo"
DEMO_QUERY = "acme -jobs -hiring"
DEMO_THRESHOLD = 40
"""Low enough that complaints and questions alert; praise and news wait for the digest."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo poll did."""

    created_watch: bool
    fetched: int
    stored: int
    filtered: int
    alerts: int
    error: str | None


def do_run_demo(sessions: sessionmaker[Session], workspace_id: int, http_factory: HttpFactory,
                *, feed_url: str, channel_id: str, budget: float) -> DemoResult:
    """Create the demo watch (once), poll ``feed_url`` for it once, then drop the source."""
    created = False
    with sessions() as session:
        try:
            watches.get_watch_by_name(session, workspace_id, DEMO_WATCH)
        except NotFound:
            created = True
    if created:
        watches.do_add_watch(sessions, workspace_id, CLI, name=DEMO_WATCH, query=DEMO_QUERY,
                             channel_id=channel_id, alert_threshold=DEMO_THRESHOLD)
    source = sources_admin.do_add_source(sessions, workspace_id, CLI, kind="rss",
                                         watch_name=DEMO_WATCH, values={"url": feed_url})
    try:
        report = run_poll_tick(sessions, http_factory, only_ids=[source.id], force=True,
                               budget=budget)
    finally:
        sources_admin.do_remove_source(sessions, workspace_id, CLI, source.id)
    totals = report.totals
    outcome = report.outcomes[0] if report.outcomes else None
    return DemoResult(created, outcome.fetched if outcome else 0, totals.stored,
                      totals.filtered, totals.alerts, outcome.error if outcome else "not polled")
