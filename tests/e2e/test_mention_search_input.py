"""`/cm mentions` and `/cm export` read the search as typed in Slack: quotes kept, whole,
Slack's escaping undone, network aliases and the reader's language, as `vigie mentions
--text` and `vigie watch test` read the same search."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.services.errors import ServiceError
from bot.services.ingest import do_ingest
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.query_trial import try_query
from bot.services.watches import get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from bot.sources.handles import HandleError, stored_handle
from storage.db import transaction
from storage.models import Mention, Watch
from storage.search_index import index_pending
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.harness.constants import CHANNEL_ID, TEAM_ID
from tests.harness.webhooks import webhook_from_answer, webhook_headers

TEXTS = {
    "trial": "The free trial ended and acme charged me",
    "stuff": "acme gives free stuff, the trial comes later",
    "status": "acme status: new outage page for the app",
    "great": "acme app is great",
    "domain": "acme is down, see status.acme.example for news",
    "hashtag": "#panne chez acme depuis ce matin",
    "word": "une panne chez acme, encore",
    "handle": "merci @ana pour le correctif acme",
}


def newest(*ids: int) -> list[int]:
    """Mention ids in the listing's order."""
    return sorted(ids, reverse=True)


def answer(vigie: VigieApp, text: str) -> dict[str, Any]:
    """What Vigie answers an admin's `/cm TEXT` (in the ack or through response_url)."""
    response = vigie.slack.slash_command(text, user_id=ADMIN_ID)
    assert response.status_code == 200
    if response.content and response.json().get("text"):
        return dict(response.json())
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
    body = vigie.standin.responses()[-1]
    vigie.standin.clear()
    return dict(body)


def store(vigie: VigieApp, items: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Store ``{key: (network, text)}`` for watch acme (which keeps every post), as those
    networks' sources give them (a webhook may not push posts as X or a feed); the stored
    mentions' ids by key."""
    assert "created" in answer(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:100")[
        "text"]
    now = datetime.now(UTC)
    fetched = []
    for n, (key, (network, text)) in enumerate(items.items()):
        try:
            handle = stored_handle(network, f"u{n}")
        except HandleError:
            handle = f"u{n}"
        fetched.append(FetchedMention(
            network=network, external_id=key, url=f"https://example.org/{key}", text=text,
            author=FetchedAuthor(handle=handle), published_at=now - timedelta(minutes=n + 1)))
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                           fetched, now=now)
        index_pending(session)
    assert report.stored == len(items), report
    with vigie.runtime.sessions() as session:
        return dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())


def listed(vigie: VigieApp, text: str) -> list[int]:
    """The mention ids `/cm TEXT` lists."""
    body = answer(vigie, text)
    assert "blocks" in body, body
    return [int(found) for block in body["blocks"] if block["type"] == "section"
            for found in re.findall(r"^\*#(\d+)\*", block["text"]["text"])]


def cli_ids(vigie: VigieApp, search: str) -> tuple[list[int], list[int]]:
    """What `vigie mentions --text SEARCH` and `vigie watch test SEARCH` find (the services
    they call with the text as typed), in the listing's order."""
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    now = vigie.runtime.clock()
    rows = search_mentions(vigie.runtime.sessions, workspace_id, MentionFilter(text=search),
                           limit=50, now=now)
    trial = try_query(vigie.runtime.sessions, workspace_id, search, since=timedelta(days=1),
                      now=now, limit=50)
    return [row.id for row in rows], sorted((hit.id for hit in trial.hits), reverse=True)


