"""Secrets at rest and in messages (issue 19, item 9): source tokens and Slack bot tokens
are stored encrypted when VIGIE_SECRET_KEY is set, legacy plain values still work and are
encrypted by a rotation, and a remote error repeating a token never reaches a user."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Response

from bot.config import load_settings
from bot.doctor import run_checks
from bot.logging_setup import MaskingTextFormatter, SecretMaskingFilter, mask_secrets
from bot.net.http import HttpClient
from bot.runtime import build_runtime
from bot.scheduler import build_scheduler
from bot.services import sources_admin
from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.polling import run_poll_tick
from bot.services.secrets import (
    MASK,
    do_rotate_secrets,
    redact,
    seal_plain_secrets,
    secret_values,
)
from bot.services.sources_admin import do_add_source, list_sources
from bot.slack.oauth import EncryptedInstallationStore
from bot.url_secrets import mask_url, url_credentials
from storage.db import make_engine, make_session_factory, transaction
from storage.models import AuditEvent, SourceRow
from storage.models_replies import ReplyPost
from storage.secret_box import PREFIX, SecretBox, SecretKeyError, generate_key
from tests.e2e.conftest import ADMIN_ID, VigieApp, start_vigie
from tests.e2e.test_listening import admin
from tests.harness.constants import USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.harness.webhooks import webhook_from_answer, webhook_headers

KEY, NEW_KEY = generate_key(), generate_key()
TOKEN = "mastotok-7f3a9c2e5b1d4f6a8c0e"


def client(_trusted: bool) -> HttpClient:
    return HttpClient()


@pytest.fixture
def keyed(db_url: str, sessions: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    """Sessions on the same database whose box holds KEY."""
    engine = make_engine(db_url)
    yield make_session_factory(engine, SecretBox([KEY]))
    engine.dispose()


def raw_config(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session:
        value = session.execute(select(SourceRow.__table__.c.config)).scalar_one()
    return value if isinstance(value, dict) else json.loads(value)


def add_mastodon(sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
                 httpserver: HTTPServer) -> None:
    do_add_source(sessions, workspace_id, CLI, kind="mastodon", watch_name=watch_name,
                  values={"base_url": httpserver.url_for("/").rstrip("/"), "query": "acme",
                          "access_token": TOKEN})


def test_a_source_token_is_stored_encrypted_and_sent_in_clear(
    keyed: sessionmaker[Session], workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    add_mastodon(keyed, workspace_id, watch_name, httpserver)
    stored = raw_config(keyed)
    assert TOKEN not in json.dumps(stored)
    assert stored["access_token"].startswith(PREFIX)
    assert stored["query"] == "acme"  # only secrets are encrypted
    httpserver.expect_request("/api/v1/timelines/tag/acme",
                              headers={"Authorization": f"Bearer {TOKEN}"}).respond_with_json([])
    report = run_poll_tick(keyed, client, force=True)
    assert report.failures == 0, [o.error for o in report.outcomes]
    assert list_sources(keyed, workspace_id)[0].settings["access_token"] == MASK


def test_a_remote_error_repeating_the_token_is_masked_everywhere(
    keyed: sessionmaker[Session], workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    add_mastodon(keyed, workspace_id, watch_name, httpserver)
    httpserver.expect_request("/api/v1/timelines/tag/acme").respond_with_json(
        {"error": f"The access token {TOKEN} is invalid"}, status=401)
    report = run_poll_tick(keyed, client, force=True)
    (outcome,) = report.outcomes
    assert outcome.error and TOKEN not in outcome.error and MASK in outcome.error
    (view,) = list_sources(keyed, workspace_id)
    assert view.last_error and TOKEN not in view.last_error and MASK in view.last_error
    with keyed() as session:
        stored_error = session.scalars(select(SourceRow.last_error)).one()
        assert stored_error and TOKEN not in stored_error
    with pytest.raises(ServiceError) as caught:
        sources_admin.test_source(keyed, workspace_id, CLI, view.id, client)
    assert TOKEN not in caught.value.message() and MASK in caught.value.message()


def test_an_error_stored_before_the_fix_is_masked_when_listed(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    add_mastodon(sessions, workspace_id, watch_name, httpserver)
    with transaction(sessions) as session:
        row = session.scalars(select(SourceRow)).one()
        row.last_error = f"toot.example refused access (HTTP 401): bad token {TOKEN}"
    (view,) = list_sources(sessions, workspace_id)
    assert view.last_error == f"toot.example refused access (HTTP 401): bad token {MASK}"


def test_plain_legacy_secrets_keep_working_and_rotation_encrypts_them(
    sessions: sessionmaker[Session], keyed: sessionmaker[Session], db_url: str,
    workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    add_mastodon(sessions, workspace_id, watch_name, httpserver)  # no key: stored in clear
    assert raw_config(sessions)["access_token"] == TOKEN
    httpserver.expect_request("/api/v1/timelines/tag/acme",
                              headers={"Authorization": f"Bearer {TOKEN}"}).respond_with_json([])
    assert run_poll_tick(keyed, client, force=True).failures == 0  # plain reads with a key
    with pytest.raises(SecretKeyError):
        do_rotate_secrets(sessions)
    assert do_rotate_secrets(keyed) == 1
    first = raw_config(keyed)["access_token"]
    assert first.startswith(PREFIX) and SecretBox([KEY]).open(first) == TOKEN
    engine = make_engine(db_url)
    try:
        rotated = make_session_factory(engine, SecretBox([NEW_KEY, KEY]))
        assert run_poll_tick(rotated, client, force=True).failures == 0  # old key decrypts
        assert do_rotate_secrets(rotated) == 1
        second = raw_config(rotated)["access_token"]
        assert SecretBox([NEW_KEY]).open(second) == TOKEN  # the old key can go
        with pytest.raises(SecretKeyError):
            SecretBox([KEY]).open(second)
        # A process that lost every key refuses to use the secret and says why.
        lost = make_session_factory(engine, SecretBox([generate_key()]))
        (outcome,) = run_poll_tick(lost, client, force=True).outcomes
        assert outcome.error and "VIGIE_SECRET_KEY" in outcome.error
    finally:
        engine.dispose()


def test_slack_tokens_are_encrypted_in_the_installation_store(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        legacy = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
        legacy.save(Installation(app_id="A1", team_id="T0LEGACY", user_id="U1",
                                 bot_token="xoxb-legacy-token-value", bot_id="B0",
                                 bot_user_id="U0", installed_at=time.time() - 60))
        store = EncryptedInstallationStore("111.222", engine, SecretBox([KEY]))
        store.save(Installation(app_id="A1", team_id="T0NEW", user_id="U1",
                                bot_token="xoxb-new-token-value", bot_id="B1",
                                bot_user_id="U2", user_token="xoxp-user-token-value"))
        with engine.connect() as conn:
            dump = json.dumps([list(map(str, r)) for table in ("slack_bots", "slack_installations")
                               for r in conn.execute(text(f"SELECT * FROM {table}"))])  # noqa: S608
        assert "xoxb-new-token-value" not in dump and "xoxp-user-token-value" not in dump
        assert "xoxb-legacy-token-value" in dump
        bot = store.find_bot(enterprise_id=None, team_id="T0NEW")
        assert bot is not None and bot.bot_token == "xoxb-new-token-value"
        found = store.find_installation(enterprise_id=None, team_id="T0NEW")
        assert found is not None and found.user_token == "xoxp-user-token-value"
        old = store.find_bot(enterprise_id=None, team_id="T0LEGACY")
        assert old is not None and old.bot_token == "xoxb-legacy-token-value"
        assert store.rotate_tokens() >= 3
        with engine.connect() as conn:
            dump = json.dumps([list(map(str, r)) for r in
                               conn.execute(text("SELECT bot_token FROM slack_bots"))])
        assert "xoxb-legacy" not in dump
        again = store.find_bot(enterprise_id=None, team_id="T0LEGACY")
        assert again is not None and again.bot_token == "xoxb-legacy-token-value"
    finally:
        engine.dispose()


def test_doctor_warns_without_a_key(sqlite_url: str) -> None:
    checks = {c.name: c for c in run_checks({"database_url": sqlite_url})}
    assert checks["secrets"].status == "WARN"
    assert "VIGIE_SECRET_KEY" in checks["secrets"].detail
    keyed = {c.name: c for c in run_checks({"database_url": sqlite_url,
                                            "secret_key": f"{NEW_KEY},{KEY}"})}
    assert keyed["secrets"].status == "OK"
    bad = run_checks({"database_url": sqlite_url, "secret_key": "not-a-key"})
    assert bad[0].status == "FAIL" and "VIGIE_SECRET_KEY" in bad[0].detail


def test_doctor_names_slack_tokens_no_key_opens(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        EncryptedInstallationStore("111.222", engine, SecretBox([KEY])).save(Installation(
            app_id="A1", team_id="T0SEALED", user_id="U1", bot_token="xoxb-sealed-token",
            bot_id="B1", bot_user_id="U2"))
    finally:
        engine.dispose()
    checks = {c.name: c for c in run_checks({"database_url": db_url, "secret_key": NEW_KEY})}
    assert checks["secrets"].status == "FAIL", checks["secrets"]
    detail = checks["secrets"].detail
    # The OAuth tables are not emptied between tests on PostgreSQL: ids and counts vary.
    assert "encrypted stored secret(s) cannot be opened with the keys set" in detail, detail
    assert re.search(r"slack_bots \d+ bot_token \(team T0SEALED\)", detail), detail
    assert re.search(r"slack_installations \d+ bot_token \(team T0SEALED\)", detail), detail
    assert "xoxb-sealed-token" not in detail
    keyed = {c.name: c for c in run_checks({"database_url": db_url,
                                            "secret_key": f"{NEW_KEY},{KEY}"})}
    assert "T0SEALED" not in keyed["secrets"].detail, keyed["secrets"]


@pytest.fixture
def vigie_keyed(db_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie's web app with VIGIE_SECRET_KEY set."""
    yield from start_vigie(db_url, slack_standin, secret_key=KEY)


