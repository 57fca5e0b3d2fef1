"""`vigie watch`, `source`, `poll` and `mentions`: listening from the terminal.

Sources added here are trusted (the operator's choice): the SSRF guard applies to what
comes through Slack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from bot import verbs
from bot.cli.common import (
    LazyChoice,
    LazyEpilogCommand,
    cli_workspace,
    open_runtime,
    settings_or_exit,
    shared_command,
)
from bot.cli.root import main
from bot.services.actors import CLI
from bot.services.errors import ServiceError

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.services.competitors import GroupView
    from bot.services.polling import SourceOutcome
    from bot.services.watches import ThresholdChange, WatchView
    from bot.services.workspaces import WorkspaceRef


@contextmanager
def _workspace(team: str | None) -> Iterator[tuple[Runtime, WorkspaceRef]]:
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        yield runtime, cli_workspace(runtime, team)


def _service(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except ServiceError as err:
        click.echo(f"Error: {err.message(plain=True)}", err=True)
        raise SystemExit(2) from None


team_option = click.option("--team", default=None, help="Slack team id (several workspaces).")


@main.group()
def watch() -> None:
    """Watches: named queries bound to a Slack channel."""


@watch.command("add")
@click.argument("name")
@click.option("--query", "query", default="", help='e.g. \'acme -job "acme app" lang:fr\'')
@click.option("--channel", "channel", required=True, help="Slack channel id (C0123ABCD).")
@click.option("--alert-threshold", type=int, default=50, show_default=True,
              help="Priority 0-100 at or above which a mention alerts at once; 0 alerts all.")
@click.option("--competitor", is_flag=True,
              help="A competitor's watch: counted and compared, never alerts, no SLA.")
@click.option("--group", "group", default=None, help="An existing watch group it joins.")
@team_option
def watch_add(name: str, query: str, channel: str, alert_threshold: int, competitor: bool,
              group: str | None, team: str | None) -> None:
    """Create a watch NAME."""
    from bot.services import competitors, watches

    with _workspace(team) as (runtime, ws):
        view = _service(lambda: watches.do_add_watch(
            runtime.sessions, ws.id, CLI, name=name, query=query, channel_id=channel,
            alert_threshold=alert_threshold,
            kind=competitors.WATCH_COMPETITOR if competitor else competitors.WATCH_BRAND,
            group=group, notifier=runtime.notifier, team_id=ws.team_id))
    if view.kind == competitors.WATCH_COMPETITOR:
        click.echo(f"Competitor watch {view.name} created: {view.query_description}; its "
                   "mentions are counted and compared, never alerted, never given an SLA.")
    else:
        click.echo(f"Watch {view.name} created: {view.query_description}; alerts in "
                   f"{view.channel_id} at priority >= {threshold_text(view)}.")
    if view.group:
        click.echo(f"It is in group {view.group}.")


def threshold_text(view: WatchView | ThresholdChange) -> str:
    """The threshold ingest applies to the watch, and its own one when learning shifts it:
    "70 (50 + 20 learned from the team's triage)"."""
    if not view.learned_shift:
        return str(view.alert_threshold)
    sign = "+" if view.learned_shift > 0 else "-"
    return (f"{view.applied_threshold} ({view.alert_threshold} {sign} "
            f"{abs(view.learned_shift)} learned from the team's triage)")


@watch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@team_option
def watch_list(as_json: bool, team: str | None) -> None:
    """List watches."""
    from bot.services import competitors, watches

    with _workspace(team) as (runtime, ws):
        views = watches.list_watches(runtime.sessions, ws.id)
    if as_json:
        click.echo(json.dumps([{**_asdict(v), "applied_threshold": v.applied_threshold}
                               for v in views], indent=2, default=_json_value))
        return
    if not views:
        click.echo("No watches yet: vigie watch add NAME --query QUERY --channel C0123ABCD")
    for v in views:
        state = "paused" if v.paused else "active"
        group = f"  group {v.group}" if v.group else ""
        alerts = ("never alerts (competitor: counted and compared)"
                  if v.kind == competitors.WATCH_COMPETITOR
                  else f"threshold {threshold_text(v):<3}")
        click.echo(f"{v.name:<20} {state:<7} {v.kind:<10} {v.channel_id:<12} {alerts} "
                   f"{v.source_count} sources, {v.mention_count} "
                   f"mentions  query: {v.query!r}{group}")
        if v.refused:
            from bot.messages.channel_refusal import refusal_advice

            advice = refusal_advice("en", v.refused.error, watch=v.name, topic=v.refused.topic)
            click.echo(f"  ! alerts cannot reach {v.refused.channel_id} since "
                       f"{v.refused.since:%Y-%m-%d %H:%M} UTC ({v.refused.error}). "
                       f"{advice.replace('`', '')}")


@watch.command("channel")
@click.argument("name")
@click.argument("channel")
@team_option
def watch_channel(name: str, channel: str, team: str | None) -> None:
    """Send the alerts of watch NAME to CHANNEL (its Slack id, C0123ABCD) from now on; the
    alerts Slack refused in its old channel go there too."""
    from bot.services import watches

    with _workspace(team) as (runtime, ws):
        move = _service(lambda: watches.do_move_watch(
            runtime.sessions, ws.id, CLI, name, channel, notifier=runtime.notifier,
            team_id=ws.team_id))
    click.echo(f"Watch {move.name} now alerts in {move.channel_id} (it was {move.before}).")
    if move.retargeted:
        click.echo(f"Alerts Slack refused in {move.before} that go to {move.channel_id} now: "
                   f"{move.retargeted}.")


@watch.command("kind")
@click.argument("name")
@click.argument("kind")
@team_option
def watch_kind(name: str, kind: str, team: str | None) -> None:
    """Mark watch NAME as the brand's (brand) or a competitor's (competitor)."""
    from bot.services import competitors

    with _workspace(team) as (runtime, ws):
        done = _service(lambda: competitors.do_set_watch_kind(
            runtime.sessions, ws.id, CLI, watch_name=name, kind=kind))
    click.echo(f"Watch {name} is now a {done} watch.")


@watch.group("group")
def watch_group() -> None:
    """Groups comparing the brand's watches with competitors' (share of voice)."""


def _group_line(view: GroupView) -> str:
    return (f"{view.name}: brand {', '.join(m.name for m in view.brands) or '-'}; "
            f"competitors {', '.join(m.name for m in view.competitors) or '-'}; "
            f"conquest opportunities {'on' if view.conquest else 'off'}")


@watch_group.command("create")
@click.argument("name")
@click.argument("watch_names", nargs=-1, required=True)
@click.option("--conquest", is_flag=True, help="Offer competitors' unhappy customers as "
                                               "opportunities in the brand's channel.")
@team_option
def group_create(name: str, watch_names: tuple[str, ...], conquest: bool, team: str | None
                 ) -> None:
    """Create group NAME of WATCH_NAMES (at least one brand and one competitor watch)."""
    from bot.services import competitors

    with _workspace(team) as (runtime, ws):
        view = _service(lambda: competitors.do_create_group(
            runtime.sessions, ws.id, CLI, name=name, watch_names=list(watch_names),
            conquest=conquest))
    click.echo("Created " + _group_line(view))


@watch_group.command("add")
@click.argument("name")
@click.argument("watch_names", nargs=-1, required=True)
@team_option
def group_add(name: str, watch_names: tuple[str, ...], team: str | None) -> None:
    """Add WATCH_NAMES to group NAME."""
    from bot.services import competitors

    with _workspace(team) as (runtime, ws):
        view = _service(lambda: competitors.do_add_to_group(
            runtime.sessions, ws.id, CLI, name=name, watch_names=list(watch_names)))
    click.echo(_group_line(view))


@watch_group.command("drop")
@click.argument("name")
@click.argument("watch_name")
@team_option
def group_drop(name: str, watch_name: str, team: str | None) -> None:
    """Take WATCH_NAME out of group NAME."""
    from bot.services import competitors

    with _workspace(team) as (runtime, ws):
        view = _service(lambda: competitors.do_remove_from_group(
            runtime.sessions, ws.id, CLI, name=name, watch_name=watch_name))
    click.echo(_group_line(view))


@watch_group.command("conquest")
@click.argument("name")
@click.argument("switch", type=click.Choice(["on", "off"]))
@team_option
def group_conquest(name: str, switch: str, team: str | None) -> None:
    """Turn conquest opportunities on or off for group NAME."""
    from bot.services import competitors

    with _workspace(team) as (runtime, ws):
        view = _service(lambda: competitors.do_set_conquest(
            runtime.sessions, ws.id, CLI, name=name, enabled=switch == "on"))
    click.echo(_group_line(view))


@watch_group.command("delete")
@click.argument("name")
@team_option
def group_delete(name: str, team: str | None) -> None:
    """Delete group NAME (its watches and mentions stay)."""
    from bot.services import competitors

    with _workspace(team) as (runtime, ws):
        done = _service(lambda: competitors.do_delete_group(runtime.sessions, ws.id, CLI,
                                                            name))
    click.echo(f"Group {done} deleted.")


@watch_group.command("list")
@team_option
def group_list(team: str | None) -> None:
    """List watch groups."""
    from bot.services import competitors

    with _workspace(team) as (runtime, ws):
        views = competitors.list_groups(runtime.sessions, ws.id)
    if not views:
        click.echo("No watch groups yet: vigie watch group create NAME BRAND_WATCH "
                   "COMPETITOR_WATCH")
    for view in views:
        click.echo(_group_line(view))


@watch.command("test")
@click.argument("query")
@click.option("--since", default="7d", show_default=True, help="e.g. 24h, 7d, 30d.")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True,
              help="Matches to print.")
@team_option
def watch_test(query: str, since: str, limit: int, team: str | None) -> None:
    """Show what QUERY would have matched among stored mentions (stores nothing)."""
    from bot.services import query_trial
    from bot.services.mention_search import parse_duration

    with _workspace(team) as (runtime, ws):
        period = _service(lambda: parse_duration(since))
        trial = _service(lambda: query_trial.try_query(
            runtime.sessions, ws.id, query, since=period, now=runtime.clock(), limit=limit))
    click.echo(f"Query: {trial.description}")
    click.echo(f"{trial.matched} of {trial.scanned} mention(s) published in the last {since} "
               "match" + (f" (only the newest {trial.scanned} were read)" if trial.truncated
                          else "") + ".")
    for hit in trial.hits:
        click.echo(f"#{hit.id:<6} {hit.published_at:%Y-%m-%d %H:%M} {hit.network:<10} "
                   f"{hit.author or '?'}: {' '.join(hit.text.split())[:90]}")
    if trial.matched > len(trial.hits):
        click.echo(f"... and {trial.matched - len(trial.hits)} more (--limit to see more).")


def _asdict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _json_value(value: Any) -> Any:
    """What JSON shows for a nested view (a refused channel) or a moment."""
    if isinstance(value, datetime):
        return value.isoformat()
    return _asdict(value)


@watch.command("route")
@click.argument("name")
@click.option("--topic", required=True,
              help="billing, delivery, account, outage, quality or churn.")
@click.option("--channel", "channel", required=True, help="Slack channel id (C0123ABCD).")
@team_option
def watch_route(name: str, topic: str, channel: str, team: str | None) -> None:
    """Send the alerts of watch NAME about a topic to another channel (instead of the
    watch's channel)."""
    from bot.services import topic_routes

    with _workspace(team) as (runtime, ws):
        view = _service(lambda: topic_routes.do_add_route(
            runtime.sessions, ws.id, CLI, watch_name=name, topic=topic, channel_id=channel,
            notifier=runtime.notifier, team_id=ws.team_id))
    click.echo(f"Alerts of watch {view.watch} about {view.topic} now go to {view.channel_id}.")


@watch.command("unroute")
@click.argument("name")
@click.option("--topic", required=True, help="The topic whose route to remove.")
@team_option
def watch_unroute(name: str, topic: str, team: str | None) -> None:
    """Stop routing the alerts of watch NAME about a topic."""
    from bot.services import topic_routes

    with _workspace(team) as (runtime, ws):
        view = _service(lambda: topic_routes.do_remove_route(
            runtime.sessions, ws.id, CLI, watch_name=name, topic=topic))
    click.echo(f"Alerts of watch {view.watch} about {view.topic} no longer go to "
               f"{view.channel_id}.")


@watch.command("routes")
@click.argument("name", required=False)
@team_option
def watch_routes(name: str | None, team: str | None) -> None:
    """List topic routes (of watch NAME, or all)."""
    from bot.services import topic_routes

    with _workspace(team) as (runtime, ws):
        views = _service(lambda: topic_routes.list_routes(runtime.sessions, ws.id, name))
    if not views:
        click.echo("No topic routes: every alert goes to its watch's channel.")
    for v in views:
        click.echo(f"{v.watch:<20} {v.topic:<9} -> {v.channel_id}")


@watch.command("threshold")
@click.argument("name")
@click.argument("threshold", type=int)
@team_option
def watch_threshold(name: str, threshold: int, team: str | None) -> None:
    """Set the alert threshold of watch NAME (0 alerts on everything, up to 100), for the
    mentions found from now on."""
    from bot.services import watches

    with _workspace(team) as (runtime, ws):
        change = _service(lambda: watches.do_set_watch_threshold(
            runtime.sessions, ws.id, CLI, name, threshold))
    click.echo(f"Watch {change.name} now alerts at priority >= {threshold_text(change)} (it was "
               f"{change.before}), for the mentions found from now on.")


@shared_command(watch, verbs.WATCH_PAUSE)
@team_option
def watch_pause(name: str, team: str | None) -> None:
    """`vigie watch pause` (its help: ``verbs.WATCH_PAUSE``, shared with `/cm`)."""
    from bot.services import watches

    with _workspace(team) as (runtime, ws):
        _service(lambda: watches.do_set_watch_paused(runtime.sessions, ws.id, CLI, name, True))
    click.echo(f"Watch {name} paused.")


@shared_command(watch, verbs.WATCH_RESUME)
@team_option
def watch_resume(name: str, team: str | None) -> None:
    """`vigie watch resume` (its help: ``verbs.WATCH_RESUME``, shared with `/cm`)."""
    from bot.services import watches

    with _workspace(team) as (runtime, ws):
        _service(lambda: watches.do_set_watch_paused(runtime.sessions, ws.id, CLI, name, False))
    click.echo(f"Watch {name} resumed.")


@shared_command(watch, verbs.WATCH_REMOVE)
@team_option
def watch_remove(name: str, team: str | None) -> None:
    """`vigie watch remove` (its help: ``verbs.WATCH_REMOVE``, shared with `/cm`)."""
    from bot.services import watches

    with _workspace(team) as (runtime, ws):
        _service(lambda: watches.do_remove_watch(runtime.sessions, ws.id, CLI, name))
    click.echo(f"Watch {name} removed.")


def _parse_settings(pairs: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--set")
        parsed: Any = value
        if value.startswith(("[", "{")):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
        values[key.strip()] = parsed
    return values


def _kinds_help() -> str:
    from bot.sources.registry import SOURCES, describe_config

    lines = []
    for kind, cls in SOURCES.items():
        fields = ", ".join(f"{name}{'*' if default == '(required)' else ''}"
                           for name, _t, default, _d in describe_config(kind))
        lines.append(f"{kind} ({cls.title}): {fields}")
    return "\n".join(lines)


@main.group()
def source() -> None:
    """Sources of a watch: feeds, networks and webhooks."""


def _kinds() -> list[str]:
    from bot.sources.registry import SOURCES

    return sorted(SOURCES)


@source.command("add", cls=LazyEpilogCommand, epilog_factory=lambda: (
    "Kinds and their settings (* required):\n\n" + "\n\n".join(_kinds_help().splitlines())))
@click.argument("kind", type=LazyChoice(_kinds))
@click.option("--watch", "watch_name", required=True, help="Watch the source feeds.")
@click.option("--url", default=None, help="Feed or instance URL (sets the 'url' setting).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="Any other setting.")
@click.option("--interval", type=int, default=None, help="Minutes between polls.")
@team_option
def source_add(kind: str, watch_name: str, url: str | None, pairs: tuple[str, ...],
               interval: int | None, team: str | None) -> None:
    """Add a source of KIND to a watch."""
    from bot.services import sources_admin

    values = _parse_settings(pairs)
    if url:
        values["url"] = url
    with _workspace(team) as (runtime, ws):
        view = _service(lambda: sources_admin.do_add_source(
            runtime.sessions, ws.id, CLI, kind=kind, watch_name=watch_name, values=values,
            interval_minutes=interval))
    schedule = (f"every {view.interval_minutes} min" if view.polled
                else "receives what is posted to it (never polled)")
    click.echo(f"Source #{view.id} ({view.kind}) added to {view.watch_name}, {schedule}: "
               f"{view.settings}")
    if view.polled:
        click.echo(f"Its first poll stores posts older than {runtime.settings.backfill_hours} h "
                   "quietly (no alert, no SLA); `vigie source list` then says how many.")
    if view.new_secret:
        click.echo(f"Webhook secret (shown once): {view.new_secret}\n"
                   f"POST signed JSON to /ingest/{view.id}")


@source.command("list")
@click.option("--watch", "watch_name", default=None)
@click.option("--json", "as_json", is_flag=True)
@team_option
def source_list(watch_name: str | None, as_json: bool, team: str | None) -> None:
    """List sources with their health."""
    from bot.services import sources_admin

    with _workspace(team) as (runtime, ws):
        views = _service(lambda: sources_admin.list_sources(runtime.sessions, ws.id, watch_name))
    if as_json:
        click.echo(json.dumps([{**_asdict(v), "waiting_for_database": v.waiting_for_database,
                                **{k: getattr(v, k).isoformat()
                                   for k in ("last_success_at", "last_error_at",
                                             "next_poll_at") if getattr(v, k)}}
                               for v in views], indent=2, default=str))
        return
    if not views:
        click.echo("No sources yet: vigie source add KIND --watch NAME --url URL")
    for v in views:
        health = ("paused" if v.paused else "failing" if v.consecutive_failures
                  else "waiting" if v.waiting_for_database else "ok")
        last_ok = v.last_success_at.strftime("%Y-%m-%d %H:%M") if v.last_success_at else "never"
        when = (f"next {v.next_poll_at:%H:%M}" if v.polled
                else f"pushed to /ingest/{v.id}")
        click.echo(f"#{v.id:<4} {v.kind:<10} {v.watch_name:<16} {health:<8} last ok {last_ok}  "
                   f"{when}  {v.settings}")
        if v.waiting_for_database:  # not stored, not failing yet (polling.BUSY_GRACE)
            click.echo(f"      waiting for the database, last: {v.last_error}")
        elif v.last_error:
            click.echo(f"      {v.consecutive_failures} failure(s), last: {v.last_error}")
        if v.backfill_note():
            click.echo(f"      {v.backfill_note()}")


@source.command("test")
@click.argument("source_id", type=int)
@team_option
def source_test(source_id: int, team: str | None) -> None:
    """Fetch SOURCE_ID once now and show what would be stored (stores nothing)."""
    from bot.services import sources_admin
    from bot.services.http_clients import http_factory

    with _workspace(team) as (runtime, ws):
        result = _service(lambda: sources_admin.test_source(
            runtime.sessions, ws.id, CLI, source_id, http_factory(runtime.settings)))
    click.echo(f"Fetched {result.fetched} item(s); {len(result.candidates)} match the watch "
               f"({result.report.filtered} filtered out).")
    if result.report.forgotten:
        click.echo(f"{result.report.forgotten} post(s) by forgotten authors left out (never "
                   "stored; vigie forget --undo HANDLE lifts that).")
    for candidate in result.candidates[:20]:
        item, analysis = candidate.fetched, candidate.analysis
        click.echo(f"- [{analysis.priority:>3}] {item.network} {item.author.handle or '?'} "
                   f"{item.published_at:%Y-%m-%d %H:%M}: {item.text[:100]!r} ({item.url})")


@source.command("remove")
@click.argument("source_id", type=int)
@team_option
def source_remove(source_id: int, team: str | None) -> None:
    """Delete a source (its mentions are kept)."""
    from bot.services import sources_admin

    with _workspace(team) as (runtime, ws):
        _service(lambda: sources_admin.do_remove_source(runtime.sessions, ws.id, CLI, source_id))
    click.echo(f"Source #{source_id} removed.")


def _progress_line(outcome: SourceOutcome, done: int, total: int) -> None:
    src = outcome.source
    head = f"[{done}/{total}] #{src.id} {src.kind} ({src.watch_name})"
    if outcome.error:
        click.echo(f"{head}: FAILED: {outcome.error}")
    elif outcome.not_modified:
        click.echo(f"{head}: not modified ({outcome.seconds:.1f}s)")
    else:
        r = outcome.report
        click.echo(f"{head}: {outcome.fetched} fetched, {r.stored} new, "
                   f"{r.duplicates + r.near_duplicates} duplicates, {r.filtered} filtered, "
                   f"{r.alerts} alerts"
                   + (f", {r.late} found late" if r.late else "")
                   + (f", {r.forgotten} by forgotten authors dropped" if r.forgotten else "")
                   + (f", {r.expired} already purged by retention dropped"
                      if r.expired else "")
                   + (f", {r.backfilled} older backfilled quietly" if r.backfilled else "")
                   + (f", {r.brand_posts} brand post(s)" if r.brand_posts else "")
                   + (f", {r.follow_ups} follow-up(s) joined cases" if r.follow_ups else "")
                   + f" ({outcome.seconds:.1f}s)")


_NOT_POLLED = {
    "missing": "is no source of this database (vigie source list shows them)",
    "pushed": "is a webhook: its sender posts to /ingest/{id}, nothing is polled",
    "paused": "is paused (/cm source resume {id} in Slack resumes it)",
    "watch_paused": "belongs to a paused watch (vigie watch resume NAME)",
    "uninstalled": "belongs to a workspace Vigie was uninstalled from (reinstalling the "
                   "app resumes it)",
    "not_due": "is not due yet (leave out --due to poll it now)",
    "busy": "is being polled by a worker right now (try again in a minute)",
}


@main.command()
@click.option("--once", is_flag=True, help="One tick in the foreground (the only mode; "
              "`vigie worker` polls continuously).")
@click.option("--dry-run", is_flag=True,
              help="Fetch and count as a poll would (new, duplicates, alerts), store nothing.")
@click.option("--source", "source_ids", type=int, multiple=True, help="Only these sources.")
@click.option("--due", is_flag=True, help="Only sources due now (default: all active).")
def poll(once: bool, dry_run: bool, source_ids: tuple[int, ...], due: bool) -> None:
    """Poll sources once, store what is new, and send the alerts it produced."""
    from bot.services.http_clients import http_factory
    from bot.services.polling import run_poll_tick, why_not_polled

    del once  # kept so that `vigie poll --once` (the documented form) still works
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        report = run_poll_tick(runtime.sessions, http_factory(settings), dry_run=dry_run,
                               only_ids=list(source_ids) or None, force=not due,
                               progress=_progress_line,
                               budget=settings.poll_source_budget_seconds,
                               backfill_hours=settings.backfill_hours)
        totals = report.totals
        skipped = sorted(set(source_ids) - {o.source.id for o in report.outcomes})
        for source_id, why in why_not_polled(runtime.sessions, skipped, due=due).items():
            click.echo(f"Not polled: #{source_id} {_NOT_POLLED[why].format(id=source_id)}.",
                       err=True)
        if not report.outcomes:
            if skipped:
                raise SystemExit(2)
            click.echo("No source to poll: vigie source add KIND --watch NAME --url URL")
            return
        verb = "would store" if dry_run else "stored"
        click.echo(f"Polled {len(report.outcomes)} source(s), {report.failures} failed: "
                   f"{verb} {totals.stored} mention(s), {totals.alerts} alert(s).")
        if not dry_run:
            flushed = runtime.outbox.flush(wait=True, limit=10_000)
            click.echo(f"Sent {flushed.sent} message(s) to "
                       f"{'Slack' if settings.has_slack else 'the console'}"
                       + (f", {flushed.failed} failed" if flushed.failed else "")
                       + (f", {flushed.deferred} deferred" if flushed.deferred else "") + ".")
    if report.failures and report.failures == len(report.outcomes):
        raise SystemExit(1)


def _given(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An option's value, refused when given empty (``--status ""`` is not "any status")."""
    del ctx
    if value is not None and not value.strip():
        raise click.BadParameter("needs a value (leave the option out for no filter)",
                                 param=param)
    return value


def _once(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """A filter option's one value (see ``_given``): given again with another value it is
    refused, naming both, as `/cm mentions` refuses a repeated filter (a listing takes
    one value per filter); the same value twice is that value. Values compare as the
    listing reads them (``--topic bug --topic outage``, ``--since 24h --since 1d``)."""
    def same(value: str) -> object:
        if param.name == "topic":
            from bot.analysis.topics import parse_topic

            return parse_topic(value) or value
        if param.name == "network":
            from bot.networks import normalize_network

            return normalize_network(value)
        if param.name == "since":
            from bot.services.mention_search import parse_duration

            try:
                return parse_duration(value)
            except ServiceError:
                return value
        return value.lower()

    firsts: dict[object, str] = {}
    for value in values:
        firsts.setdefault(same(value), value)
    distinct = list(firsts.values())
    if len(distinct) > 1:
        raise click.BadParameter(
            f"given twice ({distinct[0]!r}, then {distinct[1]!r}): a listing takes one value "
            "per filter, so ask for each value separately", param=param)
    return _given(ctx, param, distinct[0] if distinct else None)


@main.command()
@click.option("--watch", "watch_name", multiple=True, callback=_once)
@click.option("--since", multiple=True, callback=_once, help="e.g. 30m, 24h, 7d.")
@click.option("--status", multiple=True, callback=_once)
@click.option("--sentiment", multiple=True, callback=_once,
              type=click.Choice(["negative", "neutral", "positive"]))
@click.option("--network", multiple=True, callback=_once)
@click.option("--text", multiple=True, callback=_once,
              help='A search: words, "phrases", prefix*, OR, -word (accents and case ignored).')
@click.option("--topic", multiple=True, callback=_once,
              help="billing, delivery, account, outage, quality or churn.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@team_option
def mentions(watch_name: str | None, since: str | None, status: str | None,
             sentiment: str | None, network: str | None, text: str | None,
             topic: str | None, limit: int, as_json: bool, team: str | None) -> None:
    """Print stored mentions, the last found first."""
    from bot.services.mention_search import (
        MentionFilter,
        parse_duration,
        search_mentions,
        topic_of,
    )

    with _workspace(team) as (runtime, ws):
        filters = _service(lambda: MentionFilter(
            watch=watch_name, since=parse_duration(since) if since else None, status=status,
            sentiment=sentiment, network=network, text=text,
            topic=topic_of(topic) if topic is not None else None))
        rows = _service(lambda: search_mentions(runtime.sessions, ws.id, filters, limit=limit,
                                                now=runtime.clock()))
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No mentions match.")
    for row in rows:
        click.echo(f"#{row.id:<6} {row.published_at:%Y-%m-%d %H:%M} {row.network:<10} "
                   f"[{row.priority:>3}] {row.status:<9} {row.author or '?'}: "
                   f"{' '.join(row.text.split())[:90]}")
        if row.priority_reason:
            click.echo(f"        why: {row.priority_reason}")
        if row.topics:
            click.echo(f"        topics: {', '.join(row.topics)}")
