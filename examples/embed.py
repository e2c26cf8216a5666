"""Embedding the engine in an app: a SQLite file store, a member, an InMail, a response.

Run it from anywhere: ``python examples/embed.py``. Copy what you need: the
engine is built once per process (it compiles the rules), every call takes
the instant it happens at, and the answers explain themselves.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import engine


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "inmail.db"  # any number of processes may share this file
        with engine.Engine.open(db=str(db)) as eng:  # packaged policy and rules unless ./policies.yaml exists
            eng.subscribe("alice", "career", at="2026-01-15T09:00:00Z")

            sent = eng.send(
                "alice", "carol", at="2026-01-15T10:00:00Z", message_id="m1", key="send-m1"
            )  # a retried call with this key returns this same answer
            print(
                f"send: {sent.outcome} (rule {sent.rule}, {', '.join(sent.requirements)}), "
                f"balance {sent.balance}"
            )

            blocked = eng.send("alice", "carol", at="2026-01-16T10:00:00Z")
            print(f"second send to carol: {blocked.outcome} ({blocked.reason})")

            reply = eng.respond("m1", "interested", at="2026-01-20T08:30:00Z")
            print(f"respond: {reply.outcome}, recorded as {reply.status}, balance {reply.balance}")

            try:
                eng.respond("m404", "reply", at="2026-01-21")
            except engine.InvalidCall as exc:
                print(f"bad call refused: {exc.code}")

            balance = eng.balance("alice", at="2026-02-15T09:00:00Z")  # after the next renewal
            print(f"alice has {balance.credits} credits on {balance.at:%Y-%m-%d}:")
            for lot in balance.lots:
                print(
                    f"  lot {lot.id}: {lot.remaining}/{lot.amount} {lot.source}, "
                    f"expires {lot.expires_at:%Y-%m-%d %H:%M}"
                )


if __name__ == "__main__":
    main()
