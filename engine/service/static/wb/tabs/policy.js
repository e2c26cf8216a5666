// The Policy tab, the landing tab: policies.yaml as a form (`POST form`), for a person who never needs
// to see YAML. Every change goes through `POST edit`, which writes the value into the draft text with
// its comments and layout kept; the form is then read back from that text, so the form and the YAML
// view can never disagree. A text with the same plans, settings and responses is shown in place (the
// controls keep their focus, selection and what is being typed); another is drawn anew.
import { ask, el } from "../dom.js";
import { api, Problem } from "../api.js";
import { draft } from "../draft.js";
import { at, latest, onChecked } from "../diagnostics.js";
import { openInYaml } from "../main.js";
import { attrs, control, keepFocus, linkStyles, newId, problemText, show } from "../table.js";
import { discardFile, saveFile } from "./yaml.js";

const FILE = "policies.yaml";
const NAME = /^[a-z][a-z0-9_]*$/;
// A new plan starts as a Premium plan with a small allotment that cannot buy credits, unless the
// person copies an existing plan; keys the form model does not list are left out.
const NEW_PLAN = { premium: true, monthly_allotment: 5, cap: 15, purchasable: false };

let section, body, alert;
let form = null;        // the draft's form model
let saved = null;       // the saved file's, for "was …"
let savedText = null;   // the saved text `saved` was read from
let check = null;       // the last `check` result
let shape = null;       // what the drawn form is made of
let live = new Map();   // key -> {said, err, input, line, upto, show(entry)}: each drawn value, plan and input
let seq = 0;
let edits = Promise.resolve();
let focusNext = null;   // the key to focus once drawn (a new plan's first value)

const visible = () => section && section.getClientRects().length > 0;
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const invalid = (input, bad) => (bad ? input.setAttribute("aria-invalid", "true") : input.removeAttribute("aria-invalid"));

export default {
  id: "policy",
  label: "Policy",
  mount(s) {
    linkStyles();
    section = s;
    alert = el("div", { class: "form-alert", role: "alert" });
    body = el("div", { class: "policy-form" });
    section.append(el("h2", {}, "Policy"),
      el("p", { class: "muted intro" }, "Change a value and press Enter or move on: it is written into the draft of policies.yaml, "
        + "its comments kept, and checked at once. Nothing is saved until you save the draft."),
      el("div", { class: "toolbar" },
        el("button", { type: "button", id: "policy-save", class: "primary", onclick: saveAfterEdits }, "Save\u2026"),
        el("button", { type: "button", id: "policy-discard", onclick: () => discardFile(FILE) }, "Discard changes")),
      alert, body);
    draft.on((name) => { if (!name || name === FILE) later(); });
    onChecked((result) => { check = result; placeDiagnostics(); });
    check = latest();
    refresh();
  },
  show() { refresh(); },
};

let timer = null;
function later() {
  clearTimeout(timer);
  timer = setTimeout(() => { if (visible()) refresh(); }, 30);
}

async function refresh() {
  const mine = ++seq;
  try {
    if (draft.saved(FILE) !== savedText) {
      // a save changes only the "was …" marks and "new" tags, which update() shows in place: the
      // form is not drawn anew under a person already typing the next value
      const text = draft.saved(FILE);
      saved = await api("form", { files: {} });
      savedText = text;
    }
    const next = await api("form", { files: draft.files() });
    if (mine !== seq) return;
    form = next;
    alert.replaceChildren();
    const now = JSON.stringify([form.plan_keys, form.plans.map((p) => p.name), form.settings.map((x) => [x.path, x.type, x.choices]),
      form.responses.map((r) => r.name), form.response_statuses]);
    if (now === shape) update();
    else { shape = now; keepFocus(body, render); }
    placeDiagnostics();
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    if (mine !== seq) return;
    // the text is not a policy the form can read (a YAML slip typed in the YAML view): say where
    const d = (e.diagnostics || []).find((x) => x.line);
    alert.replaceChildren(el("p", { class: "bad" }, "The policy text cannot be shown as a form right now: ", problemText(e)),
      ...(d ? [el("button", { type: "button", onclick: () => openInYaml(d.file || FILE, d.line, d.column) }, `Show line ${d.line} in the YAML view`)] : []));
    body.querySelectorAll("input, select, button").forEach((c) => { c.disabled = true; });
    shape = null; // drawn anew (enabled) once the text reads again
  }
}

// --- edits: one at a time, each on the text the previous one left; a refusal shown by its value ----

function tell(key, text) {
  const f = live.get(key);
  if (f) f.said.textContent = text;
  if (f && f.input) invalid(f.input, !!text);
}

/** Save… waits for the edits under way: the value typed last is sent when its input loses focus, just
 * before the click, and the diff must include it. */