def test_quotes_reach_the_search_as_typed(vigie: VigieApp) -> None:
    ids = store(vigie, {key: ("rss", TEXTS[key]) for key in ("trial", "stuff", "status",
                                                             "great")})
    acme_but_trial = newest(ids["stuff"], ids["status"], ids["great"])
    for search, expected in (
            ('"free trial"', [ids["trial"]]),
            ('acme -"free trial"', acme_but_trial),
            ("“free trial”", [ids["trial"]]),
            ("«free trial»", [ids["trial"]]),
            ("« free trial »", [ids["trial"]]),
            ("acme -“free trial”", acme_but_trial),
            ("acme -«free trial»", acme_but_trial),
            ('"status:new"', [ids["status"]]),  # quoted: words, not the status filter
            ('acme ("free trial" OR "new outage")', newest(ids["status"], ids["trial"]))):
        assert listed(vigie, f"mentions {search}") == expected, search
        assert cli_ids(vigie, search) == (expected, expected), search
    # quotes a phone or a paste mixes are still a phrase (they were before quotes were kept)
    for search in ('"free trial”', "“free trial“", "”free trial”", "»free trial«"):
        assert listed(vigie, f"mentions {search}") == [ids["trial"]], search
    # filters around a quoted search still filter
    assert listed(vigie, 'mentions status:new "free trial" since:1d') == [ids["trial"]]
    assert listed(vigie, 'mentions status:replied "free trial"') == []
    # the help's own example: a phrase and an exclusion, exported
    exported = answer(vigie, 'export 30d "free trial" -refund')["text"]
    assert "The CSV of 1 mention(s)" in exported, exported
    exported = answer(vigie, 'export 30d acme -"free trial"')["text"]
    assert "The CSV of 3 mention(s)" in exported, exported


def test_a_long_search_is_searched_whole_or_refused(vigie: VigieApp) -> None:
    ids = store(vigie, {key: ("rss", TEXTS[key]) for key in ("trial", "stuff", "great")})
    # past 200 characters: the last exclusion used to be cut off
    search = "acme " + "-zzzz " * 45 + '-"free trial"'
    assert 250 < len(search) <= 500
    assert listed(vigie, f"mentions {search}") == newest(ids["stuff"], ids["great"])
    assert cli_ids(vigie, search) == (newest(ids["stuff"], ids["great"]),) * 2
    exported = answer(vigie, f"export 30d {search}")["text"]
    assert "The CSV of 2 mention(s)" in exported, exported
    too_long = "acme " + "-zzzz " * 49 + "-" + "y" * 300
    refused = answer(vigie, f"mentions {too_long}")
    assert refused["text"].startswith(
        f"That search does not parse: query too long ({len(too_long)} characters; at most "
        "500): shorten it"), refused
    assert "blocks" not in refused or "#" + str(ids["great"]) not in str(refused["blocks"])
    assert "query too long" in answer(vigie, f"export 30d {too_long}")["text"]


