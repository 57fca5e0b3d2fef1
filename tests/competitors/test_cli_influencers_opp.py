"""`vigie influencers [--period] [--json] | track | untrack` and `vigie opp [--status] [--json]
| assign | draft | contacted | dismiss | reopen`: the Slack-only views of issue 18 in the
terminal, with their errors, on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import influencers as _influencers  # noqa: F401  (registers influencers)
from bot.cli import listening as _listening  # noqa: F401  (registers watch)
from bot.cli import opportunities as _opportunities  # noqa: F401  (registers opp)
from bot.cli.root import main
from storage.db import make_engine, make_session_factory, transaction
from storage.models import AuditEvent, Author, Mention, Watch
from storage.models_competitors import Opportunity, WatchGroup
from storage.models_influencers import TrackedInfluencer


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def _seed(env: dict[str, str]) -> int:
    """Two watches in a conquest group, three authors' posts, one open opportunity."""
    assert _run(env, "watch", "add", "acme", "--query", "acme", "--channel", "C07SOCIAL1")[0] == 0
    assert _run(env, "watch", "add", "rivalo", "--query", "rivalo", "--channel", "C07VEILLE1",
                "--competitor")[0] == 0
    assert _run(env, "watch", "group", "create", "acme-vs", "acme", "rivalo",
                "--conquest")[0] == 0
    engine = make_engine(env["VIGIE_DATABASE_URL"])
    now = datetime.now(UTC).replace(tzinfo=None)
    with transaction(make_session_factory(engine)) as session:
        acme = session.scalars(select(Watch).filter_by(name="acme")).one()
        rivalo = session.scalars(select(Watch).filter_by(name="rivalo")).one()
        authors = {name: Author(workspace_id=acme.workspace_id, network="mastodon",
                                handle=f"@{name}@example.social", followers=followers,
                                mention_count=0, first_seen_at=now, last_seen_at=now)
                   for name, followers in [("ana", 12000), ("bob", 40), ("cyd", 900)]}
        session.add_all(authors.values())
        session.flush()
        posts = [("ana", acme, 3), ("ana", acme, 2), ("bob", acme, 1), ("cyd", rivalo, 1)]
        mentions = []
        for n, (name, watch, hours) in enumerate(posts):
            mention = Mention(
                workspace_id=watch.workspace_id, watch_id=watch.id, network="mastodon",
                author_id=authors[name].id, external_id=f"p{n}",
                url=f"https://example.social/@{name}/{n}", text=f"post {n} about {watch.name}",
                published_at=now - timedelta(hours=hours), sentiment_label="negative",
                engagement=10 * (n + 1), reach=authors[name].followers or 0)
            session.add(mention)
            mentions.append(mention)
        session.flush()
        group = session.scalars(select(WatchGroup).filter_by(name="acme-vs")).one()
        row = Opportunity(workspace_id=acme.workspace_id, mention_id=mentions[-1].id,
                          group_id=group.id, competitor_watch_id=rivalo.id,
                          channel_id="C07SOCIAL1", reason="alternative",
                          published_at=mentions[-1].published_at)
        session.add(row)
        session.flush()
        opportunity_id = row.id
    engine.dispose()
    return opportunity_id


