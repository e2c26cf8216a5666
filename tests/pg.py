"""Whether a PostgreSQL server is there for the tests: ``INMAIL_PG_URL`` (CI starts one)."""

from __future__ import annotations

import os

import pytest

PG = os.environ.get("INMAIL_PG_URL")
needs_pg = pytest.mark.skipif(not PG, reason="set INMAIL_PG_URL to run the PostgreSQL tests")
