// The Scenarios tab: a scenario of the folder (or an uploaded file) in an editor with the scenario
// schema, run against the draft: the expectations, the balance chart with each lot's life, the steps.
import { $, el, fill, makeEditor } from "../dom.js";
import { api, describe, getOnce, guarded, report } from "../api.js";
import { draft } from "../draft.js";
import { forEditor, renderProblems } from "../diagnostics.js";
import { openInYaml } from "../main.js";

let editor = null;
const texts = new Map(); // scenario name -> its text as edited here (kept while the page is open)
let chosen = "";
let loaded = null;
const ready = new Promise((resolve) => (loaded = resolve)); // the folder's scenarios are listed

function fileName() {
  return (chosen.startsWith("upload:") ? chosen.slice(7) : chosen || "scenario.yaml").split("/").pop();
}

function choose(name) {
  chosen = name;
  $("scenario-select").value = name;
  editor.setText(texts.get(name) ?? "");
  editor.setDiagnostics([]);
}

/** Choose the folder's scenario `name` (e.g. "examples/scenarios/plans-compared.yaml") and, with
 *  `line`, put the cursor there; the caller shows the tab (the save dialog's "open" buttons). */
export async function open(name, line) {
  await ready;
  if (!texts.has(name)) return false;
  choose(name);
  if (line) editor.goTo(line, 1);
  return true;
}

const upload = guarded(async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const name = "upload:" + file.name;
  texts.set(name, await file.text());
  const select = $("scenario-select");
  if (![...select.options].some((o) => o.value === name)) {
    select.append(el("option", { value: name }, `${file.name} (uploaded)`));
  }
  choose(name);
  e.target.value = "";
});

function download() {
  const url = URL.createObjectURL(new Blob([editor.getText()], { type: "application/yaml" }));
  const a = el("a", { href: url, download: fileName() });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function clearResult() {
  $("steps").replaceChildren();
  $("chart").replaceChildren();
  $("chart-caption").textContent = "";
  $("scenario-problems").replaceChildren();
}

function jump(file, line, col) {
  if (file && draft.names().includes(file)) openInYaml(file, line, col);
  else if (line) editor.goTo(line, col || 1);
}

const run = guarded(async () => {
  const summary = $("run-summary");
  const name = fileName();
  summary.replaceChildren(el("p", { class: "muted" }, `Running ${name} on the draft\u2026`));
  clearResult();
  let data;
  try {
    data = await api("run", { files: draft.files(), scenario: editor.getText(), name });
  } catch (err) {
    summary.replaceChildren(el("p", { class: "bad" }, "The scenario did not run: " + describe(err)));
    if (err.diagnostics && err.diagnostics.length) renderProblems($("scenario-problems"), err.diagnostics, { onJump: jump });
    report(err);
    return;
  }
  if (!data.ok) {
    const found = Array.isArray(data.diagnostics) ? data.diagnostics : [];
    summary.replaceChildren(el("p", { class: "bad" }, "The scenario does not load:"));
    renderProblems($("scenario-problems"), found, { onJump: jump, empty: "(no diagnostics given)" });
    editor.setDiagnostics(forEditor(found, name));
    return;
  }
  editor.setDiagnostics([]);
  const r = data.result;
  const failures = data.failures || [];
  fill(
    summary,
    el(
      "p",
      { class: r.expectations.failed ? "bad" : "ok" },
      `${r.title}: ${r.expectations.passed} expectations held, ${r.expectations.failed} failed`,
    ),
    failures.length
      ? el(
          "ul",
          { class: "failures" },
          ...failures.map((f) =>
            el("li", {}, el("button", { type: "button", class: "link", onclick: () => editor.goTo(f.line, 1) }, `line ${f.line}`), ": " + f.text),
          ),
        )
      : null,
  );
  drawSteps(r.steps, new Set(failures.map((f) => f.step_line)));
  drawChart(data.ledger || {}, data.lots || {});
});

function drawSteps(steps, failedLines) {
  const table = $("steps");
  const heads = ["line", "at", "event", "outcome", "balances", "rules", "between steps"];
  table.replaceChildren(
    el("caption", {}, "Steps (failed expectations marked)"),
    el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col" }, h)))),
    el(
      "tbody",
      {},
      ...steps.map((s) =>
        el(
          "tr",
          { class: failedLines.has(s.line) ? "failed" : "" },
          el("td", { class: "num" }, s.line),
          el("td", { class: "nowrap" }, s.at),
          el("td", {}, s.event || "(time passes)"),
          el("td", {}, s.outcome ? s.outcome + (s.reason ? " / " + s.reason : "") : ""),
          el("td", {}, Object.entries(s.balances || {}).map(([a, b]) => `${a}: ${b}`).join(", ")),
          el("td", {}, (s.rules || []).join(", ")),
          el("td", {}, (s.system_events || []).map((e) => `${e.event} ${e.account || ""} ${e.outcome}`).join("; ")),
        ),
      ),
    ),
  );
}

const NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, title) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (title) {
    const t = document.createElementNS(NS, "title");
    t.textContent = title;
    e.append(t);
  }
  return e;
}
function label(x, y, text, anchor) {
  const t = svg("text", { x, y, "text-anchor": anchor, "font-size": 11, fill: "#444" });
  t.textContent = text;
  return t;
}

/** The balance of each account over time (steps), red dots where credits expired or were forfeited,
 *  and below, each lot as a bar from its grant to its expiry. */
