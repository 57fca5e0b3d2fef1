"""Watches, sources and webhooks driven as Slack and a webhook sender would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.polling import run_poll_tick
from bot.services.sources_admin import do_add_source
from storage.db import transaction
from storage.models import Mention, Watch
from storage.models_triage import TriageCalibration
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import CHANNEL_ID, TEAM_ID
from tests.harness.webhooks import webhook_from_answer, webhook_headers


def admin(vigie: VigieApp, text: str) -> str:
    response = vigie.slack.slash_command(text, user_id=ADMIN_ID)
    assert response.status_code == 200
    body = response.json() if response.content else {}
    if body.get("text"):
        return str(body["text"])
    # Slow subcommands answer through response_url after the ack: this command's own.
    url = parse_qs(response.request.content.decode())["response_url"][0]
    vigie.standin.wait_until(lambda standin: bool(standin.responses(url)))
    answer = vigie.standin.responses(url)[0]
    vigie.standin.clear()
    return str(answer["text"])


def test_watch_lifecycle(vigie: VigieApp) -> None:
    text = admin(vigie,
                 'watch add acme <#C07SOCIAL01|social> threshold:40 acme OR "acme app" -jobs')
    assert "Watch *acme* created" in text and "<#C07SOCIAL01>" in text
    listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
    assert validate_blocks(listing["blocks"], "message") == []
    assert "acme" in str(listing["blocks"]) and "40" in str(listing["blocks"])
    assert "already exists" in admin(vigie, "watch add acme acme")
    assert "paused" in admin(vigie, "watch pause acme")
    assert "resumed" in admin(vigie, "watch resume acme")
    assert "removed" in admin(vigie, "watch remove acme")
    assert "No watches yet" in admin(vigie, "watch list")


def test_watch_list_and_add_say_the_threshold_learning_applies(vigie: VigieApp) -> None:
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|social> acme")
    admin(vigie, f"watch add firehose <#{CHANNEL_ID}|social> threshold:0 acme")
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:
        session.add(TriageCalibration(workspace_id=workspace_id, enabled=True, offset=20))
    added = admin(vigie, f"watch add beta <#{CHANNEL_ID}|social> threshold:40 beta")
    assert "at priority ≥ 60 (40 + 20 learned from the team, `/cm triage`)." in added, added

    def lines() -> dict[str, str]:
        listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
        assert validate_blocks(listing["blocks"], "message") == []
        return {b["text"]["text"].split("*")[1]: b["text"]["text"] for b in listing["blocks"]}

    listed = lines()
    assert "alert at priority ≥ 70 (50 + 20 learned from the team, `/cm triage`)" in listed[
        "acme"]
    assert "alert at priority ≥ 0 ·" in listed["firehose"]  # 0 alerts on everything
    with transaction(vigie.runtime.sessions) as session:
        session.get(TriageCalibration, workspace_id).offset = -10  # type: ignore[union-attr]
    admin(vigie, "lang fr")
    assert ("alerte dès la priorité 40 (50 − 10 appris de l'équipe, `/cm triage`)"
            in lines()["acme"])
    with transaction(vigie.runtime.sessions) as session:
        session.get(TriageCalibration, workspace_id).enabled = False  # type: ignore[union-attr]
    assert "alerte dès la priorité 50 ·" in lines()["acme"]


def test_the_query_is_described_in_the_workspace_language(vigie: VigieApp) -> None:
    """A French workspace read the watch's query explained in English in the answer of
    `/cm watch add` and in `/cm watch list`."""
    admin(vigie, "lang fr")
    answer = admin(vigie, f'watch add acme <#{CHANNEL_ID}|social> acme bug OR panne '
                          f'lang:fr source:mastodon -"free trial"')
    described = ("mentions contenant acme et (bug ou panne), en français, sur Mastodon, "
                 "en excluant «\u00a0free trial\u00a0»")
    assert f"Veille *acme* créée : {described}." in answer, answer
    admin(vigie, "watch add tout threshold:0")

    def listed() -> str:
        listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
        assert validate_blocks(listing["blocks"], "message") == []
        return "\n".join(block["text"]["text"] for block in listing["blocks"])

    french = listed()
    assert described in french and "`*` toutes les mentions" in french, french
    assert "containing" not in french and "all mentions" not in french
    admin(vigie, "lang en")
    assert ("mentions containing acme and (bug or panne), in French, on Mastodon, excluding "
            "'free trial'") in listed()


def test_a_competitor_watch_is_listed_as_never_alerting(vigie: VigieApp) -> None:
    """It was listed "alert at priority ≥ 50" though a competitor's watch never alerts."""
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|social> acme")
    admin(vigie, f"watch add rivalo <#{CHANNEL_ID}|social> kind:competitor rivalo")

    def lines() -> dict[str, str]:
        listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
        assert validate_blocks(listing["blocks"], "message") == []
        return {b["text"]["text"].split("*")[1]: b["text"]["text"] for b in listing["blocks"]}

    listed = lines()
    assert "never alerts (competitor: counted and compared) · 0 source(s)" in listed["rivalo"]
    assert "priority" not in listed["rivalo"]
    assert "alert at priority ≥ 50 ·" in listed["acme"]
    admin(vigie, "lang fr")
    listed = lines()
    assert ("n'alerte jamais (concurrent : comptée et comparée) · 0 source(s)"
            in listed["rivalo"])
    assert "priorité" not in listed["rivalo"]


