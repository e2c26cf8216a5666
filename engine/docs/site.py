"""The living documentation: a static site that follows each requirement to the credits it moved.

For every requirement (R01-R20 in the shipped ``features/REQUIREMENTS.md``, whatever that
file declares in another project): the project's statement of it, the feature
scenarios that prove it with their last results, the rules that implement
it with how often each decided in the feature run, and one real decision
per rule (the facts it read, what it decided, the ledger entries it wrote)
from running the example scenarios. Plus the plans table and a page per
rules file. Plain HTML with its styles inline: no server, no network, it
opens from disk. :func:`check_site` proves every page is there and every
link lands.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.codes import C
from engine.docs.sources import (
    Requirement,
    Scenario,
    Trace,
    read_coverage,
    read_features,
    read_requirements,
    read_results,
)
from engine.model import Decision
from engine.policy import Policy, load_policy
from engine.policy.words import PLAN_COLUMNS
from engine.rules.book import load_rule_files
from engine.rules.reader import Rule, RuleFile
from engine.scenario.load import load_scenario
from engine.scenario.run import local_iso, run_scenario

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222}
h1,h2,h3{line-height:1.2} a{color:#0a58ca} code,pre{font:13px/1.4 ui-monospace,monospace}
pre{background:#f6f8fa;padding:.6rem .8rem;overflow:auto;border-radius:4px}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}
.passed{color:#146c2e;font-weight:600} .failed{color:#b00020;font-weight:600} .not-run{color:#666}
.kw{color:#8250df;font-weight:600} nav{margin-bottom:1rem;font-size:14px} .muted{color:#666}
"""


@dataclass(frozen=True)
class Sources:
    requirements: dict[str, Requirement]
    scenarios: list[Scenario]
    results: dict[tuple[str, int], str]
    fires: dict[str, int] | None
    files: dict[str, RuleFile]
    texts: dict[str, list[str]]  # rules file lines, by event
    traces: dict[str, Trace]
    policy: Policy


def gather(
    root: Path, policy_path: Path, rules_dir: Path, results: Path | None, coverage: Path | None
) -> Sources:
    """Read everything the site shows; a missing or malformed source is an EngineError."""
    policy = load_policy(policy_path)
    files, _, _ = load_rule_files(rules_dir, policy)
    texts = {ev: Path(rf.path).read_text(encoding="utf-8").splitlines() for ev, rf in files.items()}
    return Sources(
        read_requirements(root / "features" / "REQUIREMENTS.md"),
        read_features(root / "features"),
        read_results(results),
        read_coverage(coverage),
        files,
        texts,
        example_traces(root / "examples" / "scenarios", rules_dir, files),
        policy,
    )


def example_traces(folder: Path, rules_dir: Path, files: Mapping[str, RuleFile]) -> dict[str, Trace]:
    """The first decision of each rule while the example scenarios run (``event/rule`` -> trace)."""
    traces: dict[str, Trace] = {}
    for path in sorted(folder.glob("*.yaml")):
        scenario = load_scenario(path)
        tz = scenario.policy.timezone

        def seen(d: Decision, facts: Mapping[str, Any], name: str = path.name, tz: str = tz) -> None:
            key = f"{d.event}/{d.rule}"
            if key in traces or d.event not in files:
                return
            read = files[d.event].facts_read()
            entries = tuple(
                f"{e.kind} {e.amount:+d}"
                + (f" (lot {e.lot})" if e.lot else "")
                + f", balance {e.balance_after}"
                for e in d.entries
            )
            traces[key] = Trace(
                name,
                local_iso(d.at, tz),
                tuple((f, facts[f]) for f in read if f in facts),
                d.outcome,
                d.reason,
                entries,
            )

        run_scenario(scenario, rules=rules_dir, observe=seen)
    return traces


# --- pages ----------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<style>{_STYLE}</style></head><body>\n<nav><a href="index.html">Requirements</a> · '
        f'<a href="plans.html">Plans</a></nav>\n{body}\n</body></html>\n'
    )


def _status(src: Sources, sc: Scenario) -> str:
    if not src.results:
        return '<span class="not-run">not run</span>'
    status = src.results.get((sc.feature, sc.line), "not run")
    return f'<span class="{status.replace(" ", "-")}">{_e(status)}</span>'


def _fired(src: Sources, rule: Rule) -> str:
    if src.fires is None:
        return "not measured"
    n = src.fires.get(f"{rule.event}/{rule.id}", 0)
    return f"decided {n} time{'s' if n != 1 else ''} in the feature run"


