// The Impact tab: the saved policy and rules against the draft, over the chosen scenarios of the
// folder or (workbench started with --db) over the store's history.
import { $, el, fill, table } from "../dom.js";
import { api, describe, getOnce, guarded, report } from "../api.js";
import { draft } from "../draft.js";


// The first different step, in the words the report gives it (where it is in the source, if known).
function divergence(fd) {
  if (!fd) return "-";
  return fd.text + (fd.where ? ` (${fd.where})` : "");
}

const pair = (p) => (p.base === p.new ? String(p.new ?? "-") : `${p.base ?? "-"} \u2192 ${p.new ?? "-"}`);
const cell = (v) => (v.base === v.new ? String(v.new) : `${v.base} \u2192 ${v.new} (${v.new > v.base ? "+" : ""}${v.new - v.base})`);
const title = (plan) => (plan === "?" ? "unattributed" : plan.replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase()));
const MEASURES = {
  granted: "granted",
  consumed: "consumed",
  credited_back: "credited back",
  forfeited_cap: "forfeited (cap)",
  forfeited_cancel: "forfeited (cancel)",
  expired: "expired",
  purchased: "purchased",
};

// The size of an account's change, as the report ranks them (sends, credits granted and final
// credits that differ, added up): sorted here too, since an object keeps integer-like names first.
function size(a) {
  const d = (p) => Math.abs((p.new ?? 0) - (p.base ?? 0));
  return d(a.sends) + d(a.granted) + d({ base: a.base, new: a.new });
}

function perPlan(totals, arrow = "saved \u2192 draft") {
  const plans = Object.entries(totals || {});
  const measures = Object.keys(MEASURES).filter((m) => plans.some(([, t]) => t[m] && (t[m].base || t[m].new)));
  if (!plans.length) return el("p", { class: "muted" }, "No credits moved under either policy.");
  return table(
    `Credits per plan (${arrow})`,
    ["plan", ...measures.map((m) => MEASURES[m])],
    plans.map(([plan, t]) => el("tr", {}, el("td", {}, title(plan)), ...measures.map((m) => el("td", { class: "num" }, cell(t[m]))))),
  );
}

// --- the chart: each plan's credits, one bar per side --------------------------------------------
const CHARTED = ["granted", "consumed", "forfeited_cap", "expired"];
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}

/** Grouped bars: for each plan whose credits moved differently, each measure's saved and draft total
 * side by side on one scale, the numbers written at the bar ends (the table below has them too). */
export function chart(totals, sides = ["saved", "draft"]) {
  const plans = Object.entries(totals || {}).filter(([, t]) => CHARTED.some((m) => t[m] && t[m].base !== t[m].new));
  if (!plans.length) return null;
  const most = Math.max(1, ...plans.flatMap(([, t]) => CHARTED.flatMap((m) => [t[m].base, t[m].new])));
  const label = 150, width = 420, bar = 9, row = 2 * bar + 6, top = 26;
  const rows = plans.flatMap(([plan, t]) => CHARTED.map((m) => [plan, m, t[m]]));
  const height = top + rows.length * row + plans.length * 14 + 8;
  const root = svg("svg", {
    viewBox: `0 0 ${label + width + 60} ${height}`,
    width: label + width + 60,
    height,
    role: "img",
    class: "impact-chart per-plan",
    "aria-label": `Credits per plan, ${sides[0]} against ${sides[1]}: ` +
      plans.map(([plan, t]) => `${title(plan)}: ` + CHARTED.map((m) => `${MEASURES[m]} ${t[m].base} to ${t[m].new}`).join(", ")).join("; "),
  });
  root.append(
    svg("rect", { x: label, y: 4, width: 12, height: 10, class: "base" }),
    svg("text", { x: label + 16, y: 13 }, sides[0]),
    svg("rect", { x: label + 80, y: 4, width: 12, height: 10, class: "new" }),
    svg("text", { x: label + 96, y: 13 }, sides[1]),
  );
  let y = top;
  let last = null;
  for (const [plan, m, v] of rows) {
    if (plan !== last) {
      root.append(svg("text", { x: 0, y: y + 10, class: "plan" }, title(plan)));
      y += 14;
      last = plan;
    }
    root.append(svg("text", { x: label - 6, y: y + bar + 3, "text-anchor": "end" }, MEASURES[m]));
    for (const [i, side] of [["base", v.base], ["new", v.new]].entries()) {
      const w = Math.round((side[1] / most) * width);
      const yy = y + i * (bar + 1);
      root.append(svg("rect", { x: label, y: yy, width: Math.max(w, 1), height: bar, class: side[0] }));
      root.append(svg("text", { x: label + w + 4, y: yy + bar - 1, class: "value" }, String(side[1])));
    }
    y += row;
  }
  return el("figure", { class: "chart" }, root, el("figcaption", { class: "muted" }, `Credits per plan where the two sides differ: ${sides[0]} (grey) and ${sides[1]} (blue).`));
}

/** Usable credits of all accounts over time, one line per side (steps: a total holds until the
 * next day something moved); the largest gap between the sides is said in words for screen readers. */
