"""The only module that touches durable_rules: compile rules to rulesets, run them thread-less.

durable_rules 2.0.28 is fragile (docs/durable_rules.md says how, and why each
point below matters), so the compiler emits only this subset:

* one ruleset per event kind, one sid per ruleset, events only (no facts,
  joins or engine timers), so every posted event is consumed at once and
  nothing accumulates in its memory;
* every rule is one pattern that starts with a positive discriminator
  (``ev__<kind>: 1``), so neither the re-asserted state fact nor anything
  else can match it; ``pri`` is the rule's position (>= 0): first match wins;
* fact names are flattened (``sender.premium`` -> ``sender__premium``) because
  durable reads dotted keys as paths, and values keep their declared type
  (the loader and the caller both check types: durable would coerce
  ``"1" == 1 == true``);
* actions are named (``run`` strings resolved by :meth:`_ManualHost.get_action`)
  and only record, in a Python variable, which rule fired: they never write
  ``c.s``, so the state fact that durable re-asserts after every action stays
  inert;
* the host starts no threads, and :meth:`DurableRunner.close` frees the C
  memory (touch each sid so ``delete_state`` is safe, see "Deleting state", then
  ``delete_ruleset``).

``durable`` is imported when a runner is built, never at ``import engine``.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.errors import RuleEngineFailure
from engine.rules import catalog
from engine.rules.reader import All, AnyOf, Cmp, Cond, RuleFile, Scalar, leaves
from engine.source.diagnostics import Diagnostic

SID = "0"
#: durable_rules limits, kept well inside (see :func:`limit_problems`).
MAX_GROUPS = 15
MAX_COMPARISONS = 400
MAX_RULES = 100
TOUCH_FIELD = "touch__"
_OPS = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}


def field_name(fact: str) -> str:
    """The flat message field that carries ``fact`` (no dots: durable would read a path)."""
    return fact.replace(".", "__")


def discriminator(event: str) -> str:
    return f"ev__{event}"


def _expr(cond: Cond) -> dict[str, Any]:
    if isinstance(cond, Cmp):
        if cond.op == "eq":
            return {field_name(cond.fact): cond.value}
        return {_OPS[cond.op]: {field_name(cond.fact): cond.value}}
    if isinstance(cond, All):
        return {"$and": [_expr(c) for c in cond.items]}
    assert isinstance(cond, AnyOf)
    return {"$or": [_expr(c) for c in cond.items]}


def pattern(event: str, cond: Cond | None) -> dict[str, Any]:
    """The single pattern of a rule: the discriminator first, then the condition's comparisons."""
    disc = {discriminator(event): 1}
    if cond is None:
        return disc
    items = cond.items if isinstance(cond, All) else (cond,)
    return {"$and": [disc, *(_expr(c) for c in items)]}


def groups(cond: Cond | None) -> int:
    """How many ``$and``/``$or`` nodes :func:`pattern` emits for ``cond``."""
    if cond is None:
        return 0

    def count(c: Cond) -> int:
        if isinstance(c, Cmp):
            return 0
        return 1 + sum(count(i) for i in c.items)

    inner = cond.items if isinstance(cond, All) else (cond,)
    return 1 + sum(count(c) for c in inner)


def fnv1a32(name: str) -> int:
    """The 32-bit hash durable_rules identifies a property name by (its ``fnv1Hash32`` is FNV-1a)."""
    h = 2166136261
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def name_collisions(event: str) -> list[tuple[str, str]]:
    """Pairs of message field names durable_rules could not tell apart (it compares hashes only)."""
    names = [*(field_name(f) for f in catalog.CATALOG[event]), discriminator(event), TOUCH_FIELD,
             "id", "sid", "$s"]
    seen: dict[int, str] = {}
    out = []
    for name in names:
        h = fnv1a32(name)
        if h in seen and seen[h] != name:
            out.append((seen[h], name))
        seen.setdefault(h, name)
    return out


def limit_problems(rf: RuleFile) -> list[Diagnostic]:
    """Rules durable_rules cannot hold: caught at load time, as diagnostics, instead of failing later.

    durable keeps at most 31 entries in one pattern's expression sequence and
    every ``$and``/``$or`` takes two (MAX_SEQUENCE_EXPRESSIONS, error 113); a
    discrimination node with 512 or more children makes lookups loop forever
    (docs/durable_rules.md, "Limits"), which a bound on comparisons per file rules out.
    """
    out: list[Diagnostic] = []
    for a, b in name_collisions(rf.event):  # pragma: no cover - a catalog change would need a rename
        out.append(Diagnostic("fact_name_collision", f"facts `{a}` and `{b}` look alike to durable_rules",
                              rf.loc, help="rename one of them in engine/facts.py"))
    if len(rf.rules) > MAX_RULES:
        out.append(Diagnostic("too_many_rules", f"`{rf.event}` has {len(rf.rules)} rules, more than "
                              f"{MAX_RULES}", rf.loc, help="merge rules that decide the same thing"))
    total = 0
    for rule in rf.rules:
        total += len(leaves(rule.when))
        n = groups(rule.when)
        if n > MAX_GROUPS:
            out.append(Diagnostic("rule_too_complex", f"rule `{rule.id}` nests {n} `all`/`any` groups "
                                  f"(after expanding `in`, `not` and `plan.` values); at most {MAX_GROUPS}",
                                  rule.loc, help="split it into several simpler rules"))
    if total > MAX_COMPARISONS:
        out.append(Diagnostic("too_many_comparisons", f"`{rf.event}` rules make {total} comparisons "
                              f"(after expanding `in`, `not` and `plan.` values); at most {MAX_COMPARISONS}",
                              rf.loc, help="use fewer values in `in` lists, or fewer rules"))
    return out