def test_a_watch_threshold_is_changed_without_removing_the_watch(vigie: VigieApp) -> None:
    """`/cm watch threshold NAME N`: the README tells a team to tune thresholds, and before
    it only `watch add` set one (removing the watch would take its sources along)."""
    admin(vigie, "watch add acme threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    assert "threshold must be a number" in admin(vigie, "watch threshold acme 101")
    assert "threshold must be a number" in admin(vigie, "watch threshold acme high")
    assert "Usage: `/cm watch threshold NAME N`" in admin(vigie, "watch threshold acme")
    assert "no watch called `nope`" in admin(vigie, "watch threshold nope 60")
    assert "You need the *admin* role" in vigie.slack.command_answer(
        "watch threshold acme 90")["text"]
    answer = admin(vigie, "watch threshold acme 90")
    assert answer == ("Watch *acme* now alerts at priority ≥ 90 (it was 0), for the mentions "
                      "found from now on."), answer
    body = json.dumps([{"id": "z-1", "url": "https://zapier.example/1", "text": "acme rocks",
                        "author": {"handle": "zed"},
                        "published_at": "2026-11-20T10:00:00Z"}]).encode()
    pushed = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                        headers=webhook_headers(secret, body))
    assert pushed.status_code == 200 and pushed.json()["stored"] == 1
    assert pushed.json()["alerts"] == 0  # "acme rocks" is far below 90 (it alerted at 0)
    listing = vigie.slack.command_answer("watch list", user_id=ADMIN_ID)
    assert "alert at priority ≥ 90 ·" in str(listing["blocks"])

    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:
        session.add(TriageCalibration(workspace_id=workspace_id, enabled=True, offset=-10))
    admin(vigie, "lang fr")
    assert admin(vigie, "watch threshold acme 60") == (
        "La veille *acme* alerte désormais à partir de la priorité 50 (60 − 10 appris de "
        "l'équipe, `/cm triage`) (avant : 90), pour les mentions trouvées à partir de "
        "maintenant.")
    admin(vigie, "watch add rivalo kind:competitor rivalo")
    assert "veille de concurrent : elle n'alerte jamais" in admin(
        vigie, "watch threshold rivalo 60")


def test_watch_errors_are_specific(vigie: VigieApp) -> None:
    bad = admin(vigie, 'watch add acme acme OR')
    assert "does not parse" in bad and "^" in bad
    assert "threshold must be a number" in admin(vigie, "watch add acme threshold:abc acme")
    assert "cannot be a watch name" in admin(vigie, "watch add a/b acme")
    assert "no watch called `nope`" in admin(vigie, "watch pause nope")
    assert "Usage" in admin(vigie, "watch frobnicate")


def test_agents_cannot_manage_watches(vigie: VigieApp) -> None:
    body = vigie.slack.command_answer("watch add acme acme")
    assert "You need the *admin* role" in body["text"]


