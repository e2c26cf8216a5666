// Shared by the Policy, Rules and Try tabs: controls for the form model's value types, keeping focus
// across re-renders, and the decision table of a rules file (rendered from `POST table`).
import { el } from "./dom.js";

// The forms' own style sheet: linked from here so the tabs work whatever the page's <head> links.
export function linkStyles() {
  if (document.querySelector('link[href="/wb/static/wb/forms.css"]')) return;
  document.head.append(el("link", { rel: "stylesheet", href: "/wb/static/wb/forms.css" }));
}

let uid = 0;
export const newId = (prefix) => `${prefix}-${++uid}`;

// Text for screen readers only (a rule's description inside its row header, and the like).
export const srOnly = (text, id) => el("span", id ? { class: "sr-only", id } : { class: "sr-only" }, text);

// el() sets every attribute it is given; attributes whose value is missing must not be passed at all.
export const attrs = (obj) => Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null && v !== undefined && v !== ""));

export const show = (v) => (Array.isArray(v) ? v.join(", ") || "none" : v === true ? "yes" : v === false ? "no" : String(v));

/**
 * A control for one value: `bool` -> a switch, `int` -> a number input (min/max), `choices` -> a select,
 * else a text input (`list`: the id of a datalist). `key` is its accessible name and the key that keeps
 * focus on it across re-renders. `commit(value)` runs when the person commits a valid value (change,
 * or Enter); `invalid(message)` when the value cannot be sent. Returns {node, input, set(value)}.
 */
export function control({ type, value, choices, min, max, key, describedby, list, commit, invalid = () => {} }) {
  const common = attrs({ "aria-label": key, "data-key": key, "aria-describedby": describedby });
  let input, node, set;
  // A switch or box the person just changed keeps its new state until its commit (a promise, when
  // `commit` returns one) has settled: a re-render for an earlier edit, answered meanwhile, must not
  // flip it back under their pointer.
  let sending = 0;
  const sendNow = (v) => {
    sending++;
    Promise.resolve(commit(v)).finally(() => { sending--; });
  };
  const unlessSending = (fn) => (v) => { if (!sending) fn(v); };
  if (type === "bool") {
    input = el("input", { ...common, type: "checkbox", role: "switch" });
    const word = el("span", { class: "switch-word", "aria-hidden": "true" });
    const paint = (v) => { input.checked = v === true; word.textContent = v === true ? "yes" : "no"; };
    set = unlessSending(paint);
    input.addEventListener("change", () => { paint(input.checked); sendNow(input.checked); });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); input.click(); } });
    node = el("label", { class: "switch" }, input, word);
  } else if (type === "enum_list") {
    // several of the choices: one checkbox each, committed as a whole
    const boxes = choices.map((c) => el("input", { type: "checkbox", id: newId("opt"), value: c, "data-key": `${key} ${c}` }));
    boxes.forEach((b) => b.addEventListener("change", () => sendNow(choices.filter((c, i) => boxes[i].checked))));
    input = el("div", { ...common, role: "group", class: "options" },
      ...boxes.map((b, i) => el("span", { class: "option" }, b, el("label", { for: b.id }, choices[i]))));
    set = unlessSending((v) => boxes.forEach((b, i) => { b.checked = (v || []).includes(choices[i]); }));
    node = input;
  } else if (choices) {
    input = el("select", common, ...choices.map((c) => el("option", { value: c }, c)));
    set = (v) => {
      // a value outside the choices (typed in the YAML view) is shown as it is, not as a blank
      if (v !== null && v !== undefined && ![...input.options].some((o) => o.value === String(v))) input.append(el("option", { value: v }, v));
      input.value = v ?? "";
    };
    input.addEventListener("change", () => commit(input.value));
    node = input;
  } else {
    const numeric = type === "int";
    input = el("input", { ...common, ...attrs({ min, max, list }), type: numeric ? "number" : "text",
      ...(numeric ? { step: "1", inputmode: "numeric", class: "num" } : { spellcheck: "false" }) });
    set = (v) => {
      const text = v === null || v === undefined ? "" : String(v);
      if (input.value !== text) input.value = text; // (the same text again would move the caret)
      input.dataset.shown = text;
    };
    // a value committed once (change after Enter, say) is sent once
    const send = () => {
      if (input.value === input.dataset.shown) return;
      const raw = input.value.trim();
      if (!numeric) { input.dataset.shown = input.value; commit(raw); return; }
      const n = Number(raw);
      if (raw === "" || !Number.isInteger(n)) { invalid("enter a whole number"); return; }
      if ((min !== undefined && min !== null && n < min) || (max !== undefined && max !== null && n > max)) {
        invalid(`enter a number from ${min ?? "…"} to ${max ?? "…"}`);
        return;
      }
      input.dataset.shown = input.value;
      commit(n);
    };
    input.addEventListener("change", send);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); send(); } });
    node = input;
  }
  set(value);
  return { node, input, set };
}

