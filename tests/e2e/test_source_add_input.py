"""`/cm source add|test` as a French (and an English) team types it: feed URLs with query
strings, mistyped addresses, missing settings, unknown kinds and network refusals get a
specific answer in the reader's language."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.polling import run_poll_tick
from bot.services.sources_admin import do_add_source
from tests.e2e.conftest import ADMIN_ID, VigieApp, start_vigie
from tests.e2e.test_listening import admin
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import TEAM_ID
from tests.harness.slack_standin import SlackStandIn
from tests.harness.webhooks import webhook_headers


@pytest.fixture
def local_feeds(sqlite_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie allowed to fetch this machine's test servers from Slack (as an admin would
    allow an intranet feed server)."""
    yield from start_vigie(sqlite_url, slack_standin,
                           allowed_source_hosts=["localhost", "127.0.0.1"])


def slack_link(url: str) -> str:
    """``url`` as Slack sends a typed link: in <...>, with &, < and > escaped."""
    return "<" + url.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + ">"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_feed_urls_with_query_strings_are_added(local_feeds: VigieApp, httpserver: HTTPServer,
                                                shared_data: Path, language: str) -> None:
    """Google News and YouTube feed addresses have ``=`` and ``&`` in them."""
    vigie = local_feeds
    admin(vigie, f"lang {language}")
    admin(vigie, "watch add marque marque")
    feed = (shared_data / "feeds" / "rssparser__guardian.rss").read_bytes()
    news_query = {"q": "marque", "hl": "fr", "gl": "FR", "ceid": "FR:fr"}
    httpserver.expect_request("/rss/search", query_string=news_query).respond_with_data(
        feed, content_type="application/xml")
    httpserver.expect_request("/feeds/videos.xml", query_string={"channel_id": "UC42"}
                              ).respond_with_data(feed, content_type="application/xml")
    added = "Source #" if language == "en" else "Source n°"
    news = slack_link(httpserver.url_for("/rss/search") + "?q=marque&hl=fr&gl=FR&ceid=FR:fr")
    youtube = slack_link(httpserver.url_for("/feeds/videos.xml") + "?channel_id=UC42")
    for text in (f"source add rss marque {news}",
                 f"source add rss marque {youtube} network=youtube"):
        answer = admin(vigie, text)
        assert answer.startswith(added), answer
        source_id = answer.removeprefix(added).split(" ", 1)[0]
        tested = admin(vigie, f"source test {source_id}")
        assert "item(s) fetched" in tested or "élément(s) récupéré(s)" in tested, tested
    # The server answered only the exact query strings: & was unescaped, = kept.
    assert [request.args.to_dict() for request, _ in httpserver.log] == [
        news_query, {"channel_id": "UC42"}]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Vigie will not fetch `url`. The address must start with http:// or https://."),
    ("fr", "Vigie ne récupérera pas `url`. L'adresse doit commencer par http:// ou https://."),
])
def test_a_mistyped_address_is_named_as_such(vigie_sqlite: VigieApp, language: str,
                                             expected: str) -> None:
    vigie = vigie_sqlite
    admin(vigie, f"lang {language}")
    admin(vigie, "watch add marque marque")
    answer = admin(vigie, "source add rss marque htps://exemple.fr/flux.xml")
    assert answer == expected


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["The bluesky source cannot be added. Missing settings: handle, app_password. "
            "`/cm help source bluesky` lists its settings.",
            "Unknown settings: colour", "`limit` must be at most 40",
            "`mode` must be one of: hashtag, search", "`limit` must be a whole number"]),
    ("fr", ["La source bluesky ne peut pas être ajoutée. Réglages manquants : handle, "
            "app_password. `/cm help source bluesky` détaille ses réglages.",
            "Réglages inconnus : colour", "`limit` doit valoir au plus 40",
            "`mode` doit valoir l'une de ces valeurs : hashtag, search",
            "`limit` doit être un nombre entier"]),
])
def test_bad_settings_are_named_in_the_readers_language(vigie_sqlite: VigieApp, language: str,
                                                        expected: list[str]) -> None:
    vigie = vigie_sqlite
    admin(vigie, f"lang {language}")
    admin(vigie, "watch add marque marque")
    missing, unknown, too_large, choice, number = expected
    assert admin(vigie, "source add bluesky marque query=marque") == missing
    answers = [admin(vigie, "source add mastodon marque query=marque colour=red"),
               admin(vigie, "source add mastodon marque query=marque limit=500"),
               admin(vigie, "source add mastodon marque query=marque mode=tout"),
               admin(vigie, "source add mastodon marque query=marque limit=beaucoup")]
    for answer, part in zip(answers, (unknown, too_large, choice, number), strict=True):
        assert part in answer, answer
        assert "Field required" not in answer and "Input should" not in answer, answer


