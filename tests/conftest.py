"""Fixtures every test folder may use: a fresh PostgreSQL database (``pg_url``), when CI has a server.

``INMAIL_PG_URL`` names the server; each test creates (and drops) its own
database on it, so the URL's database is only used to connect. Without the
variable a test that asks for ``pg_url`` skips.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.pg import PG


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG:
        pytest.skip("set INMAIL_PG_URL to run the PostgreSQL tests")
    name = f"inmail_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.engine.make_url(PG).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()
