"""`vigie watch add --competitor --group`, `vigie watch kind`, `vigie watch group ...` and
`vigie stats --sov` (text, CSV, JSON Lines) in the terminal, with their errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from bot.cli import listening as _listening  # noqa: F401  (registers watch)
from bot.cli import reporting as _reporting  # noqa: F401  (registers stats)
from bot.cli.root import main
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, Watch


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_groups_and_share_of_voice_from_the_terminal(cli_env: dict[str, str]) -> None:
    assert _run(cli_env, "watch", "add", "acme", "--query", "acme", "--channel",
                "C07SOCIAL1")[0] == 0
    code, out = _run(cli_env, "watch", "add", "rivalo", "--query", "rivalo", "--channel",
                     "C07VEILLE1", "--competitor")
    assert code == 0 and "Competitor watch rivalo created" in out
    code, out = _run(cli_env, "watch", "group", "create", "acme-vs", "acme")
    assert code == 2 and "at least one brand watch and one competitor" in out
    code, out = _run(cli_env, "watch", "group", "create", "acme-vs", "acme", "rivalo",
                     "--conquest")
    assert code == 0 and "competitors rivalo" in out and "conquest opportunities on" in out
    code, out = _run(cli_env, "watch", "add", "beta", "--query", "b", "--channel", "C07SOCIAL1",
                     "--group", "nope")
    assert code == 2 and "no watch group called 'nope'" in out
    code, out = _run(cli_env, "watch", "kind", "beta", "rival")
    assert code == 2 and "kind:competitor" in out
    code, out = _run(cli_env, "watch", "list")
    assert "competitor" in out and "group acme-vs" in out
    code, out = _run(cli_env, "watch", "remove", "rivalo")
    assert code == 2 and "last competitor watch of group 'acme-vs'" in out
    assert "vigie watch group delete acme-vs" in out and "Traceback" not in out
    code, out = _run(cli_env, "watch", "remove", "acme")
    assert code == 2 and "last brand watch of group 'acme-vs'" in out
    code, out = _run(cli_env, "watch", "group", "list")
    assert "brand acme; competitors rivalo" in out
    engine = make_engine(cli_env["VIGIE_DATABASE_URL"])
    now = datetime.now(UTC)
    with transaction(make_session_factory(engine)) as session:
        for n, (name, label, reach) in enumerate([("acme", "positive", 100),
                                                  ("acme", "negative", 50),
                                                  ("rivalo", "negative", 850)]):
            watch = session.query(Watch).filter_by(name=name).one()
            session.add(Mention(workspace_id=watch.workspace_id, watch_id=watch.id,
                                network="rss", external_id=str(n), url="u", text="t",
                                published_at=now - timedelta(hours=1), sentiment_label=label,
                                reach=reach))
    engine.dispose()
    code, out = _run(cli_env, "stats", "--sov", "--period", "7d")
    assert code == 0, out
    assert "acme: 2 mention(s) · 67%" in out and "reach 15%" in out and "rivalo" in out
    code, out = _run(cli_env, "stats", "--sov", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    overall = {r["watch"]: r for r in rows if r["network"] == "all"}
    assert overall["rivalo"]["reach_share"] == "0.85" and overall["acme"]["mentions"] == "2"
    assert {r["network"] for r in rows} == {"all", "rss"}
    code, out = _run(cli_env, "stats", "--sov", "--format", "jsonl", "--group", "acme-vs")
    assert json.loads(out.splitlines()[0])["group"] == "acme-vs"
    code, out = _run(cli_env, "stats", "--sov", "--period", "week")
    assert code == 2 and "not a period for share of voice" in out
    code, out = _run(cli_env, "stats", "--sov", "--group", "nope")
    assert code == 2 and "no watch group called 'nope'" in out
    for args in (("--format", "csv"), ("--group", "acme-vs")):  # --sov's options alone
        code, out = _run(cli_env, "stats", *args)
        assert code == 2 and "apply to --sov only" in out, out
    code, out = _run(cli_env, "stats", "--help")
    assert "7d, 30d or 90d; with --sov also 1d" in " ".join(out.split())
    assert _run(cli_env, "watch", "group", "conquest", "acme-vs", "off")[0] == 0
    code, out = _run(cli_env, "watch", "group", "list")
    assert "conquest opportunities off" in out
    assert "Group acme-vs deleted" in _run(cli_env, "watch", "group", "delete", "acme-vs")[1]
