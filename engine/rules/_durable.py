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
* the host starts no threads, and a ruleset is freed (touch its sid so
  ``delete_state`` is safe, see "Deleting state", then ``delete_ruleset``, which
  also gives its handle back);
* a compiled ruleset is shared by every book of the process whose rules compile
  to the same definition, and kept a while after its last book closed (see
  "compiled rulesets, shared" below): durable has 131,072 handles per process,
  and reloading unchanged rules compiles nothing.

``durable`` is imported when a runner is built, never at ``import engine``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from engine.codes import C
from engine.rules import catalog
from engine.rules.conditions import OPS
from engine.rules.reader import All, AnyOf, Cmp, Cond, RuleFile, Scalar, leaves
from engine.source.diagnostics import Diagnostic

SID = "0"
#: durable_rules limits, kept well inside (see :func:`limit_problems`).
MAX_GROUPS = 15
MAX_COMPARISONS = 400
MAX_RULES = 100
TOUCH_FIELD = "touch__"


def field_name(fact: str) -> str:
    """The flat message field that carries ``fact`` (no dots: durable would read a path)."""
    return fact.replace(".", "__")


def discriminator(event: str) -> str:
    return f"ev__{event}"


def _expr(cond: Cond) -> dict[str, Any]:
    if isinstance(cond, Cmp):
        durable = OPS[cond.op].durable
        if durable is None:  # equality is a plain match
            return {field_name(cond.fact): cond.value}
        return {durable: {field_name(cond.fact): cond.value}}
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
    names = [
        *(field_name(f) for f in catalog.CATALOG[event]),
        discriminator(event),
        TOUCH_FIELD,
        "id",
        "sid",
        "$s",
    ]
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
        out.append(
            Diagnostic(
                C.fact_name_collision,
                f"facts `{a}` and `{b}` look alike to durable_rules",
                rf.loc,
                help="rename one of them in the fact catalog, engine/rules/catalog.py",
            )
        )
    if len(rf.rules) > MAX_RULES:
        out.append(
            Diagnostic(
                C.too_many_rules,
                f"`{rf.event}` has {len(rf.rules)} rules, more than {MAX_RULES}",
                rf.loc,
                help="merge rules that decide the same thing",
            )
        )
    total = 0
    for rule in rf.rules:
        total += len(leaves(rule.when))
        n = groups(rule.when)
        if n > MAX_GROUPS:
            out.append(
                Diagnostic(
                    C.rule_too_complex,
                    f"rule `{rule.id}` nests {n} `all`/`any` groups "
                    f"(after expanding `in`, `not` and `plan.` values); at most {MAX_GROUPS}",
                    rule.loc,
                    help="split it into several simpler rules",
                )
            )
    if total > MAX_COMPARISONS:
        out.append(
            Diagnostic(
                C.too_many_comparisons,
                f"`{rf.event}` rules make {total} comparisons "
                f"(after expanding `in`, `not` and `plan.` values); at most {MAX_COMPARISONS}",
                rf.loc,
                help="use fewer values in `in` lists, or fewer rules",
            )
        )
    return out


def compile_ruleset(rf: RuleFile) -> dict[str, Any]:
    """One durable ruleset (a plain dict) for one rules file; actions are named ``<event>:<pos>``."""
    out: dict[str, Any] = {}
    for rule in rf.rules:
        out[f"r{rule.position}"] = {
            "all": [{"m": pattern(rf.event, rule.when)}],
            "pri": rule.position,
            "run": f"{rf.event}:{rule.position}",
        }
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


# --- compiled rulesets, shared ------------------------------------------------------------------
#
# Every ruleset durable_rules compiles takes a slot of its process-wide handle table
# (131,072 slots); only ``delete_ruleset`` gives the slot back. A reload, a workbench click or a
# scenario run builds a RuleBook, and most of them compile exactly the rulesets some other book
# of the process already holds (an unchanged rules folder). So a compiled ruleset is shared by
# every runner whose rules compile to the same definition, and kept a while after its last user
# closes: a reload of unchanged rules, or a click on an unchanged draft, compiles nothing.
# The key is the compiled definition itself, not the rules text: a rule that reads a policy value
# (``plan.cap``, an ``in`` list of plans) compiles differently under another policy.