def test_source_add_from_slack_is_guarded_against_ssrf(vigie: VigieApp) -> None:
    admin(vigie, "watch add acme acme")
    for url in ("http://127.0.0.1:8080/feed", "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.5/feed", "http://localhost/feed"):
        text = admin(vigie, f"source add rss acme <{url}>")
        assert "Vigie will not fetch `url`" in text, text
    assert "Unknown source kind `gopher`" in admin(vigie, "source add gopher acme x=1")
    assert "Missing settings: query" in admin(vigie, "source add mastodon acme")
    assert "No sources yet" in admin(vigie, "source list")


def test_source_list_test_and_remove(vigie: VigieApp, httpserver: HTTPServer,
                                     shared_data: Path) -> None:
    admin(vigie, "watch add acme")
    feed = (shared_data / "feeds" / "rssparser__guardian.rss").read_bytes()
    httpserver.expect_request("/feed").respond_with_data(feed, content_type="application/xml")
    workspace = vigie.runtime.workspaces.ensure("T07VIGIE01")
    view = do_add_source(vigie.runtime.sessions, workspace.id, CLI, kind="rss",
                         watch_name="acme", values={"url": httpserver.url_for("/feed")})
    listing = admin(vigie, "source list")
    assert "source(s)" in listing
    tested = admin(vigie, f"source test {view.id}")
    assert f"Source #{view.id}:" in tested and "Nothing was stored" in tested
    assert "removed" in admin(vigie, f"source remove {view.id}")
    assert "no source #999" in admin(vigie, "source remove 999")
    assert "not a source number" in admin(vigie, "source remove abc")


def test_webhook_ingest(vigie: VigieApp) -> None:
    admin(vigie, "watch add acme threshold:0")
    text = admin(vigie, "source add webhook acme")
    assert "added" in text, text
    source_id, secret = webhook_from_answer(text)
    body = json.dumps([{"id": "z-1", "url": "https://zapier.example/1", "text": "acme rocks",
                        "author": {"handle": "zed", "followers": 12},
                        "published_at": "2026-11-20T10:00:00Z"}]).encode()
    url = f"{vigie.url}/ingest/{source_id}"
    assert httpx.post(url, content=body, headers={**webhook_headers(secret, body),
                      "X-Vigie-Signature": "sha256=00"}).status_code == 401
    ok = httpx.post(url, content=body, headers=webhook_headers(secret, body))
    assert ok.status_code == 200 and ok.json()["stored"] == 1
    again = httpx.post(url, content=body, headers=webhook_headers(secret, body))
    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 1
    bad = b'[{"id": "z-2"}]'
    rejected = httpx.post(url, content=bad, headers=webhook_headers(secret, bad))
    assert rejected.status_code == 400 and "item 0" in rejected.json()["error"]
    unknown = httpx.post(f"{vigie.url}/ingest/999", content=body,
                         headers=webhook_headers(secret, body))
    assert (unknown.status_code, unknown.json()) == (401, {"error": "bad signature"})
    with vigie.runtime.sessions() as session:
        assert session.scalars(select(Mention.external_id)).all() == ["z-1"]


def test_alert_reaches_slack_from_a_poll(vigie: VigieApp, httpserver: HTTPServer,
                                         shared_data: Path) -> None:
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:0")
    feed = (shared_data / "feeds" / "rssparser__heise.atom").read_bytes()
    httpserver.expect_request("/atom").respond_with_data(feed, content_type="application/xml")
    workspace = vigie.runtime.workspaces.ensure("T07VIGIE01")
    do_add_source(vigie.runtime.sessions, workspace.id, CLI, kind="rss", watch_name="acme",
                  values={"url": httpserver.url_for("/atom")})
    # heise's entries are years old: quiet backfill off, so that they alert.
    report = run_poll_tick(vigie.runtime.sessions, lambda _t: HttpClient(), force=True,
                           backfill_hours=0)
    assert report.totals.alerts > 0
    vigie.runtime.outbox.flush(wait=True, limit=1000)
    cards = vigie.standin.messages_in(CHANNEL_ID)
    assert len(cards) == report.totals.alerts
    for call in vigie.standin.calls("chat.postMessage"):
        assert validate_blocks(call.args["blocks"], "message") == []


