"""A client of ``inmail serve`` with httpx: the ``InMail`` class is the part an app copies.

    inmail serve &              # in another shell
    python examples/client.py   # INMAIL_URL, INMAIL_TOKEN and ACCOUNT change its defaults

It runs on any store, as often as you like: each run takes a new account name
unless ACCOUNT names one (an account already there is used as it is).

``InMail.call`` retries a call whose connection broke under the same
Idempotency-Key, which is what the key is for: the server answers a retry
with the first answer, so a credit is never spent twice.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import httpx


class Refused(Exception):
    """The service refused a call: ``code`` is the engine's stable code (``unknown_account``, ...)."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(f"{problem['code']}: {problem['detail']}")
        self.code: str = problem["code"]
        self.problem = problem


class InMail:
    def __init__(self, url: str = "http://127.0.0.1:8700", token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url, headers=headers, timeout=10)

    def call(self, path: str, body: dict[str, Any], key: str | None = None, tries: int = 5) -> dict[str, Any]:
        """POST one call; a broken connection or a 503 is retried under the same key."""
        key = key or uuid.uuid4().hex
        for attempt in range(tries):
            try:
                r = self.http.post(path, json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError:
                if attempt == tries - 1:
                    raise
                time.sleep(0.2 * 2**attempt)
                continue
            if r.status_code == 503 and attempt < tries - 1:
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            if r.status_code >= 400:
                raise Refused(r.json())
            return dict(r.json(), replayed=r.headers.get("Idempotent-Replayed") == "true")
        raise AssertionError("unreachable")

    def subscribe(self, account: str, plan: str) -> dict[str, Any]:
        return self.call(f"/v1/accounts/{account}/subscribe", {"plan": plan})

    def send(self, sender: str, recipient: str, key: str | None = None) -> dict[str, Any]:
        return self.call(f"/v1/accounts/{sender}/send", {"to": recipient}, key)

    def balance(self, account: str) -> dict[str, Any]:
        r = self.http.get(f"/v1/accounts/{account}/balance")
        if r.status_code >= 400:
            raise Refused(r.json())
        return dict(r.json())


def main() -> None:
    account = os.environ.get("ACCOUNT") or f"alice-{uuid.uuid4().hex[:8]}"
    im = InMail(os.environ.get("INMAIL_URL", "http://127.0.0.1:8700"), os.environ.get("INMAIL_TOKEN"))
    try:
        print(f"subscribed {account}:", im.subscribe(account, "career")["outcome"])
    except Refused as exc:
        if exc.code != "account_exists":
            raise SystemExit(f"refused: {exc}") from None
        print(f"subscribed {account}: already (account_exists)")
    try:
        first = im.send(account, "carol", key=f"{account}-send-1")
    except Refused as exc:  # e.g. an ACCOUNT given that is out of credits, or a key used before
        raise SystemExit(f"refused: {exc}") from None
    print(
        f"send: {first['outcome']} by rule {first['rule']} ({', '.join(first['requirements'])}), "
        f"balance {first['balance']}, decision {first['decision_id']}, revision {first['revision']}"
    )
    again = im.send(account, "carol", key=f"{account}-send-1")
    print(f"retry: replayed={again['replayed']}, same decision {again['decision_id']}")
    print("balance:", im.balance(account)["credits"])
    try:
        im.call(f"/v1/accounts/{account}/purchase", {"credits": 0})
    except Refused as exc:
        print("refused:", exc.code)


if __name__ == "__main__":
    main()
