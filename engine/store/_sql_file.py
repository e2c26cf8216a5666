"""The SQLite file under a store: the store is the file it opened, or it is unavailable.

A SQLite connection holds its file open. Delete the file under a running
process and its connections go on writing into the unlinked inode; truncate
it and they go on answering from their cache and their WAL: every call
answered meanwhile is lost the next time anyone opens the path. So before
each transaction the store compares the path with the file it opened (device
and inode, and a size above zero): one ``os.stat``. It is checked again after
a write commits, so that a call written into a file that went away meanwhile
is not answered as stored. Two ``os.stat`` per write and one per read are a
small share of a SQLite transaction (bench/RESULTS.md, "Checking the store
file", has the measure).

Once the path no longer holds that file, the store is *lost*: every call is
``store_unavailable`` and its connections are let go, until a valid inmail
store is at the path again (a backup put back, say). Then the store adopts it
after the same checks as an open without ``create``. The store never creates
a file in its place: once open, it connects with SQLite's ``mode=rw``, which
fails on a missing file rather than making an empty one.

Letting go of a connection must not write either. SQLite checkpoints its WAL
into the database file when the last connection to it closes, and deletes
the ``-wal`` and ``-shm`` files by name: into a file emptied under it, that
writes a few stray pages (a file that looks like a store and is not), and
the names may by then be another store's. SQLite itself skips this when the
file was moved or unlinked, not when it was truncated; so a connection that
no longer belongs to the file at the path is closed with checkpoint-on-close
switched off (``SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE``). The ``-wal`` of an
emptied store is therefore left where it was: whoever puts a backup back
removes it first (SQLite reads a ``-wal`` beside a database as that
database's), and copies the backup beside the path, then renames it there.
"""

from __future__ import annotations

import ctypes
import os
import sqlite3
import sys
import threading
import urllib.parse
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import sqlalchemy as sa

from engine.codes import C
from engine.errors import EngineError, StoreUnavailable

#: ``SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`` (sqlite3.h); Python's sqlite3 names it from 3.12 on.
_NO_CKPT_ON_CLOSE = 1006

#: How the store reports a file it cannot use, by what the path holds.
_WHY = {
    "gone": "is gone (deleted or moved away)",
    "empty": "was emptied (truncated to 0 bytes)",
    "hidden": "cannot be looked up",
}


