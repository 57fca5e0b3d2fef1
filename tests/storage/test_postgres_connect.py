"""PostgreSQL connections are bounded by default (the URL's own settings win) and in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
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


def test_sessions_are_in_utc_whatever_the_databases_time_zone(
        fresh_postgres_url: str, postgres_admin: Engine) -> None:
    # initdb copies the host's zone; date_trunc and ::date cut in the session's.
    name = make_url(fresh_postgres_url).database
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET timezone = 'Asia/Kolkata'")
    engine = make_engine(fresh_postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
            assert conn.exec_driver_sql(
                "SELECT date_trunc('hour', timestamptz '2026-11-20 14:20:00+00')"
            ).scalar() == datetime(2026, 11, 20, 14, tzinfo=UTC)
    finally:
        engine.dispose()
