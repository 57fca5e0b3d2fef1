"""Competitor watches and conquest opportunities (issue 18): a competitor's watch stores and
counts its mentions but never alerts and never gives an SLA; a post the brand's watch holds
too alerts through it (with the brand's SLA); a group with conquest on offers a competitor's
unhappy or leaving customers to the brand's channel as an opportunity card with its own
workflow, updated in place, never posted to the network. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import competitors, opportunities
from bot.services.actors import CLI, Actor
from bot.services.errors import ServiceError
from bot.services.ingest import IngestReport, do_ingest
from bot.services.outbox import KIND_CARD, KIND_OPPORTUNITY, KIND_UPDATE_OPPORTUNITY
from bot.services.sla import due_at, run_sla_checks
from bot.services.watches import (
    do_add_watch,
    do_remove_watch,
    get_watch_by_name,
    list_watches,
)
from bot.services.workflow import do_assign
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention, OutboxMessage
from storage.models_competitors import Opportunity, WatchGroupMember
from storage.models_sla import SlaNotice
from tests.harness.constants import CHANNEL_ID, USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.racing import race
from tests.services.test_outbox import Clock, sender_for

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
VEILLE = "C07VEILLE1"
FEED = [
    ("1", "Anyone know an alternative to Rivalo? Their app keeps logging me out."),
    ("2", "Rivalo launches a new bike line this spring"),
    ("3", "Rivalo support is the worst, still no refund after three weeks"),
    ("4", "Je cherche une alternative à Rivalo, des idées ?"),
    ("5", "Switching from Rivalo to Acme, much better service"),
]


def _item(external_id: str, text: str) -> FetchedMention:
    return FetchedMention(network="mastodon", external_id=external_id,
                          url=f"https://masto.example/@u{external_id}/{external_id}", text=text,
                          author=FetchedAuthor(handle=f"user{external_id}", followers=1_200),
                          published_at=NOW - timedelta(minutes=10 + int(external_id)))


def _setup(sessions: sessionmaker[Session], workspace_id: int, *, conquest: bool) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="rivalo", query="rivalo", channel_id=VEILLE,
                 alert_threshold=0, kind="competitor")
    competitors.do_create_group(sessions, workspace_id, CLI, name="acme-vs",
                                watch_names=["acme", "rivalo"], conquest=conquest)


def _poll(sessions: sessionmaker[Session], workspace_id: int, name: str,
          items: list[FetchedMention]) -> IngestReport:
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, name)
        return do_ingest(session, watch, None, items, now=NOW)


def _outbox(sessions: sessionmaker[Session], kind: str) -> list[tuple[int | None, str]]:
    with sessions() as session:
        return sorted((m, c) for m, c in session.execute(
            select(OutboxMessage.mention_id, OutboxMessage.channel)
            .where(OutboxMessage.kind == kind)).tuples())


def test_a_competitor_watch_never_alerts_nor_gets_an_sla(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _setup(sessions, workspace_id, conquest=False)
    report = _poll(sessions, workspace_id, "rivalo", [_item(e, t) for e, t in FEED])
    assert (report.stored, report.alerts, report.opportunities) == (5, 0, 0)
    assert _outbox(sessions, KIND_CARD) == []
    kinds = {v.name: (v.kind, v.group) for v in list_watches(sessions, workspace_id)}
    assert kinds == {"acme": ("brand", "acme-vs"), "rivalo": ("competitor", "acme-vs")}
    # The brand's watch then sees the post that names Acme: it alerts there, with Acme's SLA.
    brand = _poll(sessions, workspace_id, "acme", [_item("5", FEED[4][1])])
    assert (brand.linked, brand.alerts) == (1, 1)
    with sessions() as session:
        ids = {m.external_id: m for m in session.scalars(select(Mention))}
        assert _outbox(sessions, KIND_CARD) == [(ids["5"].id, CHANNEL_ID)]
        assert due_at(session, ids["5"]) == ids["5"].created_at + timedelta(minutes=1440)
        assert due_at(session, ids["3"]) is None
    # Even assigned by hand, a mention only a competitor's watch holds gets no SLA notice.
    do_assign(sessions, workspace_id, Actor(None, "test"), ids["3"].id, USER_ID)
    run_sla_checks(sessions, NOW + timedelta(days=3), "UTC")
    with sessions() as session:
        noticed = set(session.scalars(select(SlaNotice.mention_id)))
    assert ids["3"].id not in noticed


def test_conquest_opportunities_are_opt_in_and_skip_what_the_brand_holds(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _setup(sessions, workspace_id, conquest=True)
    _poll(sessions, workspace_id, "acme", [_item("5", FEED[4][1])])  # the brand holds #5
    report = _poll(sessions, workspace_id, "rivalo", [_item(e, t) for e, t in FEED])
    assert report.opportunities == 3
    with sessions() as session:
        rows = {session.get(Mention, o.mention_id).external_id: o.reason  # type: ignore[union-attr]
                for o in session.scalars(select(Opportunity))}
    assert rows == {"1": "alternative", "3": "unhappy", "4": "alternative"}
    assert {c for _m, c in _outbox(sessions, KIND_OPPORTUNITY)} == {CHANNEL_ID}
    # Polled again: nothing new.
    assert _poll(sessions, workspace_id, "rivalo", [_item(e, t) for e, t in FEED]
                 ).opportunities == 0
    competitors.do_set_conquest(sessions, workspace_id, CLI, name="acme-vs", enabled=False)
    assert _poll(sessions, workspace_id, "rivalo", [_item("9", "Leaving Rivalo today")]
                 ).opportunities == 0


def test_opportunity_workflow_updates_its_card_and_never_posts_elsewhere(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    _setup(sessions, workspace_id, conquest=True)
    _poll(sessions, workspace_id, "rivalo", [_item("1", FEED[0][1])])
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    (posted,) = slack_standin.calls("chat.postMessage", ok=True)
    assert posted.args["channel"] == CHANNEL_ID
    text = str(posted.args["blocks"])
    assert "alternative" in text.lower() and "rivalo" in text.lower()
    with sessions() as session:
        (opportunity_id,) = session.scalars(select(Opportunity.id))
    act = opportunities.do_opportunity_action
    agent = Actor(None, "test")
    assert act(sessions, workspace_id, agent, opportunity_id, "assign",
               assignee=USER_ID).status == "assigned"
    assert act(sessions, workspace_id, agent, opportunity_id, "draft",
               draft="Hi! Happy to show you Acme.").status == "drafted"
    assert act(sessions, workspace_id, agent, opportunity_id, "contacted").status == "contacted"
    with pytest.raises(ServiceError) as err:
        act(sessions, workspace_id, agent, opportunity_id, "dismiss")
    assert err.value.key == "opp.not_allowed"
    assert act(sessions, workspace_id, agent, opportunity_id, "reopen").status == "assigned"
    assert act(sessions, workspace_id, agent, opportunity_id, "dismiss").status == "dismissed"
    for bad, key in (({"opportunity_id": 99999, "action": "assign"}, "opp.not_found"),
                     ({"opportunity_id": opportunity_id, "action": "post"}, "opp.bad_action"),
                     ({"opportunity_id": opportunity_id, "action": "draft"}, "opp.empty_draft")):
        with pytest.raises(ServiceError) as err:
            act(sessions, workspace_id, agent, bad["opportunity_id"],  # type: ignore[arg-type]
                str(bad["action"]))
        assert err.value.key == key
    assert len(_outbox(sessions, KIND_UPDATE_OPPORTUNITY)) == 5
    sender.flush()
    # Five state changes waited: the newest renders the card as it is now, the older
    # four (which would have shown the same) are skipped.
    (update,) = slack_standin.calls("chat.update", ok=True)
    assert update.args["ts"] == posted.response["ts"]
    assert "dismissed" in str(update.args["blocks"]).lower()
    # Only Slack was called: an opportunity is never answered on the network.
    assert {c.method for c in slack_standin.calls()} <= {"chat.postMessage", "chat.update"}
    with sessions() as session:
        counts = opportunities.opportunity_counts(session, workspace_id, NOW - timedelta(days=1),
                                                  NOW)
    assert counts["dismissed"] == 1 and sum(counts.values()) == 1


def test_group_bad_inputs(sessions: sessionmaker[Session], workspace_id: int) -> None:
    _setup(sessions, workspace_id, conquest=False)
    do_add_watch(sessions, workspace_id, CLI, name="beta", query="beta", channel_id=CHANNEL_ID)
    do_add_watch(sessions, workspace_id, CLI, name="rival-b", query="x", channel_id=VEILLE,
                 kind="competitor")
    cases = [
        (lambda: competitors.do_create_group(sessions, workspace_id, CLI, name="other",
                                             watch_names=["beta", "rivalo"]),
         "compete.watch_taken"),
        (lambda: competitors.do_create_group(sessions, workspace_id, CLI, name="other",
                                             watch_names=["beta", "nope"]), "watch.not_found"),
        (lambda: competitors.do_create_group(sessions, workspace_id, CLI, name="other",
                                             watch_names=["beta"]), "compete.group_incomplete"),
        (lambda: competitors.do_create_group(sessions, workspace_id, CLI, name="acme-VS",
                                             watch_names=["beta", "rival-b"]),
         "compete.group_exists"),
        (lambda: competitors.do_create_group(sessions, workspace_id, CLI, name="bad name!",
                                             watch_names=["beta", "rival-b"]),
         "compete.bad_group_name"),
        (lambda: competitors.do_add_to_group(sessions, workspace_id, CLI, name="nope",
                                             watch_names=["beta"]), "compete.group_not_found"),
        (lambda: competitors.do_remove_from_group(sessions, workspace_id, CLI, name="acme-vs",
                                                  watch_name="rivalo"),
         "compete.group_incomplete"),
        (lambda: competitors.do_remove_from_group(sessions, workspace_id, CLI, name="acme-vs",
                                                  watch_name="beta"), "compete.not_member"),
        (lambda: competitors.do_set_watch_kind(sessions, workspace_id, CLI, watch_name="acme",
                                               kind="competitor"), "compete.group_incomplete"),
        (lambda: competitors.do_set_watch_kind(sessions, workspace_id, CLI, watch_name="beta",
                                               kind="competitior"), "compete.bad_kind"),
        (lambda: do_add_watch(sessions, workspace_id, CLI, name="gamma", query="g",
                              channel_id=CHANNEL_ID, group="nope"), "compete.group_not_found"),
    ]
    for call, key in cases:
        with pytest.raises(ServiceError) as err:
            call()
        assert err.value.key == key
    with pytest.raises(ServiceError) as err:
        competitors.parse_kind("competiter")
    assert err.value.params["hint"] == "competitor"
    # Nothing half-written: the refused group and the refused watch do not exist.
    assert [g.name for g in competitors.list_groups(sessions, workspace_id)] == ["acme-vs"]
    assert "gamma" not in {v.name for v in list_watches(sessions, workspace_id)}
    view = competitors.do_add_to_group(sessions, workspace_id, CLI, name="acme-vs",
                                       watch_names=["beta", "rival-b"])
    assert [m.name for m in view.brands] == ["acme", "beta"]
    assert [m.name for m in view.competitors] == ["rival-b", "rivalo"]
    competitors.do_delete_group(sessions, workspace_id, CLI, "ACME-vs")
    assert competitors.list_groups(sessions, workspace_id) == []


def _group(sessions: sessionmaker[Session], workspace_id: int) -> competitors.GroupView:
    with sessions() as session:
        return competitors.get_group(session, workspace_id, "acme-vs")


def _refused(call: object, key: str) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        call()  # type: ignore[operator]
    assert err.value.key == key
    return err.value


def test_removing_a_watch_never_leaves_its_group_without_a_brand_or_a_competitor(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _setup(sessions, workspace_id, conquest=True)
    err = _refused(lambda: do_remove_watch(sessions, workspace_id, CLI, "rivalo"),
                   "compete.remove_last_competitor")
    assert "watch group delete acme-vs" in err.message(plain=True)
    assert "vigie watch group delete acme-vs" in err.message(plain=True)
    _refused(lambda: do_remove_watch(sessions, workspace_id, CLI, "ACME"),
             "compete.remove_last_brand")
    view = _group(sessions, workspace_id)
    assert ([m.name for m in view.brands], [m.name for m in view.competitors]) == (
        ["acme"], ["rivalo"])
    # One of two competitors may go; the group still compares and finds opportunities.
    do_add_watch(sessions, workspace_id, CLI, name="rival-b", query="rival-b",
                 channel_id=VEILLE, kind="competitor", group="acme-vs")
    do_remove_watch(sessions, workspace_id, CLI, "rivalo")
    view = _group(sessions, workspace_id)
    assert [m.name for m in view.competitors] == ["rival-b"]
    # Once the group is deleted, its watches go freely.
    competitors.do_delete_group(sessions, workspace_id, CLI, "acme-vs")
    do_remove_watch(sessions, workspace_id, CLI, "rival-b")
    do_remove_watch(sessions, workspace_id, CLI, "acme")
    assert list_watches(sessions, workspace_id) == []


def _second_brand_goes(sessions: sessionmaker[Session], workspace_id: int, how: str) -> None:
    if how == "remove":
        do_remove_watch(sessions, workspace_id, CLI, "acme-eu")
    elif how == "kind":
        competitors.do_set_watch_kind(sessions, workspace_id, CLI, watch_name="acme-eu",
                                      kind="competitor")
    else:
        competitors.do_remove_from_group(sessions, workspace_id, CLI, name="acme-vs",
                                         watch_name="acme-eu")


@pytest.mark.parametrize("how", ["remove", "kind", "drop"])
def test_two_admins_taking_the_two_brands_away_at_once_leave_one(
        sessions: sessionmaker[Session], workspace_id: int, how: str) -> None:
    """One admin removes the brand watch acme while another takes acme-eu, the group's other
    brand, away (`watch remove`, `watch kind`, `watch group drop`): each alone is allowed,
    both together would leave the group without a brand. One of them must be refused."""
    _setup(sessions, workspace_id, conquest=True)
    do_add_watch(sessions, workspace_id, CLI, name="acme-eu", query="acme", channel_id=VEILLE,
                 group="acme-vs")
    results = race(sessions, lambda: do_remove_watch(sessions, workspace_id, CLI, "acme"),
                   lambda: _second_brand_goes(sessions, workspace_id, how))
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(refused) == 1, results
    assert refused[0].key in ("compete.remove_last_brand", "compete.group_incomplete")
    assert not [r for r in results if isinstance(r, Exception) and r not in refused], results
    view = _group(sessions, workspace_id)
    assert len(view.brands) == 1 and "rivalo" in [m.name for m in view.competitors]


@pytest.mark.parametrize("how", ["remove", "kind"])
def test_a_brand_taken_away_while_its_group_is_being_created_is_refused(
        sessions: sessionmaker[Session], workspace_id: int, how: str) -> None:
    """An admin creates group g of acme and rivalo; another removes acme, or makes it a
    competitor, while the first one's membership is written but not committed. The second
    must see the group once it is committed and be refused, not leave g without a brand."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=VEILLE)
    do_add_watch(sessions, workspace_id, CLI, name="rivalo", query="rivalo", channel_id=VEILLE,
                 kind="competitor")
    engine = sessions.kw["bind"]
    joined, looked_up = threading.Event(), threading.Event()
    roles: dict[int, str] = {}

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        who, sql = roles.get(threading.get_ident()), " ".join(statement.split()).upper()
        if who == "create" and sql.startswith("INSERT INTO WATCH_GROUP_MEMBERS"):
            joined.set()
            looked_up.wait(2)  # the old code looked the group up here, and found none
        if who == "change" and "FROM WATCH_GROUPS JOIN WATCH_GROUP_MEMBERS" in sql:
            looked_up.set()

    results: dict[str, object] = {}

    def run(name: str, call: Any, after_event: threading.Event | None = None) -> None:
        roles[threading.get_ident()] = name
        if after_event is not None:
            after_event.wait(10)
        try:
            results[name] = call()
        except Exception as err:  # noqa: BLE001 - what each admin got is the result
            results[name] = err

    change = ((lambda: do_remove_watch(sessions, workspace_id, CLI, "acme")) if how == "remove"
              else (lambda: competitors.do_set_watch_kind(
                  sessions, workspace_id, CLI, watch_name="acme", kind="competitor")))
    threads = [threading.Thread(target=run, args=("create", lambda: competitors.do_create_group(
                   sessions, workspace_id, CLI, name="g", watch_names=["acme", "rivalo"]))),
               threading.Thread(target=run, args=("change", change, joined))]
    event.listen(engine, "after_cursor_execute", after)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", after)
    assert not isinstance(results["create"], Exception), results
    assert isinstance(results["change"], ServiceError), results
    with sessions() as session:
        view = competitors._view(session, competitors._get_group(session, workspace_id, "g"))
    assert [m.name for m in view.brands] == ["acme"], results
    assert [m.name for m in view.competitors] == ["rivalo"], results


