// Small DOM helpers shared by every module of the page: no framework, no build step.

export const $ = (id) => document.getElementById(id);

/** `el("button", {class: "x", onclick: fn, type: "button"}, "text", node)`: a new element.
 *  attrs: `class`, `on<event>` handlers, other attributes (`true` -> present, `false`/null -> absent). */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  append(e, children);
  return e;
}

/** Replace `parent`'s children (nodes or text; null, false and undefined are skipped). */
export function fill(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
  return parent;
}

function append(parent, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** The page's status line (role=status): what just happened, or what went wrong (`bad`). */
/** A captioned table in its scrolling box: a header cell per heading, then the given rows (`<tr>`s). */
export function table(caption, heads, rows) {
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

export function say(text, bad = false) {
  const s = $("status");
  if (!s) return;
  s.textContent = text;
  s.className = bad ? "bad" : "ok";
}

/** A modal question: resolves to the chosen answer's value, or null when cancelled (Escape too).
 *  `answers`: [{label, value, danger?}]; a Cancel button is added. */
export function ask(question, answers, detail = "") {
  return new Promise((resolve) => {
    const title = "ask-title-" + Math.random().toString(36).slice(2);
    const dialog = el("dialog", { class: "ask", "aria-labelledby": title });
    const done = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    fill(
      dialog,
      el("h2", { id: title }, question),
      detail ? el("p", {}, detail) : null,
      el(
        "div",
        { class: "buttons" },
        ...answers.map((a) =>
          el("button", { type: "button", class: a.danger ? "danger" : "", onclick: () => done(a.value) }, a.label),
        ),
        el("button", { type: "button", onclick: () => done(null) }, "Cancel"),
      ),
    );
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      done(null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A YAML editor in `parent`: the vendored CodeMirror bundle (see the contract's "Editor"), or, when
 *  it cannot be loaded, a plain textarea with the same methods (and the status line says so). */
let bundle = null;
export async function makeEditor(parent, options) {
  if (bundle === null) {
    bundle = import("/wb/static/vendor/editor.js").catch((err) => {
      say(`The editor could not be loaded (${err.message}): a plain text box instead.`, true);
      return undefined;
    });
  }
  const mod = await bundle;
  if (mod && mod.createEditor) return mod.createEditor(parent, options);
  return plainEditor(parent, options);
}

function plainEditor(parent, { doc = "", label = "Editor", onChange = null, readOnly = false } = {}) {
  const t = el("textarea", { class: "plain-editor", spellcheck: "false", "aria-label": label, readonly: readOnly });
  t.value = doc;
  if (onChange) t.addEventListener("input", () => onChange(t.value));
  parent.append(t);
  return {
    view: null,
    getText: () => t.value,
    setText(text) {
      if (t.value !== text) t.value = text;
    },
    setSchema() {},
    setDiagnostics() {},
    goTo(line, col = 1) {
      const lines = t.value.split("\n");
      let pos = 0;
      for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
      pos += Math.max(0, (col || 1) - 1);
      t.focus();
      t.setSelectionRange(pos, pos);
      t.scrollTop = Math.max(0, (line - 5) * 19);
    },
    focus: () => t.focus(),
  };
}

/** A unified diff in `pre`, its added and removed lines marked (the text stays the diff's text). */
export function showDiff(pre, diff) {
  pre.replaceChildren(
    ...diff.replace(/\n$/, "").split("\n").map((line) => {
      const kind = /^(\+\+\+|---) |^diff --git |^index [0-9a-f]/.test(line) ? "file" : line.startsWith("@@") ? "hunk"
        : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
      return el("span", { class: kind }, line);
    }),
  );
}
