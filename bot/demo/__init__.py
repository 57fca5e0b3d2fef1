"""The bundled sample feed of `vigie demo`: fictional posts served as RSS on loopback.

The posts are stored as data (``sample_mentions.json``) and rendered with publication
times just before now, so the demo's mentions are fresh whenever it runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

FEED_PATH = "/sample-feed.xml"
SAMPLE_LINK = "https://example.com/demo/"
"""Every sample post's link starts with this: how `vigie demo --remove` knows them."""


def sample_items() -> list[dict[str, Any]]:
    """The fictional posts of the demo, as stored."""
    data = json.loads(resources.files(__package__).joinpath("sample_mentions.json").read_text(
        encoding="utf-8"))
    return list(data["items"])


def sample_feed(now: datetime) -> bytes:
    """The sample posts as an RSS 2.0 document, published just before ``now``."""
    items = []
    for item in sample_items():
        published = format_datetime(now.astimezone(UTC) - timedelta(minutes=item["minutes_ago"]))
        link = f"{SAMPLE_LINK}{item['id']}"
        items.append(
            f"<item><guid isPermaLink=\"false\">{escape(item['id'])}</guid>"
            f"<title>{escape(item['title'])}</title><link>{link}</link>"
            f"<author>{escape(item['author'])}@example.com ({escape(item['author'])})</author>"
            f"<pubDate>{published}</pubDate>"
            f"<description>{escape(item['text'])}</description></item>")
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
            "<title>Sample social feed (Vigie demo)</title><link>https://example.com/demo</link>"
            "<description>Fictional posts for Vigie's demo</description>"
            + "".join(items) + "</channel></rss>").encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != FEED_PATH:
            self.send_error(404)
            return
        body = sample_feed(datetime.now(UTC))
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo prints its own lines."""


@contextmanager
def serve_sample_feed() -> Iterator[str]:
    """Serve the sample feed on a free loopback port; yield its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, name="vigie-demo-feed", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{FEED_PATH}"
    finally:
        server.shutdown()
        server.server_close()
