"""While posting an approved reply keeps failing with errors worth retrying, its card says
so: that it failed, why (the network's words escaped), and when Vigie tries again, not
"Posting the approved reply…" for half an hour. Mastodon stand-in; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from bot.services.cards import load_card_view
from bot.services.http_clients import http_factory
from bot.services.replies import flush_replies
from bot.slack.cards import build_card
from storage.db import transaction
from storage.models import Mention
from storage.models_replies import ReplyPost
from tests.e2e.conftest import VigieApp
from tests.e2e.test_posting import mastodon_setup
from tests.e2e.test_workflow import card, settle
from tests.harness.replies import queue_approved_reply
from tests.publishers.fakes import Failure, FakeMastodon

NOW = datetime.now(UTC).replace(microsecond=0)


def _queue(vigie: VigieApp, mention_id: int) -> None:
    """Approve ``mention_id`` with its reply queued, due now, as approval leaves it."""
    with transaction(vigie.runtime.sessions) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        queue_approved_reply(session, mention, network="mastodon", key="k-1",
                             due=NOW - timedelta(minutes=1))


class Down(Failure):
    """Every write answers 503 (the client's own retry too)."""

    def __init__(self, fake: FakeMastodon) -> None:
        super().__init__(503, {"error": "Service Unavailable"})
        self.fake = fake

    def respond(self, request: Request) -> Response:
        """503, and the next write too."""
        self.fake.failure = self
        return super().respond(request)


def _row(vigie: VigieApp) -> ReplyPost:
    with vigie.runtime.sessions() as session:
        return session.scalars(select(ReplyPost)).one()


def test_a_failed_attempt_shows_on_the_card_with_the_next_one(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    # Reported: the card said "Posting the approved reply…" through all five retries
    # (about 31 minutes), no word of the failures.
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    _queue(vigie, mention_id)
    fake.failure = Down(fake)
    outcomes = flush_replies(vigie.runtime.sessions, http_factory(vigie.runtime.settings),
                             now=NOW)
    assert [outcome.status for outcome in outcomes] == ["pending"]
    row = _row(vigie)
    retry_at = row.next_attempt_at.replace(tzinfo=UTC)
    assert row.attempts == 1 and retry_at > NOW
    settle(vigie)  # the card update queued with the failure goes out
    shown = str(card(vigie, mention_id)["blocks"])
    assert "Posting the approved reply failed (Mastodon did not confirm the reply" in shown
    assert "HTTP 503" in shown and f"<!date^{int(retry_at.timestamp())}^" in shown
    assert "tries again at" in shown
    # The next failure moves the time on the card.
    flush_replies(vigie.runtime.sessions, http_factory(vigie.runtime.settings),
                  now=retry_at + timedelta(seconds=1))
    later = _row(vigie).next_attempt_at.replace(tzinfo=UTC)
    assert later > retry_at
    settle(vigie)
    assert f"<!date^{int(later.timestamp())}^" in str(card(vigie, mention_id)["blocks"])


def test_the_retry_line_escapes_a_networks_words_in_english_and_french(
        vigie: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    # A reply failed by an older release keeps the network's words alone (no phrase).
    _fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    _queue(vigie, mention_id)
    with transaction(vigie.runtime.sessions) as session:
        row = session.scalars(select(ReplyPost)).one()
        row.attempts, row.next_attempt_at = 2, NOW + timedelta(minutes=3)
        row.error = "Gateway says <!channel> *down* <https://evil.example|click>"
    with vigie.runtime.sessions() as session:
        view = load_card_view(session, mention_id)
        assert view is not None
        english, french = str(build_card(view, "en")), str(build_card(view, "fr"))
    assert "Posting the approved reply…" not in english
    assert "&lt;!channel&gt;" in english and "<!channel>" not in english
    assert "&lt;https://evil.example|click&gt;" in english
    assert "Vigie tries again at <!date^" in english
    assert "La publication de la réponse validée a échoué (Gateway says &lt;!channel&gt;" \
        in french and "Vigie réessaie d'elle-même à <!date^" in french
