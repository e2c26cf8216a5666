"""Whether a PostgreSQL server is there for the tests: ``INMAIL_PG_URL`` (CI starts one)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

PG = os.environ.get("INMAIL_PG_URL")
needs_pg = pytest.mark.skipif(not PG, reason="set INMAIL_PG_URL to run the PostgreSQL tests")


def backend_ender(url: str) -> Callable[[], int]:
    """A function that ends every other connection to ``url``'s database (``pg_terminate_backend``,
    waiting up to 5 s for each to go) and says how many it ended: a server that dropped its clients."""
    import sqlalchemy as sa

    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = sa.engine.make_url(url).database

    def end_backends() -> int:
        with admin.connect() as c:
            return len(
                c.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE datname = %(db)s AND pid <> pg_backend_pid()",
                    {"db": name},
                ).all()
            )

    return end_backends
