"""Crash-and-load suite (GitHub issue 8, item 6).

Run it alone, with the figures each test measures::

    .venv/bin/pytest tests/resilience -s

It is part of the normal ``pytest`` run too. Tests marked ``postgres`` need the local
PostgreSQL server (``VIGIE_TEST_POSTGRES_URL``); the others use SQLite files. Children are
real ``python -m bot.cli`` processes (or small scripts next to the tests) killed with
SIGKILL at seeded random points, then run to completion.
"""
