"""/readyz when the SQLite file is deleted under the running process."""

from __future__ import annotations

import io
import json
import logging
import os
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.web import WSGIApp, build_wsgi_app


def _get(app: WSGIApp, path: str) -> tuple[int, dict[str, Any]]:
    started: dict[str, Any] = {}

    def start_response(status: str, _headers: list[tuple[str, str]],
                       _exc: Any = None) -> None:
        started["status"] = int(status.split(" ", 1)[0])

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "wsgi.input": io.BytesIO(b"")}
    body = b"".join(app(environ, start_response))
    return started["status"], json.loads(body)


def test_readyz_is_503_once_the_sqlite_file_is_deleted(
        sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """It stayed 200 while the process wrote into the unlinked file, lost at restart."""
    runtime = build_runtime(load_settings(database_url=sqlite_url))
    try:
        app = build_wsgi_app(runtime, None, ingest=False)  # as a worker serves it
        assert _get(app, "/readyz") == (200, {"status": "ready"})
        path = make_url(sqlite_url).database
        assert path is not None
        os.remove(path)
        with caplog.at_level(logging.ERROR, logger="storage.db"):
            assert _get(app, "/readyz") == (503, {"status": "database unreachable",
                                                  "error": "DatabaseFileGone"})
        assert any(path in record.getMessage() for record in caplog.records
                   if record.levelno >= logging.ERROR)
    finally:
        runtime.close()
