"""The event kinds: one module each, found by looking, so adding a kind is adding its module.

Every module of this package but :mod:`~engine.events.base` declares one
:class:`~engine.events.base.EventKind` as ``KIND``. Nothing lists them: the
registry below is whatever modules are here, in each kind's ``order``. The
rules catalog, the Engine's methods, scenario files, impact, replay and the
HTTP routes all read it (docs/architecture.md, "Adding an event kind").
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from engine.codes import C
from engine.events.base import AT, REQUIRED, Arg, ArgType, EventKind, FactSpec, FactType, account_facts

__all__ = [
    "AT",
    "CALLS",
    "KINDS",
    "REQUIRED",
    "Arg",
    "ArgType",
    "EventKind",
    "FactSpec",
    "FactType",
    "Registry",
    "account_facts",
]


class Registry(Mapping[str, EventKind]):
    """The event kinds by name, in order; also by Engine method (the event log's spelling)."""

    def __init__(self, kinds: list[EventKind]) -> None:
        ordered = sorted(kinds, key=lambda k: (k.order, k.name))
        self._by_name = {k.name: k for k in ordered}
        self._by_method = {k.method: k for k in ordered if k.is_call}
        if len(self._by_name) != len(ordered) or len(self._by_method) != sum(k.is_call for k in ordered):
            raise RuntimeError("two event kinds share a name or a method")
        #: each call kind by its name and by its method: what :meth:`call` finds
        self._calls = {**self._by_method, **{k.name: k for k in ordered if k.is_call}}

    def __getitem__(self, name: str) -> EventKind:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def calls(self) -> list[EventKind]:
        """The kinds an app calls (not the ones the timeline raises)."""
        return [k for k in self._by_name.values() if k.is_call]

    def by_method(self, method: str) -> EventKind:
        """The call kind an Engine method (or a logged call's ``method``) makes; ``unknown_event`` else."""
        kind = self._by_method.get(method)
        if kind is None:
            raise C.unknown_event(f"no call `{method}`; calls: {', '.join(self._by_method)}")
        return kind

    def known_call(self, name: str) -> EventKind | None:
        """The call kind named ``name`` (its event name or its method), or None; checks nothing else."""
        return self._calls.get(name)

    def call(self, name: str) -> EventKind:
        """The call kind named ``name`` (its event name or its method); ``unknown_event`` else."""
        kind = self._calls.get(name)
        return kind if kind is not None else self.by_method(name)  # (which refuses it)


def _discover() -> Registry:
    kinds = []
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if not isinstance(kind, EventKind):
            raise RuntimeError(f"engine/events/{info.name}.py declares no KIND")
        kinds.append(kind)
    return Registry(kinds)


#: Every event kind, by name, in order.
KINDS = _discover()
#: The kinds an app calls, in order.
CALLS = KINDS.calls()