def test_a_group_left_without_a_brand_takes_no_watch_until_repaired(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _setup(sessions, workspace_id, conquest=True)
    # What an older Vigie left: `watch remove` took the group's brand and competitor away.
    with transaction(sessions) as session:
        session.execute(delete(WatchGroupMember))
    _refused(lambda: do_add_watch(sessions, workspace_id, CLI, name="rival-c", query="rival",
                                  channel_id=VEILLE, kind="competitor", group="acme-vs"),
             "compete.group_broken")
    assert "rival-c" not in {v.name for v in list_watches(sessions, workspace_id)}
    _refused(lambda: competitors.do_add_to_group(sessions, workspace_id, CLI, name="acme-vs",
                                                 watch_names=["rivalo"]),
             "compete.group_broken")
    assert _group(sessions, workspace_id).members == ()
    # Given a brand and a competitor in one go, the group works again.
    view = competitors.do_add_to_group(sessions, workspace_id, CLI, name="acme-vs",
                                       watch_names=["acme", "rivalo"])
    assert ([m.name for m in view.brands], [m.name for m in view.competitors]) == (
        ["acme"], ["rivalo"])
    report = _poll(sessions, workspace_id, "rivalo", [_item("3", FEED[2][1])])
    assert report.opportunities == 1


def test_the_digest_carries_a_share_of_voice_line_and_chart(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    from bot.reports.charts import render_chart_spec
    from bot.services.outbox import KIND_CHART, KIND_POST
    from bot.services.reporting.digest import do_post_digest_now
    from bot.slack.render import render_payload

    _setup(sessions, workspace_id, conquest=True)
    _poll(sessions, workspace_id, "rivalo", [_item(e, t) for e, t in FEED])
    _poll(sessions, workspace_id, "acme", [_item("5", FEED[4][1])])
    report = do_post_digest_now(sessions, workspace_id, CLI, channel_id=CHANNEL_ID,
                                now=NOW)
    (sov,) = report.share_of_voice
    assert [(m.watch, m.current.mentions) for m in sov.members] == [("acme", 1),
                                                                     ("rivalo", 5)]
    # #5 too (the competitor's watch saw it first), dismissed when the brand's watch took it.
    assert sov.opportunities == 4
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind.in_([KIND_POST, KIND_CHART]))).all()
    post = next(r for r in rows if r.kind == KIND_POST)
    blocks = str(render_payload(post.payload)[1])
    assert "Share of voice* (acme-vs, 6 mention(s)): acme 17%" in blocks
    assert "conquest opportunities: 4" in blocks
    charts = [r.payload["chart"] for r in rows if r.kind == KIND_CHART]
    share = next(c for c in charts if c.get("kind") == "share")
    assert share["members"] == ["acme", "rivalo"] and share["language"] == "en"
    assert share["shares"][0][0] == pytest.approx(16.7)
    assert render_chart_spec(share)[:8] == b"\x89PNG\r\n\x1a\n"
    from bot.services.reporting.stats import build_stats_report
    from bot.slack.digest_blocks import build_stats_blocks

    with sessions() as session:
        stats = build_stats_report(session, workspace_id, days=7, now=NOW, timezone="UTC")
    assert (stats.opportunities["open"], stats.opportunities["dismissed"]) == (3, 1)
    assert "*Conquest opportunities:* 4 (3 open" in str(build_stats_blocks(stats, "en")[1])


