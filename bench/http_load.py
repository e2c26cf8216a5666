"""Send decisions over HTTP: a bounded load against a real ``inmail serve``, beside the in-process call.

    python bench/http_load.py [--requests N] [--rate R] [--pg URL] [--json]

For each store (SQLite file; PostgreSQL when ``--pg`` names a server) and 1
and 2 workers, it starts ``inmail serve`` on loopback and measures:

- **paced**: ``--requests`` sends at ``--rate`` requests a second (open loop: a
  request leaves on schedule, whether or not the previous one returned), p50 and
  p99 latency from the scheduled send time, so a stall counts against it;
- **throughput**: the same number of sends from 8 client threads as fast as the
  server answers (closed loop), in requests a second, three times on the same
  server; the median counts (a stall of the machine's disk during one short
  phase does not decide the row).

The clients are keep-alive connections on bare sockets (:class:`_Conn`): the
client shares the machine's cores with the server, so whatever an HTTP client
library spends per request shows up as server latency.

Then the same sends as in-process ``Engine.send`` calls on the same kind of
store. The accounts start with enough credits for every send of the run, so
each one is granted and writes, and the benchmark checks afterwards that no
account overspent. A fixed number of requests, then it stops: it is a
measurement, not a soak.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402
from tests.service.server import running  # noqa: E402

ACCOUNTS = 200  # 9,000 credits: every send of the four phases (8,000) is granted and writes
CREDITS = 5 + 40  # the Career start grant + a purchase


class _Conn:
    """One keep-alive connection on a bare socket: POSTs JSON, reads the status and the body.

    ``http.client`` parses each response's headers with the ``email`` package; the client shares
    the machine's cores with the server, so what it spends counts against the server. This writes
    the request bytes and reads up to ``Content-Length`` (the service always sends one), and
    nothing else.
    """

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host = f"{host}:{port}".encode()
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        self.sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (path.encode(), self.host, len(data), data)
        )
        return self._response()

    def get(self, path: str) -> tuple[int, bytes]:
        self.sock.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path.encode(), self.host))
        return self._response()

    def _response(self) -> tuple[int, bytes]:
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._more()
        head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4 :]
        lines = head.split("\r\n")
        length = next(
            int(v) for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() == "content-length"
        )
        while len(self.buf) < length:
            self._more()
        out, self.buf = self.buf[:length], self.buf[length:]
        return int(lines[0].split(" ", 2)[1]), out

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def close(self) -> None:
        self.sock.close()


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _setup(url: str) -> None:
    with httpx.Client(base_url=url) as c:
        for a in range(ACCOUNTS):
            assert c.post(f"/v1/accounts/a{a}/subscribe", json={"plan": "career"}).status_code == 200
            assert c.post(f"/v1/accounts/a{a}/purchase", json={"credits": 40}).status_code == 200


def _paced(url: str, n: int, rate: float) -> dict[str, float]:
    """Open loop: request i is due at start + i/rate; its latency counts from then."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    per_thread = 8

    def client(k: int) -> None:
        c = _Conn(url)
        for i in range(k, n, per_thread):
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            status, body = c.post(f"/v1/accounts/a{i % ACCOUNTS}/send", {"to": f"p{i}"})
            took = time.perf_counter() - due
            assert status == 200, body
            with lock:
                latencies.append(took * 1000)
        c.close()

    _together(client, per_thread)
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(_pct(latencies, 0.99), 2),
        "rate": rate,
    }


def _throughput(url: str, n: int, tag: str) -> float:
    clients = 8
    started = time.perf_counter()

    def client(k: int) -> None:
        c = _Conn(url)
        for i in range(k, n, clients):
            status, body = c.post(f"/v1/accounts/a{i % ACCOUNTS}/send", {"to": f"{tag}{i}"})
            assert status == 200, body
        c.close()

    _together(client, clients)
    return round(n / (time.perf_counter() - started), 1)


def _together(client: Callable[[int], None], n: int) -> None:
    """Run ``client(0)`` .. ``client(n - 1)`` in threads at once, and wait for all of them."""
    threads = [threading.Thread(target=client, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _overspent(db: str) -> int:
    with Engine.open(db=db, create=False) as eng:
        bad = 0
        for name in eng.accounts():
            history = eng.history(name)
            spent = sum(1 for e in history if e.kind == "consume")
            bad += spent > CREDITS or any(e.balance_after < 0 for e in history)
        return bad


def _in_process(db: str, n: int) -> dict[str, float]:
    with Engine.open(db=db) as eng:
        for a in range(ACCOUNTS):
            eng.subscribe(f"a{a}", "career", at="2026-01-01")
            eng.purchase(f"a{a}", 40, at="2026-01-01")
        took = []
        for i in range(n):
            t0 = time.perf_counter()
            eng.send(f"a{i % ACCOUNTS}", f"p{i}", at="2026-01-02")
            took.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(statistics.median(took), 3), "p99_ms": round(_pct(took, 0.99), 3)}


def run(requests: int, rate: float, pg: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": requests, "rate": rate, "rows": []}
    stores = [("sqlite", None)] + ([("postgresql", pg)] if pg else [])
    for kind, url in stores:
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                db = url or str(Path(tmp) / "bench.db")
                if url:
                    _reset_pg(url)
                with running(Path(tmp), "--db", db, workers=workers) as server:
                    _setup(server.url)
                    paced = _paced(server.url, requests, rate)
                    tput = statistics.median(_throughput(server.url, requests, f"t{k}_") for k in range(3))
                out["rows"].append(
                    {
                        "store": kind,
                        "workers": workers,
                        **paced,
                        "throughput_rps": tput,
                        "overspent_accounts": _overspent(db),
                    }
                )
        with tempfile.TemporaryDirectory() as tmp:
            db = url or str(Path(tmp) / "inproc.db")
            if url:
                _reset_pg(url)
            out["rows"].append({"store": kind, "workers": "in-process", **_in_process(db, requests)})
    return out


def _reset_pg(url: str) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    with eng.begin() as c:
        for table in (
            "calls",
            "revisions",
            "idempotency",
            "connections",
            "entries",
            "lots",
            "messages",
            "accounts",
            "meta",
        ):
            c.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    eng.dispose()


def render(out: dict[str, Any]) -> str:
    lines = [
        f"send over HTTP: {out['requests']} requests paced at {out['rate']:g}/s, then the same number "
        f"from 8 threads at full speed (median of 3)",
        "  store       workers      p50 ms   p99 ms   throughput/s   overspent",
    ]
    for r in out["rows"]:
        lines.append(
            f"  {r['store']:<11} {r['workers']!s:<11} {r['p50_ms']:>7} {r['p99_ms']:>8}   "
            f"{r.get('throughput_rps', '-')!s:>12}   {r.get('overspent_accounts', '-')!s:>9}"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--pg", default=None, help="a PostgreSQL URL whose database the benchmark may empty")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = run(args.requests, args.rate, args.pg)
    print(json.dumps(out, indent=2) if args.json else render(out))


if __name__ == "__main__":
    main()
