"""A PostgreSQL server of a test's own, to stop and restart under a running engine.

The server of ``INMAIL_PG_URL`` is shared by every PostgreSQL test, so no
test may restart it. This one is made for the test (``initdb`` into a
temporary folder, loopback only, no fsync: about a second) from the newest
PostgreSQL installed, run as the ``postgres`` user when the tests run as
root (PostgreSQL refuses root), and removed afterwards. Like the other
PostgreSQL tests it runs only where ``INMAIL_PG_URL`` says PostgreSQL is
there, and it skips when the server programs are not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.pg import PG


def _programs() -> Path | None:
    """The ``bin`` folder of the newest PostgreSQL installed (Debian's layout, else the PATH)."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")]
    found.sort(key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0)
    if found:
        return found[-1]
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


class PrivatePostgres:
    """One server: ``url`` to connect; ``stop``, ``start``, ``restart`` as an operator would."""

    def __init__(self, programs: Path, folder: Path, port: int) -> None:
        self._programs = programs
        self._folder = folder
        self._port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*as_postgres, str(self._programs / program), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def _ctl(self, *args: str) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self._port} -c fsync=off "
            f"-c unix_socket_directories={self._folder}"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self._folder / "data"),
            "-l",
            str(self._folder / "log"),
            "-w",
            "-o",
            options,
            *args,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self._folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running server of the caller's own (skips where PostgreSQL is not to be had)."""
    if not PG:
        pytest.skip("set INMAIL_PG_URL to run the PostgreSQL tests")
    pytest.importorskip("psycopg")
    programs = _programs()
    if programs is None:
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl) installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as its own user")
    folder = Path(tempfile.mkdtemp(prefix="inmail-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = PrivatePostgres(programs, folder, port)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):  # not running
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
