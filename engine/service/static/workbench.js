// The workbench page: plain JavaScript, no build step, nothing from the network but this server.
// The draft is the set of files whose text differs from what was saved; every request sends it.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { files: {}, saved: {}, tokens: {}, current: null, drafts: {}, catalog: {}, scenarios: {} };

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const r = await fetch("/wb/api/" + path, opts);
  const data = await r.json();
  return { status: r.status, data };
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function say(text, bad) { const s = $("status"); s.textContent = text; s.className = bad ? "bad" : "ok"; }

// --- tabs ------------------------------------------------------------------------------------------
function showTab(id) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const on = tab.getAttribute("aria-controls") === id;
    tab.setAttribute("aria-selected", String(on));
    $(tab.getAttribute("aria-controls")).hidden = !on;
  }
  if (id === "plans") renderPlans();
  if (id === "spec") loadSpec();
}
for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener("click", () => showTab(tab.getAttribute("aria-controls")));
}

// --- editor ----------------------------------------------------------------------------------------
let lastCheck = null;
let marked = new Set();

function gutter() {
  const n = $("text").value.split("\n").length;
  const g = $("gutter");
  g.replaceChildren(...Array.from({ length: n }, (_, i) =>
    el("span", { class: marked.has(i + 1) ? "bad" : "", id: "line-" + (i + 1) }, String(i + 1) + "\n")));
  g.scrollTop = $("text").scrollTop;
}
$("text").addEventListener("scroll", () => { $("gutter").scrollTop = $("text").scrollTop; });

function jumpTo(line, column) {
  const lines = $("text").value.split("\n");
  let pos = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
  pos += Math.max(0, (column || 1) - 1);
  const t = $("text");
  t.focus();
  t.setSelectionRange(pos, pos);
  t.scrollTop = Math.max(0, (line - 5) * 19.5);
}

function openFile(name) {
  state.current = name;
  $("file-select").value = name;
  $("text").value = name in state.drafts ? state.drafts[name] : state.saved[name];
  renderHelp();
  renderDiagnostics();
  gutter();
}