def test_source_filter_takes_the_network_aliases(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    ids = store(vigie, {"x": ("x", "acme on x"), "bsky": ("bluesky", "acme on bluesky"),
                        "hn": ("hackernews", "acme on hn")})
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    for alias, key in (("twitter", "x"), ("Twitter", "x"), ("x", "x"), ("bsky", "bsky"),
                       ("bluesky", "bsky"), ("hn", "hn")):
        assert listed(vigie, f"mentions source:{alias}") == [ids[key]], alias
        # what `vigie mentions --network ALIAS` asks for
        rows = search_mentions(vigie.runtime.sessions, workspace_id,
                               MentionFilter(network=alias), now=vigie.runtime.clock())
        assert [row.id for row in rows] == [ids[key]], alias
    # an alias and its network are one value, not a filter given twice
    assert listed(vigie, "mentions source:twitter source:x") == [ids["x"]]


def test_slack_escaped_links_and_channels_are_searched_as_typed(vigie: VigieApp) -> None:
    ids = store(vigie, {key: ("rss", TEXTS[key]) for key in ("domain", "hashtag", "word",
                                                             "handle")})
    # what Slack sends (should_escape) for a typed `status.acme.example`, `#panne`, `@here`
    assert listed(vigie, "mentions <https://status.acme.example|status.acme.example>") == [
        ids["domain"]]
    assert listed(vigie, "mentions acme -<https://status.acme.example|status.acme.example>"
                  ) == newest(ids["hashtag"], ids["word"], ids["handle"])
    assert listed(vigie, "mentions <#C0123ABCD|panne>") == [ids["hashtag"]]  # the hashtag only
    assert listed(vigie, "mentions panne") == newest(ids["hashtag"], ids["word"])
    assert listed(vigie, 'mentions "chez acme" -<#C0123ABCD|panne>') == [ids["word"]]
    # a typed @ana, when Slack knows an ana: <@U…|ana>
    assert listed(vigie, "mentions <@U0123ABCD|ana>") == [ids["handle"]]
    assert cli_ids(vigie, "status.acme.example") == ([ids["domain"]],) * 2
    assert cli_ids(vigie, "#panne") == ([ids["hashtag"]],) * 2
    exported = answer(vigie, "export 30d <#C0123ABCD|panne>")["text"]
    assert "The CSV of 1 mention(s)" in exported, exported


def test_a_bad_search_is_explained_in_the_readers_language(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    assert "unbalanced quote: this quote is never closed" in answer(
        vigie, 'mentions acme "free trial')["text"]
    answer(vigie, "lang fr")
    for typed, said in (
            ('mentions acme "free trial', "guillemet non fermé : ce guillemet n'est jamais "
                                          "refermé"),
            ("mentions acme OR", "OR doit se trouver entre deux termes"),
            ("mentions acme (", "parenthèse non fermée : cette '(' n'est jamais refermée"),
            ("mentions -spam", "une requête a besoin d'au moins un terme à chercher"),
            ("export 30d acme pa*nne", "'*' ne peut que terminer un mot"),
            (f"watch add beta <#{CHANNEL_ID}|feed> acme source:mastodn",
             "source inconnue 'mastodn' : vouliez-vous dire source:mastodon ?"),
            (f"watch add beta <#{CHANNEL_ID}|feed> acme AND", "AND doit se trouver entre")):
        text = answer(vigie, typed)["text"]
        assert said in text, (typed, text)
        assert "must" not in text and "unknown" not in text and "needs" not in text, text
    assert answer(vigie, 'mentions acme "x')["text"].startswith(
        "Cette recherche ne se lit pas : guillemet non fermé")


def test_a_misplaced_star_is_refused_where_a_query_is_typed(vigie: VigieApp) -> None:
    ids = store(vigie, {key: ("rss", TEXTS[key]) for key in ("hashtag", "word", "great")})
    for search in ("*anne", "*panne", "pa*nne", '"chez *acme"', "acme -pa*nne"):
        refused = answer(vigie, f"mentions {search}")["text"]
        assert "'*' can only end a word of at least 2 letters, as in refund*" in refused, (
            search, refused)
        assert "'*' can only end a word" in answer(
            vigie, f"watch add beta <#{CHANNEL_ID}|feed> {search}")["text"]
        assert "'*' can only end a word" in answer(vigie, f"export 30d {search}")["text"]
    assert listed(vigie, "mentions pan*") == newest(ids["hashtag"], ids["word"])  # a prefix
    answer(vigie, "lang fr")
    assert "'*' ne peut que terminer un mot d'au moins 2 lettres" in answer(
        vigie, "mentions *anne")["text"]


def test_a_stored_watch_with_a_misplaced_star_still_works(vigie: VigieApp) -> None:
    """A query an older Vigie stored (it read ``*panne`` as ``panne``) keeps loading and
    matching: only a newly typed query is refused."""
    answer(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:100 panne")
    with transaction(vigie.runtime.sessions) as session:
        session.scalars(select(Watch).where(Watch.name == "acme")).one().query = "*panne"
    source_id, secret = webhook_from_answer(answer(vigie, "source add webhook acme")["text"])
    now = datetime.now(UTC).isoformat()
    body = json.dumps([
        {"id": str(n), "url": f"https://example.org/{n}", "author": {"handle": "ana"},
         "text": text, "published_at": now}
        for n, text in enumerate(("une panne chez acme", "acme va bien"))]).encode()
    stored = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                        headers=webhook_headers(secret, body))
    assert stored.json()["stored"] == 1, stored.text
    listing = str(answer(vigie, "watch list")["blocks"])
    assert "*panne" in listing and "invalid query" not in listing, listing


def test_lang_and_from_are_part_of_the_search(vigie_sqlite: VigieApp) -> None:
    # They are the query language's fields: `/cm mentions lang:en acme` answered "`lang:en`
    # is not a filter" though `vigie mentions --text "lang:en acme"` searched it.
    vigie = vigie_sqlite
    ids = store(vigie, {"en": ("x", "acme is down again, I want a refund now"),
                        "fr": ("x", "acme est encore en panne, je veux être remboursé")})
    for search, expected in (("lang:en acme", [ids["en"]]), ("acme lang:fr", [ids["fr"]]),
                             ("from:u1 acme", [ids["fr"]]), ("acme -from:u1", [ids["en"]])):
        assert listed(vigie, f"mentions {search}") == expected, search
        assert cli_ids(vigie, search)[0] == expected, search
    refused = answer(vigie, "mentions colour:red acme")["text"]
    assert "`colour:red` is not a filter" in refused and "lang:fr" in refused


def test_filters_take_the_values_the_reader_sees(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    ids = store(vigie, {"bill": ("mastodon", "acme charged me twice, refund my invoice"),
                        "down": ("mastodon", "acme is down again, outage all morning")})
    with transaction(vigie.runtime.sessions) as session:
        for mention in session.scalars(select(Mention)):
            bill = mention.id == ids["bill"]
            mention.status = "new" if bill else "ignored"
            mention.sentiment_label = "negative" if bill else "positive"
    answer(vigie, "lang fr")
    for typed in ("status:nouveau", "status:Nouvelle", "status:new", "sentiment:négatif",
                  "sentiment:negatif", "sentiment:NÉGATIVE", "sentiment:negative",
                  "topic:facturation", "topic:paiement", "topic:billing"):
        assert listed(vigie, f"mentions {typed}") == [ids["bill"]], typed
    for typed in ("status:ignorée", "status:ignoree", "sentiment:positif", "topic:panne",
                  "topic:pannes"):
        assert listed(vigie, f"mentions {typed}") == [ids["down"]], typed
    topic = answer(vigie, "mentions topic:produit")["text"]
    assert "facturation, livraison, compte, panne, qualité, résiliation" in topic, topic
    status = answer(vigie, "mentions status:perdu")["text"]
    assert "utilisez : nouvelle, attribuée, brouillon, en_attente, validée" in status, status
    assert "négatif, neutre ou positif" in answer(vigie, "mentions sentiment:fâché")["text"]
    answer(vigie, "lang en")
    assert "billing, delivery, account, outage, quality, churn" in answer(
        vigie, "mentions topic:produit")["text"]
    assert listed(vigie, "mentions status:nouvelle sentiment:négatif") == [ids["bill"]]


def test_source_is_refused_or_searched_as_vigie_mentions_text_reads_it(vigie: VigieApp
                                                                      ) -> None:
    # `acme source:mastdon` listed nothing and `acme source:` everything, silently; a
    # source: in parentheses ended its group's ')' ("this '(' is never closed").
    ids = store(vigie, {"masto": ("mastodon", "acme on mastodon"), "x": ("x", "acme on x"),
                        "feed": ("news", "acme in the news")})
    for search, expected in (
            ("(acme source:mastodon)", [ids["masto"]]),
            ("(source:mastodon OR source:x) acme", newest(ids["masto"], ids["x"])),
            ("acme (source:x OR source:mastodon)", newest(ids["masto"], ids["x"])),
            ("acme source:mastodon", [ids["masto"]])):
        assert listed(vigie, f"mentions {search}") == expected, search
        assert cli_ids(vigie, search)[0] == expected, search
    assert listed(vigie, "mentions source:news") == [ids["feed"]]  # a feed's own label
    assert listed(vigie, "mentions source:mastodon status:replied") == []
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    for typed, said in (
            ("mentions acme source:mastdon", "unknown source 'mastdon': did you mean "
                                             "source:mastodon?"),
            ("mentions source:mastdon", "did you mean source:mastodon?"),
            ("mentions acme source:", "source: needs a value, as in source:mastodon"),
            ("mentions acme source:forum", "unknown source 'forum'")):
        text = answer(vigie, typed)["text"]
        assert text.startswith("That search does not parse: ") and said in text, (typed, text)
    # what `vigie mentions --network mastdon` asks for
    with pytest.raises(ServiceError, match=r"did you mean source:mastodon\?"):
        search_mentions(vigie.runtime.sessions, workspace_id, MentionFilter(network="mastdon"),
                        now=vigie.runtime.clock())
    answer(vigie, "lang fr")
    assert "vouliez-vous dire source:mastodon ?" in answer(
        vigie, "mentions acme source:mastdon")["text"]


def test_a_listing_filter_stands_alone_or_is_refused_naming_it(vigie: VigieApp) -> None:
    # `(status:new OR status:assigned) refund` answered "`assigned)` is not a status",
    # `-status:new` "unknown field status:", `status:new OR acme` and `status:new AND acme`
    # "OR/AND must stand between two terms", and an empty `watch:` listed every mention.
    ids = store(vigie, {"bill": ("mastodon", "acme charged me twice, refund please"),
                        "down": ("mastodon", "acme is down again")})
    with transaction(vigie.runtime.sessions) as session:
        for mention in session.scalars(select(Mention)):
            mention.status = "new" if mention.id == ids["bill"] else "ignored"
    for search, expected in (
            ("status:new AND acme", [ids["bill"]]),
            ("acme AND status:ignored", [ids["down"]]),
            ("acme AND status:new AND refund", [ids["bill"]]),
            ("acme AND since:1d AND status:new", [ids["bill"]])):
        assert listed(vigie, f"mentions {search}") == expected, search
    for search, name, typed in (
            ("(status:new OR status:assigned) refund", "status", "(status:new"),
            ("refund (status:new)", "status", "(status:new)"),
            ("(acme status:new)", "status", "status:new)"),
            ("acme -status:new", "status", "-status:new"),
            ("status:new OR acme", "status", "status:new"),
            ("acme AND refund OR status:new", "status", "status:new"),
            ("acme NOT status:new", "status", "status:new"),
            ("(sentiment:negative OR sentiment:neutral) acme", "sentiment",
             "(sentiment:negative"),
            ("acme (assignee:me OR refund)", "assignee", "(assignee:me"),
            ("(topic:billing OR topic:outage) acme", "topic", "(topic:billing"),
            ("(watch:acme OR refund)", "watch", "(watch:acme"),
            ("acme OR since:1d", "since", "since:1d")):
        text = answer(vigie, f"mentions {search}")["text"]
        assert text.startswith(f"`{name}:` filters the whole listing, so it stands on its "
                               f"own") and f"(`{typed}`)" in text, (search, text)
        assert "for several values, ask for each separately" in text, text
    for name, example in (("watch", "watch:acme"), ("status", "status:new"),
                          ("since", "since:24h"), ("assignee", "assignee:me")):
        text = answer(vigie, f"mentions acme {name}:")["text"]
        assert text == f"`{name}:` needs a value, as in `{example}`.", text
    answer(vigie, "lang fr")
    text = answer(vigie, "mentions (status:new OR status:assigned) remboursement")["text"]
    assert text.startswith("`status:` filtre toute la liste, il s'écrit donc seul"), text
    assert answer(vigie, "mentions watch:")["text"] == (
        "`watch:` attend une valeur, comme `watch:acme`.")


def test_a_nul_in_a_filter_is_answered_as_any_unknown_value(vigie: VigieApp) -> None:
    # PostgreSQL refuses a NUL in a text parameter: `watch:a<NUL>` and `source:a<NUL>`
    # failed the listing with an error id there (SQLite answered "no watch called"); a
    # lone surrogate failed both.
    ids = store(vigie, {"bill": ("mastodon", "acme charged me twice")})
    for typed, said in (
            ("mentions acme watch:a\x00", "There is no watch called `a\x00`"),
            ("mentions watch:a\x00", "There is no watch called `a\x00`"),
            ("mentions acme source:a\x00", "That search does not parse: invisible character "
                                            "(U+0000) here"),
            ("mentions source:\x00", "That search does not parse: invisible character"),
            ("export 7d watch:a\x00", "There is no watch called `a\x00`")):
        text = answer(vigie, typed)["text"]
        assert text.startswith(said), (typed, text)
    assert listed(vigie, "mentions acme source:mastodon") == [ids["bill"]]
    text = answer(vigie, "mentions acme\x00")["text"]  # in the search: the query's refusal
    assert text.startswith("That search does not parse: invisible character (U+0000) here"), text
    # `vigie mentions --watch/--network` given bytes that are no UTF-8 (read as lone
    # surrogates): neither database can take them
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    for filters, key in ((MentionFilter(watch="acme\udcff"), "watch.not_found"),
                         (MentionFilter(network="x\udcff"), "mentions.bad_text")):
        with pytest.raises(ServiceError) as refused:
            search_mentions(vigie.runtime.sessions, workspace_id, filters,
                            now=vigie.runtime.clock())
        assert refused.value.key == key, filters


def test_a_watch_query_holding_a_nul_is_refused(vigie: VigieApp) -> None:
    # `/cm watch add acme #feed a<NUL>b` failed with an error id on PostgreSQL (the query
    # is stored as typed) and stored the NUL on SQLite.
    text = answer(vigie, f"watch add acme <#{CHANNEL_ID}|feed> refund\x00please")["text"]
    assert "invisible character (U+0000) here, which a query cannot hold" in text, text
    assert answer(vigie, "watch list")["text"].startswith("No watches"), "stored"
    assert "created" in answer(vigie, f"watch add acme <#{CHANNEL_ID}|feed> refund please")[
        "text"]