def test_a_webhook_secret_is_encrypted_and_still_verifies(vigie_keyed: VigieApp) -> None:
    vigie = vigie_keyed
    admin(vigie, "watch add acme threshold:0")
    answer = admin(vigie, "source add webhook acme")
    source_id, secret = webhook_from_answer(answer)
    assert secret not in json.dumps(raw_config(vigie.runtime.sessions))
    body = json.dumps({"id": "s-1", "url": "https://hooks.example/1", "text": "acme",
                       "author": {"handle": "a"},
                       "published_at": datetime.now(UTC).isoformat()}).encode()
    ok = httpx.post(f"{vigie.url}/ingest/{source_id}", content=body,
                    headers=webhook_headers(secret, body))
    assert ok.status_code == 200 and ok.json()["stored"] == 1


@pytest.fixture
def vigie_keyed_sqlite(sqlite_url: str, slack_standin: SlackStandIn) -> Iterator[VigieApp]:
    """Vigie's web app on SQLite with VIGIE_SECRET_KEY set."""
    yield from start_vigie(sqlite_url, slack_standin, secret_key=KEY)


def test_a_network_error_repeating_the_token_is_masked_in_the_thread(
    vigie_keyed_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path,
) -> None:
    """The reply is posted with the token decrypted; when the network refuses it and
    repeats the token, the Slack thread and the stored error show it masked."""
    from tests.e2e.conftest import eventually
    from tests.e2e.test_posting import approve, mastodon_setup, reply_status
    from tests.e2e.test_workflow import settle, thread_notes
    from tests.publishers.fakes import Failure, FakeMastodon

    vigie = vigie_keyed_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    assert FakeMastodon.TOKEN not in json.dumps(raw_config(vigie.runtime.sessions))
    fake.failure = Failure(422, {"error": f"token {FakeMastodon.TOKEN} may not post here"})
    approve(vigie, mention_id)
    eventually(lambda: reply_status(vigie) == "failed", timeout=15)
    settle(vigie)
    notes = thread_notes(vigie)
    assert any("could not be posted" in note for note in notes)
    assert not any(FakeMastodon.TOKEN in note for note in notes), notes
    with vigie.runtime.sessions() as session:
        (error,) = session.scalars(select(ReplyPost.error)).all()
    assert error and FakeMastodon.TOKEN not in error and MASK in error


