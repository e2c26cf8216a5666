"""The one place the ``inmail`` command reads the wall clock.

The engine takes every instant as an argument; only the edge may default
``at`` to now (``inmail balance`` without ``--at`` answers for this moment).
"""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    """This moment, in UTC."""
    return dt.datetime.now(dt.UTC)