async function saveAfterEdits() {
  await edits;
  return saveFile(FILE);
}

function edit(list, key) {
  const run = async () => {
    try {
      const r = await api("edit", { file: FILE, text: draft.text(FILE), edits: list });
      draft.set(FILE, r.text, "form");
      return true;
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      tell(key, problemText(e));
      return false;
    }
  };
  const done = edits.then(run);
  edits = done.catch(() => false);
  return done;
}

// --- the model: every drawn value by key, with its saved value and line ----------------------------

function entries() {
  const out = new Map();
  const plansBefore = Object.fromEntries((saved?.plans || []).map((p) => [p.name, p.values]));
  const starts = form.plans.map((p) => p.line).filter(Boolean).sort((x, y) => x - y);
  for (const plan of form.plans) {
    const isNew = !!saved && !(plan.name in plansBefore);
    // a diagnostic inside the plan's entry that is on no value's line shows by its name
    const upto = plan.line ? (starts.find((l) => l > plan.line) ?? plan.line + 2 * form.plan_keys.length + 2) - 1 : null;
    out.set(`plan ${plan.name}`, { line: plan.line, upto, isNew });
    for (const k of form.plan_keys) {
      out.set(`${plan.name} ${k.key}`, { value: plan.values[k.key], was: isNew ? undefined : plansBefore[plan.name]?.[k.key], line: plan.lines?.[k.key] ?? null });
    }
  }
  const settingsBefore = Object.fromEntries((saved?.settings || []).map((s) => [s.path.join("."), s.value]));
  for (const s of form.settings) {
    const key = s.path.join(".");
    out.set(key, { value: s.value, was: settingsBefore[key], line: s.line ?? null, isDefault: !s.set });
  }
  const responsesBefore = Object.fromEntries((saved?.responses || []).map((r) => [r.name, r.status]));
  for (const r of form.responses) out.set(`responses.${r.name}`, { value: r.status, was: responsesBefore[r.name], line: r.line ?? null });
  return out;
}

function update() {
  for (const [key, e] of entries()) {
    const f = live.get(key);
    if (!f) continue;
    f.line = e.line;
    f.upto = e.upto;
    f.show(e);
  }
}

function render() {
  const model = entries();
  live = new Map();
  body.replaceChildren(plansPart(), settingsPart(), responsesPart());
  for (const [key, e] of model) live.get(key)?.show(e);
  if (focusNext) {
    // (a text without it yet may be drawn first: wait for the one that has it)
    const next = body.querySelector(`[data-key="${CSS.escape(focusNext)}"]`);
    if (next) { focusNext = null; next.focus(); }
  }
}

// Where messages about `key` go: what the form says (a refusal, a value it cannot send), then the check's.
function slot(key, extra = {}) {
  const said = el("span", { class: "said" });
  const err = el("span", { class: "diag", id: newId("err") }, said);
  const f = { said, err, line: null, upto: null, show() {}, ...extra };
  live.set(key, f);
  return f;
}

// One value: its control, "was …" when the draft differs from the saved file, messages.
function field({ key, type, choices, min, max, list, describedby, path, refuse = () => null }) {
  const was = el("span", { class: "was", id: newId("was") });
  const f = slot(key);
  const tag = el("span", { class: "tag", hidden: true }, "default");
  const ctl = control({ type, value: null, choices, min, max, list, key, describedby: [describedby, was.id, f.err.id].filter(Boolean).join(" "),
    invalid: (m) => tell(key, m),
    commit: (v) => {
      const bad = refuse(v);
      tell(key, bad || "");
      return bad ? undefined : edit([{ path, value: v }], key);
    } });
  f.input = ctl.input;
  f.show = (e) => {
    // what the person typed and has not sent (or that was refused) stays until they change it
    const pending = "shown" in ctl.input.dataset && ctl.input.value !== ctl.input.dataset.shown;
    if (!pending) ctl.set(e.value);
    was.textContent = e.was !== undefined && !same(e.value, e.was) ? `was ${show(e.was)}` : "";
    tag.hidden = !e.isDefault;
  };
  return [ctl.node, was, tag, f.err];
}

