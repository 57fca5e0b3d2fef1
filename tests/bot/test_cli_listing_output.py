"""What `vigie mentions` and `vigie watch test` print, on a real SQLite file, as a user
reads it: handles as the network writes them, a search error's pointer under its column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from storage.db import make_engine, make_session_factory, transaction
from storage.models import Author, Mention, Watch
from tests.bot.test_cli import vigie

HANDLES = [("x", "@ana"), ("bluesky", "@bob.bsky.social"), ("mastodon", "@cy@m.social"),
           ("reddit", "u/dee"), ("rss", "Eve Reporter")]


def _store_mentions(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'vigie.db'}")
    try:
        sessions = make_session_factory(engine)
        now = datetime.now(UTC)
        with transaction(sessions) as session:
            watch = session.scalars(select(Watch).where(Watch.name == "acme")).one()
            for n, (network, handle) in enumerate(HANDLES):
                author = Author(workspace_id=watch.workspace_id, network=network,
                                handle=handle)
                session.add(author)
                session.flush()
                session.add(Mention(
                    workspace_id=watch.workspace_id, watch_id=watch.id, author_id=author.id,
                    network=network, external_id=str(n), url=f"https://example.org/{n}",
                    text=f"acme post {n}", published_at=now - timedelta(minutes=n)))
    finally:
        engine.dispose()


def test_listings_show_each_handle_as_the_network_writes_it(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme",
                 "--channel", "C0ACME123").returncode == 0
    _store_mentions(tmp_path)
    listed = vigie(tmp_path, "mentions")
    tried = vigie(tmp_path, "watch", "test", "acme", "--since", "1d")
    for shown in (listed, tried):
        assert shown.returncode == 0, shown.stderr
        for _network, handle in HANDLES:
            assert f" {handle}: acme post" in shown.stdout, (handle, shown.stdout)
        assert "@@" not in shown.stdout and "@u/" not in shown.stdout
        assert "@Eve" not in shown.stdout


def test_a_search_error_points_under_the_column_it_names(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    for args in (("mentions", "--text", 'acme "x'), ("watch", "test", 'acme "x')):
        failed = vigie(tmp_path, *args)
        assert failed.returncode == 2 and "Traceback" not in failed.stderr
        lines = failed.stderr.splitlines()
        typed = next(i for i, line in enumerate(lines) if line.endswith('acme "x'))
        pointer = lines[typed + 1]
        assert "`" not in lines[typed] + pointer, failed.stderr
        # the pointer's caret sits under the opening quote, column for column
        assert lines[typed][pointer.index("^")] == '"', failed.stderr


def test_polling_a_source_that_is_not_there_says_so(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme",
                 "--channel", "C0ACME123").returncode == 0
    hook = vigie(tmp_path, "source", "add", "webhook", "--watch", "acme")
    assert hook.returncode == 0, hook.stderr
    missing = vigie(tmp_path, "poll", "--source", "9999", "--source", "1")
    assert missing.returncode == 2, missing.stdout + missing.stderr
    assert "Not polled: #9999 is no source of this database" in missing.stderr
    assert "Not polled: #1 is a webhook: its sender posts to /ingest/1" in missing.stderr
    assert "vigie source add" not in missing.stdout  # there are sources: not "add one"
    tested = vigie(tmp_path, "source", "test", "1")
    assert tested.returncode == 2 and "Fetched" not in tested.stdout
    assert "Source #1 is a webhook: Vigie fetches nothing from it" in tested.stderr
    assert "/ingest/1" in tested.stderr


def test_terminal_errors_name_the_terminal_command_not_slack(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--channel", "C0ACME123").returncode == 0
    for args, fix in ((("watch", "unroute", "acme", "--topic", "outage"),
                       "vigie watch routes acme"),
                      (("account", "remove", "x", "@nobody"), "vigie account list"),
                      (("forget", "@"), "vigie forget @ana")):
        refused = vigie(tmp_path, *args)
        assert refused.returncode == 2 and fix in refused.stderr, (args, refused.stderr)
        assert "/cm" not in refused.stderr and "`" not in refused.stderr, refused.stderr


def test_an_empty_filter_is_refused_not_read_as_no_filter(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    for option in ("--since", "--status", "--network", "--text", "--watch"):
        refused = vigie(tmp_path, "mentions", option, " ")
        assert refused.returncode == 2, (option, refused.stdout)
        assert "Traceback" not in refused.stderr and option in refused.stderr, refused.stderr


def test_eval_refuses_a_language_no_model_reads(tmp_path: Path) -> None:
    labelled = tmp_path / "lines.tsv"
    labelled.write_text("complaint\tmy parcel never came\nnot_complaint\tlove it\n")
    sentiment = tmp_path / "sentiment.tsv"
    sentiment.write_text("negative\tawful\npositive\tgreat\n")
    for kind, file in (("complaint", labelled), ("sentiment", sentiment)):
        refused = vigie(tmp_path, "eval", kind, str(file), "--lang", "xx")
        assert refused.returncode == 2 and "no model reads 'xx'" in refused.stderr, (
            kind, refused.stderr)
        assert "Traceback" not in refused.stderr
        assert vigie(tmp_path, "eval", kind, str(file), "--lang", "EN").returncode == 0


def test_network_option_takes_the_network_aliases(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme",
                 "--channel", "C0ACME123").returncode == 0
    _store_mentions(tmp_path)
    for args, handle in ((("--network", "twitter"), "@ana"), (("--network", "Twitter"), "@ana"),
                         (("--network", "bsky"), "@bob.bsky.social"),
                         (("--network", "twitter", "--network", "x"), "@ana")):
        shown = vigie(tmp_path, "mentions", *args)
        assert shown.returncode == 0, shown.stderr
        listed = [line for line in shown.stdout.splitlines() if line.startswith("#")]
        assert len(listed) == 1 and f" {handle}: acme post" in listed[0], (args, shown.stdout)