function renderHelp() {
  const text = $("text").value;
  const help = $("help");
  help.replaceChildren();
  if (state.current === "policies.yaml") {
    help.append(el("h3", {}, "What the settings mean"));
    for (const line of text.split("\n")) {  // the header comment, up to the first setting
      if (line.startsWith("# yaml-language-server")) continue;
      if (!line.startsWith("#")) { if (line.trim()) break; continue; }
      help.append(el("p", {}, line.replace(/^#\s?/, "") || "\u00a0"));
    }
  } else {
    help.append(el("h3", {}, "The rules of this file"));
    const ids = [...text.matchAll(/^\s*-?\s*id:\s*(\S+)/gm)].map((m) => m[1]);
    const descs = [...text.matchAll(/^\s*description:\s*(.+)$/gm)].map((m) => m[1].replace(/^["']|["']$/g, ""));
    ids.forEach((id, i) => help.append(el("p", {}, el("b", {}, id + ": "), descs[i] || "")));
  }
}

function renderDiagnostics() {
  const list = $("diagnostics");
  list.replaceChildren();
  marked = new Set();
  const found = lastCheck ? lastCheck.diagnostics : [];
  for (const d of found) {
    if (d.file === state.current && d.line) marked.add(d.line);
    const where = `${d.file || ""}${d.line ? ":" + d.line + ":" + d.column : ""}`;
    const b = el("button", { type: "button", onclick: () => { if (d.file in state.saved) openFile(d.file); if (d.line) jumpTo(d.line, d.column); } },
      `${where}: ${d.code}: ${d.message}`);
    if (d.help) b.append(el("span", { class: "help" }, "help: " + d.help));
    list.append(el("li", { class: d.severity }, b));
  }
  if (!found.length && lastCheck) list.append(el("li", {}, lastCheck.ok ? "No problems: the draft loads." : ""));
  gutter();
}

async function check() {
  const { data } = await api("check", { files: state.drafts });
  lastCheck = data;
  renderDiagnostics();
  const n = data.diagnostics.filter((d) => d.severity === "error").length;
  say(data.ok ? `Draft valid (revision ${data.revision})` : `${n} problem${n === 1 ? "" : "s"} in the draft`, !data.ok);
  $("draft-state").textContent = Object.keys(state.drafts).length
    ? "Unsaved: " + Object.keys(state.drafts).join(", ") : "No unsaved changes";
}

let timer = null;
$("text").addEventListener("input", () => {
  const text = $("text").value;
  if (text === state.saved[state.current]) delete state.drafts[state.current];
  else state.drafts[state.current] = text;
  gutter();
  clearTimeout(timer);
  timer = setTimeout(() => { renderHelp(); check(); }, 350);
});
$("file-select").addEventListener("change", (e) => openFile(e.target.value));
$("revert").addEventListener("click", () => { delete state.drafts[state.current]; openFile(state.current); check(); });

$("save").addEventListener("click", async () => {
  const name = state.current;
  const { data } = await api("save", { file: name, text: $("text").value, token: state.tokens[name], dry_run: true });
  $("diff").textContent = data.diff || "(no change)";
  $("save-problems").textContent = "";
  $("save-dialog").showModal();
});
$("cancel-save").addEventListener("click", () => $("save-dialog").close());
$("confirm-save").addEventListener("click", async () => {
  const name = state.current;
  const text = $("text").value;
  const { status, data } = await api("save", { file: name, text, token: state.tokens[name] });
  if (status !== 200) {
    $("save-problems").textContent = data.diagnostics
      ? data.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.file}:${d.line}:${d.column}: ${d.code}: ${d.message}`).join("\n")
      : `${data.code}: ${data.detail}`;
    return;
  }
  state.saved[name] = text;
  state.tokens[name] = data.token;
  delete state.drafts[name];
  $("save-dialog").close();
  await check();
  await loadCatalog();
  say(`Saved ${name} (revision ${data.revision})`);
});
$("undo").addEventListener("click", async () => {
  const name = state.current;
  const { status, data } = await api("undo", { file: name });
  if (status !== 200) { say(`${data.code}: ${data.detail}`, true); return; }
  state.saved[name] = data.text;
  state.tokens[name] = data.token;
  delete state.drafts[name];
  openFile(name);
  await check();
  say(`Undid the last save of ${name}`);
});

// --- plans -----------------------------------------------------------------------------------------
function renderPlans() {
  const t = $("plans-table");
  t.replaceChildren();
  const draft = (lastCheck && lastCheck.plans) || [];
  const saved = (lastCheck && lastCheck.saved_plans) || [];
  const keys = ["premium", "monthly_allotment", "cap", "credit_lifetime_days", "purchasable"];
  t.append(el("tr", {}, el("th", { scope: "col" }, "plan"),
    ...keys.map((k) => el("th", { scope: "col" }, k.replaceAll("_", " ") + " (draft / saved)"))));
  for (const row of draft) {
    const old = saved.find((p) => p.plan === row.plan) || {};
    t.append(el("tr", {}, el("th", { scope: "row" }, row.plan), ...keys.map((k) =>
      el("td", { class: old[k] === row[k] ? "" : "changed" }, old[k] === row[k] ? String(row[k]) : `${row[k]} / ${old[k] ?? "-"}`))));
  }
  if (!draft.length) t.append(el("tr", {}, el("td", {}, "The draft policy does not load: see Problems.")));
}

// --- try a decision --------------------------------------------------------------------------------
async function loadCatalog() {
  const { data } = await api("catalog");
  state.catalog = data.events;
  const sel = $("event-select");
  const was = sel.value;
  sel.replaceChildren(...Object.keys(data.events).map((e) => el("option", { value: e }, e)));
  if (was) sel.value = was;
  renderFacts();
}
function renderFacts() {
  const box = $("facts");
  box.replaceChildren(el("legend", {}, "Facts (the others take their defaults)"));
  for (const f of state.catalog[$("event-select").value] || []) {
    const id = "fact-" + f.name.replaceAll(".", "-");
    let input;
    if (f.type === "bool" || f.choices) {
      const options = f.type === "bool" ? ["true", "false"] : f.choices;
      input = el("select", { id, name: f.name }, el("option", { value: "" }, `default (${f.default})`),
        ...options.map((o) => el("option", { value: o }, o)));
    } else {
      input = el("input", { id, name: f.name, type: f.type === "int" ? "number" : "text", placeholder: `default ${f.default}` });
    }
    input.dataset.type = f.type;
    box.append(el("div", { class: "fact" }, el("label", { for: id, title: f.doc }, f.name + " "), input));
  }
}
$("event-select").addEventListener("change", renderFacts);
$("try-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const facts = {};
  for (const input of $("facts").querySelectorAll("input, select")) {
    if (input.value === "") continue;
    facts[input.name] = input.dataset.type === "bool" ? input.value === "true"
      : input.dataset.type === "int" ? parseInt(input.value, 10) : input.value;
  }
  const { status, data } = await api("decide", { files: state.drafts, event: $("event-select").value, facts });
  const out = $("verdict");
  if (status !== 200) { out.replaceChildren(el("p", { class: "bad" }, `${data.code}: ${data.detail}`)); return; }
  out.replaceChildren(
    el("p", { class: "ok" }, data.outcome + (data.reason ? " / " + data.reason : "")),
    el("p", {}, `rule ${data.rule} (${data.requirements.join(", ")}) in ${data.file}:${data.line}`),
    el("p", {}, data.description),
    el("p", {}, "effects: " + (data.effects.join(", ") || "none")),
    el("p", {}, "facts the rules read: " + data.read.map((n) => `${n} = ${data.facts[n]}`).join("; ")));
});

// --- scenarios -------------------------------------------------------------------------------------
async function loadScenarios() {
  const { data } = await api("scenarios");
  state.scenarios = Object.fromEntries(data.scenarios.map((s) => [s.name, s.text]));
  $("scenario-select").replaceChildren(...data.scenarios.map((s) => el("option", { value: s.name }, s.name)));
  if (data.scenarios.length) $("scenario-text").value = data.scenarios[0].text;
  $("impact-scenarios").replaceChildren(el("legend", {}, "Over these scenarios"), ...data.scenarios.map((s, i) => {
    const id = "impact-" + i;
    return el("div", {}, el("input", { type: "checkbox", id, value: s.name, checked: "" }), el("label", { for: id }, " " + s.name));
  }));
}
$("scenario-select").addEventListener("change", (e) => { $("scenario-text").value = state.scenarios[e.target.value]; });
$("upload").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (file) { $("scenario-text").value = await file.text(); $("scenario-select").value = ""; }
});
$("download").addEventListener("click", () => {
  const a = el("a", { href: URL.createObjectURL(new Blob([$("scenario-text").value], { type: "application/yaml" })),
    download: ($("scenario-select").value || "scenario.yaml").split("/").pop() });
  document.body.append(a); a.click(); a.remove();
});
$("run").addEventListener("click", async () => {
  const name = ($("scenario-select").value || "scenario.yaml").split("/").pop();
  const { data } = await api("run", { files: state.drafts, scenario: $("scenario-text").value, name });
  const summary = $("run-summary");
  const steps = $("steps");
  steps.replaceChildren();
  if (!data.ok) {
    summary.replaceChildren(el("p", { class: "bad" }, "The scenario does not load:"),
      ...data.diagnostics.map((d) => el("p", {}, `${d.file}:${d.line}:${d.column}: ${d.code}: ${d.message}`)));
    $("chart").replaceChildren();
    return;
  }
  const r = data.result;
  summary.replaceChildren(el("p", { class: r.expectations.failed ? "bad" : "ok" },
    `${r.title}: ${r.expectations.passed} expectations held, ${r.expectations.failed} failed`),
    ...data.failures.map((f) => el("p", { class: "bad" }, `line ${f.line}: ${f.text}`)));
  const failedLines = new Set(data.failures.map((f) => f.step_line));
  steps.append(el("tr", {}, ...["line", "at", "event", "outcome", "balances", "rules", "between steps"].map((h) => el("th", { scope: "col" }, h))));
  for (const s of r.steps) {
    steps.append(el("tr", { class: failedLines.has(s.line) ? "failed" : "" },
      el("td", {}, s.line), el("td", {}, s.at), el("td", {}, s.event || "(time passes)"),
      el("td", {}, s.outcome ? s.outcome + (s.reason ? " / " + s.reason : "") : ""),
      el("td", {}, Object.entries(s.balances).map(([a, b]) => `${a}: ${b}`).join(", ")),
      el("td", {}, s.rules.join(", ")),
      el("td", {}, s.system_events.map((e) => `${e.event} ${e.account || ""} ${e.outcome}`).join("; "))));
  }
  drawChart(data.ledger, data.lots);
});

function drawChart(ledger, lots) {
  const svg = $("chart");
  const NS = "http://www.w3.org/2000/svg";
  const mk = (tag, attrs) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); return e; };
  svg.replaceChildren();
  const series = Object.entries(ledger).filter(([, es]) => es.length);
  const all = series.flatMap(([, es]) => es);
  if (!all.length) { $("chart-caption").textContent = "No credits moved."; return; }
  const t = (e) => Date.parse(e.at);
  const strips = Object.entries(lots || {}).flatMap(([account, ls]) => ls.map((l) => ({ account, ...l })));
  const t0 = Math.min(...all.map(t)), t1 = Math.max(...all.map(t), ...strips.map((l) => Date.parse(l.to))) || t0 + 1;
  const rows = Math.min(strips.length, 40);
  svg.setAttribute("viewBox", `0 0 900 ${270 + rows * 9}`);
  const top = Math.max(1, ...all.map((e) => e.balance_after));
  const X = (v) => 50 + (840 * (v - t0)) / Math.max(1, t1 - t0), Y = (v) => 230 - (200 * v) / top;
  svg.append(mk("line", { x1: 50, y1: 230, x2: 890, y2: 230, stroke: "#999" }), mk("line", { x1: 50, y1: 30, x2: 50, y2: 230, stroke: "#999" }));
  for (const [v, label] of [[0, "0"], [top, String(top)]]) { const tx = mk("text", { x: 44, y: Y(v) + 4, "text-anchor": "end", "font-size": 11 }); tx.textContent = label; svg.append(tx); }
  for (const [v, anchor] of [[t0, "start"], [t1, "end"]]) { const tx = mk("text", { x: X(v), y: 248, "text-anchor": anchor, "font-size": 11 }); tx.textContent = new Date(v).toISOString().slice(0, 10); svg.append(tx); }
  const colors = ["#2f6fde", "#d0782b", "#2e8b57", "#8e44ad", "#c0392b", "#16a085"];
  const legend = [];
  series.forEach(([account, es], i) => {
    const color = colors[i % colors.length];
    let d = "", prev = null;
    for (const e of es) {
      const x = X(t(e)), y = Y(e.balance_after);
      d += prev === null ? `M${x},${Y(0)} L${x},${y}` : ` L${x},${prev} L${x},${y}`;
      prev = y;
      if (e.kind === "expire" || e.kind.startsWith("forfeit")) {
        const c = mk("circle", { cx: x, cy: y, r: 4, fill: "#c62828" });
        c.append(Object.assign(document.createElementNS(NS, "title"), { textContent: `${account}: ${e.kind} ${e.amount} on ${e.at.slice(0, 10)}` }));
        svg.append(c);
      }
    }
    svg.append(mk("path", { d: d + ` L890,${prev}`, fill: "none", stroke: color, "stroke-width": 2 }));
    legend.push(`${account} (${color})`);
  });
  const accountColor = Object.fromEntries(series.map(([a], i) => [a, colors[i % colors.length]]));
  strips.slice(0, rows).forEach((l, i) => {  // each lot's life, from its grant to its expiry
    const y = 262 + i * 9, x0 = X(Date.parse(l.from)), x1 = Math.max(x0 + 2, X(Date.parse(l.to)));
    const bar = mk("rect", { x: x0, y, width: x1 - x0, height: 6, fill: accountColor[l.account] || "#888",
      opacity: l.end === "expire" ? 0.45 : 0.8 });
    bar.append(Object.assign(document.createElementNS(NS, "title"), {
      textContent: `${l.account}: lot ${l.lot}, ${l.amount} ${l.kind}, ${l.from.slice(0, 10)} to ${l.to.slice(0, 10)} (${l.end === "live" ? "expires then" : l.end})` }));
    svg.append(bar);
  });
  $("chart-caption").textContent = "Balance of " + legend.join(", ") + "; red dots: credits expired or forfeited; "
    + "bars below: each lot from its grant to its expiry (faded: it expired)" + (strips.length > rows ? `, first ${rows} of ${strips.length}` : "") + ".";
}

// --- impact ----------------------------------------------------------------------------------------
$("run-impact").addEventListener("click", async () => {
  const store = $("impact-store") && $("impact-store").checked;
  const chosen = [...$("impact-scenarios").querySelectorAll("input:checked")].map((i) => i.value);
  const { status, data } = await api("impact", store ? { files: state.drafts, store: true }
    : { files: state.drafts, scenarios: chosen });
  const out = $("impact-report");
  if (status !== 200) { out.replaceChildren(el("p", { class: "bad" }, `${data.code}: ${data.detail}`)); return; }
  const accounts = Object.entries(data.accounts);
  const table = el("table", {}, el("tr", {}, ...["account", "balance (saved)", "balance (draft)", "first different step"].map((h) => el("th", { scope: "col" }, h))));
  for (const [name, a] of accounts) {
    const fd = a.first_divergence;
    table.append(el("tr", {}, el("td", {}, name), el("td", {}, a.base ?? "-"), el("td", {}, a.new ?? "-"),
      el("td", {}, fd ? `${fd.where || ""} ${fd.call || ""}: ${fd.base ? fd.base.outcome : ""} -> ${fd.new ? fd.new.outcome : ""}` : "balance only")));
  }
  out.replaceChildren(
    el("p", { class: data.changed || accounts.length ? "bad" : "ok" },
      `${data.decisions} decisions compared, ${data.changed} changed, ${data.not_applicable} no longer apply; ${accounts.length} accounts differ`),
    el("ul", {}, ...data.transitions.map((t) => el("li", {}, `${t.from} -> ${t.to}: ${t.count} (first: ${t.example})`))),
    table);
});

// --- spec ------------------------------------------------------------------------------------------
async function loadSpec() {
  const { data } = await api("spec");
  const note = data.features ? [] : [el("p", { class: "muted" }, "This folder has no features/: the rules only.")];
  $("spec-list").replaceChildren(...note, ...Object.entries(data.requirements).map(([req, r]) =>
    el("div", {}, el("h3", {}, req + (r.title ? ": " + r.title : "")),
      el("p", {}, (data.features ? `${r.scenarios.length} feature scenario${r.scenarios.length === 1 ? "" : "s"}, ` : "")
        + `${r.rules.length} rule${r.rules.length === 1 ? "" : "s"}`),
      el("ul", {}, ...r.scenarios.map((s) => el("li", {}, `${s.feature}:${s.line} ${s.name}`))),
      el("ul", {}, ...r.rules.map((x) => el("li", {}, el("b", {}, x.rule), ` (${x.event}): ${x.description}`))))));
}

// --- start -----------------------------------------------------------------------------------------
(async function start() {
  const { data } = await api("files");
  $("folder").textContent = "Folder: " + data.folder;
  if (data.store) {
    $("run-impact").before(el("p", {}, el("input", { type: "checkbox", id: "impact-store" }),
      el("label", { for: "impact-store" }, " instead, the history of the store given with --db")));
  }
  for (const f of data.files) { state.saved[f.name] = f.text; state.tokens[f.name] = f.token; }
  $("file-select").replaceChildren(...data.files.map((f) => el("option", { value: f.name }, f.name + (f.packaged ? " (packaged)" : ""))));
  openFile("policies.yaml");
  await Promise.all([check(), loadCatalog(), loadScenarios()]);
})();