def test_a_webhook_whose_secret_no_key_opens_answers_503(
    keyed: sessionmaker[Session], db_url: str, workspace_id: int, watch_name: str,
) -> None:
    from bot.services.webhook_ingest import do_ingest_webhook

    view = do_add_source(keyed, workspace_id, CLI, kind="webhook", watch_name=watch_name,
                         values={})
    engine = make_engine(db_url)
    try:
        lost = make_session_factory(engine, SecretBox([NEW_KEY]))
        result = do_ingest_webhook(lost, view.id, b"[]", signature="sha256=00", timestamp=None)
    finally:
        engine.dispose()
    assert result.status == 503 and "cannot check signatures" in str(result.body["error"])


def test_a_feed_url_password_is_masked_where_the_source_is_shown(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    """A private feed's URL with basic authentication (``https://reader:pw@host/feed``) is
    listed with its password masked, and a server error repeating the password is masked
    too; the fetch still authenticates with it."""
    password = "s3cret-feed-pw"
    url = httpserver.url_for("/private.xml").replace("://", f"://reader:{password}@")
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": url})
    httpserver.expect_request("/private.xml").respond_with_data(
        f"wrong password {password} for reader", status=403)
    report = run_poll_tick(sessions, client, force=True)
    (outcome,) = report.outcomes
    assert outcome.error and password not in outcome.error
    (view,) = list_sources(sessions, workspace_id)
    assert view.settings["url"] == url.replace(password, MASK)
    assert "reader:" in view.settings["url"]
    assert view.last_error and password not in view.last_error
    (request, _response), = httpserver.log
    assert request.authorization is not None
    assert (request.authorization.username, request.authorization.password) == (
        "reader", password)


def test_a_url_password_is_masked_as_written_and_as_decoded() -> None:
    """``p%40ssw0rd`` in the URL is ``p@ssw0rd`` to the server, which may repeat it so."""
    config = {"url": "https://reader:p%40ssw0rd@feeds.example.org/feed.xml"}
    secrets = secret_values("rss", config)
    assert "p%40ssw0rd" in secrets and "p@ssw0rd" in secrets
    assert redact("bad password p@ssw0rd", secrets) == f"bad password {MASK}"
    assert mask_url(config["url"]) == f"https://reader:{MASK}@feeds.example.org/feed.xml"
    for url in ("https://feeds.example.org/a@b",
                "https://[::1]:8443/feed", "https://feeds.example.org/feed?q=acme&lang=en"):
        assert mask_url(url) == url  # no credentials: as it is


def test_a_user_name_alone_is_a_token_masked_and_counted_as_a_secret() -> None:
    """``https://TOKEN@host/`` (a GitHub token, a private feed's key) carries no password:
    the whole user info is the credential."""
    url = "https://ghp_Tok3nAlone99@feeds.example.org/feed.xml"
    assert mask_url(url) == f"https://{MASK}@feeds.example.org/feed.xml"
    assert url_credentials(url) == ["ghp_Tok3nAlone99"]
    assert "ghp_Tok3nAlone99" not in mask_secrets(f"GET {url} 401")


def test_credential_parameters_are_recognised_by_the_words_of_their_name() -> None:
    """GitLab's ``feed_token``, ``private_token``, ``apiToken``, ``X-Amz-Signature``...
    are credentials whatever their case or separators; a search's ``keyword`` or a
    WordPress ``author`` stay readable."""
    names = ["feed_token", "private_token", "auth_token", "apiToken", "access_key",
             "X-Amz-Signature", "X-Amz-Security-Token", "client-secret", "sessionId",
             "jsessionid", "APIKey", "Authorization", "passwd", "jwt", "hmac_sig"]
    url = "https://gitlab.example.org/g/p.atom?" + "&".join(
        f"{name}=v{i}Secret" for i, name in enumerate(names)) + "&keyword=acme&author=7&q=x"
    masked = mask_url(url)
    assert "Secret" not in masked and masked.count(MASK) == len(names)
    assert masked.endswith("&keyword=acme&author=7&q=x")
    assert {f"v{i}Secret" for i in range(len(names))} == set(url_credentials(url))
    assert mask_secrets(f"HTTP Request: GET {url} 200") == f"HTTP Request: GET {masked} 200"


def test_a_feed_token_added_from_slack_is_encrypted_hidden_from_members_and_fetched(
    vigie_keyed: VigieApp, httpserver: HTTPServer, shared_data: Path,
) -> None:
    """The security review's GitLab Atom feed: a plain member's `source list` showed its
    ``feed_token`` and the row held it in clear. Now masked, encrypted, and the poll
    still sends it."""
    vigie = vigie_keyed
    admin(vigie, "watch add acme")
    workspace = vigie.runtime.workspaces.ensure("T07VIGIE01")
    url = httpserver.url_for("/g/p.atom") + "?feed_token=glft-TOPSECRET123&lang=en"
    do_add_source(vigie.runtime.sessions, workspace.id, CLI, kind="rss", watch_name="acme",
                  values={"url": url})
    stored = raw_config(vigie.runtime.sessions)
    assert stored["url"].startswith(PREFIX) and SecretBox([KEY]).open(stored["url"]) == url
    vigie.slack.slash_command("source list", user_id=USER_ID)  # a plain member
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
    listing = json.dumps(vigie.standin.responses()[-1], ensure_ascii=False)
    assert "TOPSECRET123" not in listing and f"feed_token={MASK}" in listing
    assert "lang=en" in listing
    feed = (shared_data / "feeds" / "rssparser__guardian.rss").read_bytes()
    httpserver.expect_request("/g/p.atom").respond_with_data(
        feed, content_type="application/rss+xml")
    report = run_poll_tick(vigie.runtime.sessions, client, force=True)
    assert report.failures == 0, [o.error for o in report.outcomes]
    (request, _response), = httpserver.log
    assert request.args["feed_token"] == "glft-TOPSECRET123"


def test_plain_feed_tokens_are_encrypted_when_the_scheduler_starts(
    sessions: sessionmaker[Session], keyed: sessionmaker[Session], db_url: str,
    workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    """A row an older Vigie stored with its ``?feed_token=`` in clear (it did not know the
    name), or written before a key was set: the scheduler's first job encrypts it; an
    encrypted value is left alone, and without a key nothing changes."""
    url = httpserver.url_for("/g/p.atom") + "?feed_token=glft-TOPSECRET123"
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": url})
    with transaction(sessions) as session:
        session.scalars(select(SourceRow)).one().last_error = f"HTTP 403 for {url}"
    assert seal_plain_secrets(sessions) == 0 and raw_config(sessions)["url"] == url
    runtime = build_runtime(load_settings(database_url=db_url, secret_key=KEY))
    try:
        job = build_scheduler(runtime, blocking=False).get_job("seal_secrets")
        assert job is not None
        job.func(*job.args)
    finally:
        runtime.close()
    stored = raw_config(keyed)
    assert SecretBox([KEY]).open(stored["url"]) == url
    assert seal_plain_secrets(keyed) == 0 and raw_config(keyed) == stored
    with keyed() as session:
        assert "TOPSECRET123" not in (session.scalars(select(SourceRow.last_error)).one() or "")


PASSWORD, API_KEY = "PwSecret123", "TopSecret456"


def credential_url(httpserver: HTTPServer, path: str = "/feed.xml") -> str:
    """A feed URL carrying both kinds of credentials, as the operator review wrote it."""
    return (httpserver.url_for(path).replace("://", f"://alice:{PASSWORD}@")
            + f"?apikey={API_KEY}&lang=en")


def shows_no_secret(text: str) -> bool:
    return PASSWORD not in text and API_KEY not in text


def test_query_string_credentials_are_masked_and_counted_as_secrets() -> None:
    """The documented parameters (any case, ``-`` as ``_``) are masked; others stay."""
    url = ("https://feeds.example.org/f?q=acme&Api-Key=k%2Fey12&token=t0k3n"
           "&sig=s1g&lang=en&key=&auth=abcd")
    assert mask_url(url) == (f"https://feeds.example.org/f?q=acme&Api-Key={MASK}"
                             f"&token={MASK}&sig={MASK}&lang=en&key=&auth={MASK}")
    found = url_credentials(url)
    assert {"k%2Fey12", "k/ey12", "t0k3n", "s1g", "abcd"} <= set(found)
    assert "acme" not in found and "en" not in found
    assert redact("bad key k/ey12", secret_values("rss", {"url": url})) == f"bad key {MASK}"
    assert url_credentials("not a url ?token=abc") == []


def test_a_feed_url_with_credentials_is_stored_encrypted_and_fetched_in_clear(
    keyed: sessionmaker[Session], workspace_id: int, watch_name: str, httpserver: HTTPServer,
    shared_data: Path,
) -> None:
    """With a key, the URL is encrypted whole in the row; the poll sends the real URL
    (password and apikey); what is shown and audited masks both."""
    url = credential_url(httpserver)
    added = do_add_source(keyed, workspace_id, CLI, kind="rss", watch_name=watch_name,
                          values={"url": url})
    assert shows_no_secret(json.dumps(added.settings))
    stored = raw_config(keyed)
    assert shows_no_secret(json.dumps(stored)) and stored["url"].startswith(PREFIX)
    assert SecretBox([KEY]).open(stored["url"]) == url
    feed = (shared_data / "feeds" / "rssparser__guardian.rss").read_bytes()
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed, content_type="application/rss+xml")
    report = run_poll_tick(keyed, client, force=True)
    assert report.failures == 0, [o.error for o in report.outcomes]
    (request, _response), = httpserver.log
    assert request.args["apikey"] == API_KEY and request.args["lang"] == "en"
    assert request.authorization is not None
    assert (request.authorization.username, request.authorization.password) == (
        "alice", PASSWORD)
    (view,) = list_sources(keyed, workspace_id)
    assert view.settings["url"] == url.replace(PASSWORD, MASK).replace(API_KEY, MASK)
    with keyed() as session:
        details = [event.detail for event in session.scalars(select(AuditEvent))]
    assert details and shows_no_secret(json.dumps(details))
    # The same feed added again is still found the same, though encrypted.
    with pytest.raises(ServiceError) as caught:
        do_add_source(keyed, workspace_id, CLI, kind="rss", watch_name=watch_name,
                      values={"url": url})
    assert caught.value.key == "source.exists"


def test_a_fetch_error_echoing_the_url_never_shows_its_credentials(
    keyed: sessionmaker[Session], workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    """The server repeats the URL it was asked for, apikey included: the outcome (what
    `vigie poll --once` prints), the stored health, `source test` and Vigie's log lines
    (even httpx's own at DEBUG, which name the URL) show it masked."""
    url = credential_url(httpserver)
    view = do_add_source(keyed, workspace_id, CLI, kind="rss", watch_name=watch_name,
                         values={"url": url})
    httpserver.expect_request("/feed.xml").respond_with_handler(
        lambda request: Response(json.dumps({"error": f"no access to {request.url}"}),
                                 status=403, content_type="application/json"))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretMaskingFilter())
    handler.setFormatter(MaskingTextFormatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        report = run_poll_tick(keyed, client, force=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    (outcome,) = report.outcomes
    assert outcome.error and shows_no_secret(outcome.error), outcome.error
    assert f"apikey={MASK}" in outcome.error
    (listed,) = list_sources(keyed, workspace_id)
    assert listed.last_error and shows_no_secret(listed.last_error)
    with pytest.raises(ServiceError) as caught:
        sources_admin.test_source(keyed, workspace_id, CLI, view.id, client)
    assert shows_no_secret(caught.value.message())
    logged = stream.getvalue()
    assert "/feed.xml?apikey=" in logged and shows_no_secret(logged), logged


def test_rotate_encrypts_a_feed_url_stored_in_clear(
    sessions: sessionmaker[Session], keyed: sessionmaker[Session], db_url: str,
    workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    """A row written before a key was set (or before this fix) holds its URL in clear;
    `vigie secrets rotate` encrypts it, and a later rotation re-encrypts it."""
    url = credential_url(httpserver)
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": url})
    assert raw_config(sessions)["url"] == url  # no key: in clear, as documented
    with transaction(sessions) as session:
        session.scalars(select(SourceRow)).one().last_error = f"HTTP 403 for {url}"
    assert do_rotate_secrets(keyed) == 1
    stored = raw_config(keyed)
    assert shows_no_secret(json.dumps(stored)) and SecretBox([KEY]).open(stored["url"]) == url
    with keyed() as session:
        assert shows_no_secret(session.scalars(select(SourceRow.last_error)).one() or "")
    engine = make_engine(db_url)
    try:
        rotated = make_session_factory(engine, SecretBox([NEW_KEY, KEY]))
        assert do_rotate_secrets(rotated) == 1
        assert SecretBox([NEW_KEY]).open(raw_config(rotated)["url"]) == url
    finally:
        engine.dispose()


def test_slack_source_list_masks_a_feed_urls_credentials(
    vigie_keyed: VigieApp, httpserver: HTTPServer,
) -> None:
    vigie = vigie_keyed
    admin(vigie, "watch add acme")
    workspace = vigie.runtime.workspaces.ensure("T07VIGIE01")
    do_add_source(vigie.runtime.sessions, workspace.id, CLI, kind="rss", watch_name="acme",
                  values={"url": credential_url(httpserver)})
    response = vigie.slack.slash_command("source list", user_id=ADMIN_ID)
    assert response.status_code == 200
    # The answer comes through response_url, its blocks holding each source's settings.
    vigie.standin.wait_until(lambda standin: len(standin.responses()) > 0)
    listing = json.dumps(vigie.standin.responses()[-1], ensure_ascii=False)
    assert "source(s)" in listing and "alice:" in listing and "lang=en" in listing
    assert shows_no_secret(listing) and MASK in listing


def test_a_feeds_mentions_never_carry_its_url_credentials(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, httpserver: HTTPServer,
) -> None:
    """An entry without a link used to take the feed's URL, credentials and all, as its
    link (shown on the alert card); a relative link was resolved against it too."""
    url = credential_url(httpserver)
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": url})
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Private</title>
      <item><guid isPermaLink="false">item-1</guid><title>acme one</title>
        <description>acme without a link</description><pubDate>{now}</pubDate></item>
      <item><guid isPermaLink="false">item-2</guid><title>acme two</title>
        <link>posts/2</link><description>acme relative</description>
        <pubDate>{now}</pubDate></item>
    </channel></rss>"""
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed, content_type="application/rss+xml")
    report = run_poll_tick(sessions, client, force=True)
    assert report.failures == 0, [o.error for o in report.outcomes]
    with sessions() as session:
        stored = session.execute(text("select url, mentions.* from mentions")).all()
    assert len(stored) == 2
    assert all(shows_no_secret(json.dumps([str(v) for v in row])) for row in stored), stored
    assert any(row[0].endswith("/posts/2") for row in stored), stored
