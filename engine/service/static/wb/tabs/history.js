// The History tab: in a git folder every save is a commit; list them (who, when, note, files),
// compare two (the diff and both plan tables) and restore one as a new commit.
import { $, el, fill, say, ask, showDiff, table } from "../dom.js";
import { api, describe, guarded } from "../api.js";
import { draft } from "../draft.js";
import { defaultSource, renderReport, runImpact } from "./impact.js";

const chosen = []; // at most two revs, oldest choice first

/** A revision's plans, titled as the Policy form titles them; a value that differs from the other
 * revision's (`other`, same plan) is marked. */
function plansTable(caption, rows, columns, other) {
  if (!rows) return el("p", { class: "bad" }, `${caption}: the policy does not load at this revision.`);
  if (!rows.length) return el("p", { class: "muted" }, `${caption}: no plans.`);
  const keys = Object.keys(rows[0]);
  const cell = (v) => (v === null || v === undefined ? "-" : v === true ? "yes" : v === false ? "no" : String(v));
  const twin = (r) => (other || []).find((o) => o.plan === r.plan);
  return table(
    caption,
    keys.map((k) => (columns && columns[k]) || k),
    rows.map((r) =>
      el("tr", {}, ...keys.map((k) => {
        const o = twin(r);
        const changed = k !== "plan" && (!o || o[k] !== r[k]);
        return el("td", changed ? { class: "changed" } : {}, cell(r[k]));
      })),
    ),
  );
}

const compare = guarded(async () => {
  const out = $("history-diff");
  if (chosen.length !== 2) {
    fill(out, el("p", { class: "muted" }, "Choose two commits to compare."));
    return;
  }
  const commits = [...document.querySelectorAll("#history-list input[type=checkbox]")].map((c) => c.value);
  // older -> newer, whatever order they were ticked in
  const [from, to] = [...chosen].sort((a, b) => commits.indexOf(b) - commits.indexOf(a));
  const data = await api("history/diff", { from, to });
  const diff = el("pre", { class: "diff", tabindex: "0", "aria-label": "The diff between the two commits" });
  if (data.diff) showDiff(diff, data.diff);
  else diff.textContent = "(no change to the policy or rules)";
  fill(
    out,
    el("h3", {}, `${from.slice(0, 7)} \u2192 ${to.slice(0, 7)}`),
    diff,
    el(
      "div",
      { class: "side-by-side" },
      plansTable(`Plans at ${from.slice(0, 7)}`, data.plans.from, data.columns, data.plans.to),
      plansTable(`Plans at ${to.slice(0, 7)}`, data.plans.to, data.columns, data.plans.from),
    ),
    el(
      "div",
      { class: "toolbar" },
      el("button", { type: "button", id: "history-run-impact", onclick: () => impact(from, to) }, `Impact of ${to.slice(0, 7)} against ${from.slice(0, 7)}…`),
    ),
    el("div", { id: "history-impact", "aria-live": "polite" }),
  );
});

/** The impact report of one version against another: over the bound store's history when there is
 * one, else over every scenario of the folder (as the Impact tab does by default). */
const impact = guarded(async (from, to) => {
  const out = $("history-impact");
  const { over, what } = await defaultSource();
  const [a, b] = [from.slice(0, 7), to.slice(0, 7)];
  await runImpact(out, "history/impact", { from, to, ...over }, (report) =>
    renderReport(out, report, `${b} against ${a}, over ${what}.`, [a, b]),
  );
});

const restore = guarded(async (c) => {
  const yes = await ask(`Restore ${c.short}?`, [{ label: "Restore", value: true, danger: true }], `The policy and rules go back to how they were at ${c.short} (\u201c${c.note}\u201d), as a new commit; nothing is rewritten.`);
  if (!yes) return;
  const data = await api("history/restore", { rev: c.rev });
  const files = await api("files");
  for (const f of files.files) if (data.files.includes(f.name)) draft.markSaved(f.name, f.text, f.token);
  say(data.files.length ? `Restored ${c.short}: ${data.files.join(", ")}.` : `Nothing to restore: the files are as at ${c.short}.`);
  await load();
});

const start = guarded(async () => {
  const yes = await ask("Start versioning this folder?", [{ label: "Start versioning", value: true }], "This runs git init here and commits policies.yaml and rules/; from then on every save is a commit.");
  if (!yes) return;
  await api("history/init", {});
  await load();
});

async function load() {
  const list = $("history-list");
  let data;
  try {
    data = await api("history");
  } catch (err) {
    list.replaceChildren(el("p", { class: "bad" }, describe(err)));
    return;
  }
  chosen.length = 0;
  if (!data.git) {
    fill(
      list,
      el("p", { class: "muted" }, "This folder is not in a git repository: saves are not versioned."),
      el("button", { type: "button", id: "history-init", onclick: start }, "Start versioning this folder"),
    );
    return;
  }
  if (!data.commits.length) {
    fill(list, el("p", { class: "muted" }, "No commits of the policy or rules yet."));
    return;
  }
  fill(
    list,
    el(
      "ul",
      { class: "commits" },
      ...data.commits.map((c) =>
        el(
          "li",
          { class: "commit" },
          el("input", {
            type: "checkbox",
            value: c.rev,
            "aria-label": `Compare ${c.short}`,
            onchange: (e) => {
              if (e.target.checked) chosen.push(c.rev);
              else chosen.splice(chosen.indexOf(c.rev), 1);
              while (chosen.length > 2) {
                const dropped = chosen.shift();
                const box = list.querySelector(`input[value="${dropped}"]`);
                if (box) box.checked = false;
              }
              compare();
            },
          }),
          " ",
          el("code", {}, c.short),
          " ",
          el("b", { class: "note" }, c.note),
          el("span", { class: "muted" }, ` \u2014 ${c.author}, ${new Date(c.when).toLocaleString()}; ${c.files.join(", ")} `),
          el("button", { type: "button", class: "restore", onclick: () => restore(c) }, "Restore\u2026"),
        ),
      ),
    ),
  );
}

export default {
  id: "history",
  label: "History",

  mount(section) {
    section.append(
      el("h2", {}, "Versions of the policy and rules"),
      el("div", { id: "history-list" }),
      el("div", { id: "history-diff", "aria-live": "polite" }),
    );
  },

  show() {
    return load(); // again after every save: each is a commit
  },
};