def _gherkin(sc: Scenario) -> str:
    lines = [f'<span class="kw">{_e(sc.keyword)}:</span> {_e(sc.name)}']
    lines += [f'  <span class="kw">{_e(kw)}</span> {_e(text)}' for kw, text in sc.steps]
    out = "<pre>" + "\n".join(lines) + "</pre>"
    if sc.examples:
        head, *rows = sc.examples
        cells = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
        out += "<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in head) + "</tr>" + cells + "</table>"
    return out


def _rule_yaml(src: Sources, rule: Rule) -> str:
    rf = src.files[rule.event]
    lines = src.texts[rule.event]
    starts = sorted(r.loc.line for r in rf.rules)
    start = rule.loc.line
    later = [s for s in starts if s > start]
    end = (later[0] - 1) if later else len(lines)
    block = lines[start - 1 : end]
    while block and (not block[-1].strip() or block[-1].lstrip().startswith("#")):
        block.pop()
    return "<pre>" + _e("\n".join(block)) + "</pre>"


def _rule_link(rule: Rule) -> str:
    return f'<a href="rules-{rule.event}.html#{rule.id}"><code>{_e(rule.id)}</code></a>'


def _trace(src: Sources, rule: Rule) -> str:
    t = src.traces.get(f"{rule.event}/{rule.id}")
    if t is None:
        return '<p class="muted">No example scenario reaches this rule.</p>'
    facts = "".join(f"<tr><td><code>{_e(k)}</code></td><td>{_e(_shown(v))}</td></tr>" for k, v in t.facts)
    decided = t.outcome + (f" / {t.reason}" if t.reason else "")
    entries = "".join(f"<li>{_e(e)}</li>" for e in t.entries) or "<li>none</li>"
    return (
        f"<p>Example: <code>examples/scenarios/{_e(t.scenario)}</code> at {_e(t.at)}</p>"
        f"<table><tr><th>fact the rules read</th><th>value</th></tr>{facts}</table>"
        f"<p>decided <strong>{_e(decided)}</strong>; ledger entries written:</p><ul>{entries}</ul>"
    )


def _shown(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _rules_citing(src: Sources, req: str) -> list[Rule]:
    return [r for ev in sorted(src.files) for r in src.files[ev].rules if req in r.requirements]


def requirement_page(src: Sources, req: Requirement) -> str:
    scenarios = [s for s in src.scenarios if req.id in s.requirements]
    rules = _rules_citing(src, req.id)
    parts = [
        f"<h1>{_e(req.id)}: {_e(req.title)}</h1>",
        f'<p class="muted">{_e(req.section)}</p>',
        f"<p>{_e(req.text)}</p>",
        f"<h2>Scenarios ({len(scenarios)})</h2>",
    ]
    for sc in scenarios:
        parts.append(
            f"<h3>{_e(sc.name)} {_status(src, sc)}</h3>"
            f'<p class="muted">features/{_e(sc.feature)}, line {sc.line}</p>{_gherkin(sc)}'
        )
    if not scenarios:
        parts.append("<p>No scenario is tagged with it.</p>")
    parts.append(f"<h2>Rules ({len(rules)})</h2>")
    for rule in rules:
        parts.append(
            f'<h3>{_rule_link(rule)} <span class="muted">rules/{_e(rule.event)}.yaml, '
            f"{_e(_fired(src, rule))}</span></h3><p>{_e(rule.description)}</p>"
            f"{_rule_yaml(src, rule)}{_trace(src, rule)}"
        )
    if not rules:
        parts.append("<p>No rule cites it: it is held by the ledger or the policy's numbers.</p>")
    return _page(f"{req.id}: {req.title}", "\n".join(parts))


def rules_page(src: Sources, event: str) -> str:
    rf = src.files[event]
    parts = [
        f"<h1>rules/{_e(event)}.yaml</h1>",
        "<p>Read top to bottom: the first rule whose <code>when</code> matches decides.</p>",
    ]
    for rule in rf.rules:
        reqs = ", ".join(f'<a href="{r}.html">{r}</a>' for r in rule.requirements) or "none"
        parts.append(
            f'<h2 id="{_e(rule.id)}">{rule.position}. <code>{_e(rule.id)}</code></h2>'
            f"<p>{_e(rule.description)}</p><p>Requirements: {reqs} · {_e(_fired(src, rule))}</p>"
            f"{_rule_yaml(src, rule)}{_trace(src, rule)}"
        )
    return _page(f"rules/{event}.yaml", "\n".join(parts))


def plans_page(src: Sources) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(name)}</code></td><td>{'yes' if p.premium else 'no'}</td>"
        f"<td>{p.monthly_allotment}</td><td>{p.cap}</td><td>{'yes' if p.purchasable else 'no'}</td></tr>"
        for name, p in src.policy.plans.items()
    )
    heads = "".join(
        f"<th>{_e(PLAN_COLUMNS[k])}</th>"
        for k in ("plan", "premium", "monthly_allotment", "cap", "purchasable")
    )
    body = (
        "<h1>Plans</h1><p>From the policy in force (<code>policies.yaml</code>).</p>"
        f"<table><tr>{heads}</tr>"
        f"{rows}</table>"
    )
    return _page("Plans", body)