def test_topic_route_sends_the_card_to_the_product_channel(vigie: VigieApp) -> None:
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:0")
    added = admin(vigie, "watch route acme topic:outage <#C07PRODUCT1|product-bugs>")
    assert "now go to <#C07PRODUCT1>" in added
    assert "acme` · outage → <#C07PRODUCT1>" in admin(vigie, "watch routes")
    assert "not a topic" in admin(vigie, "watch route acme topic:weather <#C07PRODUCT1|x>")
    assert "is not a channel" in admin(vigie, "watch route acme topic:outage #product-bugs")
    assert "Usage" in admin(vigie, "watch route acme outage")
    refused = vigie.slack.command_answer("watch route acme topic:billing <#C07BILL001|b>")
    assert "You need the *admin* role" in refused["text"]
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    body = json.dumps([
        {"id": "t-1", "url": "https://x.example/1", "author": {"handle": "zed"},
         "text": "acme the app keeps crashing since the update", "published_at":
         "2026-11-20T10:00:00Z"},
        {"id": "t-2", "url": "https://x.example/2", "author": {"handle": "amy"},
         "text": "acme charged me twice, I want a refund", "published_at":
         "2026-11-20T10:01:00Z"}]).encode()
    ok = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                    headers=webhook_headers(secret, body))
    assert ok.status_code == 200 and ok.json()["stored"] == 2
    vigie.runtime.outbox.flush(wait=True, limit=100)
    routed, = vigie.standin.messages_in("C07PRODUCT1")
    assert "crashing" in str(routed["blocks"]) and " outage" in reason_of(routed["blocks"])
    assert validate_blocks(routed["blocks"], "message") == []
    main, = vigie.standin.messages_in(CHANNEL_ID)
    assert " billing" in reason_of(main["blocks"])
    listing = vigie.slack.command_answer("mentions topic:billing", user_id=ADMIN_ID)
    assert "refund" in str(listing["blocks"]) and "crashing" not in str(listing["blocks"])
    bad = vigie.slack.command_answer("mentions topic:weather", user_id=ADMIN_ID)
    assert "`weather` is not a topic" in bad["text"]
    assert "no longer go to" in admin(vigie, "watch unroute acme topic:outage")
    assert "No topic routes" in admin(vigie, "watch routes acme")


def test_route_answers_in_french_name_the_french_topic(vigie: VigieApp) -> None:
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> acme")
    admin(vigie, "lang fr")
    added = admin(vigie, "watch route acme topic:outage <#C07PRODUCT1|product-bugs>")
    assert "sur *panne* vont désormais dans <#C07PRODUCT1>" in added, added
    assert "acme` · panne → <#C07PRODUCT1>" in admin(vigie, "watch routes")
    assert "sur *panne* ne vont plus" in admin(vigie, "watch unroute acme topic:outage")
    own = admin(vigie, f"watch route acme topic:churn <#{CHANNEL_ID}|feed>")
    assert "sur *résiliation* vont déjà dans" in own and "désormais" not in own
    assert "Aucun routage" in admin(vigie, "watch routes")


def reason_of(card_blocks: list[dict[str, Any]]) -> str:
    """The card's analysis line: priority and reason line (with the topics)."""
    return str(card_blocks[2]["elements"][0]["text"])


def sections_saying(blocks: list[dict[str, Any]], word: str) -> int:
    """How many listing rows (sections) name ``word``."""
    return sum(word in block["text"]["text"] for block in blocks if block["type"] == "section")


def test_topic_filter_survives_paging(vigie: VigieApp) -> None:
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:100")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    items = [{"id": f"b-{n}", "url": f"https://x.example/b{n}", "author": {"handle": f"u{n}"},
              "text": f"acme refund {n} please, you charged my card twice",
              "published_at": "2026-11-20T10:00:00Z"} for n in range(12)]
    items += [{"id": f"o-{n}", "url": f"https://x.example/o{n}", "author": {"handle": f"o{n}"},
               "text": f"acme app {n} keeps crashing", "published_at": "2026-11-20T10:00:00Z"}
              for n in range(3)]
    body = json.dumps(items).encode()
    stored = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                        headers=webhook_headers(secret, body))
    assert stored.json()["stored"] == 15
    page = vigie.slack.command_answer("mentions topic:payment", user_id=ADMIN_ID)
    assert validate_blocks(page["blocks"], "message") == []
    assert sections_saying(page["blocks"], "billing") == 10
    assert "crashing" not in str(page["blocks"])
    more = page["blocks"][-1]["elements"][0]
    assert more["action_id"] == "vigie.more" and '"topic":"billing"' in more["value"]
    vigie.slack.block_action("vigie.more", user_id=ADMIN_ID,
                             message={"ts": "1.2", "blocks": page["blocks"]})
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
    second = vigie.standin.responses()[-1]
    assert sections_saying(second["blocks"], "billing") == 2
    assert "crashing" not in str(second["blocks"])