function plansPart() {
  const keys = form.plan_keys;
  const helpIds = Object.fromEntries(keys.map((k) => [k.key, newId("help")]));
  const head = el("tr", {}, el("th", { scope: "col" }, "Plan"),
    ...keys.map((k) => el("th", attrs({ scope: "col", title: k.help }), el("span", {}, k.label),
      el("span", { class: "doc", id: helpIds[k.key] }, k.help || ""))),
    el("th", { scope: "col" }, el("span", { class: "sr-only" }, "Actions")));
  const rows = form.plans.map((plan) => {
    const newTag = el("span", { class: "tag", hidden: true }, "new");
    const f = slot(`plan ${plan.name}`, { show: (e) => { newTag.hidden = !e.isNew; } });
    return el("tr", { "data-plan": plan.name },
      el("th", { scope: "row" }, el("span", { class: "plan-name" }, plan.name), newTag, f.err),
      ...keys.map((k) => el("td", {}, ...field({ key: `${plan.name} ${k.key}`, type: k.type, choices: k.choices, min: k.min, max: k.max,
        describedby: helpIds[k.key], path: ["plans", plan.name, k.key] }))),
      el("td", {}, el("button", { type: "button", class: "remove", "aria-label": `Remove the plan ${plan.name}`,
        onclick: () => removePlan(plan.name) }, "Remove")));
  });
  return el("section", { class: "part", "aria-labelledby": "plans-title" },
    el("h3", { id: "plans-title" }, "Plans"),
    el("div", { class: "table-scroll" }, el("table", { class: "plans-form", id: "plans-form" }, el("thead", {}, head), el("tbody", {}, ...rows))),
    addPlanForm(keys));
}

function addPlanForm(keys) {
  const nameId = newId("plan-name");
  const name = el("input", { id: nameId, type: "text", "data-key": "new plan name", spellcheck: "false", autocomplete: "off" });
  const f = slot("new plan name", { input: name });
  f.err.setAttribute("role", "alert");
  name.setAttribute("aria-describedby", `${nameId}-hint ${f.err.id}`);
  const fresh = Object.fromEntries(keys.map((k) => [k.key, k.default ?? NEW_PLAN[k.key]]));
  const words = (values) => keys.map((k) => `${k.label}: ${show(values[k.key])}`).join(", ");
  const from = el("select", { id: newId("plan-from"), "data-key": "new plan from" },
    el("option", { value: "" }, `the usual values (${words(fresh)})`),
    ...form.plans.map((p) => el("option", { value: p.name }, `a copy of ${p.name}`)));
  const submit = async (e) => {
    e.preventDefault();
    const n = name.value.trim();
    const bad = !NAME.test(n) ? "A plan name is lowercase letters, digits and _, starting with a letter (e.g. team_plus)."
      : form.plans.some((p) => p.name === n) ? `There is a plan ${n} already.` : "";
    tell("new plan name", bad);
    if (bad) { name.focus(); return; }
    const values = from.value ? { ...form.plans.find((p) => p.name === from.value).values } : fresh;
    focusNext = `${n} ${keys[0].key}`;
    if (!await edit([{ path: ["plans", n], value: values }], "new plan name")) focusNext = null;
  };
  return el("form", { class: "add", "aria-labelledby": `${nameId}-legend`, onsubmit: submit, novalidate: true },
    el("h4", { id: `${nameId}-legend` }, "Add a plan"),
    el("label", { for: nameId }, "Name of the new plan"), name,
    el("label", { for: from.id }, "Starting from"), from,
    el("button", { type: "submit" }, "Add the plan"),
    el("span", { class: "muted hint", id: `${nameId}-hint` }, "lowercase letters, digits and _"), f.err);
}

async function removePlan(name) {
  // where the plan is used: the folder's scenarios, and the bound store's accounts (`GET usage`)
  let use = { store: false, plans: {} };
  try { use = await api("usage"); } catch (e) { if (!(e instanceof Problem)) throw e; }
  const here = use.plans[name] || { scenarios: [], account: null };
  const users = here.scenarios;
  const warn = users.length ? ` Scenarios of this folder that use it will stop loading until they are changed: ${users.join(", ")}.`
    : " No scenario of this folder uses it.";
  const store = here.account
    ? ` The bound store has accounts on it (${here.account}, maybe others): a policy without it would not open that store.`
    : use.store ? " No account of the bound store is on it." : "";
  const sure = await ask(`Remove the plan ${name}?`, [{ label: "Remove the plan", value: true, danger: true }],
    `The draft is only saved when you save it.${warn}${store}`);
  if (sure) await edit([{ path: ["plans", name], remove: true }], `plan ${name}`);
}

function settingsPart() {
  const zones = newId("zones");
  const fields = form.settings.map((s) => {
    const key = s.path.join(".");
    const helpId = newId("help");
    const labelId = newId("label");
    const common = { key, path: s.path, describedby: `${labelId} ${helpId}` };
    const controls = s.type === "timezone" ? field({ ...common, type: "text", list: zones,
      refuse: (v) => (form.timezones && !form.timezones.includes(v) ? `${v} is not a time zone name (e.g. UTC, Europe/Paris)` : null) })
      : field({ ...common, type: s.type === "enum" ? "choice" : s.type, choices: s.choices, min: s.min, max: s.max });
    const target = live.get(key).input;
    if (!target.id) target.id = newId("set");
    return el("div", { class: "field", "data-setting": key },
      s.type === "enum_list" ? el("span", { class: "label", id: labelId }, s.label)
        : el("label", { class: "label", id: labelId, for: target.id }, s.label),
      el("div", { class: "value" }, ...controls),
      el("p", { class: "help", id: helpId }, s.help || "", el("code", { class: "path" }, key)));
  });
  return el("section", { class: "part", "aria-labelledby": "settings-title" },
    el("h3", { id: "settings-title" }, "Settings"),
    el("datalist", { id: zones }, ...(form.timezones || []).map((z) => el("option", { value: z }))),
    el("div", { class: "fields" }, ...fields));
}

