"""A bounded soak of one ``inmail serve`` worker on SQLite: mixed calls, then reloads, then handles.

    python bench/soak.py [--requests 20000] [--reloads 1000] [--clients 4] [--quick] [--json]

A long run shows what a short one hides: throughput that sags as the store
grows, and memory that creeps by a little per call or per reload (a reload
builds a new policy and rule book every time). It is bounded: a fixed number
of requests and reloads, then it stops.

1. **Mixed calls**: ``--requests`` requests (subscribe, send, respond,
   purchase, balance, history, plans, what-if decide, in a fixed mix) from
   ``--clients`` keep-alive connections, in blocks of ``--block``: each
   block's requests a second, the worker's RSS after it, and the worker's CPU
   time per request (which, unlike the rate, does not move with whatever else
   the machine runs; the 1-minute load average is shown too). New accounts keep
   subscribing and the calls go to the most recent ones, so the store grows
   through the run while no account's history does; the question is whether
   the last block is as fast as the first.
2. **Reloads**: ``--reloads`` ``POST /v1/policy/reload``, the policy file
   alternating between two valid texts, so each one checks, publishes and
   swaps in a new revision; RSS every tenth of the run, its growth per reload,
   and reloads a second.
3. **durable_rules handles** (in this process, not the server): how many
   rulesets a reload and a workbench click compile, from
   :func:`engine.rules._durable.handle_count`.

``--quick`` is the tests' smoke size. Every response must be 200; anything
else is counted and printed.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_load import _Conn, _together  # noqa: E402
from tests.service.server import running  # noqa: E402

#: one cycle of the mix: 1 subscribe, 6 sends, 3 responds, 1 purchase, 3 balances, 2 histories,
#: 2 plan tables, 2 what-if decides
MIX = (
    "send",
    "balance",
    "subscribe",
    "send",
    "respond",
    "plans",
    "send",
    "history",
    "decide",
    "send",
    "purchase",
    "balance",
    "respond",
    "send",
    "history",
    "decide",
    "send",
    "respond",
    "plans",
    "balance",
)
WINDOW = 50  # the calls go to the most recently subscribed accounts
ALLOTMENT = ("monthly_allotment: 5", "monthly_allotment: 6")
MB = 1024 * 1024


class _Load:
    """The accounts and the messages awaiting a response, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accounts: list[str] = []
        self.messages: collections.deque[str] = collections.deque(maxlen=5000)
        self.statuses: collections.Counter[tuple[str, int]] = collections.Counter()

    def some(self, rng: random.Random) -> str:
        with self.lock:
            return rng.choice(self.accounts[-WINDOW:])

    def one(self, conn: _Conn, i: int) -> None:
        """Request number ``i`` of the run (which one of the mix, and on whom, follows from ``i``)."""
        rng = random.Random(i)
        op = MIX[i % len(MIX)]
        if op == "respond":
            with self.lock:
                message = self.messages.popleft() if self.messages else None
            if message is None:
                op = "balance"
        if op == "subscribe":
            name = f"s{i}"
            status, _ = conn.post(f"/v1/accounts/{name}/subscribe", {"plan": "career"})
            with self.lock:
                self.accounts.append(name)
        elif op == "send":
            sender, to = self.some(rng), f"r{rng.randrange(1000)}"
            status, body = conn.post(f"/v1/accounts/{sender}/send", {"to": to})
            if status == 200 and (msg := json.loads(body).get("message")):
                with self.lock:
                    self.messages.append(msg)
        elif op == "respond":
            assert message is not None
            status, _ = conn.post(
                f"/v1/messages/{urllib.parse.quote(message, safe='')}/respond",
                {"with": rng.choice(("reply", "interested", "not_interested"))},
            )
        elif op == "purchase":
            status, _ = conn.post(f"/v1/accounts/{self.some(rng)}/purchase", {"credits": 5})
        elif op == "balance":
            status, _ = conn.get(f"/v1/accounts/{self.some(rng)}/balance")
        elif op == "history":
            status, _ = conn.get(f"/v1/accounts/{self.some(rng)}/history")
        elif op == "plans":
            status, _ = conn.get("/v1/plans")
        else:
            status, _ = conn.post("/v1/decide/send", {"facts": {"sender.balance": i % 3}})
        with self.lock:
            self.statuses[(op, status)] += 1


def _folder(tmp: Path) -> Path:
    shutil.copy(ROOT / "policies.yaml", tmp / "policies.yaml")
    shutil.copytree(ROOT / "rules", tmp / "rules")
    return tmp


def _rss(proc: psutil.Process) -> float:
    return round(proc.memory_info().rss / MB, 1)


def _cpu(proc: psutil.Process) -> float:
    """The worker's CPU seconds so far: per request, it does not depend on what else the machine runs."""
    t = proc.cpu_times()
    return float(t.user + t.system)


