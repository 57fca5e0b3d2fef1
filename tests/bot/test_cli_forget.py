"""`vigie forget` from the terminal, as the first-run review did it: the forgotten author's
posts do not come back through another source on the same feed, `vigie poll` says so, and
`vigie forget --undo` lets them be stored again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.bot.test_cli import vigie

NOW = datetime.now(UTC).replace(microsecond=0)
ENTRIES = [("bob-1", "angry_bob", "Acme is a scam, they stole my money and my data"),
           ("bob-2", "angry_bob", "Still no refund from Acme, I will sue them all"),
           ("ann-1", "ann", "Acme delivered my parcel early, thanks a lot")]


def atom() -> str:
    body = "".join(
        f"<entry><id>{entry_id}</id><title>{text}</title>"
        f"<link href='https://forum.example/{entry_id}'/><author><name>{author}</name>"
        f"</author><updated>{(NOW - timedelta(minutes=n + 1)).isoformat()}</updated></entry>"
        for n, (entry_id, author, text) in enumerate(ENTRIES))
    return f"<feed xmlns='http://www.w3.org/2005/Atom'><title>Forum</title>{body}</feed>"


def authors(tmp_path: Path) -> list[str]:
    listed = vigie(tmp_path, "mentions", "--json", "--limit", "50")
    assert listed.returncode == 0, listed.stderr
    return sorted(row["author"] for row in json.loads(listed.stdout))


def test_forget_from_the_terminal_keeps_the_author_out_until_undone(
        tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        atom(), content_type="application/atom+xml")
    url = httpserver.url_for("/feed")
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    for n, watch in enumerate(("acme", "acme2", "acme3")):
        assert vigie(tmp_path, "watch", "add", watch, "--query", "acme", "--channel",
                     f"C0NEWS12{n}").returncode == 0
    assert vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url", url
                 ).returncode == 0
    assert vigie(tmp_path, "poll", "--once").returncode == 0
    forgot = vigie(tmp_path, "forget", "angry_bob")
    assert forgot.returncode == 0, forgot.stderr
    assert "Deleted 1 author record(s) and 2 mention(s)" in forgot.stdout
    assert "no source will store their posts again" in forgot.stdout
    # Someone Vigie never stored is kept out from their first post, not refused.
    unseen = vigie(tmp_path, "forget", "@quiet_carol")
    assert unseen.returncode == 0, unseen.stderr
    assert "Nothing by @quiet_carol is stored yet" in unseen.stdout
    assert "Their future posts will not be kept" in unseen.stdout

    assert vigie(tmp_path, "source", "add", "rss", "--watch", "acme2", "--url", url
                 ).returncode == 0
    polled = vigie(tmp_path, "poll", "--once", "--source", "2")
    assert polled.returncode == 0, polled.stderr
    assert "0 new" in polled.stdout and "2 by forgotten authors dropped" in polled.stdout
    assert "angry_bob@forum.example" not in authors(tmp_path)

    undone = vigie(tmp_path, "forget", "--undo", "@angry_bob")
    assert undone.returncode == 0, undone.stderr
    assert "no longer forgotten" in undone.stdout
    again = vigie(tmp_path, "forget", "--undo", "angry_bob")
    assert again.returncode == 2 and "is not forgotten" in again.stderr
    assert vigie(tmp_path, "source", "add", "rss", "--watch", "acme3", "--url", url
                 ).returncode == 0
    assert "2 new" in vigie(tmp_path, "poll", "--once", "--source", "3").stdout
    # Their byline on the forum's site.
    assert authors(tmp_path).count("angry_bob@forum.example") == 2
