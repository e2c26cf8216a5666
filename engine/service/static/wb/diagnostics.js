// Diagnostics: the Problems list (one renderer for every tab) and the check of the draft, whose last
// result every tab can read (latest) or follow (onChecked).
import { api } from "./api.js";
import { draft } from "./draft.js";
import { el } from "./dom.js";

/** "file:line:col" of a diagnostic (as much as it has). */
export function where(d) {
  return `${d.file || ""}${d.line ? ":" + d.line + (d.column ? ":" + d.column : "") : ""}`;
}

/** Fill `container` (a <ul>/<ol>) with one item per diagnostic: a button "file:line:col: code: message"
 *  with its help below; clicking it calls onJump(file, line, column). `empty`: the text when none. */
export function renderProblems(container, diagnostics, { onJump, empty = "No problems." } = {}) {
  container.replaceChildren();
  const list = Array.isArray(diagnostics) ? diagnostics : [];
  for (const d of list) {
    const head = `${where(d)}: ${d.code}: ${d.message}`;
    const body = [
      el("span", { class: "severity" }, d.severity === "warning" ? "warning" : "error"),
      " ",
      el("span", { class: "message" }, head),
      d.help ? el("span", { class: "help" }, "help: " + d.help) : null,
    ];
    const item = onJump
      ? el("button", { type: "button", onclick: () => onJump(d.file, d.line, d.column) }, ...body)
      : el("div", { class: "problem" }, ...body);
    container.append(el("li", { class: d.severity === "warning" ? "warning" : "error" }, item));
  }
  if (!list.length && empty) container.append(el("li", { class: "none" }, empty));
}

/** The diagnostics of `diagnostics` on one line of one file. */
export function at(diagnostics, file, line) {
  return (diagnostics || []).filter((d) => d.file === file && d.line === line);
}

/** A file's diagnostics in the editor's shape ({line, col, severity, code, message, help}). */
export function forEditor(diagnostics, file) {
  return (diagnostics || [])
    .filter((d) => d.file === file && d.line)
    .map((d) => ({ line: d.line, col: d.column || 1, severity: d.severity, code: d.code, message: d.message, help: d.help }));
}

let last = null;
let asked = 0;
const subscribers = new Set();

/** The last check's result ({ok, revision, diagnostics, plans, saved_plans}), or null before the first. */
export function latest() {
  return last;
}

/** fn(result) after every check. -> unsubscribe */
export function onChecked(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

/** POST check with the draft now; the result is kept and sent to the subscribers (an answer overtaken
 *  by a later check is dropped). Throws a Problem when the server refuses or cannot be reached. */
export async function recheck() {
  const mine = ++asked;
  const result = await api("check", { files: draft.files() });
  if (mine !== asked) return last;
  result.diagnostics = Array.isArray(result.diagnostics) ? result.diagnostics : [];
  last = result;
  for (const fn of [...subscribers]) {
    try {
      fn(result);
    } catch (err) {
      console.error(err);
    }
  }
  return result;
}
