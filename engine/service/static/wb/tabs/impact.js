// The Impact tab: the saved policy and rules against the draft, over the chosen scenarios of the
// folder or (workbench started with --db) over the store's history.
import { $, el, fill } from "../dom.js";
import { api, describe, getOnce, guarded, report } from "../api.js";
import { draft } from "../draft.js";

function table(caption, heads, rows) {
  return el(
    "div",
    { class: "table-box" },
    el(
      "table",
      {},
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows),
    ),
  );
}

function divergence(fd) {
  if (!fd) return "balance only";
  const side = (s) => (s ? s.outcome + (s.reason ? " / " + s.reason : "") : "-");
  return `${fd.where || ""} ${fd.call || ""}: ${side(fd.base)} -> ${side(fd.new)}`.trim();
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
  const accounts = Object.entries(data.accounts || {});
  const rules = Object.entries(data.rules || {}).filter(([, r]) => r.base !== r.new);
  fill(
    out,
    el("p", { class: "muted" }, changed.length ? `The draft changes ${changed.join(", ")}.` : "The draft has no changes: the saved policy on both sides."),
    el(
      "p",
      { class: data.changed || accounts.length ? "bad" : "ok" },
      `${data.decisions} decisions compared, ${data.changed} changed, ${data.not_applicable} no longer apply; ` +
        `${accounts.length} account${accounts.length === 1 ? "" : "s"} differ`,
    ),
    data.transitions.length
      ? el("ul", {}, ...data.transitions.map((t) => el("li", {}, `${t.from} -> ${t.to}: ${t.count} (first: ${t.example})`)))
      : null,
    accounts.length
      ? table(
          "Accounts that differ",
          ["account", "balance (saved)", "balance (draft)", "first different step"],
          accounts.map(([name, a]) =>
            el("tr", {}, el("td", {}, name), el("td", { class: "num" }, a.base ?? "-"), el("td", { class: "num" }, a.new ?? "-"), el("td", {}, divergence(a.first_divergence))),
          ),
        )
      : null,
    rules.length
      ? table(
          "Rules that decide more or less often",
          ["rule", "saved", "draft"],
          rules.map(([rule, r]) => el("tr", {}, el("td", {}, rule), el("td", { class: "num" }, r.base), el("td", { class: "num" }, r.new))),
        )
      : null,
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
      box.after(
        el(
          "p",
          { class: "check" },
          el("input", { type: "checkbox", id: "impact-store" }),
          el("label", { for: "impact-store" }, " instead, the history of the store given with --db"),
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
