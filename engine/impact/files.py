"""Partition files: a store's event log written once, a Parquet file per partition, for workers to read.

``inmail log --db URL --format parquet --partitions P --out DIR`` splits the
log as an impact run on a cluster splits it (:func:`~engine.impact.stored.split_log`:
accounts that a call ties stay together) and writes, into a folder it creates,
``part-00000.parquet`` .. one per partition, each holding every logged call of
its accounts in log order (an ``advance`` is logged once per account it moved:
each record goes with its account), and last ``partitions.json``, the
manifest: how many partitions, the log's checkpoints and where it ends, the
counts. A folder without its manifest is not a set of partition files (the
writer stopped midway). ``inmail impact --log-dir DIR`` then plays them: each
worker reads only its own file from a folder every worker can read (a shared
path), and the driver reads only the manifest, so neither the store nor the
driver carries the whole log to the workers, and the files can be made once
and compared against many policy edits.

The columns are the log's fields; instants are UTC timestamps (microseconds),
arguments their JSON text, and the texts that repeat (method, outcome,
reason, rule, revision) are dictionary-encoded. Files are only ever created
new: the folder must not exist.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from engine.codes import C
from engine.impact.calls import as_call
from engine.impact.cluster import MAX_PARTITIONS
from engine.impact.partition import Owners
from engine.impact.stored import log_of, split_log, with_checkpoints
from engine.impact.synthetic import ADVANCE, Call
from engine.model import LoggedCall
from engine.store.base import Store

MANIFEST = "partitions.json"
FORMAT = "inmail-log-partitions/1"
#: Rows a partition's writer holds before it writes them as one row group.
ROWS_PER_GROUP = 8192
_TEXT = ("method", "account", "args", "key", "outcome", "reason", "rule", "message", "revision")
_CODED = {"method", "outcome", "reason", "rule", "revision"}


def _arrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise C.missing_dependency("partition files need pyarrow: pip install -e '.[dask]'") from None
    return pa, pq


def _schema(pa: Any) -> Any:
    fields = [pa.field("seq", pa.int64(), nullable=False), pa.field("at", pa.timestamp("us", tz="UTC"))]
    for name in _TEXT:
        kind = pa.dictionary(pa.int32(), pa.string()) if name in _CODED else pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


@dataclass(frozen=True)
class Manifest:
    """What ``partitions.json`` says: the partitions, and what every partition of an impact run needs
    besides its own calls (the checkpoints: log number and instant; where the whole log ends)."""

    folder: str
    parts: int
    calls: int
    advances: tuple[tuple[int, dt.datetime], ...]
    end: dt.datetime | None
    rows: tuple[int, ...]

    def file(self, index: int) -> Path:
        return Path(self.folder) / f"part-{index:05d}.parquet"


def write_partitions(db: str, parts: int, out: str | Path) -> Manifest:
    """Write the log of the store at ``db`` into ``parts`` partition files in the new folder ``out``."""
    if isinstance(parts, bool) or not isinstance(parts, int) or not 1 <= parts <= MAX_PARTITIONS:
        raise C.invalid_argument(f"partitions is a number from 1 to {MAX_PARTITIONS:,}")
    pa, pq = _arrow()
    with log_of(db) as store:  # a store that is not there, or has no whole log, is said before the folder
        return _into_new_folder(store, parts, out, pa, pq)


def _into_new_folder(store: Store, parts: int, out: str | Path, pa: Any, pq: Any) -> Manifest:
    folder = Path(out)
    try:
        folder.mkdir()
    except FileExistsError:
        raise C.unwritable_output(f"`{out}` already exists: partition files go into a new folder") from None
    except OSError as exc:
        raise C.unwritable_output(f"cannot create `{out}`: {exc.strerror or exc}") from None
    try:
        return _write(store, parts, folder, pa, pq)
    except BaseException:  # nothing half-written stays: the folder is this call's, made new above
        for made in folder.iterdir():
            made.unlink()
        folder.rmdir()
        raise


def _write(store: Store, parts: int, folder: Path, pa: Any, pq: Any) -> Manifest:
    split = split_log(store.calls_paged(), parts)
    schema = _schema(pa)
    rows = [0] * parts
    held: list[list[LoggedCall]] = [[] for _ in range(parts)]
    with ExitStack() as stack:
        files = [stack.enter_context((folder / f"part-{i:05d}.parquet").open("xb")) for i in range(parts)]
        writers = []
        for f in files:  # each closed before its file, on the way out whatever happens
            writers.append(pq.ParquetWriter(f, schema))
            stack.callback(writers[-1].close)
        owners = Owners()

        def flush(index: int) -> None:
            writers[index].write_table(_table(pa, schema, held[index]))
            rows[index] += len(held[index])
            held[index] = []

        # the log as the split read it (calls logged since are left for another export), each
        # record in the partition of the account the partitioner reads for it
        for c in islice(store.calls_paged(), split.calls):
            if c.method == ADVANCE:
                index = split.partitioning.part(c.account)
            else:
                named = owners.accounts(as_call(c))
                index = split.partitioning.part(named[0] if named else c.account)
            held[index].append(c)
            if len(held[index]) >= ROWS_PER_GROUP:
                flush(index)
        for index in range(parts):
            flush(index)
    manifest = Manifest(str(folder.resolve()), parts, split.calls, split.advances, split.end, tuple(rows))
    text = json.dumps(_manifest_json(manifest), indent=1) + "\n"
    with (folder / MANIFEST).open("x", encoding="utf-8") as out_file:  # last: it says the set is whole
        out_file.write(text)
    return manifest


def _table(pa: Any, schema: Any, calls: list[LoggedCall]) -> Any:
    columns: dict[str, list[Any]] = {"seq": [c.seq for c in calls], "at": [c.at for c in calls]}
    for name in _TEXT:
        if name == "args":
            columns[name] = [json.dumps(c.args, sort_keys=False) for c in calls]
        else:
            columns[name] = [getattr(c, name) for c in calls]
    return pa.Table.from_pydict(columns, schema=schema)


def _manifest_json(m: Manifest) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "partitions": m.parts,
        "calls": m.calls,
        "rows": list(m.rows),
        "end": None if m.end is None else m.end.isoformat(),
        "advances": [[seq, at.isoformat()] for seq, at in m.advances],
    }


def read_manifest(folder: str | Path) -> Manifest:
    """The manifest of the partition files in ``folder``; ``file_not_found`` or ``invalid_argument``
    (with what is wrong) when the folder does not hold a whole set."""
    path = Path(folder) / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise C.file_not_found(
            f"no `{MANIFEST}` in `{folder}`: write partition files with "
            "`inmail log --db URL --format parquet --partitions P --out DIR`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise C.invalid_argument(f"`{path}` is not a partition manifest: {exc}") from None
    try:
        if doc["format"] != FORMAT:
            raise ValueError(f"format {doc['format']!r}, this engine reads {FORMAT!r}")
        parts = int(doc["partitions"])
        manifest = Manifest(
            str(Path(folder).resolve()),
            parts,
            int(doc["calls"]),
            tuple((int(seq), dt.datetime.fromisoformat(at)) for seq, at in doc["advances"]),
            None if doc["end"] is None else dt.datetime.fromisoformat(doc["end"]),
            tuple(int(n) for n in doc["rows"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise C.invalid_argument(f"`{path}` is not a partition manifest: {exc}") from None
    missing = [manifest.file(i).name for i in range(parts) if not manifest.file(i).is_file()]
    if len(manifest.rows) != parts or missing:
        raise C.invalid_argument(f"`{folder}` lacks partition files: {', '.join(missing[:3]) or 'rows'}")
    return manifest


def read_partition(manifest: Manifest, index: int) -> Iterator[LoggedCall]:
    """Every logged call in partition ``index``'s file, in log order, read a row group at a time (one
    process playing every file holds a group of each, not the whole log)."""
    _, pq = _arrow()
    with pq.ParquetFile(manifest.file(index)) as f:
        for batch in f.iter_batches(batch_size=ROWS_PER_GROUP):
            for row in batch.to_pylist():
                row["args"] = json.loads(row["args"])
                yield LoggedCall(**row)


def file_calls(manifest: Manifest, indexes: Sequence[int]) -> Iterator[tuple[tuple[int], Call, bool]]:
    """What an impact partition plays: the calls of the partitions ``indexes`` (all of them: the
    whole log) and every checkpoint of the whole log, in log order, each with its log number."""
    mine = heapq.merge(*(read_partition(manifest, i) for i in indexes), key=lambda c: c.seq)
    return with_checkpoints(mine, manifest.advances)