/**
 * Re-render `container` with `render()` and put the focus back on the control with the same key (its
 * accessible name), with what the person was typing into it if they had not committed it yet.
 */
export function keepFocus(container, render) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : undefined;
  const typing = key && active.tagName === "INPUT" && active.type !== "checkbox" && active.value !== active.dataset.shown
    ? active.value : undefined;
  // the whole selection, not only the caret: a value selected to be typed over stays selected
  const range = key && active.tagName === "INPUT" && active.type === "text"
    ? [active.selectionStart, active.selectionEnd, active.selectionDirection] : null;
  render();
  if (!key) return;
  const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (!again) return;
  if (typing !== undefined) again.value = typing;
  again.focus({ preventScroll: true });
  if (range !== null && again.type === "text") again.setSelectionRange(...range);
}

/** A message beside a control: a refused edit, a value that cannot be sent, a diagnostic. */
export function problemText(p) {
  const diags = (p.diagnostics || []).map((d) => d.message).filter(Boolean);
  return [p.code ? `${p.code}: ${p.detail || p.message}` : p.detail || p.message, ...diags].filter(Boolean).join(" — ");
}

// Put a literal's control where its value is written in the cell's text ("below [1]"), so the cell still
// reads as the condition it is.
function cellWithControl(text, value, ctl) {
  const at = text.lastIndexOf(String(value));
  if (at < 0) return [text + " ", ctl];
  return [text.slice(0, at), ctl, text.slice(at + String(value).length)];
}

/**
 * The decision table of a rules file (`POST table`) into `container`.
 * explain: `rows` of a `POST decide` answer (each rule down to the deciding one, with its failed
 * cells); decided: the deciding rule's id (when there are no rows); editable + onEdit(edit, value):
 * literals become controls (onEdit returns a promise; its rejection is shown in the cell); onJump(row):
 * a "line N" button opens the rule's text.
 */