def mixed(url: str, worker: psutil.Process, requests: int, block: int, clients: int) -> dict[str, Any]:
    load = _Load()
    conn = _Conn(url)
    for n in range(WINDOW):  # the first accounts (not counted)
        status, body = conn.post(f"/v1/accounts/seed{n}/subscribe", {"plan": "career"})
        assert status == 200, body
        load.accounts.append(f"seed{n}")
    conn.close()
    rows = []
    conns = [_Conn(url) for _ in range(clients)]
    for start in range(0, requests, block):
        end = min(start + block, requests)
        cpu = _cpu(worker)
        began = time.perf_counter()

        def client(k: int, start: int = start, end: int = end) -> None:
            for i in range(start + k, end, clients):
                load.one(conns[k], i)

        _together(client, clients)
        took = time.perf_counter() - began
        rows.append(
            {
                "requests": end,
                "per_s": round((end - start) / took, 1),
                "rss_mb": _rss(worker),
                "worker_cpu_ms": round((_cpu(worker) - cpu) * 1000 / (end - start), 3),
                "load": round(os.getloadavg()[0], 2),
            }
        )
    for c in conns:
        c.close()
    first, last = rows[0]["per_s"], rows[-1]["per_s"]
    bad = {f"{op} {status}": n for (op, status), n in sorted(load.statuses.items()) if status != 200}
    return {
        "blocks": rows,
        "last_vs_first": round(last / first, 3),
        "not_200": bad,
        "cpu_last_vs_first": round(rows[-1]["worker_cpu_ms"] / max(rows[0]["worker_cpu_ms"], 1e-9), 3),
        "rss_growth_mb_per_block": round((rows[-1]["rss_mb"] - rows[0]["rss_mb"]) / max(1, len(rows) - 1), 2),
        "mix": dict(collections.Counter(op for op, _ in load.statuses.elements())),
    }