@pytest.mark.parametrize(("language", "unknown_kind", "unresolved", "loopback"), [
    ("en", "Unknown source kind `rsss`: choose one of bluesky, hackernews, mastodon, reddit, "
           "rss, webhook, x.",
     "Vigie will not fetch `url`. Could not resolve host exemple.invalid: check the address.",
     "Vigie will not fetch `url`. 127.0.0.1 points to a loopback address (127.0.0.1). An "
     "admin can allow a private host with VIGIE_ALLOWED_SOURCE_HOSTS."),
    ("fr", "Type de source `rsss` inconnu : choisissez parmi bluesky, hackernews, mastodon, "
           "reddit, rss, webhook, x.",
     "Vigie ne récupérera pas `url`. L'hôte exemple.invalid est introuvable : vérifiez "
     "l'adresse.",
     "Vigie ne récupérera pas `url`. 127.0.0.1 désigne une adresse de bouclage (127.0.0.1). "
     "Un admin peut autoriser un hôte privé avec VIGIE_ALLOWED_SOURCE_HOSTS."),
])
def test_kind_and_host_refusals_are_in_the_readers_language(
        vigie_sqlite: VigieApp, language: str, unknown_kind: str, unresolved: str,
        loopback: str) -> None:
    """The private-host hint only where an allowlist would help, and said once."""
    vigie = vigie_sqlite
    admin(vigie, f"lang {language}")
    admin(vigie, "watch add marque marque")
    assert admin(vigie, "source add rsss marque <https://exemple.fr/flux.xml>") == unknown_kind
    assert admin(vigie, "source add rss marque <https://exemple.invalid/flux.xml>"
                 ) == unresolved
    assert admin(vigie, "source add rss marque <http://127.0.0.1:8080/flux.xml>") == loopback


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["This address serves a web page, not an RSS or Atom feed.",
            "Nothing found at this address on localhost (HTTP 404).",
            "localhost had a server error (HTTP 500).",
            "This address does not serve an RSS or Atom feed.",
            "Redirect loop at localhost."]),
    ("fr", ["Cette adresse sert une page web, pas un flux RSS ou Atom.",
            "Rien à cette adresse sur localhost (HTTP 404).",
            "localhost a eu une erreur serveur (HTTP 500).",
            "Cette adresse ne sert pas de flux RSS ou Atom.",
            "Boucle de redirections sur localhost."]),
])
def test_source_test_failures_are_in_the_readers_language(
        vigie_sqlite: VigieApp, httpserver: HTTPServer, language: str,
        expected: list[str]) -> None:
    vigie = vigie_sqlite
    admin(vigie, f"lang {language}")
    admin(vigie, "watch add marque marque")
    httpserver.expect_request("/page").respond_with_data(
        "<!DOCTYPE html><html><body>Accueil</body></html>", content_type="text/html")
    httpserver.expect_request("/missing").respond_with_data("", status=404)
    httpserver.expect_request("/boom").respond_with_data("", status=500)
    httpserver.expect_request("/note").respond_with_data(
        '<?xml version="1.0"?><note>bonjour</note>', content_type="application/xml")
    loop = httpserver.url_for("/loop").replace("127.0.0.1", "localhost")
    httpserver.expect_request("/loop").respond_with_data("", status=302,
                                                         headers={"Location": loop})
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    paths = ("/page", "/missing", "/boom", "/note", "/loop")
    for path, message in zip(paths, expected, strict=True):
        url = httpserver.url_for(path).replace("127.0.0.1", "localhost")
        view = do_add_source(vigie.runtime.sessions, workspace.id, CLI, kind="rss",
                             watch_name="marque", values={"url": url})
        answer = admin(vigie, f"source test {view.id}")
        head = (f"Source #{view.id} could not be fetched. " if language == "en"
                else f"La source n°{view.id} n'a pas pu être récupérée. ")
        assert answer == head + message