export function overTime(points, sides = ["saved", "draft"]) {
  if (!points || points.length < 2) return null;
  const t = (p) => Date.parse(p.day);
  const [t0, t1] = [t(points[0]), t(points[points.length - 1])];
  const top = Math.max(1, ...points.flatMap((p) => [p.base, p.new]));
  const W = 560, H = 180, L = 56, B = 22, T = 20;
  const x = (p) => L + ((t(p) - t0) / Math.max(1, t1 - t0)) * W;
  const y = (v) => T + H - (v / top) * H;
  const line = (key) =>
    points.map((p, i) => (i ? `H${x(p).toFixed(1)}V${y(p[key]).toFixed(1)}` : `M${x(p).toFixed(1)},${y(p[key]).toFixed(1)}`)).join("");
  const gap = points.reduce((g, p) => (Math.abs(p.new - p.base) > Math.abs(g.new - g.base) ? p : g), points[0]);
  const last = points[points.length - 1];
  const said =
    `Usable credits of all accounts over time, ${sides[0]} against ${sides[1]}: from ${points[0].day} to ${last.day}, ` +
    `ending at ${last.base} and ${last.new}` +
    (gap.new !== gap.base ? `; the widest gap is on ${gap.day}: ${gap.base} against ${gap.new}.` : "; the two lines are the same.");
  const root = svg("svg", { viewBox: `0 0 ${L + W + 20} ${T + H + B + 4}`, width: L + W + 20, height: T + H + B + 4, role: "img", class: "impact-chart over-time", "aria-label": said });
  for (const v of [0, Math.round(top / 2), top]) {
    root.append(svg("line", { x1: L, x2: L + W, y1: y(v), y2: y(v), class: "grid" }), svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "value" }, String(v)));
  }
  root.append(
    svg("text", { x: L, y: T + H + B - 4, class: "value" }, points[0].day),
    svg("text", { x: L + W, y: T + H + B - 4, "text-anchor": "end", class: "value" }, last.day),
    svg("path", { d: line("base"), class: "base-line" }),
    svg("path", { d: line("new"), class: "new-line" }),
    svg("rect", { x: L, y: 2, width: 12, height: 10, class: "base" }),
    svg("text", { x: L + 16, y: 11 }, sides[0]),
    svg("rect", { x: L + 90, y: 2, width: 12, height: 10, class: "new" }),
    svg("text", { x: L + 106, y: 11 }, sides[1]),
  );
  return el("figure", { class: "chart" }, root, el("figcaption", { class: "muted" }, said));
}

/** The report in `out`: headline, counts, per-plan table and chart, the accounts that differ.
 * `intro`: the sentence above it (what was compared); `sides`: the two sides' names. */
export function renderReport(out, data, intro, sides = ["saved", "draft"]) {
  const accounts = Object.entries(data.accounts || {}).sort(([n1, a1], [n2, a2]) => size(a2) - size(a1) || (n1 < n2 ? -1 : n1 > n2 ? 1 : 0));
  const rules = Object.entries(data.rules || {}).filter(([, r]) => r.base !== r.new);
  const lost = data.losses && data.losses.accounts > 0;
  const nothing = !accounts.length && !data.changed && !data.not_applicable;
  const arrow = `${sides[0]} \u2192 ${sides[1]}`;
  fill(
    out,
    el("p", { class: "muted" }, intro),
    // the headline: red only when some account sends fewer InMails or ends with fewer credits
    el("ul", { id: "impact-headline", class: lost ? "bad" : nothing ? "ok" : "" }, ...(data.headline || []).map((s) => el("li", {}, s))),
    el(
      "p",
      {},
      `${data.decisions} decisions compared, ${data.changed} changed, ${data.not_applicable} no longer apply; ` +
        `${accounts.length} account${accounts.length === 1 ? "" : "s"} differ`,
    ),
    data.transitions.length
      ? el("ul", {}, ...data.transitions.map((t) => el("li", {}, `${t.from} -> ${t.to}: ${t.count} (first: ${t.example})`)))
      : null,
    rules.length
      ? table(
          "Rules that decide more or less often",
          ["rule", sides[0], sides[1]],
          rules.map(([rule, r]) => el("tr", {}, el("td", {}, rule), el("td", { class: "num" }, r.base), el("td", { class: "num" }, r.new))),
        )
      : null,
    overTime(data.usable, sides),
    chart(data.totals, sides),
    perPlan(data.totals, arrow),
    accounts.length
      ? table(
          "Accounts that differ, the largest change first",
          ["account", "plan", "sends", "credits granted", `balance (${arrow})`, "what differs", "first different step"],
          accounts.map(([name, a]) =>
            el(
              "tr",
              {},
              el("td", {}, name),
              el("td", {}, title(a.plan || "?")),
              el("td", { class: "num" }, pair(a.sends)),
              el("td", { class: "num" }, pair(a.granted)),
              el("td", { class: "num" }, pair({ base: a.base, new: a.new })),
              el("td", {}, (a.changed || []).join(", ")),
              el("td", {}, divergence(a.first_divergence)),
            ),
          ),
        )
      : null,
    data.replay ? el("p", { class: "muted" }, `Replay: ${data.replay.text}.`) : null,
  );
}