@pytest.mark.parametrize("in_group", [False, True], ids=["alone", "in a group"])
def test_two_admins_removing_the_same_watch_at_once_one_is_told_it_is_gone(
        sessions: sessionmaker[Session], workspace_id: int, in_group: bool) -> None:
    """The second removal deleted no row: SQLAlchemy's StaleDataError (a generic failure
    with a traceback) instead of 'There is no watch called ...'."""
    _setup(sessions, workspace_id, conquest=False)
    do_add_watch(sessions, workspace_id, CLI, name="rival-b", query="rival-b",
                 channel_id=VEILLE, kind="competitor", group="acme-vs" if in_group else None)
    results = race(sessions, lambda: do_remove_watch(sessions, workspace_id, CLI, "rival-b"),
                   lambda: do_remove_watch(sessions, workspace_id, CLI, "RIVAL-B"))
    assert None in results, results
    (refused,) = [r for r in results if r is not None]
    assert isinstance(refused, ServiceError) and refused.key == "watch.not_found", results
    assert "rival-b" not in {v.name for v in list_watches(sessions, workspace_id)}
    view = _group(sessions, workspace_id)
    assert [m.name for m in view.competitors] == ["rivalo"]


def test_two_admins_putting_one_watch_in_two_groups_at_once_one_is_refused(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Both passed the 'already in a group' check; the second insert broke the one-group
    rule (unique watch_id) and the admin got an IntegrityError instead of the refusal."""
    _setup(sessions, workspace_id, conquest=False)
    do_add_watch(sessions, workspace_id, CLI, name="beta", query="beta", channel_id=CHANNEL_ID)
    do_add_watch(sessions, workspace_id, CLI, name="rival-b", query="x", channel_id=VEILLE,
                 kind="competitor")
    results = race(
        sessions,
        lambda: competitors.do_add_to_group(sessions, workspace_id, CLI, name="acme-vs",
                                            watch_names=["rival-b"]),
        lambda: competitors.do_create_group(sessions, workspace_id, CLI, name="beta-vs",
                                            watch_names=["beta", "rival-b"]))
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], ServiceError) and refused[0].key == "compete.watch_taken", (
        results)
    groups = {g.name: [m.name for m in g.members]
              for g in competitors.list_groups(sessions, workspace_id)}
    assert sum(members.count("rival-b") for members in groups.values()) == 1
    assert ("beta-vs" in groups) == isinstance(results[0], ServiceError)  # nothing half-made


def test_two_admins_adding_one_watch_to_the_same_group_at_once_both_see_it_in(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """As one after the other: the second finds the watch already in and adds nothing."""
    _setup(sessions, workspace_id, conquest=False)
    do_add_watch(sessions, workspace_id, CLI, name="rival-b", query="x", channel_id=VEILLE,
                 kind="competitor")

    def add() -> object:
        return competitors.do_add_to_group(sessions, workspace_id, CLI, name="acme-vs",
                                           watch_names=["rival-b"])

    results = race(sessions, add, add)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert [m.name for m in _group(sessions, workspace_id).competitors] == ["rival-b", "rivalo"]


@pytest.mark.parametrize("names", [("beta-vs", "beta-vs"), ("Beta-vs", "beta-vs")],
                         ids=["same case", "case only"])
def test_two_admins_creating_groups_of_one_name_at_once_one_is_refused(
        sessions: sessionmaker[Session], workspace_id: int, names: tuple[str, str]) -> None:
    """Both passed the 'already exists' check, which compares names whatever their case,
    before either wrote: the second insert broke the unique name (an IntegrityError for the
    admin) or, differing only in case, landed (on PostgreSQL), and every later lookup of
    the name picked one of the two groups."""
    for name, kind in [("beta", "brand"), ("gamma", "brand"), ("rival-b", "competitor"),
                       ("rival-c", "competitor")]:
        do_add_watch(sessions, workspace_id, CLI, name=name, query=name, kind=kind,
                     channel_id=CHANNEL_ID if kind == "brand" else VEILLE)
    results = race(
        sessions,
        lambda: competitors.do_create_group(sessions, workspace_id, CLI, name=names[0],
                                            watch_names=["beta", "rival-b"]),
        lambda: competitors.do_create_group(sessions, workspace_id, CLI, name=names[1],
                                            watch_names=["gamma", "rival-c"]))
    (made,) = [r for r in results if isinstance(r, competitors.GroupView)]
    (refused,) = [r for r in results if isinstance(r, Exception)]
    assert isinstance(refused, ServiceError) and refused.key == "compete.group_exists", (
        results)
    # The refusal names the group as it is written, not as the late admin typed it.
    assert f"A watch group called `{made.name}` already exists" in refused.message()
    groups = {g.name: sorted(m.name for m in g.members)
              for g in competitors.list_groups(sessions, workspace_id)}
    assert groups == {made.name: sorted(m.name for m in made.members)}  # nothing half-made


def test_a_forget_replaces_their_opportunity_card_and_takes_them_out_of_the_digest(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Their opportunity card (its outbox row names no mention) and the digest listing
    their post kept their words and name in Slack after a forget."""
    from bot.services.privacy import do_forget
    from bot.services.reporting.digest import do_post_digest_now

    _setup(sessions, workspace_id, conquest=True)
    _poll(sessions, workspace_id, "rivalo", [_item("1", FEED[0][1]), _item("3", FEED[2][1])])
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    do_post_digest_now(sessions, workspace_id, CLI, channel_id=VEILLE, now=NOW, chart=False)
    sender.flush()

    def shown() -> str:
        return str([slack_standin.messages_in(channel) for channel in (CHANNEL_ID, VEILLE)])

    assert "user1" in str(slack_standin.messages_in(CHANNEL_ID)), "their opportunity card"
    assert "user1" in str(slack_standin.messages_in(VEILLE)), "the digest lists them"
    do_forget(sessions, workspace_id, CLI, "@user1")
    sender.flush()
    assert "user1" not in shown() and "logging me out" not in shown()
    # The rest stays: the other opportunity's card, and the digest's other lines.
    assert "no refund" in str(slack_standin.messages_in(CHANNEL_ID))
    assert "user3" in str(slack_standin.messages_in(VEILLE))
