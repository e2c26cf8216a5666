// The Rules tab: each rules file as a decision table (`POST table`), its literal values editable in
// place. An edit goes through `POST edit` on that file's draft text (comments and layout kept), and the
// table is then read back from the new text, as the YAML view would show it.
import { discardFile, saveFile } from "./yaml.js";
import { el } from "../dom.js";
import { api, Problem } from "../api.js";
import { draft } from "../draft.js";
import { openInYaml } from "../main.js";
import { keepFocus, linkStyles, problemText, renderTable } from "../table.js";

let section, select, out, alert;
let file = null;
let seq = 0;
let edits = Promise.resolve();

const rulesFiles = () => draft.names().filter((n) => n.startsWith("rules/"));
const visible = () => section && section.getClientRects().length > 0;

export default {
  id: "rules",
  label: "Rules",
  mount(s) {
    linkStyles();
    section = s;
    select = el("select", { id: "rules-file", onchange: () => { file = select.value; refresh(); } });
    alert = el("div", { class: "form-alert", role: "alert" });
    out = el("div", { class: "rules-table", "aria-live": "off" });
    section.append(el("h2", {}, "Rules"),
      el("div", { class: "toolbar" }, el("label", { for: "rules-file" }, "Rules of the event"), select,
        el("button", { type: "button", id: "rules-save", class: "primary", onclick: async () => {
          await edits; // a cell edited last is sent as it loses focus, just before this click
          return saveFile(file);
        } }, "Save\u2026"),
        el("button", { type: "button", id: "rules-discard", onclick: () => discardFile(file) }, "Discard changes")),
      el("p", { class: "muted intro" }, "Each row is a rule; a rule applies when every condition in its row holds. "
        + "Change a number, a switch or a choice in a cell to change the rule: it is written into the draft at once."),
      alert, out);
    // the table follows its file's text, and the policy's (a rule may name plans)
    draft.on((name) => { if (visible() && (!name || name === file || name === "policies.yaml")) later(); });
  },
  show() {
    fillSelect();
    refresh();
  },
  /** Open the table of `name` (e.g. from the Try tab). */
  open(name) {
    file = name;
    fillSelect();
    refresh();
  },
};

function fillSelect() {
  const names = rulesFiles();
  if (!file || !names.includes(file)) file = names.includes("rules/send.yaml") ? "rules/send.yaml" : names[0] || null;
  const options = names.map((n) => el("option", { value: n }, `${n.slice(6, -5)} (${n})`));
  if (select.options.length !== names.length) select.replaceChildren(...options);
  if (file) select.value = file;
}

let timer = null;
function later() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 30);
}

async function refresh() {
  if (!file) { out.replaceChildren(el("p", { class: "muted" }, "This folder has no rules files.")); return; }
  const mine = ++seq;
  const name = file;
  try {
    const table = await api("table", { files: draft.files(), file: name });
    if (mine !== seq) return;
    alert.replaceChildren();
    keepFocus(out, () => renderTable(out, table, { editable: true, onEdit: (e, v) => edit(name, e, v), onJump: (row) => openInYaml(name, row.line, 1) }));
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    if (mine !== seq) return;
    // the text does not read as rules (a slip typed in the YAML view): say where, keep the last table greyed
    const d = (e.diagnostics || []).find((x) => x.line);
    alert.replaceChildren(el("p", { class: "bad" }, `${name} cannot be shown as a table right now: `, problemText(e)),
      ...(d ? [el("button", { type: "button", onclick: () => openInYaml(d.file || name, d.line, d.column) }, `Show line ${d.line} in the YAML view`)] : []));
    out.querySelectorAll("input, select, button").forEach((c) => { c.disabled = true; });
    out.wbShape = null; // drawn anew (enabled) once the text reads again
  }
}

// One edit at a time, each on the text the previous one left; a refusal is shown in the cell.
function edit(name, cellEdit, value) {
  const run = async () => {
    const r = await api("edit", { file: name, text: draft.text(name), edits: [{ path: cellEdit.path, value }] });
    draft.set(name, r.text, "table");
  };
  const done = edits.then(run);
  edits = done.catch(() => {});
  return done;
}