def test_source_list_health_is_in_the_readers_language(vigie: VigieApp,
                                                       httpserver: HTTPServer) -> None:
    """A failing poll's error is stored with its catalogue reasons: `/cm source list` words
    it for each reader (French here, English after `/cm lang en`)."""
    admin(vigie, "lang fr")
    admin(vigie, "watch add marque marque")
    httpserver.expect_request("/page").respond_with_data(
        "<!DOCTYPE html><html><body>Accueil</body></html>", content_type="text/html")
    httpserver.expect_request("/missing").respond_with_data("", status=404)
    workspace = vigie.runtime.workspaces.ensure(TEAM_ID)
    for path in ("/page", "/missing"):
        url = httpserver.url_for(path).replace("127.0.0.1", "localhost")
        do_add_source(vigie.runtime.sessions, workspace.id, CLI, kind="rss",
                      watch_name="marque", values={"url": url})
    report = run_poll_tick(vigie.runtime.sessions, lambda _t: HttpClient(), force=True)
    assert report.failures == 2

    def listed() -> str:
        assert vigie.slack.slash_command("source list", user_id=ADMIN_ID).status_code == 200
        vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
        blocks = vigie.standin.responses()[-1]["blocks"]
        vigie.standin.clear()
        assert validate_blocks(blocks, "message") == []
        return "\n".join(block["text"]["text"] for block in blocks if "text" in block)

    french = listed()
    assert "1 échec(s) d'affilée : Cette adresse sert une page web, pas un flux RSS ou Atom" \
        in french, french
    assert "1 échec(s) d'affilée : Rien à cette adresse sur localhost (HTTP 404)" in french
    assert "web page" not in french and "nothing found" not in french
    admin(vigie, "lang en")
    english = listed()
    assert "1 failure(s) in a row: This address serves a web page, not an RSS or Atom feed" \
        in english, english
    assert "1 failure(s) in a row: Nothing found at this address on localhost (HTTP 404)" \
        in english


@pytest.mark.parametrize(("typed", "sent"), [
    ('query=\'"acme app" lang:en\'', '"acme app" lang:en'),
    ('query="\\"acme app\\" lang:en"', '"acme app" lang:en'),
    ('query="“acme app” lang:en"', '"acme app" lang:en'),
    ("query=“«acme app» -is:retweet”", '"acme app" -is:retweet'),
    ('query="acme app -is:retweet"', "acme app -is:retweet"),
    # Smart quotes (macOS, iOS) as typed after "=": an opening or a closing one.
    ("query=“acme app”", "acme app"),
    ("query=”acme app”", "acme app"),
    ("query=“acme app“", "acme app"),
    ("query=’acme app’", "acme app"),
    ("query=”«acme app» lang:en”", '"acme app" lang:en'),
    ("query=l'appli", "l'appli"),
    ("query=l’appli", "l’appli"),
    ('query="<#C0123ABCD|acme> OR url:<http://acme.com|acme.com>"', "#acme OR url:acme.com"),
    ('query="acme &amp; co"', "acme & co"),
])
def test_an_x_query_reaches_x_as_typed(local_feeds: VigieApp, httpserver: HTTPServer,
                                        typed: str, sent: str) -> None:
    """Quotes around a setting's value group its words; quotes inside it are the phrase
    quotes X reads (straightened), and Slack's markup comes back as typed (#acme, the
    link's text)."""
    vigie = local_feeds
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        {"meta": {"result_count": 0}})
    admin(vigie, "watch add acme acme")
    base = httpserver.url_for("").rstrip("/")
    answer = admin(vigie, f"source add x acme {typed} bearer_token=T base_url={base}")
    assert answer.startswith("Source #"), answer
    source_id = answer.removeprefix("Source #").split(" ", 1)[0]
    admin(vigie, f"source test {source_id}")
    assert [request.args["query"] for request, _ in httpserver.log] == [sent]


X_REFUSALS = {
    403: {"errors": [{"message": "You currently have access to a subset of X API V2 endpoints "
                      "only.", "code": 453}]},
    400: {"errors": [{"parameters": {"query": ["acme <!channel> OR"]},
                      "message": "Ambiguous use of or as a keyword near <!channel> & co. "
                                 "(at position 6)"}],
          "title": "Invalid Request",
          "detail": "One or more parameters to your request was invalid.",
          "type": "https://api.twitter.com/2/problems/invalid-request"},
}