def index_page(src: Sources) -> str:
    parts = [
        "<h1>InMail credits: requirements, scenarios, rules</h1>",
        "<p>Each requirement of the help-center page in the project's words, followed to the "
        "scenarios that prove it and the rules that implement it.</p>",
    ]
    section = None
    for rid in sorted(src.requirements):
        req = src.requirements[rid]
        if req.section != section:
            if section is not None:
                parts.append("</table>")
            section = req.section
            parts.append(
                f"<h2>{_e(section)}</h2><table><tr><th>requirement</th><th>scenarios</th><th>rules</th></tr>"
            )
        scenarios = [s for s in src.scenarios if rid in s.requirements]
        counts = _counts(src, scenarios)
        parts.append(
            f'<tr><td><a href="{rid}.html">{rid}: {_e(req.title)}</a></td><td>{counts}</td>'
            f"<td>{len(_rules_citing(src, rid))}</td></tr>"
        )
    files = "".join(f'<li><a href="rules-{ev}.html">rules/{ev}.yaml</a></li>' for ev in sorted(src.files))
    parts.append(f"</table><h2>Rules files</h2><ul>{files}</ul>")
    return _page("Requirements", "\n".join(parts))


def _counts(src: Sources, scenarios: Iterable[Scenario]) -> str:
    scs = list(scenarios)
    if not src.results:
        return f"{len(scs)} (not run)"
    statuses = [src.results.get((s.feature, s.line), "not run") for s in scs]
    failed = statuses.count("failed")
    return f"{len(scs)}: {statuses.count('passed')} passed" + (f", {failed} failed" if failed else "")


def build_site(out: Path, src: Sources) -> list[Path]:
    """Write every page to ``out``; return them."""
    pages = {"index.html": index_page(src), "plans.html": plans_page(src)}
    pages.update({f"{rid}.html": requirement_page(src, req) for rid, req in sorted(src.requirements.items())})
    pages.update({f"rules-{ev}.html": rules_page(src, ev) for ev in src.files})
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in pages.items():
            (out / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise C.unwritable_output(f"cannot write the site into `{out}`: {exc.strerror or exc}") from None
    return [out / name for name in pages]


_LINK = re.compile(r'href="([^"#]*)(?:#([^"]*))?"')
_ID = re.compile(r'id="([^"]+)"')


def check_site(out: Path, src: Sources) -> list[str]:
    """What is wrong with a site: a missing page, a link landing nowhere, a rule under no requirement,
    a scenario tagged with or a rule citing a requirement the requirements file does not declare."""
    problems = [f"no page for {rid}" for rid in src.requirements if not (out / f"{rid}.html").is_file()]
    problems += [
        f"features/{sc.feature}:{sc.line}: tagged @{rid}, which features/REQUIREMENTS.md does not declare"
        for sc in src.scenarios
        for rid in sc.requirements
        if rid not in src.requirements
    ]
    problems += [
        f"rule {rf.event}/{r.id} cites {rid}, which features/REQUIREMENTS.md does not declare"
        for rf in src.files.values()
        for r in rf.rules
        for rid in r.requirements
        if rid not in src.requirements
    ]
    ids = {p.name: set(_ID.findall(p.read_text(encoding="utf-8"))) for p in out.glob("*.html")}
    for page in sorted(out.glob("*.html")):
        for target, anchor in _LINK.findall(page.read_text(encoding="utf-8")):
            name = target or page.name
            if name.startswith(("http://", "https://")):
                problems.append(f"{page.name}: links outside the site ({name})")
            elif name not in ids:
                problems.append(f"{page.name}: link to a missing page {name}")
            elif anchor and anchor not in ids[name]:
                problems.append(f"{page.name}: link to a missing anchor {name}#{anchor}")
    cited = {(r.event, r.id) for rid in src.requirements for r in _rules_citing(src, rid)}
    problems += [
        f"rule {rf.event}/{r.id} is listed under no requirement"
        for rf in src.files.values()
        for r in rf.rules
        if (r.event, r.id) not in cited
    ]
    return problems
