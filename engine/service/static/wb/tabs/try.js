// The Try a decision tab: one event, its facts (each shown with the value the engine would use: the
// person's, else the default under the draft policy, which follows what was set: choose a plan and
// the plan's facts follow), the verdict, and the event's rules table with the deciding row marked and,
// on each row above it, the cells that did not match.
import { el } from "../dom.js";
import { api, Problem } from "../api.js";
import { draft } from "../draft.js";
import { latest } from "../diagnostics.js";
import { openInYaml, showTab } from "../main.js";
import { control, linkStyles, newId, problemText, renderTable, show } from "../table.js";

let section, eventSel, factsBox, factsErr, verdict, tableBox;
let events = {};       // event -> catalog facts
let given = {};        // the facts the person set, for the chosen event
let rows = {};         // fact name -> {set(value), mark(isSet)}
let seq = 0;
let plansShown = "";   // the plan names the facts' choices were drawn with

export default {
  id: "try",
  label: "Try a decision",
  mount(s) {
    linkStyles();
    section = s;
    eventSel = el("select", { id: "try-event", onchange: () => { given = {}; renderFacts(); } });
    factsBox = el("div", { class: "facts" });
    factsErr = el("p", { class: "diag error", role: "alert" });
    verdict = el("div", { class: "verdict", "aria-live": "polite" });
    tableBox = el("div", { class: "try-table" });
    const reset = el("button", { type: "button", onclick: () => { given = {}; renderFacts(); } }, "Reset to defaults");
    section.append(el("h2", {}, "Try a decision"),
      el("p", { class: "muted intro" }, "Set the facts you care about; the others take their defaults under the draft policy, "
        + "and follow what you set (choose a plan and the plan's values follow). Then decide: the verdict and the rules behind it."),
      el("form", { id: "try-form", onsubmit: (e) => { e.preventDefault(); decide(); } },
        el("div", { class: "toolbar" }, el("label", { for: "try-event" }, "Event"), eventSel),
        el("fieldset", {}, el("legend", {}, "Facts"), factsBox, factsErr),
        el("div", { class: "toolbar" }, el("button", { type: "submit", class: "primary", id: "decide" }, "Decide"), reset)),
      verdict, tableBox);
    // the defaults follow the draft policy: read them again when it changes
    // (only while shown: a draft that does not load has no defaults, and show() asks again)
    draft.on((name) => { if ((!name || name === "policies.yaml") && eventSel.value && section.getClientRects().length) defaults(); });
    loadCatalog();
  },
  show() {
    if (!eventSel.value) return;
    if (JSON.stringify(draftPlans()) !== plansShown) renderFacts(); // a plan added or removed in the draft
    else defaults();
  },
};

async function loadCatalog() {
  try {
    events = (await api("catalog")).events;
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    factsErr.textContent = problemText(e);
    return;
  }
  eventSel.replaceChildren(...Object.keys(events).map((n) => el("option", { value: n }, n)));
  eventSel.value = "send" in events ? "send" : Object.keys(events)[0];
  renderFacts();
}

// The catalog's choices come from the saved policy; a fact whose choices are the plans offers the draft's.
function draftPlans() {
  const c = latest();
  return c && c.plans && c.saved_plans ? [c.saved_plans.map((p) => p.plan), c.plans.map((p) => p.plan)] : null;
}

function choicesOf(f) {
  const plans = draftPlans();
  return plans && f.choices && JSON.stringify(f.choices) === JSON.stringify(plans[0]) ? plans[1] : f.choices;
}

function renderFacts() {
  plansShown = JSON.stringify(draftPlans());
  rows = {};
  verdict.replaceChildren();
  tableBox.replaceChildren();
  factsErr.textContent = "";
  factsBox.replaceChildren(...(events[eventSel.value] || []).map(factRow));
  defaults();
}