def reloads(url: str, worker: psutil.Process, folder: Path, count: int) -> dict[str, Any]:
    policy = folder / "policies.yaml"
    texts = [policy.read_text(), policy.read_text().replace(*ALLOTMENT, 1)]
    conn = _Conn(url)
    samples = [{"reloads": 0, "rss_mb": _rss(worker)}]
    step = max(1, count // 10)
    revisions, bad = set(), 0
    began = time.perf_counter()
    for n in range(1, count + 1):
        policy.write_text(texts[n % 2])
        status, body = conn.post("/v1/policy/reload", {})
        if status != 200 or not json.loads(body)["changed"]:
            bad += 1
        else:
            revisions.add(json.loads(body)["revision"])
        if n % step == 0 or n == count:
            samples.append({"reloads": n, "rss_mb": _rss(worker)})
    took = time.perf_counter() - began
    conn.close()
    # growth per reload after the first tenth (the allocators' first growth is not a leak)
    base = samples[1] if len(samples) > 2 else samples[0]
    per = (samples[-1]["rss_mb"] - base["rss_mb"]) * 1024 / max(1, samples[-1]["reloads"] - base["reloads"])
    return {
        "reloads": count,
        "per_s": round(count / took, 1),
        "samples": samples,
        "refused_or_unchanged": bad,
        "revisions": len(revisions),
        "rss_growth_kb_per_reload": round(per, 2),
    }


def handles(folder: Path, n: int) -> dict[str, Any]:
    """Rulesets compiled (durable handles taken) by reloads and workbench clicks, in this process."""
    import warnings

    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

    from engine.core.engine import Engine
    from engine.rules._durable import handle_count
    from engine.service.app import create_app
    from engine.service.state import Service, ServiceConfig

    shutil.copytree(ROOT / "examples" / "scenarios", folder / "examples" / "scenarios", dirs_exist_ok=True)
    policy, rules = folder / "policies.yaml", folder / "rules"
    policy.write_text((ROOT / "policies.yaml").read_text())
    out: dict[str, Any] = {}

    def taken(what: str, fn: Any) -> None:
        before = handle_count()
        for k in range(n):
            fn(k)
        after = handle_count()
        out[what] = {
            "times": n,
            "compiled": after.created - before.created,
            "freed": after.deleted - before.deleted,
        }

    with Engine.open(policy=policy, rules=rules, log=False) as eng:
        texts = [policy.read_text(), policy.read_text().replace(*ALLOTMENT, 1)]
        taken("reload, files unchanged", lambda k: eng.reload(policy, rules))

        def other_policy(k: int) -> None:
            policy.write_text(texts[k % 2])
            eng.reload(policy, rules)

        taken("reload, policy alternating", other_policy)
        policy.write_text(texts[0])
        send = (rules / "send.yaml").read_text()
        sends = [send, send.replace("{below: 1}", "{below: 2}")]

        def other_rules(k: int) -> None:
            (rules / "send.yaml").write_text(sends[k % 2])
            eng.reload(policy, rules)

        taken("reload, send.yaml alternating", other_rules)
        (rules / "send.yaml").write_text(send)
        eng.reload(policy, rules)
    config = ServiceConfig(db="memory", policy=str(policy), rules=str(rules))
    with TestClient(create_app(service=Service(config), workbench=folder), base_url="http://127.0.0.1") as c:
        scenario = c.get("/wb/api/scenarios").json()["scenarios"][0]
        h = {"content-type": "application/json"}
        bodies = {
            "decide": {"event": "send"},
            "run": {"scenario": scenario["text"], "name": scenario["name"]},
            "impact": {"scenarios": [scenario["name"]]},
        }
        for what, body in bodies.items():
            # a draft whose send rules no book of this process compiled yet (a new value per route)
            changed = send.replace("{below: 1}", f"{{below: {len(out) + 10}}}")
            for label, files in (("unchanged", {}), ("send.yaml changed", {"rules/send.yaml": changed})):

                def click(
                    k: int, what: str = what, body: dict[str, Any] = body, files: dict[str, str] = files
                ) -> None:
                    r = c.post(f"/wb/api/{what}", json={"files": files, **body}, headers=h)
                    assert r.status_code == 200, r.text

                taken(f"workbench {what}, draft {label}", click)
    out["process"] = handle_count()._asdict() | {"live": handle_count().live}
    return out


def run(requests: int, reload_count: int, clients: int, block: int, handle_times: int) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": requests, "clients": clients, "block": block}
    with tempfile.TemporaryDirectory() as tmp:
        folder = _folder(Path(tmp))
        with running(folder, "--db", str(folder / "soak.db")) as server:
            worker = psutil.Process(server.proc.pid)  # one worker: uvicorn serves in this process
            out["start_rss_mb"] = _rss(worker)
            began = time.perf_counter()
            out["mixed"] = mixed(server.url, worker, requests, block, clients)
            out["mixed"]["seconds"] = round(time.perf_counter() - began, 1)
            out["reloads"] = reloads(server.url, worker, folder, reload_count)
            out["db_mb"] = round((folder / "soak.db").stat().st_size / MB, 1)
    with tempfile.TemporaryDirectory() as tmp:
        out["handles"] = handles(_folder(Path(tmp)), handle_times)
    return out


def render(out: dict[str, Any]) -> str:
    m, r = out["mixed"], out["reloads"]
    lines = [
        f"mixed calls: {out['requests']} requests from {out['clients']} connections to one worker on "
        f"SQLite ({m['seconds']} s; worker RSS at start {out['start_rss_mb']} MB, store "
        f"{out['db_mb']} MB at the end)",
        "  mix: " + ", ".join(f"{k} {v}" for k, v in sorted(m["mix"].items())),
        f"  requests   per s   RSS MB   worker CPU ms/request   load (per block of {out['block']})",
    ]
    lines += [
        f"  {b['requests']:>8} {b['per_s']:>7} {b['rss_mb']:>8} {b['worker_cpu_ms']:>23} {b['load']:>6}"
        for b in m["blocks"]
    ]
    lines.append(
        f"  last block / first block: throughput {m['last_vs_first']:.3f}, worker CPU per request "
        f"{m['cpu_last_vs_first']:.3f}; RSS growth per block "
        f"{m['rss_growth_mb_per_block']} MB; not 200: {m['not_200'] or 'none'}"
    )
    lines.append(
        f"reloads: {r['reloads']} at {r['per_s']} per s ({r['revisions']} revisions, "
        f"{r['refused_or_unchanged']} refused or unchanged); RSS growth per reload after the "
        f"first tenth {r['rss_growth_kb_per_reload']} KB"
    )
    lines.append("  reloads   RSS MB")
    lines += [f"  {s['reloads']:>7} {s['rss_mb']:>8}" for s in r["samples"]]
    lines.append("durable_rules rulesets compiled (handles taken), in process:")
    for what, row in out["handles"].items():
        if what != "process":
            lines.append(f"  {what:<42} x{row['times']}: {row['compiled']} compiled, {row['freed']} freed")
    p = out["handles"]["process"]
    lines.append(
        f"  this process: {p['created']} compiled, {p['deleted']} freed, {p['live']} live "
        f"({p['idle']} idle), {p['reused']} reused"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--reloads", type=int, default=1_000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--block", type=int, default=1_000)
    ap.add_argument("--quick", action="store_true", help="smoke size: 400 requests, 20 reloads")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        out = run(400, 20, 2, 100, 2)
    else:
        out = run(args.requests, args.reloads, args.clients, args.block, 20)
    print(json.dumps(out, indent=2) if args.json else render(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
