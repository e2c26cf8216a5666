// The page's one draft: the texts of the policy and rules files that differ from the saved ones.
// Every editor (YAML, forms, tables) writes here with draft.set(); every request sends draft.files().
// It is kept in localStorage under "inmail-wb:<folder>" with the token of the saved text each file
// was based on, so it survives a reload and a workbench restart; a file whose saved text changed
// since keeps its old token, and the server refuses to save it (changed_on_disk).
import { api, isLeaving } from "./api.js";

const saved = new Map(); // name -> saved text
const tokens = new Map(); // name -> token of the saved text
const packaged = new Set(); // names shown from the packaged policy/rules (the folder has no copy)
const changes = new Map(); // name -> {text, token: token of the saved text it was based on}
const listeners = new Set();
let key = null;
let changedAt = null;

function persist() {
  if (!key) return;
  try {
    if (!changes.size) {
      localStorage.removeItem(key);
      return;
    }
    changedAt = new Date().toISOString();
    const files = Object.fromEntries([...changes].map(([name, c]) => [name, { text: c.text, token: c.token }]));
    localStorage.setItem(key, JSON.stringify({ version: 1, at: changedAt, files }));
  } catch {
    // storage full or disabled: the draft still lives in the page
  }
}

function notify(name, source) {
  for (const fn of [...listeners]) {
    try {
      fn(name, source);
    } catch (err) {
      console.error(err);
    }
  }
}

export const draft = {
  /** The folder's path (as the server gives it), after load(). */
  folder: null,
  /** Whether the workbench was started with a store (--db): impact can replay it. */
  store: false,
  /** The stores given with --db, in order, as the page may show them (no passwords). */
  stores: [],

  /** GET files, then restore the draft stored for this folder.
   *  -> {restored: bool, stale: [names whose saved text changed since the draft was made], names, at} */
  async load() {
    const data = await api("files");
    this.folder = data.folder;
    this.store = !!data.store;
    this.stores = Array.isArray(data.stores) ? data.stores : [];
    saved.clear();
    tokens.clear();
    packaged.clear();
    changes.clear();
    for (const f of data.files) {
      saved.set(f.name, f.text);
      tokens.set(f.name, f.token);
      if (f.packaged) packaged.add(f.name);
    }
    key = "inmail-wb:" + data.folder;
    let stored = null;
    try {
      stored = JSON.parse(localStorage.getItem(key) || "null");
    } catch {
      stored = null;
    }
    const stale = [];
    const names = [];
    if (stored && stored.files && typeof stored.files === "object") {
      for (const [name, c] of Object.entries(stored.files)) {
        if (!saved.has(name) || !c || typeof c.text !== "string" || c.text === saved.get(name)) continue;
        const base = typeof c.token === "string" ? c.token : "";
        changes.set(name, { text: c.text, token: base });
        names.push(name);
        if (base !== tokens.get(name)) stale.push(name);
      }
    }
    changedAt = stored && stored.at ? stored.at : null;
    if (!names.length) persist(); // drop a stored draft that no longer differs
    for (const name of names) notify(name, "restore");
    return { restored: names.length > 0, stale, names, at: changedAt };
  },

  /** Every file name, policies.yaml first, as the server lists them. */
  names: () => [...saved.keys()],
  saved: (name) => saved.get(name),
  /** The token to save `name` with: the one its draft was based on, else the saved file's. */
  token: (name) => (changes.has(name) ? changes.get(name).token : tokens.get(name)),
  /** The draft text when changed, else the saved one. */
  text: (name) => (changes.has(name) ? changes.get(name).text : saved.get(name)),
  packaged: (name) => packaged.has(name),

  /** Change a file's text. source: "yaml" | "form" | "table" | "restore" (who changed it, for the
   *  listeners: an editor ignores its own changes). A text equal to the saved one leaves the draft. */
  set(name, text, source) {
    if (!saved.has(name)) throw new Error(`no file ${name} in this folder`);
    const before = this.text(name);
    if (text === saved.get(name)) changes.delete(name);
    else changes.set(name, { text, token: changes.has(name) ? changes.get(name).token : tokens.get(name) });
    if (text === before) return;
    persist();
    notify(name, source);
  },

  /** The changed texts by name: the `files` of a request. */
  files: () => Object.fromEntries([...changes].map(([name, c]) => [name, c.text])),
  dirty: () => changes.size > 0,
  /** The changed files' names, in the server's order. */
  changed: () => [...saved.keys()].filter((n) => changes.has(n)),
  /** When the stored draft was last changed (ISO), or null. */
  at: () => (changes.size ? changedAt : null),

  /** Drop the changes of one file, or of all when name is omitted. */
  discard(name) {
    const names = name === undefined ? this.changed() : changes.has(name) ? [name] : [];
    for (const n of names) changes.delete(n);
    if (!names.length) return;
    persist();
    for (const n of names) notify(n, "discard");
  },

  /** After a save (or undo): `text` is now the saved text of `name`, with its new token. */
  markSaved(name, text, token) {
    saved.set(name, text);
    tokens.set(name, token);
    packaged.delete(name);
    changes.delete(name);
    persist();
    notify(name, "save");
  },

  /** fn(name, source) after every change of a text (set, discard, markSaved, restore). -> unsubscribe */
  on(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

window.addEventListener("beforeunload", (e) => {
  if (isLeaving() || !draft.dirty()) return;
  e.preventDefault();
  e.returnValue = ""; // the browser asks "Leave site? Changes you made may not be saved."
});