class StoreFile:
    """The file a SQLite store opened, and whether the path still holds it.

    ``generation`` counts the times the store lost its file: a connection made
    in an earlier generation belongs to a file the store no longer uses.
    ``creating``: connecting may create the file (an open with ``create``,
    until the store is open). ``adopt`` runs the store's open checks (without
    create) on whatever the path holds, raising
    :class:`~engine.errors.EngineError` if it is no store; ``let_go`` closes
    the store's connections.
    """

    def __init__(
        self, path: str, creating: bool, adopt: Callable[[], None], let_go: Callable[[], None]
    ) -> None:
        self.path = path
        self.generation = 0
        self.creating = creating
        self._dev = self._ino = -1
        self._lost = False  # the path no longer holds the file: unavailable until one is adopted
        #: the file adopt turned down for good (device, inode, size, times), and why: not tried again
        self._refused: tuple[tuple[int, ...], str] | None = None
        self._lock = threading.Lock()
        self._adopt = adopt
        self._let_go = let_go

    def start(self) -> None:
        """The store is open: this is its file, and from now on connecting never creates one."""
        st = os.stat(self.path)
        self._dev, self._ino = st.st_dev, st.st_ino
        self.creating = False

    def check(self) -> int:
        """Raise :class:`StoreUnavailable` unless the path holds the store's file; its generation."""
        try:
            st = os.stat(self.path)
        except OSError:
            return self._changed()
        if st.st_ino == self._ino and st.st_dev == self._dev and st.st_size > 0 and not self._lost:
            return self.generation
        return self._changed()

    def still(self, generation: int) -> None:
        """After a commit: raise unless the file written to (in ``generation``) is still the store's.

        The call was committed into whatever file the connection had open; if
        the path no longer holds that file, the store may not have the call, so
        it is not answered as done: tried again under its key, it is either
        found (a replay) or made again.
        """
        if generation == self.generation and self.intact():
            return
        with suppress(StoreUnavailable):
            self.check()  # let the store notice, and let go of its connections
        raise C.store_unavailable(
            f"the store file `{os.path.basename(self.path)}` was removed or replaced "
            "while the call was written, so the store may not hold it; try again "
            "under the same idempotency key",
        )

    def intact(self) -> bool:
        """Whether the path holds the file the store opened, in use (a lock-free look, one stat)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return st.st_ino == self._ino and st.st_dev == self._dev and st.st_size > 0 and not self._lost

    def _changed(self) -> int:
        """The slow way, one thread at a time: notice the loss, or adopt what the path holds now."""
        with self._lock:
            try:
                st: os.stat_result | None = os.stat(self.path)
                hidden = ""
            except OSError as exc:  # gone, or a folder on the way that may not be read
                st, hidden = None, "" if isinstance(exc, FileNotFoundError) else f" ({exc.strerror})"
            same = st is not None and (st.st_dev, st.st_ino) == (self._dev, self._ino)
            if not self._lost:
                if same and st is not None and st.st_size > 0:
                    return self.generation  # it came back under another thread's check
                self._lost = True
                self.generation += 1
                self._let_go()
            if st is None:
                raise self._unavailable(_WHY["hidden"] + hidden if hidden else _WHY["gone"])
            if st.st_size == 0:
                raise self._unavailable(_WHY["empty"])
            seen = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            if self._refused is not None and seen == self._refused[0]:
                raise self._unavailable(self._refused[1])
            problem, final = _header_problem(self.path, st.st_size), True
            if problem is None:
                try:
                    self._adopt()
                except EngineError as exc:  # a database error may pass; what the file is will not
                    problem, final = exc.message, exc.code != C.database_unavailable
            after = _stat(self.path)
            if problem is None and (after is None or (after.st_dev, after.st_ino) != seen[:2]):
                problem, final = "changed while it was checked", False
            if problem is not None:
                why = f"holds no usable inmail store ({problem})"
                self._refused = (seen, why) if final else None
                self._let_go()  # never keep a connection to a file that is not the store
                raise self._unavailable(why)
            self._dev, self._ino = seen[0], seen[1]
            self._lost, self._refused = False, None
            return self.generation

    def _unavailable(self, why: str) -> EngineError:
        return C.store_unavailable(
            f"the store file `{os.path.basename(self.path)}` {why}; nothing was "
            "written. Calls resume once a valid inmail store is at that path again "
            "(a backup put back)",
        )


def watch(engine: sa.Engine, file: StoreFile) -> None:
    """Hook ``file`` into ``engine``'s connections: made without creating, closed without writing.

    - connecting (once the store is open) uses SQLite's ``mode=rw``: a path
      that holds nothing is an error, not a new empty database;
    - each connection remembers the generation it was made in;
    - a connection closed after its file was lost, or while the path does not
      hold the store's file, is closed with checkpoint-on-close switched off.
    """

    @sa.event.listens_for(engine, "do_connect")
    def _do_connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        if not file.creating and not cparams.get("uri"):
            cargs[:1] = [f"file:{urllib.parse.quote(file.path)}?mode=rw"]
            cparams["uri"] = True

    @sa.event.listens_for(engine, "connect")
    def _connect(_dbapi_conn: Any, record: Any) -> None:
        record.info["inmail_generation"] = file.generation

    @sa.event.listens_for(engine, "close")
    def _close(dbapi_conn: Any, record: Any) -> None:
        if record.info.get("inmail_generation") != file.generation or not file.intact():
            no_checkpoint_on_close(dbapi_conn, file.path)


def no_checkpoint_on_close(conn: sqlite3.Connection, path: str) -> bool:
    """Switch off ``conn``'s checkpoint-on-close; whether that could be done.

    Python's sqlite3 offers ``setconfig`` from 3.12. On 3.11 the connection's
    ``sqlite3 *`` handle is the first field after the object header (CPython's
    ``pysqlite_Connection``), and ``sqlite3_db_config`` is called through
    ctypes; the handle is used only once SQLite confirms it names ``path``.
    """
    setconfig = getattr(conn, "setconfig", None)
    if setconfig is not None:
        with suppress(sqlite3.Error):
            setconfig(_NO_CKPT_ON_CLOSE, True)
            return True
        return False
    lib = _library()
    if lib is None or sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return False
    handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
    if not handle:  # closed already
        return False
    named = lib.sqlite3_db_filename(ctypes.c_void_p(handle), b"main")
    if not named or os.path.realpath(os.fsdecode(named)) != os.path.realpath(path):
        return False
    done = ctypes.c_int(0)
    rc = lib.sqlite3_db_config(
        ctypes.c_void_p(handle), ctypes.c_int(_NO_CKPT_ON_CLOSE), ctypes.c_int(1), ctypes.byref(done)
    )
    return rc == 0 and done.value == 1


_LIB: list[Any] = []


def _library() -> Any:
    """The SQLite library Python's sqlite3 runs on (loaded once), or None."""
    if not _LIB:
        import _sqlite3

        try:
            lib: Any = ctypes.CDLL(getattr(_sqlite3, "__file__", None))
            lib.sqlite3_db_filename.restype = ctypes.c_char_p
            lib.sqlite3_db_config.restype = ctypes.c_int
        except (OSError, AttributeError):
            lib = None
        _LIB.append(lib)
    return _LIB[0]


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _header_problem(path: str, size: int) -> str | None:
    """Why the file at ``path`` cannot be a whole SQLite database, read from its 100-byte header.

    A file still being copied into place is shorter than its header says; a
    file that is not SQLite's is not opened at all. (Closing a file drops the
    process's POSIX locks on it, SQLite's too: this runs only while the store
    holds no connection to that file, before it adopts it.)
    """
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"  # (a file that changes mode is looked at again)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\0"):
        return "not a SQLite database"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    if head[24:28] == head[92:96] and pages * page > size:  # the header's page count is valid
        return f"{size} bytes of the {pages * page} its header says: still being copied?"
    return None