@pytest.mark.parametrize(("language", "expected"), [
    ("en", {403: "Source #1 could not be fetched. localhost refused access (HTTP 403): You "
                 "currently have access to a subset of X API V2 endpoints only (code 453). The "
                 "X developer plan of this bearer token does not include recent search (GET "
                 "/2/tweets/search/recent): the app needs an X API plan that does.",
            400: "Source #1 could not be fetched. localhost answered HTTP 400: Ambiguous use "
                 "of or as a keyword near &lt;!channel&gt; &amp; co. (at position 6)."}),
    ("fr", {403: "La source n°1 n'a pas pu être récupérée. localhost a refusé l'accès (HTTP "
                 "403): You currently have access to a subset of X API V2 endpoints only (code "
                 "453). L'offre développeur X de ce bearer token n'inclut pas la recherche "
                 "récente (GET /2/tweets/search/recent) : l'app a besoin d'une offre de l'API "
                 "X qui l'inclut.",
            400: "La source n°1 n'a pas pu être récupérée. localhost a répondu HTTP 400: "
                 "Ambiguous use of or as a keyword near &lt;!channel&gt; &amp; co. (at "
                 "position 6)."}),
])
@pytest.mark.parametrize("status", [403, 400])
def test_x_s_reason_for_a_refusal_is_shown(local_feeds: VigieApp, httpserver: HTTPServer,
                                           language: str, expected: dict[int, str],
                                           status: int) -> None:
    """X's first error (message and code) is what `/cm source test` shows, escaped; a plan
    without recent search is named as such, not as a token problem."""
    vigie = local_feeds
    admin(vigie, f"lang {language}")
    httpserver.expect_request("/2/tweets/search/recent").respond_with_json(
        X_REFUSALS[status], status=status)
    admin(vigie, "watch add acme acme")
    base = httpserver.url_for("").rstrip("/")
    admin(vigie, f"source add x acme query=acme bearer_token=T base_url={base}")
    assert admin(vigie, "source test 1") == expected[status]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Source #1 could not be fetched. r/acme is private: Reddit does not show it to "
           "this app."),
    ("fr", "La source n°1 n'a pas pu être récupérée. r/acme est privé : Reddit ne le montre "
           "pas à cette app."),
])
def test_a_private_subreddit_is_named_as_such(local_feeds: VigieApp, httpserver: HTTPServer,
                                              language: str, expected: str) -> None:
    """Reddit's 403 for a private subreddit is not called a refused access."""
    vigie = local_feeds
    admin(vigie, f"lang {language}")
    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_json(
        {"access_token": "tok", "token_type": "bearer", "expires_in": 86400, "scope": "*"})
    httpserver.expect_request("/r/acme/comments").respond_with_json(
        {"reason": "private", "message": "Forbidden", "error": 403}, status=403)
    admin(vigie, "watch add acme acme")
    base = httpserver.url_for("").rstrip("/")
    answer = admin(vigie, f"source add reddit acme mode=comments subreddit=acme client_id=I "
                          f"client_secret=S auth_url={base}/api/v1/access_token "
                          f"api_base={base}")
    assert answer.startswith("Source"), answer
    assert admin(vigie, "source test 1") == expected


def test_a_webhook_secret_is_kept_as_typed(vigie_sqlite: VigieApp) -> None:
    # Phrase quotes are read in search queries only: a shared secret with guillemets or
    # curly quotes must stay what the sender signs with, or every push is refused.
    vigie = vigie_sqlite
    admin(vigie, "watch add marque marque")
    typed = "ab«cd»ef“gh”-long-enough-secret"
    answer = admin(vigie, f"source add webhook marque secret={typed}")
    source_id = int(answer.split("#")[1].split(" ")[0])
    body = json.dumps({"id": "1", "url": "https://forum.example/t/1", "text": "marque",
                       "author": {"handle": "ana"},
                       "published_at": datetime.now(UTC).isoformat()}).encode()
    pushed = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                        headers=webhook_headers(typed, body))
    assert pushed.status_code == 200, pushed.text
