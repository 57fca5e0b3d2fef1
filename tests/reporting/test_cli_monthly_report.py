"""`vigie report --month YYYY-MM --format pdf|html [--out FILE]` in the terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from bot.cli import reporting as _reporting  # noqa: F401  (registers report)
from bot.cli.root import main
from storage.db import make_engine, make_session_factory
from tests.reporting.dataset import build_dataset


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    """Settings for a migrated SQLite database holding the hand-counted data set."""
    engine = make_engine(sqlite_url)
    build_dataset(make_session_factory(engine))
    engine.dispose()
    return {"VIGIE_DATABASE_URL": sqlite_url, "VIGIE_TIMEZONE": "UTC",
            "SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}


def test_pdf_and_html_files(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "october.pdf"
    result = CliRunner().invoke(main, ["report", "--month", "2026-10", "--out", str(out)],
                                env=env)
    assert result.exit_code == 0, result.output
    assert "Report of 2026-10 (16 mention(s)) written to" in result.output
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert len(reader.pages) >= 3
    assert "Monthly report · 2026-10" in reader.pages[0].extract_text()
    page = tmp_path / "october.html"
    result = CliRunner().invoke(main, ["report", "--month", "2026-10", "--format", "html",
                                       "--out", str(page)], env=env)
    assert result.exit_code == 0, result.output
    assert "Top influencers" in page.read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".*.part"))  # written in place only when complete


@pytest.mark.parametrize("args, message", [
    (["--month", "2026-13"], "is not a month"),
    (["--month", "2999-01"], "has not started yet"),
    (["--month", "2026-10", "--format", "docx"], "Invalid value for '--format'"),
    (["--month", "2026-10", "--out", "/nonexistent-folder/r.pdf"], "does not exist"),
    (["--month", "2026-10", "--out", ""], "Error: --out needs a file name."),
    (["--month", "2026-10", "--out", "/proc/r.pdf"],
     "Error: cannot write /proc/r.pdf: No such file or directory."),
])
def test_bad_inputs(env: dict[str, str], tmp_path: Path, args: list[str], message: str
                    ) -> None:
    result = CliRunner().invoke(main, ["report", *args], env=env)
    assert result.exit_code == 2 and message in result.output, result.output
    assert isinstance(result.exception, SystemExit)  # a line, not a traceback