function factRow(f) {
  const id = newId("fact");
  const docId = newId("doc");
  const stateId = newId("state");
  const state = el("span", { class: "tag", id: stateId });
  const useDefault = el("button", { type: "button", class: "link", "aria-label": `Use the default for ${f.name}`,
    onclick: () => { delete given[f.name]; defaults(); } }, "use the default");
  const ctl = control({
    type: f.type === "bool" ? "bool" : f.choices ? "choice" : f.type, value: f.default, choices: choicesOf(f), key: f.name,
    describedby: `${docId} ${stateId}`,
    invalid: (m) => { factsErr.textContent = `${f.name}: ${m}`; },
    commit: (v) => { factsErr.textContent = ""; given[f.name] = v; defaults(); },
  });
  ctl.input.id = id;
  // A switch's accessible name is its label element: the fact's name
  ctl.input.removeAttribute("aria-label");
  rows[f.name] = {
    set: ctl.set,
    mark(isSet) {
      state.textContent = isSet ? "set by you" : "default";
      state.className = isSet ? "tag set" : "tag";
      useDefault.hidden = !isSet;
    },
  };
  return el("div", { class: "fact", "data-fact": f.name },
    el("label", { for: id, class: "fact-name" }, f.name), el("div", { class: "value" }, ctl.node, state, useDefault),
    el("p", { class: "help", id: docId }, f.doc || ""));
}

// Every fact's value as the engine would take it now: the person's, the others' defaults following them.
async function defaults() {
  const mine = ++seq;
  const event = eventSel.value;
  try {
    const r = await api("defaults", { files: draft.files(), event, facts: given });
    if (mine !== seq || event !== eventSel.value) return;
    for (const [name, row] of Object.entries(rows)) {
      if (name in r.facts) row.set(r.facts[name]);
      row.mark(name in given);
    }
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    if (mine === seq) factsErr.textContent = problemText(e);
  }
}

async function decide() {
  const event = eventSel.value;
  verdict.replaceChildren(el("p", { class: "muted" }, "Deciding…"));
  let answer;
  try {
    answer = await api("decide", { files: draft.files(), event, facts: given });
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    verdict.replaceChildren(el("p", { class: "bad" }, "No decision: ", problemText(e)));
    tableBox.replaceChildren();
    return;
  }
  const file = answer.file || `rules/${event}.yaml`;
  verdict.replaceChildren(el("div", { class: `verdict-box ${answer.outcome}` },
    el("p", { class: "outcome" }, el("span", { class: "muted" }, "Outcome: "), el("b", {}, answer.outcome),
      answer.reason ? [el("span", { class: "muted" }, "  reason: "), el("b", {}, answer.reason)] : null),
    el("p", {}, "Decided by the rule ", el("b", { class: "rule-id" }, answer.rule),
      (answer.requirements || []).length ? ` (${answer.requirements.join(", ")})` : "", " in ",
      el("button", { type: "button", class: "link", onclick: () => openInYaml(file, answer.line, 1) }, `${file} line ${answer.line}`),
      " · ", el("button", { type: "button", class: "link", onclick: () => openRules(file) }, "open its table")),
    answer.description ? el("p", { class: "description" }, answer.description) : null,
    el("p", {}, "Effects: ", (answer.effects || []).join(", ") || "none"),
    answer.read ? el("details", {}, el("summary", {}, "The facts the rules of this event read"),
      el("ul", {}, ...answer.read.map((n) => el("li", {}, `${n} = ${show(answer.facts?.[n])}`,
        (answer.given || []).includes(n) ? el("span", { class: "tag set" }, "set by you") : null)))) : null));
  try {
    const table = await api("table", { files: draft.files(), file });
    renderTable(tableBox, table, { explain: answer.rows, decided: answer.rule });
    tableBox.prepend(el("h3", {}, `How the rules of ${event} read these facts`));
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    tableBox.replaceChildren(el("p", { class: "bad" }, problemText(e)));
  }
}

async function openRules(file) {
  showTab("rules");
  const rules = (await import("./rules.js")).default;
  if (rules.open) rules.open(file);
}