def test_a_repeated_mentions_filter_is_refused_naming_it(vigie: VigieApp) -> None:
    def listed(text: str) -> dict[str, Any]:
        response = vigie.slack.slash_command(text, user_id=ADMIN_ID)
        assert response.status_code == 200
        if response.content:
            return dict(response.json())
        vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
        answer = vigie.standin.responses()[-1]
        vigie.standin.clear()
        return dict(answer)

    refused = listed("mentions topic:billing topic:outage")
    assert refused["text"] == ("`topic:` is given twice (`billing`, then `outage`): a listing "
                               "takes one value per filter, so ask for each value separately.")
    assert "blocks" not in refused or "`topic:`" in str(refused["blocks"])
    assert "`status:` is given twice" in listed("mentions status:new refund status:replied")[
        "text"]
    assert "`source:` is given twice" in listed("mentions source:x source:mastodon")["text"]
    # The same value twice (as the listing reads it) is that value.
    for same in ("mentions topic:bug topic:outage", "mentions since:24h since:1d",
                 "mentions watch:acme watch:ACME status:new status:NEW"):
        assert "given twice" not in str(listed(same)), same
    admin(vigie, "lang fr")
    assert "`topic:` est donné deux fois" in listed("mentions topic:billing topic:panne")["text"]


@pytest.mark.parametrize(("language", "refused"), [
    ("en", "`#social` is not a channel Slack knows"),
    ("fr", "`#social` n'est pas un canal que Slack connaît"),
])
def test_a_channel_slack_left_as_text_is_refused_not_searched(vigie_sqlite: VigieApp,
                                                              language: str,
                                                              refused: str) -> None:
    vigie = vigie_sqlite
    admin(vigie, f"lang {language}")
    # Slack links a channel it knows (<#C…|social>); a typo stays "#social".
    answer = admin(vigie, "watch add autre #social autre")
    assert refused in answer and '`/cm watch add autre "#social" autre`' in answer, answer
    assert refused in admin(vigie, "watch add autre #social threshold:40 autre")
    assert _watch_queries(vigie) == {}
    # A hashtag is searched when it cannot be a channel: quoted, after a word, after one.
    for typed in ('watch add a1 "#social" autre', "watch add a2 autre #social",
                  f"watch add a3 <#{CHANNEL_ID}|veille> #social autre"):
        assert refused not in admin(vigie, typed), typed
    assert _watch_queries(vigie) == {"a1": '"#social" autre', "a2": "autre #social",
                                     "a3": "#social autre"}


def _watch_queries(vigie: VigieApp) -> dict[str, str]:
    with vigie.runtime.sessions() as session:
        return dict(session.execute(select(Watch.name, Watch.query)).tuples().all())


def _watch_rows(vigie: VigieApp) -> dict[str, tuple[str, str, int, str]]:
    with vigie.runtime.sessions() as session:
        return {name: (query, channel, threshold, kind) for name, query, channel, threshold, kind
                in session.execute(select(Watch.name, Watch.query, Watch.channel_id,
                                          Watch.alert_threshold, Watch.kind)).tuples()}