def test_influencers_ranking_and_tracking(cli_env: dict[str, str]) -> None:
    _seed(cli_env)
    code, out = _run(cli_env, "influencers", "--period", "7d")
    assert code == 0, out
    assert "@ana@example.social" in out and "*" not in out and "<http" not in out
    assert "Nobody is tracked yet: vigie influencers track" in out
    assert out.index("@ana@example.social") < out.index("@bob@example.social")
    code, out = _run(cli_env, "influencers", "track", "@bob@example.social", "mastodon")
    assert code == 0 and "Tracking @bob@example.social on mastodon" in out, out
    code, out = _run(cli_env, "influencers", "track", "@bob@example.social", "mastodon")
    assert code == 0 and "already tracked" in out
    code, out = _run(cli_env, "influencers")
    assert "engagement 30 · sentiment not analysed · tracked" in out and ":pushpin:" not in out
    assert "Tracked: @bob@example.social (mastodon)" in out
    code, out = _run(cli_env, "influencers", "--json")
    data = json.loads(out)
    assert data["days"] == 30
    ranked = {i["handle"]: i for i in data["influencers"]}
    assert ranked["@bob@example.social"]["tracked"] is True
    assert ranked["@ana@example.social"]["mentions"] == 2
    assert data["tracked"] == [{"network": "mastodon", "handle": "@bob@example.social"}]
    code, out = _run(cli_env, "influencers", "untrack", "@bob@example.social", "mastodon")
    assert code == 0 and "No longer tracking @bob@example.social" in out
    engine = make_engine(cli_env["VIGIE_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        assert session.scalars(select(TrackedInfluencer)).all() == []
        actions = [a.action for a in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    engine.dispose()
    assert actions[-2:] == ["influencer.tracked", "influencer.untracked"]


@pytest.mark.parametrize("args, message", [
    (["--period", "week"], "Error: 'week' is not a period for influencers: use one of 7d, "
                           "30d, 90d."),
    (["track", "@ana", "myspace"], "Error: 'myspace' is not a network Vigie reads"),
    (["untrack", "@nobody@example.social", "mastodon"],
     "Error: @nobody@example.social (mastodon) is not tracked: vigie influencers lists"),
    (["track", "@ana"], "Missing argument"),
])
def test_influencers_bad_inputs(cli_env: dict[str, str], args: list[str], message: str) -> None:
    code, out = _run(cli_env, "influencers", *args)
    assert code == 2 and message in out, out
    assert "`" not in out and "/cm" not in out


def test_opportunities_listing_and_actions(cli_env: dict[str, str]) -> None:
    opportunity_id = _seed(cli_env)
    code, out = _run(cli_env, "opp")
    assert code == 0, out
    assert f"#{opportunity_id} [open] alternative · rivalo · @cyd@example.social" in out
    code, out = _run(cli_env, "opp", "assign", str(opportunity_id), "U07AGENT01")
    assert code == 0 and f"#{opportunity_id}: assigned (assigned to U07AGENT01)" in out, out
    code, out = _run(cli_env, "opp", "draft", f"#{opportunity_id}", "Happy", "to", "help")
    assert code == 0 and "drafted" in out, out
    code, out = _run(cli_env, "opp", "contacted", str(opportunity_id))
    assert code == 0 and "contacted" in out, out
    assert "No conquest opportunity" in _run(cli_env, "opp")[1]
    code, out = _run(cli_env, "opp", "--status", "contacted", "--json")
    [item] = json.loads(out)
    assert (item["id"], item["status"], item["assignee"], item["draft"]) == (
        opportunity_id, "contacted", "U07AGENT01", "Happy to help")
    code, out = _run(cli_env, "opp", "reopen", str(opportunity_id))
    assert code == 0 and "assigned" in out, out
    code, out = _run(cli_env, "opp", "dismiss", str(opportunity_id))
    assert code == 0 and "dismissed" in out
    assert json.loads(_run(cli_env, "opp", "--status", "all", "--json")[1])[0]["status"] == \
        "dismissed"
    code, out = _run(cli_env, "opp", "dismiss", str(opportunity_id))
    assert code == 2 and "is dismissed: 'dismiss' does not apply to it now" in out, out


@pytest.mark.parametrize("args, message", [
    (["contacted", "999999"], "Error: There is no opportunity 999999 in this workspace."),
    (["contacted", "twelve"], "is not an opportunity number"),
    (["assign", "1", "@ana"], "is not a Slack user id"),
    (["assign", "1"], "Missing argument"),
    (["call", "1"], "No such command 'call'"),
    (["--status", "won"], "Invalid value for '--status'"),
])
def test_opportunities_bad_inputs(cli_env: dict[str, str], args: list[str], message: str) -> None:
    _run(cli_env, "opp")
    code, out = _run(cli_env, "opp", *args)
    assert code == 2 and message in out, out


def test_opportunity_assign_refuses_a_viewer_without_slack(cli_env: dict[str, str]) -> None:
    """Without Slack to ask, `vigie opp assign` still checks the role, as `/cm opp assign`
    does, and says it in the terminal's words."""
    opportunity_id = _seed(cli_env)
    assert _run(cli_env, "settings", "default_role", "viewer")[0] == 0
    code, out = _run(cli_env, "opp", "assign", str(opportunity_id), "U07AGENT01")
    assert code == 2, out
    assert out.strip() == (
        "Error: They are viewer, so they could not work on it: assign it to an agent (or "
        "above), or a Vigie admin can give them that role from Slack (the role add command, "
        "with agent).")
