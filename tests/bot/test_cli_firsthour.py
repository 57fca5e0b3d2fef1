"""The `vigie` command as a newcomer meets it: real processes on a real SQLite file."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

from tests.bot.test_cli import VIGIE, _default_sigint, _env, vigie


def _ready(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0


def test_watch_test_tries_a_query_on_stored_mentions(tmp_path: Path) -> None:
    _ready(tmp_path)
    tried = vigie(tmp_path, "watch", "test", "acme AND NOT (jobs OR hiring)", "--since", "7d")
    assert tried.returncode == 0, tried.stderr
    assert tried.stdout.splitlines()[:2] == [
        "Query: mentions containing acme, excluding jobs or hiring",
        "0 of 0 mention(s) published in the last 7d match.",
    ]
    bad = vigie(tmp_path, "watch", "test", "acme lang:xx")
    assert bad.returncode == 2 and "unknown language code 'xx'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_small_cli_defects_of_issue_17(tmp_path: Path) -> None:
    _ready(tmp_path)
    version = vigie(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("vigie ")
    poll = vigie(tmp_path, "poll")  # --once is the only mode: no "Missing option"
    assert poll.returncode == 0 and "No source to poll" in poll.stdout, poll.stderr
    assert vigie(tmp_path, "mentions", "--since", "10000d").stdout.strip() == "No mentions match."
    missing = vigie(tmp_path, "watch", "pause", "nope")
    assert missing.returncode == 2
    assert "vigie watch list shows them" in missing.stderr and "/cm" not in missing.stderr
    channel = vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel", "#social")
    assert channel.returncode == 2 and "C0123ABCD" in channel.stderr
    assert "mention it as" not in channel.stderr
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel",
                 "C0SOCIAL1").returncode == 0
    hostless = vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url", "http://")
    assert hostless.returncode == 2 and "no host name" in hostless.stderr
    hook = vigie(tmp_path, "source", "add", "webhook", "--watch", "acme")
    assert hook.returncode == 0, hook.stderr
    assert "never polled" in hook.stdout and "every 0 min" not in hook.stdout
    listed = vigie(tmp_path, "source", "list")
    assert "pushed to /ingest/1" in listed.stdout
    nope = vigie(tmp_path, "digest", "--preview", "--channel", "C0NOPE")
    assert nope.returncode == 2
    assert "No digest goes to C0NOPE" in nope.stderr and "C0SOCIAL1" in nope.stderr
    assert "--- #C0SOCIAL1" in vigie(tmp_path, "digest", "--preview").stdout


def test_a_failed_export_leaves_the_previous_file(tmp_path: Path) -> None:
    _ready(tmp_path)
    previous = tmp_path / "prev.csv"
    previous.write_text("yesterday's export\n", encoding="utf-8")
    failed = vigie(tmp_path, "export", "--since", "forever", "--output", str(previous))
    assert failed.returncode == 2 and "not a duration" in failed.stderr
    assert previous.read_text(encoding="utf-8") == "yesterday's export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".prev.csv")] == []
    done = vigie(tmp_path, "export", "--since", "7d", "--output", str(previous))
    assert done.returncode == 0, done.stderr
    assert previous.read_text(encoding="utf-8-sig").startswith("id,")


def test_non_utf8_argument_is_one_clear_line(tmp_path: Path) -> None:
    _ready(tmp_path)
    result = subprocess.run([*VIGIE, b"watch", b"add", b"caf\xe9", b"--channel", b"C0SOCIAL1"],
                            cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                            timeout=120, check=False)
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 2
    assert stderr.strip() == ("Error: argument 3 (caf\\xe9) is not valid UTF-8: check the "
                              "terminal's encoding (LANG=C.UTF-8) and type it again.")
    assert "Watch" not in result.stdout.decode()
    assert vigie(tmp_path, "watch", "list").stdout.startswith("No watches yet")


SLACK_MARKUP = re.compile(r"<!date|<https?://|<@|<#|<!|:[a-z][a-z0-9_+-]*:|&lt;|&gt;|&amp;|"
                          r"(?<![\w*])\*[^*\n]+\*(?![\w*])|`")


def test_demo_shows_real_alerts_in_plain_text(tmp_path: Path) -> None:
    _ready(tmp_path)
    env = {"VIGIE_TIMEZONE": "Europe/Paris"}
    shown = vigie(tmp_path, "demo", **env)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.count("=== alert [C0VIGIEDEMO] ===") >= 2
    assert "Created the watch 'demo'" in out and "1 filtered out by the query" in out
    assert SLACK_MARKUP.findall(out) == []
    assert " CET " in out and " UTC" not in out  # dates in the configured zone
    assert "Open post (https://example.com/demo/" in out  # links as text
    again = vigie(tmp_path, "demo", **env)
    assert again.returncode == 0 and "Reused the watch 'demo'" in again.stdout
    assert "Nothing new" in again.stdout and "=== alert" not in again.stdout
    mentions = vigie(tmp_path, "mentions", "--watch", "demo", "--json")
    assert len(json.loads(mentions.stdout)) == 7
    assert "Source" not in vigie(tmp_path, "source", "list").stdout  # no dangling source
    assert "vigie demo --remove" in shown.stdout  # not 'watch remove', which kept them

    # Only the demo watch: `vigie run` does not offer to feed it a real source.
    lines = _run_first_lines(tmp_path, 4)
    assert lines[1].startswith("Only the demo watch is here"), lines
    assert "--watch demo" not in "".join(lines)
    removed = vigie(tmp_path, "demo", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == ("Removed the demo watch and 7 fictional mention(s) "
                                      "(7 author(s)).")
    assert json.loads(vigie(tmp_path, "mentions", "--json").stdout) == []
    assert "demo" not in vigie(tmp_path, "watch", "list").stdout
    again = vigie(tmp_path, "demo", "--remove")
    assert again.returncode == 0 and "no demo watch here" in again.stdout


def _run_first_lines(tmp_path: Path, count: int) -> list[str]:
    """The first ``count`` lines `vigie run` prints, then Ctrl-C."""
    proc = subprocess.Popen([*VIGIE, "run"], cwd=tmp_path, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(count)]
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    return lines


def test_console_start_says_what_to_do_next(tmp_path: Path) -> None:
    _ready(tmp_path)
    lines = _run_first_lines(tmp_path, 3)
    assert "console mode" in lines[0]
    assert lines[1].startswith("Nothing to watch yet")
    assert "vigie demo" in lines[2]


def test_source_interval_out_of_range_is_one_clear_line(tmp_path: Path) -> None:
    # A huge --interval overflowed Python's timedelta (OverflowError traceback) before the
    # range was checked; 0 and -3 already had this line.
    _ready(tmp_path)
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel",
                 "C0SOCIAL1").returncode == 0
    for kind, url, interval in [("rss", "http://x.example/a.rss", "999999999999999999999"),
                                ("webhook", None, "999999999999999999999"),
                                ("rss", "http://x.example/a.rss", "0"),
                                ("rss", "http://x.example/a.rss", "1441")]:
        args = ["source", "add", kind, "--watch", "acme", "--interval", interval]
        result = vigie(tmp_path, *args, *(["--url", url] if url else []))
        assert result.returncode == 2, result.stderr
        assert result.stderr == ("Error: The interval must be between 1 and 1440 minutes; "
                                 f"got {interval}.\n")
    assert "Source" not in vigie(tmp_path, "source", "list").stdout
    added = vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url",
                  "http://x.example/a.rss", "--interval", "1440")
    assert added.returncode == 0 and "every 1440 min" in added.stdout, added.stderr


def test_demo_channel_is_checked_and_moves_the_demo_watch(tmp_path: Path) -> None:
    # A bad --channel was a ServiceError traceback; a new one was ignored once the demo
    # watch existed ("Reused", alerts still in the first channel).
    _ready(tmp_path)
    bad_channel = ("Error: 'bad' is not a Slack channel id: give it like C0123ABCD (in Slack: "
                   "channel details > About, at the bottom).\n")
    bad = vigie(tmp_path, "demo", "--channel", "bad")
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", bad_channel)
    assert vigie(tmp_path, "watch", "list").stdout.startswith("No watches yet")
    # The demo watch as a first `vigie demo` leaves it, before any post is stored.
    assert vigie(tmp_path, "watch", "add", "demo", "--query", "acme -jobs -hiring",
                 "--channel", "C0VIGIEDEMO").returncode == 0
    moved = vigie(tmp_path, "demo", "--channel", "C0OTHER001")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("Moved the watch 'demo' from C0VIGIEDEMO to C0OTHER001: "
                                   "its alerts go there now.\n")
    assert moved.stdout.count("=== alert [C0OTHER001] ===") >= 2
    assert "[C0VIGIEDEMO]" not in moved.stdout
    listed = vigie(tmp_path, "watch", "list").stdout
    assert "C0OTHER001" in listed and "C0VIGIEDEMO" not in listed
    again = vigie(tmp_path, "demo", "--channel", "C0OTHER001")
    assert again.returncode == 0 and "Moved" not in again.stdout
    assert "Reused the watch 'demo'" in again.stdout
    bad = vigie(tmp_path, "demo", "--channel", "bad")
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", bad_channel)
    assert "C0OTHER001" in vigie(tmp_path, "watch", "list").stdout


def test_demo_prints_the_demo_watchs_own_query_and_threshold(tmp_path: Path) -> None:
    # It printed the defaults ("acme -jobs -hiring", ">= 40") even for a demo watch whose
    # query and threshold were changed since.
    _ready(tmp_path)
    first = vigie(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    assert "(query: acme -jobs -hiring, alerts at priority >= 40)" in first.stdout
    assert vigie(tmp_path, "watch", "threshold", "demo", "70").returncode == 0
    again = vigie(tmp_path, "demo")
    assert again.returncode == 0, again.stderr
    assert "Reused the watch 'demo' (query: acme -jobs -hiring, alerts at priority >= 70)" \
        in again.stdout
    assert vigie(tmp_path, "watch", "remove", "demo").returncode == 0
    assert vigie(tmp_path, "watch", "add", "demo", "--query", "acme OR cloud", "--channel",
                 "C0VIGIEDEMO", "--alert-threshold", "85").returncode == 0
    own = vigie(tmp_path, "demo")
    assert own.returncode == 0, own.stderr
    assert "Reused the watch 'demo' (query: acme OR cloud, alerts at priority >= 85)" \
        in own.stdout