/** What a comparison runs over when nobody chose: the first bound store's history, else every
 * scenario of the folder -> {over: the request's source, what: it in words, none: nothing to run}. */
export async function defaultSource() {
  if (draft.store) return { over: { store: true }, what: `the history of ${draft.stores[0]}`, none: false };
  const names = (await getOnce("scenarios")).scenarios.map((s) => s.name);
  return { over: { scenarios: names }, what: `the folder's ${names.length} scenarios`, none: !names.length };
}

/** Start an impact job (`path`: "impact/jobs" or "history/impact") and follow it in `out`: the calls
 * compared so far and a Cancel button, then `done(report)`; resolves to the report (null when
 * cancelled or refused). `signal.cancelled`, set by the caller, cancels it too (a closed dialog). */
export async function runImpact(out, path, body, done, signal = {}) {
  let job;
  try {
    job = await api(path, body);
  } catch (err) {
    out.replaceChildren(el("p", { class: "bad" }, describe(err)));
    return null;
  }
  const counted = el("span", {}, "Comparing\u2026");
  const cancel = el("button", { type: "button", class: "cancel-impact" }, "Cancel");
  let cancelling = false;
  const stop = async () => {
    if (cancelling) return;
    cancelling = true;
    cancel.disabled = true;
    try {
      await api(`impact/jobs/${job.job}/cancel`, {});
    } catch {
      /* already over */
    }
  };
  cancel.addEventListener("click", stop);
  out.replaceChildren(el("p", { class: "muted progress", role: "status" }, counted, " ", cancel));
  for (;;) {
    if (signal.cancelled) await stop();
    await new Promise((r) => setTimeout(r, 300));
    try {
      job = await api(`impact/jobs/${job.job}`);
    } catch (err) {
      out.replaceChildren(el("p", { class: "bad" }, describe(err)));
      return null;
    }
    if (job.state === "running") {
      counted.textContent = `Comparing: ${job.calls.toLocaleString()} calls replayed on each side so far\u2026`;
      continue;
    }
    if (job.state === "done") {
      done(job.report);
      return job.report;
    }
    if (job.state === "cancelled") {
      out.replaceChildren(el("p", { class: "muted" }, `Cancelled after ${job.calls.toLocaleString()} calls.`));
      return null;
    }
    const p = job.problem || {};
    out.replaceChildren(el("p", { class: "bad" }, `${p.code || "failed"}: ${p.detail || "the comparison failed"}`));
    return null;
  }
}

const compare = guarded(async () => {
  const out = $("impact-report");
  const over = document.querySelector("input[name=impact-over]:checked");
  const store = !!over && over.value !== "scenarios";
  const chosen = [...$("impact-scenarios").querySelectorAll("input:checked")].map((i) => i.value);
  if (!store && !chosen.length) {
    out.replaceChildren(el("p", { class: "bad" }, "Choose at least one scenario."));
    return;
  }
  const changed = draft.changed();
  const intro = changed.length ? `The draft changes ${changed.join(", ")}.` : "The draft has no changes: the saved policy on both sides.";
  const body = store ? { files: draft.files(), store: true, db: Number(over.value) } : { files: draft.files(), scenarios: chosen };
  await runImpact(out, "impact/jobs", body, (report) => renderReport(out, report, intro));
});

export default {
  id: "impact",
  label: "Impact",

  async mount(section) {
    const box = el("fieldset", { id: "impact-scenarios" }, el("legend", {}, "Over these scenarios"));
    section.append(
      el("h2", {}, "Impact: the saved policy against the draft"),
      box,
      el("div", { class: "toolbar" }, el("button", { type: "button", id: "run-impact", class: "primary", onclick: compare }, "Compare")),
      el("div", { id: "impact-report", "aria-live": "polite" }),
    );
    if (draft.stores.length) {
      // real accounts first: with a store bound, its history is what the comparison is for
      const choice = (id, value, text, checked) =>
        el("div", { class: "check" }, el("input", { type: "radio", name: "impact-over", id, value, checked }), el("label", { for: id }, " " + text));
      box.before(
        el(
          "fieldset",
          { id: "impact-over" },
          el("legend", {}, "Compare over"),
          ...draft.stores.map((label, i) =>
            choice(i ? `impact-store-${i}` : "impact-store", String(i), `the real history of the store ${label}`, i === 0),
          ),
          choice("impact-over-scenarios", "scenarios", "the scenarios below", false),
        ),
      );
    }
    try {
      const data = await getOnce("scenarios");
      box.append(
        ...data.scenarios.map((s, i) =>
          el("div", { class: "check" }, el("input", { type: "checkbox", id: "impact-" + i, value: s.name, checked: true }), el("label", { for: "impact-" + i }, " " + s.name)),
        ),
      );
      if (!data.scenarios.length) box.append(el("p", { class: "muted" }, "This folder has no scenarios."));
    } catch (err) {
      report(err);
    }
  },

  show() {},
};
