"""The stores a workbench is bound to (``--db``, repeatable): whose history impact replays by default,
and whose accounts the checks before save count.

A team often has more than one: production's copy and a staging one, or one per region. Each is
shown by its file name or by its URL with the password hidden, never the password; the page picks
one by its place in the list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.codes import C

_PASSWORD = re.compile(r"(://[^:/@]*):[^@/]*@")


@dataclass(frozen=True)
class BoundStore:
    url: str
    label: str  # what the page shows: the path, or the URL without its password


def shown(url: str) -> str:
    """``url`` as the page may show it: a password in it is replaced by ``***``."""
    return _PASSWORD.sub(r"\1:***@", url)


def bind(urls: str | Sequence[str] | None) -> tuple[BoundStore, ...]:
    """The stores given at start, in order, each once."""
    if urls is None:
        return ()
    given = [urls] if isinstance(urls, str) else list(urls)
    return tuple(BoundStore(u, shown(u)) for u in dict.fromkeys(given))


def pick(stores: Sequence[BoundStore], index: int) -> BoundStore:
    """The bound store at ``index``; ``no_store`` when there is none there."""
    if not stores:
        raise C.no_store("no store was given: start the workbench with --db URL")
    if not 0 <= index < len(stores):
        raise C.no_store(
            f"no store number {index}: the workbench was started with {len(stores)} (0 to {len(stores) - 1})"
        )
    return stores[index]
