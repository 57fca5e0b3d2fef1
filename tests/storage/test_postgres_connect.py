"""PostgreSQL connections are bounded by default; the URL's own settings win."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from storage.db import make_engine

pytestmark = pytest.mark.postgres


def _dsn(url: str) -> dict[str, str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            dsn = conn.connection.dbapi_connection.info.dsn  # type: ignore[union-attr]
    finally:
        engine.dispose()
    return dict(part.split("=", 1) for part in dsn.split())


def test_connections_time_out_and_keep_alive_unless_the_url_says_otherwise(
        fresh_postgres_url: str) -> None:
    dsn = _dsn(fresh_postgres_url)
    assert dsn["connect_timeout"] == "5" and dsn["keepalives"] == "1", dsn
    assert dsn["tcp_user_timeout"] == "30000", dsn
    chosen = make_url(fresh_postgres_url).update_query_dict({"connect_timeout": "9"})
    assert _dsn(chosen.render_as_string(hide_password=False))["connect_timeout"] == "9"