function drawChart(ledger, lots) {
  const chart = $("chart");
  chart.replaceChildren();
  const series = Object.entries(ledger).filter(([, es]) => es.length);
  const all = series.flatMap(([, es]) => es);
  if (!all.length) {
    $("chart-caption").textContent = "No credits moved.";
    return;
  }
  const t = (e) => Date.parse(e.at);
  const strips = Object.entries(lots).flatMap(([account, ls]) => ls.map((l) => ({ account, ...l })));
  const t0 = Math.min(...all.map(t));
  const t1 = Math.max(...all.map(t), ...strips.map((l) => Date.parse(l.to))) || t0 + 1;
  const rows = Math.min(strips.length, 40);
  chart.setAttribute("viewBox", `0 0 900 ${270 + rows * 9}`);
  const top = Math.max(1, ...all.map((e) => e.balance_after));
  const X = (v) => 50 + (840 * (v - t0)) / Math.max(1, t1 - t0);
  const Y = (v) => 230 - (200 * v) / top;
  chart.append(
    svg("line", { x1: 50, y1: 230, x2: 890, y2: 230, stroke: "#999" }),
    svg("line", { x1: 50, y1: 30, x2: 50, y2: 230, stroke: "#999" }),
  );
  for (const v of [0, top]) chart.append(label(44, Y(v) + 4, String(v), "end"));
  for (const [v, anchor] of [[t0, "start"], [t1, "end"]]) chart.append(label(X(v), 248, new Date(v).toISOString().slice(0, 10), anchor));
  const colors = ["#2f6fde", "#d0782b", "#2e8b57", "#8e44ad", "#c0392b", "#16a085"];
  const legend = [];
  series.forEach(([account, es], i) => {
    const color = colors[i % colors.length];
    let d = "";
    let prev = null;
    for (const e of es) {
      const x = X(t(e));
      const y = Y(e.balance_after);
      d += prev === null ? `M${x},${Y(0)} L${x},${y}` : ` L${x},${prev} L${x},${y}`;
      prev = y;
      if (e.kind === "expire" || e.kind.startsWith("forfeit")) {
        chart.append(svg("circle", { cx: x, cy: y, r: 4, fill: "#c62828" }, `${account}: ${e.kind} ${e.amount} on ${e.at.slice(0, 10)}`));
      }
    }
    chart.append(svg("path", { d: d + ` L890,${prev}`, fill: "none", stroke: color, "stroke-width": 2 }, `balance of ${account}`));
    legend.push(`${account} (${color})`);
  });
  const accountColor = Object.fromEntries(series.map(([a], i) => [a, colors[i % colors.length]]));
  strips.slice(0, rows).forEach((l, i) => {
    const y = 262 + i * 9;
    const x0 = X(Date.parse(l.from));
    const x1 = Math.max(x0 + 2, X(Date.parse(l.to)));
    chart.append(
      svg(
        "rect",
        { x: x0, y, width: x1 - x0, height: 6, fill: accountColor[l.account] || "#888", opacity: l.end === "expire" ? 0.45 : 0.8 },
        `${l.account}: lot ${l.lot}, ${l.amount} ${l.kind}, ${l.from.slice(0, 10)} to ${l.to.slice(0, 10)} (${l.end === "live" ? "expires then" : l.end})`,
      ),
    );
  });
  $("chart-caption").textContent =
    "Balance of " + legend.join(", ") + "; red dots: credits expired or forfeited; " +
    "bars below: each lot from its grant to its expiry (faded: it expired)" +
    (strips.length > rows ? `, first ${rows} of ${strips.length}` : "") + ".";
}

export default {
  id: "scenarios",
  label: "Scenarios",

  async mount(section) {
    section.append(
      el("h2", {}, "Scenarios, run on the draft"),
      el(
        "div",
        { class: "toolbar" },
        el("label", { for: "scenario-select" }, "Scenario"),
        el("select", { id: "scenario-select", onchange: (e) => choose(e.target.value) }),
        el("input", { type: "file", id: "upload", accept: ".yaml,.yml", class: "visually-hidden", onchange: upload }),
        el("label", { for: "upload", class: "file-button" }, "Upload\u2026"),
        el("button", { type: "button", id: "download", onclick: download }, "Download"),
        el("button", { type: "button", id: "run", class: "primary", onclick: run }, "Run"),
      ),
      el("div", { id: "scenario-editor", class: "editor-pane short" }),
      el("div", { id: "run-summary", "aria-live": "polite" }),
      el("ul", { id: "scenario-problems", class: "problems" }),
      el(
        "figure",
        { class: "chart" },
        el("div", { class: "chart-box" }),
        el("figcaption", { id: "chart-caption" }),
      ),
      el("div", { class: "table-box" }, el("table", { id: "steps" })),
    );
    const chart = document.createElementNS(NS, "svg");
    for (const [k, v] of Object.entries({ id: "chart", role: "img", "aria-label": "Balance over time", viewBox: "0 0 900 260" })) {
      chart.setAttribute(k, v);
    }
    section.querySelector(".chart-box").append(chart);

    let schemas = null;
    try {
      schemas = await getOnce("schemas");
    } catch {
      schemas = null;
    }
    editor = await makeEditor($("scenario-editor"), {
      doc: "",
      schema: (schemas && schemas.scenario) || null,
      label: "Scenario text",
      onChange: (text) => texts.set(chosen, text),
    });
    $("scenario-editor").editor = editor;
    try {
      const data = await getOnce("scenarios");
      for (const s of data.scenarios) texts.set(s.name, s.text);
      $("scenario-select").replaceChildren(...data.scenarios.map((s) => el("option", { value: s.name }, s.name)));
      if (data.scenarios.length) choose(data.scenarios[0].name);
    } catch (err) {
      report(err);
    }
    loaded();
  },

  show() {
    if (editor && editor.view) editor.view.requestMeasure();
  },
};