export function renderTable(container, table, { explain = null, decided = null, editable = false, onEdit = null, onJump = null } = {}) {
  // The same table with other values (an edit of a cell, say) is shown in place: the controls keep
  // their focus and what is being typed into them.
  const shape = JSON.stringify([table, explain, decided, editable], (k, v) => (v && v.edit
    ? { ...v, text: undefined, edit: { ...v.edit, value: undefined } } : v));
  if (editable && container.wbShape === shape && container.wbControls) {
    for (const row of table.rows) {
      for (const [fact, cell] of Object.entries(row.cells)) container.wbControls.get(`${row.rule} ${fact}`)?.show(cell.edit.value);
    }
    return;
  }
  const controls = new Map();
  const why = new Map((explain || []).map((r) => [r.rule, r]));
  const decider = (explain || []).find((r) => r.matched)?.rule || decided;
  const other = table.rows.some((r) => r.other);
  const docs = {};
  const head = el("tr", {}, el("th", { scope: "col" }, "Rule ", el("span", { class: "doc" }, "and its requirements")),
    ...table.columns.map((c) => {
      docs[c.fact] = newId("doc");
      return el("th", attrs({ scope: "col", class: "fact-col", title: c.doc }), el("span", { class: "fact" }, breakable(c.fact)),
        el("span", { class: "doc", id: docs[c.fact] }, c.doc || ""));
    }),
    ...(other ? [el("th", { scope: "col" }, "Other conditions")] : []),
    el("th", { scope: "col" }, "Outcome ", el("span", { class: "doc" }, "and reason")), el("th", { scope: "col" }, "Effects"));
  let reached = true;
  const body = table.rows.map((row) => {
    const ex = why.get(row.rule);
    const isDecider = decider === row.rule;
    const ruleCell = el("th", attrs({ scope: "row", class: "rule", title: row.description }),
      el("span", { class: "rule-id" }, row.rule),
      (row.requirements || []).length ? el("span", { class: "reqs" }, row.requirements.join(", ")) : null,
      ...(row.description ? [srOnly(": " + row.description)] : []),
      ...(row.catch_all ? [el("span", { class: "tag" }, "always matches")] : []),
      ...(isDecider ? [el("span", { class: "tag decides" }, "decides")] : []),
      ...(onJump && row.line ? [el("button", { type: "button", class: "link", "aria-label": `Show ${row.rule} in YAML (line ${row.line})`, onclick: () => onJump(row) }, `line ${row.line}`)] : []),
      ...(row.findings || []).map((f) => el("span", { class: `badge ${f.severity || "warning"}`, role: "note" }, `${f.code ? f.code + ": " : ""}${f.message}`)));
    const cells = table.columns.map((c) => {
      const cell = row.cells[c.fact];
      const failed = ex && !ex.matched && (ex.failed || []).includes(c.fact);
      const td = el("td", { class: failed ? "failed" : cell ? "" : "any" });
      if (!cell) td.append("any");
      else if (editable && cell.edit && onEdit) { td.classList.add("ctl"); td.append(...editableCell(row, c, cell, docs[c.fact], onEdit, controls)); }
      else td.append(cell.text);
      if (failed) td.append(el("span", { class: "nomatch" }, "no match"));
      return td;
    });
    const otherCells = other ? [el("td", { class: ex && ex.other_failed ? "failed" : row.other ? "" : "any" },
      row.other || "any", ...(ex && ex.other_failed ? [el("span", { class: "nomatch" }, "no match")] : []))] : [];
    const tr = el("tr", attrs({ "data-rule": row.rule, class: isDecider ? "decided" : explain && !reached ? "unreached" : explain && ex ? "passed-over" : null }),
      ruleCell, ...cells, ...otherCells,
      el("td", { class: "outcome" }, row.outcome, row.reason ? el("span", { class: "reason" }, row.reason) : null),
      el("td", {}, (row.effects || []).join(", ") || "none"));
    if (isDecider) { tr.setAttribute("aria-current", "true"); reached = false; }
    return tr;
  });
  const caption = el("caption", {}, el("b", {}, `${table.file}: `), `${table.hit_policy || "first match decides"}: rules are read top to bottom`);
  container.replaceChildren(
    el("p", { class: "muted table-note" }, "The first rule whose conditions all hold decides; “any”: the rule does not look at that fact."),
    el("div", { class: "table-scroll" }, el("table", { class: "decision" }, caption, el("thead", {}, head), el("tbody", {}, ...body))));
  container.wbShape = shape;
  container.wbControls = controls;
}

// Long fact names may wrap after their dots (pair.<wbr>awaiting_response), keeping the table narrow.
const breakable = (name) => name.split(".").flatMap((part, i) => (i ? [el("wbr"), "." + part] : [part]));

function editableCell(row, column, cell, docId, onEdit, controls) {
  const key = `${row.rule} ${column.fact}`;
  const errId = newId("err");
  const err = el("span", { class: "diag error", id: errId });
  const { edit } = cell;
  const ctl = control({
    type: edit.choices ? "choice" : edit.type, value: edit.value, choices: edit.choices, min: edit.min, max: edit.max,
    key, describedby: `${docId} ${errId}`,
    invalid: (m) => { err.textContent = m; },
    commit: (value) => {
      err.textContent = "";
      return Promise.resolve(onEdit(edit, value)).catch((p) => { err.textContent = problemText(p); ctl.input.setAttribute("aria-invalid", "true"); });
    },
  });
  controls.set(key, { show(value) {
    if (!("shown" in ctl.input.dataset) || ctl.input.value === ctl.input.dataset.shown) ctl.set(value);
  } });
  return [...cellWithControl(cell.text, edit.value, ctl.node), err];
}