#: Compiled rulesets kept after their last user closed, most recently released last.
IDLE_KEEP = 32


class HandleCount(NamedTuple):
    """durable_rules handles of this process, since it started."""

    created: int  #: rulesets compiled: a handle slot taken for each
    deleted: int  #: rulesets deleted: their slot back in durable's table
    reused: int  #: rulesets a runner got from the cache instead of compiling them again
    idle: int  #: compiled rulesets no runner uses, kept for the next one

    @property
    def live(self) -> int:
        """Handle slots held now (in use or idle): what must stay under durable's 131,072."""
        return self.created - self.deleted


class _Ruleset:
    """One compiled durable ruleset on its own thread-less Host, shared by the runners that need it.

    It decides under its own lock, since runners of different books may share it. A C error
    while posting marks it broken: it is not handed out again, and it is deleted when its last
    user releases it.
    """

    def __init__(self, key: str, event: str, definition: Mapping[str, Any]) -> None:
        import durable.engine as de

        self.key = key
        self.event = event
        self.users = 0
        self.broken = False
        self._not_handled = de.MessageNotHandledException
        self._observed = de.MessageObservedException
        self._fired = -1
        self._next_id = 0
        self._lock = threading.Lock()
        self._host = _host_class()(None, self._action)
        try:
            self._host.register_rulesets({event: copy.deepcopy(dict(definition))})
        except Exception as exc:  # durable raises bare errors with C codes
            self._counted()
            self.free()
            raise C.rule_engine_failure(f"durable_rules refused the `{event}` rules: {exc}") from exc
        self._counted()

    def _counted(self) -> None:
        _counts["created"] += len(self._host._ruleset_list)

    def _action(self, name: str) -> Callable[[Any], None]:
        if name == "touch":
            return _noop
        position = int(name.rsplit(":", 1)[1])

        def fired(c: Any) -> None:
            self._fired = position

        return fired

    def decide(self, message: dict[str, Scalar]) -> int:
        """Post one event and return the position of the rule that fired (see DurableRunner.decide)."""
        event = self.event
        message[discriminator(event)] = 1
        with self._lock:
            for _attempt in range(3):
                self._next_id += 1
                message["id"] = self._next_id
                self._fired = -1
                try:
                    state = self._host.post(event, message)
                except self._observed:
                    continue  # a 32-bit id-hash collision (docs/durable_rules.md, "Identity"): another id
                except self._not_handled as exc:
                    raise C.rule_engine_failure(
                        f"no `{event}` rule matched the event (missing catch-all?)"
                    ) from exc
                except Exception as exc:  # durable raises bare Exceptions for C error codes
                    self.broken = True
                    raise C.rule_engine_failure(f"durable_rules failed on a `{event}` event: {exc}") from exc
                self._check_state(state)
                if self._fired < 0:
                    raise C.rule_engine_failure(f"no `{event}` rule fired synchronously")
                return self._fired
        raise C.rule_engine_failure(f"durable_rules kept refusing a `{event}` event as already observed")

    def _check_state(self, state: Any) -> None:
        if isinstance(state, dict) and state.get("exception"):
            problem = str(state.pop("exception")).splitlines()[0][:200]
            with contextlib.suppress(Exception):  # clear it, or every later post reports it
                self._host.update_state(self.event, state)
            raise C.rule_engine_failure(f"a `{self.event}` rule action failed: {problem}")

    def free(self) -> None:
        """Free the C memory and give the handle back (touch the sid so ``delete_state`` is safe)."""
        import durable_rules_engine as dre

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
                dre.delete_ruleset(rs._handle)
                _counts["deleted"] += 1
        self._host._ruleset_list.clear()
        self._host._ruleset_directory.clear()


