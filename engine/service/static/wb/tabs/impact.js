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

function perPlan(totals) {
  const plans = Object.entries(totals || {});
  const measures = Object.keys(MEASURES).filter((m) => plans.some(([, t]) => t[m] && (t[m].base || t[m].new)));
  if (!plans.length) return el("p", { class: "muted" }, "No credits moved under either policy.");
  return table(
    "Credits per plan (saved \u2192 draft)",
    ["plan", ...measures.map((m) => MEASURES[m])],
    plans.map(([plan, t]) => el("tr", {}, el("td", {}, title(plan)), ...measures.map((m) => el("td", { class: "num" }, cell(t[m]))))),
  );
}

const compare = guarded(async () => {
  const out = $("impact-report");
  const store = $("impact-store") && $("impact-store").checked;
  const chosen = [...$("impact-scenarios").querySelectorAll("input:checked")].map((i) => i.value);
  if (!store && !chosen.length) {
    out.replaceChildren(el("p", { class: "bad" }, "Choose at least one scenario."));
    return;
  }
  const changed = draft.changed();
  out.replaceChildren(el("p", { class: "muted" }, "Comparing\u2026"));
  let data;
  try {
    data = await api("impact", store ? { files: draft.files(), store: true } : { files: draft.files(), scenarios: chosen });
  } catch (err) {
    out.replaceChildren(el("p", { class: "bad" }, describe(err)));
    report(err);
    return;
  }
  const accounts = Object.entries(data.accounts || {}).sort(([n1, a1], [n2, a2]) => size(a2) - size(a1) || (n1 < n2 ? -1 : n1 > n2 ? 1 : 0));
  const rules = Object.entries(data.rules || {}).filter(([, r]) => r.base !== r.new);
  const lost = data.losses && data.losses.accounts > 0;
  const nothing = !accounts.length && !data.changed && !data.not_applicable;
  fill(
    out,
    el("p", { class: "muted" }, changed.length ? `The draft changes ${changed.join(", ")}.` : "The draft has no changes: the saved policy on both sides."),
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
          ["rule", "saved", "draft"],
          rules.map(([rule, r]) => el("tr", {}, el("td", {}, rule), el("td", { class: "num" }, r.base), el("td", { class: "num" }, r.new))),
        )
      : null,
    perPlan(data.totals),
    accounts.length
      ? table(
          "Accounts that differ, the largest change first",
          ["account", "plan", "sends", "credits granted", "balance (saved \u2192 draft)", "what differs", "first different step"],
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
    if (draft.store) {
      // real accounts first: with a store bound, its history is what the comparison is for
      box.before(
        el(
          "p",
          { class: "check" },
          el("input", { type: "checkbox", id: "impact-store", checked: true }),
          el("label", { for: "impact-store" }, " Over the real history of the store given with --db (untick to compare over the scenarios below)"),
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
