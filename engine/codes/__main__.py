"""``python -m engine.codes [FILE]``: print the table of codes, or write it into FILE's markers.

A module of its own (not a ``__main__`` block in the catalog), so running it
does not import the catalog twice.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.codes.table import block, rewrite


def main(argv: list[str]) -> int:
    if not argv:
        print(block())
        return 0
    for name in argv:
        changed = rewrite(Path(name))
        print(f"{name}: {'table of codes written' if changed else 'table of codes up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