_lock = threading.Lock()
#: every shared ruleset that is not broken, in use or idle, by key
_shared: dict[str, _Ruleset] = {}
_idle: OrderedDict[str, _Ruleset] = OrderedDict()
#: rulesets of runners dropped unclosed: a finalizer may run inside any allocation, even one made
#: while ``_lock`` is held, so it only appends here (no lock); the next acquire or release frees them
_dropped: list[list[_Ruleset]] = []
_counts = {"created": 0, "deleted": 0, "reused": 0}


def handle_count() -> HandleCount:
    """How many durable_rules handles this process took, gave back and reused (tests, benchmarks)."""
    with _lock:
        _drain()
        return HandleCount(_counts["created"], _counts["deleted"], _counts["reused"], len(_idle))


def free_idle() -> None:
    """Delete every compiled ruleset no runner uses (a test that needs a fresh compile)."""
    with _lock:
        _drain()
        while _idle:
            _, rs = _idle.popitem(last=False)
            del _shared[rs.key]
            rs.free()


def _key(event: str, definition: Mapping[str, Any]) -> str:
    text = json.dumps([event, definition], sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _acquire(event: str, definition: Mapping[str, Any]) -> _Ruleset:
    key = _key(event, definition)
    with _lock:
        _drain()
        rs = _shared.get(key)
        if rs is None or rs.broken:
            rs = _Ruleset(key, event, definition)
            _shared[key] = rs
        else:
            _idle.pop(key, None)
            _counts["reused"] += 1
        rs.users += 1
        return rs


def _release(rulesets: Iterable[_Ruleset]) -> None:
    with _lock:
        _release_locked(rulesets)
        _drain()


def _release_locked(rulesets: Iterable[_Ruleset]) -> None:
    for rs in rulesets:
        rs.users -= 1
        if rs.users > 0:
            continue
        if rs.broken or _shared.get(rs.key) is not rs:
            if _shared.get(rs.key) is rs:
                del _shared[rs.key]
            rs.free()
        else:
            _idle[rs.key] = rs
    while len(_idle) > IDLE_KEEP:
        _, old = _idle.popitem(last=False)
        del _shared[old.key]
        old.free()


def _drain() -> None:
    while _dropped:
        _release_locked(_dropped.pop())


class DurableRunner:
    """The compiled rulesets of one book, one per event kind; decides one event at a time.

    The rulesets come from the process's shared cache (above): building a runner for rules
    already compiled takes no new durable handle, and :meth:`close` hands them back.
    """

    def __init__(self, rulesets: Mapping[str, dict[str, Any]]) -> None:
        self._closed = False
        self._rulesets: dict[str, _Ruleset] = {}
        try:
            for name, definition in rulesets.items():
                self._rulesets[name] = _acquire(name, definition)
        except BaseException:
            self.close()
            raise

    def decide(self, event: str, message: dict[str, Scalar]) -> int:
        """Post one event (flat fields, typed values) and return the position of the rule that fired.

        ``message`` gets the discriminator and a fresh ``id``; it must not be reused.
        """
        rs = self._rulesets.get(event)
        if self._closed or rs is None:
            raise C.rule_engine_failure(
                "the rule book is closed" if self._closed else f"no `{event}` ruleset"
            )
        return rs.decide(message)

    def close(self) -> None:
        """Hand the rulesets back to the cache (freed when it holds too many idle); idempotent."""
        if self._closed:
            return
        self._closed = True
        _release(list(self._rulesets.values()))

    def drop(self) -> None:
        """:meth:`close` for a finalizer: the rulesets are handed back at the cache's next use."""
        if self._closed:
            return
        self._closed = True
        _dropped.append(list(self._rulesets.values()))


def _noop(c: Any) -> None:
    pass
