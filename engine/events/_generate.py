"""Write the Engine's typed call methods from the event kinds: ``python -m engine.events._generate``.

An app and its type checker want ``engine.send(sender, recipient, at=...)``,
with named, typed parameters and a docstring, not ``engine.call("send",
{...})``. Those methods are only a spelling of the registry, so they are
generated into ``engine/core/_methods.py`` rather than written by hand;
``tests/engine/test_event_kinds.py`` fails when the file is not what this
module would write, so a new event kind cannot be half added.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engine.events import CALLS
from engine.events.base import AT, Arg, EventKind

TARGET = Path(__file__).resolve().parents[1] / "core" / "_methods.py"

_HEAD = '''"""The Engine's call methods, one per event kind: GENERATED from engine/events, do not edit.

Regenerate with ``python -m engine.events._generate`` after changing an event
kind; each method hands its arguments to :meth:`Engine.call`, which checks
them against the kind's declaration and runs the call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.events import KINDS, EventKind
from engine.model import Decision

#: An instant as a caller may give it: an aware datetime, a date (midnight in the policy's time
#: zone) or RFC 3339 text.
At = dt.datetime | dt.date | str


class Calls:
    """The typed doors to :meth:`call`, for apps and their type checkers."""

    def call(
        self, event: str | EventKind, args: Mapping[str, Any], *, at: At | None = None, key: str | None = None
    ) -> Decision:
        raise NotImplementedError
'''


def _annotation(arg: Arg) -> str:
    base = "int" if arg.type == "credits" else "At" if arg.type == "instant" else "str"
    if arg.required:
        return base
    if arg.default is None or arg.default == AT:
        return f"{base} | None = None"
    return f"{base} = {json.dumps(arg.default)}"


def _docstring(doc: str) -> str:
    lines = doc.strip().splitlines()
    if len(lines) == 1:
        return f'        """{lines[0]}"""\n'
    body = "".join(f"        {line}\n" if line else "\n" for line in lines[1:])
    return f'        """{lines[0]}\n{body}        """\n'


def _method(kind: EventKind) -> str:
    params = ["self", *(f"{a.name}: {_annotation(a)}" for a in kind.positional), "*", "at: At | None = None"]
    params += [f"{a.name}: {_annotation(a)}" for a in kind.optional]
    params.append("key: str | None = None")
    args = "".join(f'                "{a.name}": {a.name},\n' for a in kind.args)
    signature = "".join(f"        {p},\n" for p in params)
    return (
        f"\n    def {kind.method}(\n{signature}    ) -> Decision:\n"
        + _docstring(kind.doc)
        + f'        return self.call(\n            KINDS["{kind.name}"],\n'
        + f"            {{\n{args}            }},\n"
        + "            at=at,\n            key=key,\n        )\n"
    )


def source() -> str:
    """The text of ``engine/core/_methods.py`` for the event kinds there are."""
    return _HEAD + "".join(_method(k) for k in CALLS)


def main() -> int:
    text = source()
    if TARGET.exists() and TARGET.read_text(encoding="utf-8") == text:
        print(f"{TARGET}: up to date")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"{TARGET}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