function responsesPart() {
  const statuses = form.response_statuses || [];
  const rows = form.responses.map((r) => el("tr", {},
    el("th", { scope: "row" }, r.name),
    el("td", {}, ...field({ key: `responses.${r.name}`, type: "choice", choices: statuses, path: ["responses", r.name] })),
    el("td", {}, el("button", { type: "button", class: "remove", "aria-label": `Remove the response ${r.name}`,
      onclick: async () => {
        if (await ask(`Remove the response ${r.name}?`, [{ label: "Remove it", value: true, danger: true }],
          "Scenarios and apps that record this response would be refused.")) {
          await edit([{ path: ["responses", r.name], remove: true }], `responses.${r.name}`);
        }
      } }, "Remove"))));
  const nameId = newId("resp");
  const name = el("input", { id: nameId, type: "text", spellcheck: "false", autocomplete: "off", "data-key": "new response name" });
  const f = slot("new response name", { input: name });
  f.err.setAttribute("role", "alert");
  name.setAttribute("aria-describedby", f.err.id);
  const status = el("select", { id: newId("resp-status"), "data-key": "new response status" }, ...statuses.map((c) => el("option", { value: c }, c)));
  const add = async (e) => {
    e.preventDefault();
    const n = name.value.trim();
    const bad = !NAME.test(n) ? "A response name is lowercase letters, digits and _, starting with a letter."
      : form.responses.some((r) => r.name === n) ? `There is a response ${n} already.` : "";
    tell("new response name", bad);
    if (bad) { name.focus(); return; }
    focusNext = `responses.${n}`;
    if (!await edit([{ path: ["responses", n], value: status.value }], "new response name")) focusNext = null;
  };
  return el("section", { class: "part", "aria-labelledby": "responses-title" },
    el("h3", { id: "responses-title" }, "Responses"),
    el("p", { class: "muted" }, "Each kind of response a recipient can give, and how the InMail is recorded."),
    el("table", { class: "responses-form" }, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Response"),
      el("th", { scope: "col" }, "Recorded as"), el("th", { scope: "col" }, el("span", { class: "sr-only" }, "Actions")))),
    el("tbody", {}, ...rows)),
    el("form", { class: "add", onsubmit: add, novalidate: true }, el("h4", {}, "Add a response"),
      el("label", { for: nameId }, "Name of the new response"), name, el("label", { for: status.id }, "Recorded as"), status,
      el("button", { type: "submit" }, "Add the response"), f.err));
}

// --- diagnostics of the last check, beside the value on their line --------------------------------

function placeDiagnostics() {
  if (!check || !form) return;
  const all = check.diagnostics || [];
  const placed = new Set();
  const note = (d) => el("span", { class: `checked ${d.severity}` }, `${d.message}${d.help ? ` (${d.help})` : ""}`);
  for (const f of live.values()) {
    f.err.querySelectorAll(".checked").forEach((n) => n.remove());
    const here = f.line ? at(all, FILE, f.line) : [];
    here.forEach((d) => placed.add(d));
    f.err.append(...here.map(note));
    if (f.input) invalid(f.input, !!f.said.textContent || here.some((d) => d.severity === "error"));
  }
  for (const f of live.values()) {
    if (!f.upto) continue;
    const inside = all.filter((d) => !placed.has(d) && d.file === FILE && d.line > f.line && d.line <= f.upto);
    inside.forEach((d) => placed.add(d));
    f.err.append(...inside.map(note));
  }
  const rest = all.filter((d) => !placed.has(d));
  const box = el("div", { class: "elsewhere" });
  if (rest.length) {
    box.append(el("p", { class: "bad" }, "Problems in the draft:"), el("ul", {}, ...rest.map((d) => el("li", { class: d.severity },
      `${d.message}${d.help ? ` (${d.help})` : ""} `,
      ...(d.file && d.line ? [el("button", { type: "button", class: "link", onclick: () => openInYaml(d.file, d.line, d.column) },
        `${d.file} line ${d.line}`)] : [])))));
  }
  body.querySelector(".elsewhere")?.remove();
  body.prepend(box);
}
