"""`vigie opp [--status S] [--json]` and `vigie opp assign|draft|contacted|dismiss|reopen ID`:
the conquest opportunities of `/cm opp` and their card buttons, from the terminal."""

from __future__ import annotations

import json
import re

import click

from bot import verbs
from bot.cli.common import cli_workspace, open_runtime, settings_or_exit, shared_command
from bot.cli.root import main
from bot.verbs import SharedVerb

team_option = click.option("--team", default=None, help="Slack team id (several workspaces).")
STATUS_CHOICES = ("active", "all", "open", "assigned", "drafted", "contacted", "dismissed")
USER_ID = re.compile(r"[UW][A-Z0-9]{4,30}")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


@main.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(STATUS_CHOICES), default="active",
              show_default=True, help="active (still to act on), all, or one status.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@team_option
@click.pass_context
def opp(ctx: click.Context, status: str, limit: int, as_json: bool, team: str | None) -> None:
    """Conquest opportunities: competitors' unhappy customers offered to the team."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.services.opportunities import STATUSES, list_opportunities

    statuses = {"active": None, "all": STATUSES}.get(status, (status,))
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        views = list_opportunities(runtime.sessions, workspace.id, limit=limit,
                                   statuses=statuses)
    if as_json:
        click.echo(json.dumps([{
            "id": v.id, "status": v.status, "reason": v.reason, "group": v.group,
            "competitor": v.competitor, "network": v.network, "url": v.url,
            "author": v.author_handle, "followers": v.followers, "text": v.text,
            "title": v.title, "published_at": v.published_at.isoformat(),
            "assignee": v.assignee_user_id, "draft": v.draft} for v in views],
            ensure_ascii=False, indent=2))
        return
    if not views:
        click.echo("No conquest opportunity here.")
        return
    for v in views:
        text = " ".join(v.text.split())
        text = text if len(text) <= 120 else text[:119] + "…"
        owner = f" · {v.assignee_user_id}" if v.assignee_user_id else ""
        click.echo(f"#{v.id} [{v.status}{owner}] {v.reason} · {v.competitor or '?'} · "
                   f"{v.author_handle} ({v.network}) · {v.published_at:%Y-%m-%d %H:%M}")
        click.echo(f"    {text}")
        click.echo(f"    {v.url}")


def _act(opportunity_id: int, action: str, team: str | None, *, assignee: str | None = None,
         draft: str | None = None) -> None:
    from bot.i18n import t
    from bot.services.actors import CLI
    from bot.services.errors import ServiceError
    from bot.services.opportunities import do_opportunity_action

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            outcome = do_opportunity_action(runtime.sessions, workspace.id, CLI,
                                            opportunity_id, action, assignee=assignee,
                                            draft=draft,
                                            link_allowlist=settings.reply_link_domains)
        except ServiceError as err:
            _fail(err.message(plain=True))
            return
    owner = f" (assigned to {outcome.assignee_user_id})" if outcome.assignee_user_id else ""
    click.echo(f"Opportunity #{outcome.id}: {outcome.status}{owner}.")
    if outcome.risk_keys:
        warnings = ", ".join(t("en", key) for key in outcome.risk_keys)
        click.echo(f"Risk check ({outcome.risk_level}): {warnings}. Read it again before "
                   "you contact the author.")


def _id_argument(value: str) -> int:
    number = value.lstrip("#")
    if not number.isdigit() or len(number) > 18:
        _fail(f"{value[:40]!r} is not an opportunity number (see `vigie opp`).")
    return int(number)


@opp.command("assign")
@click.argument("opportunity_id", metavar="ID")
@click.argument("user", metavar="USER")
@team_option
def assign_command(opportunity_id: str, user: str, team: str | None) -> None:
    """Assign an opportunity to a Slack user id (U0123ABCD)."""
    if not USER_ID.fullmatch(user):
        _fail(f"{user[:40]!r} is not a Slack user id (like U0123ABCD).")
    _act(_id_argument(opportunity_id), "assign", team, assignee=user)


@opp.command("draft")
@click.argument("opportunity_id", metavar="ID")
@click.argument("text", nargs=-1, required=True)
@team_option
def draft_command(opportunity_id: str, text: tuple[str, ...], team: str | None) -> None:
    """Save a draft reply (it is never posted: the team contacts the author)."""
    _act(_id_argument(opportunity_id), "draft", team, draft=" ".join(text))


def _simple(verb: SharedVerb) -> None:
    @shared_command(opp, verb)
    @team_option
    def command(opportunity_id: str, team: str | None) -> None:
        _act(_id_argument(opportunity_id), verb.name, team)


for _verb in verbs.OPP_SHARED.values():
    _simple(_verb)