def test_the_channel_and_options_may_follow_the_query(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    # A channel Slack linked after the query is the alert channel when none came before,
    # and the answer says how to search the hashtag instead.
    answer = admin(vigie, 'watch add orange orange OR "orange bank" <#C0ORANGE01|orange>')
    assert "Alerts go to <#C0ORANGE01>" in answer, answer
    assert ("<#C0ORANGE01>, after the query, is taken as the alert channel, not searched: "
            'to search the hashtag instead, put it in quotes (`"#orange"`).') in answer
    # Options after the query, in any order with the channel.
    answer = admin(vigie, 'watch add socgen "société générale" kind:competitor')
    assert answer.startswith("Competitor watch *socgen* created"), answer
    admin(vigie, "watch add sfr sfr OR bouygues threshold:30 <#C0TELCOS01|telcos>")
    # Quoted, or after a channel named before the query, it is searched as written.
    admin(vigie, 'watch add free <#C0TELCOS01|telcos> free <#C0ORANGE01|orange> threshold:40')
    admin(vigie, 'watch add bank bank "<#C0ORANGE01|orange>"')
    admin(vigie, 'watch add quoted "acme threshold:30"')
    # After an operator, or inside brackets, a channel Slack linked is a hashtag searched
    # (Slack links a typed #orange when a channel has that name).
    admin(vigie, "watch add either acme OR <#C0ORANGE01|orange> kind:competitor")
    admin(vigie, "watch add group acme (bug <#C0ORANGE01|orange>)")
    assert _watch_rows(vigie) == {
        "orange": ('orange OR "orange bank"', "C0ORANGE01", 50, "brand"),
        "socgen": ('"société générale"', CHANNEL_ID, 50, "competitor"),
        "sfr": ("sfr OR bouygues", "C0TELCOS01", 30, "brand"),
        "free": ("free #orange", "C0TELCOS01", 40, "brand"),
        "bank": ('bank "#orange"', CHANNEL_ID, 50, "brand"),
        "quoted": ('"acme threshold:30"', CHANNEL_ID, 50, "brand"),
        "either": ("acme OR #orange", CHANNEL_ID, 50, "competitor"),
        "group": ("acme (bug #orange)", CHANNEL_ID, 50, "brand"),
    }


def test_a_hashtag_slack_did_not_link_after_the_query_is_searched_and_said_so(
        vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    answer = admin(vigie, "watch add socgen societe OR #societegenerale")
    assert f"Alerts go to <#{CHANNEL_ID}>" in answer, answer
    assert ("`#societegenerale` is searched as a hashtag: Slack did not link it to a channel."
            in answer)
    # With a channel named, a hashtag at the end is plainly a hashtag: nothing to say.
    answer = admin(vigie, "watch add bnp <#C0BANKS001|banks> bnp #bnp threshold:20")
    assert "searched as a hashtag" not in answer and "Alerts go to <#C0BANKS001>" in answer
    admin(vigie, "lang fr")
    assert "`#lcl` est cherché comme hashtag" in admin(vigie, "watch add lcl lcl #lcl")
    assert _watch_rows(vigie) == {
        "socgen": ("societe OR #societegenerale", CHANNEL_ID, 50, "brand"),
        "bnp": ("bnp #bnp", "C0BANKS001", 20, "brand"),
        "lcl": ("lcl #lcl", CHANNEL_ID, 50, "brand"),
    }


def test_an_option_inside_the_query_or_given_twice_is_refused(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    answer = admin(vigie, "watch add orange orange threshold:30 OR bank")
    assert answer.startswith(
        "`threshold:30` is an option of the watch, not something to search: write the options"
        " before the query or after it, as in `/cm watch add orange #channel threshold:30"
        " QUERY` or `/cm watch add orange QUERY threshold:30`."), answer
    assert "No watch was created." in answer
    assert admin(vigie, "watch add orange threshold:30 orange threshold:40") == (
        "`threshold:` is given twice (`threshold:30`, then `threshold:40`): give it once."
        " No watch was created.")
    assert "`kind:` is given twice" in admin(
        vigie, "watch add orange kind:brand orange kind:competitor")
    admin(vigie, "lang fr")
    assert admin(vigie, "watch add orange orange kind:competitor bank").startswith(
        "`kind:competitor` est une option de la veille, pas un texte à chercher")
    assert _watch_rows(vigie) == {}
    # The same option repeated with the same value is no conflict.
    admin(vigie, "watch add orange threshold:30 orange threshold:30")
    assert _watch_rows(vigie) == {"orange": ("orange", CHANNEL_ID, 30, "brand")}