def compile_ruleset(rf: RuleFile) -> dict[str, Any]:
    """One durable ruleset (a plain dict) for one rules file; actions are named ``<event>:<pos>``."""
    out: dict[str, Any] = {}
    for rule in rf.rules:
        out[f"r{rule.position}"] = {"all": [{"m": pattern(rf.event, rule.when)}], "pri": rule.position,
                                    "run": f"{rf.event}:{rule.position}"}
    # Housekeeping rule for close(): delete_state is only safe on a sid that ran an action
    # (docs/durable_rules.md, "Deleting state").
    out["touch"] = {"all": [{"m": {"$ex": {TOUCH_FIELD: 1}}}], "pri": len(rf.rules), "run": "touch"}
    return out


def compile_rulesets(files: Iterable[RuleFile]) -> dict[str, dict[str, Any]]:
    return {rf.event: compile_ruleset(rf) for rf in files}


def _host_class() -> type:
    from durable.engine import Host

    class _ManualHost(Host):
        """A Host without its two self-respawning timer threads.

        See docs/durable_rules.md, "No background threads".
        """

        def __init__(self, defs: dict[str, Any], actions: Callable[[str], Callable[[Any], None]]) -> None:
            self._actions_for = actions
            super().__init__(defs)

        def _run(self) -> None:
            pass

        def get_action(self, action_name: str) -> Callable[[Any], None]:
            return self._actions_for(action_name)

    return _ManualHost


class DurableRunner:
    """Holds one thread-less durable Host with a ruleset per event kind; decides one event at a time.

    Not re-entrant: callers serialise :meth:`decide` (the RuleBook holds a lock).
    """

    def __init__(self, rulesets: Mapping[str, dict[str, Any]]) -> None:
        import durable.engine as de
        import durable_rules_engine as dre

        self._dre = dre
        self._not_handled = de.MessageNotHandledException
        self._observed = de.MessageObservedException
        self._fired = -1
        self._next_id = 0
        self._closed = False
        self._host = _host_class()(None, self._action)
        self._events = tuple(rulesets)
        for name, definition in rulesets.items():
            try:
                self._host.register_rulesets({name: copy.deepcopy(definition)})
            except Exception as exc:  # durable raises bare errors with C codes
                self.close()
                raise RuleEngineFailure(f"durable_rules refused the `{name}` rules: {exc}") from exc

    def _action(self, name: str) -> Callable[[Any], None]:
        if name == "touch":
            return _noop
        position = int(name.rsplit(":", 1)[1])

        def fired(c: Any) -> None:
            self._fired = position

        return fired

    def decide(self, event: str, message: dict[str, Scalar]) -> int:
        """Post one event (flat fields, typed values) and return the position of the rule that fired.

        ``message`` gets the discriminator and a fresh ``id``; it must not be reused.
        """
        if self._closed:
            raise RuleEngineFailure("the rule book is closed")
        message[discriminator(event)] = 1
        for _attempt in range(3):
            self._next_id += 1
            message["id"] = self._next_id
            self._fired = -1
            try:
                state = self._host.post(event, message)
            except self._observed:
                continue  # a 32-bit id-hash collision (docs/durable_rules.md, "Identity"): try another id
            except self._not_handled as exc:
                raise RuleEngineFailure(f"no `{event}` rule matched the event (missing catch-all?)") from exc
            except Exception as exc:  # durable raises bare Exceptions for C error codes
                raise RuleEngineFailure(f"durable_rules failed on a `{event}` event: {exc}") from exc
            self._check_state(event, state)
            if self._fired < 0:
                raise RuleEngineFailure(f"no `{event}` rule fired synchronously")
            return self._fired
        raise RuleEngineFailure(f"durable_rules kept refusing a `{event}` event as already observed")

    def _check_state(self, event: str, state: Any) -> None:
        if isinstance(state, dict) and state.get("exception"):
            problem = str(state.pop("exception")).splitlines()[0][:200]
            with contextlib.suppress(Exception):  # clear it, or every later post reports it
                self._host.update_state(event, state)
            raise RuleEngineFailure(f"a `{event}` rule action failed: {problem}")

    def close(self) -> None:
        """Free the C memory of every ruleset; idempotent."""
        if self._closed:
            return
        self._closed = True
        for rs in list(self._host._ruleset_list):
            try:
                self._next_id += 1
                self._host.post(rs._name, {"sid": SID, "id": self._next_id, TOUCH_FIELD: 1})
            except Exception:  # pragma: no cover - the sid exists and has run an action already
                pass
        for rs in list(self._host._ruleset_list):
            try:
                rs.delete_state(SID)
            finally:
                self._dre.delete_ruleset(rs._handle)
        self._host._ruleset_list.clear()
        self._host._ruleset_directory.clear()


def _noop(c: Any) -> None:
    pass
