// The YAML tab: every policy and rules file in the CodeMirror editor (completion, hover and lint from
// the file kind's JSON Schema; the server's diagnostics inline), the Problems list of the whole draft,
// Save (diff first), Undo last save and Discard draft. The editor's text is the draft.
import { $, ask, el, makeEditor, say, showDiff } from "../dom.js";
import { api, describe, getOnce, guarded, Problem } from "../api.js";
import { draft } from "../draft.js";
import { forEditor, latest, onChecked, renderProblems } from "../diagnostics.js";
import { offerPublish } from "../publish.js";
import { showSaveImpact, stopSaveImpact } from "../saveimpact.js";

let current = null;
let schemas = null;
const editors = new Map(); // name -> Promise of {pane, editor}
let pending = null; // the save being confirmed: {name, text}
let asking = 0; // the latest Save… asked: an older dry run's answer arriving late is dropped

function schemaFor(name) {
  if (!schemas) return null;
  if (name === "policies.yaml") return schemas.policy || null;
  if (name.startsWith("rules/")) return schemas.rules || null;
  return null;
}

/** The editor of `name` (made on first use; one per file, so each keeps its own undo history). */
function editorFor(name) {
  if (!editors.has(name)) {
    const pane = el("div", { class: "editor-pane", "data-file": name, hidden: name !== current });
    $("editors").append(pane);
    const made = makeEditor(pane, {
      doc: draft.text(name),
      schema: schemaFor(name),
      label: `Text of ${name}`,
      onChange: (text) => draft.set(name, text, "yaml"),
    }).then((editor) => {
      pane.editor = editor; // for a look from the console (and the browser tests): $0.editor.getText()
      const result = latest();
      if (result) editor.setDiagnostics(forEditor(result.diagnostics, name));
      if (editor.getText() !== draft.text(name)) editor.setText(draft.text(name)); // changed while loading
      return { pane, editor };
    });
    editors.set(name, made);
  }
  return editors.get(name);
}

/** Open `name` in the editor; with `line`, put the cursor there (1-based line and column). */
async function open(name, line, col) {
  if (!draft.names().includes(name)) return;
  current = name;
  $("file-select").value = name;
  for (const pane of $("editors").children) pane.hidden = pane.dataset.file !== name;
  renderHelp();
  fileState();
  const { editor } = await editorFor(name);
  if (current !== name) return;
  if (editor.view) editor.view.requestMeasure();
  if (line) editor.goTo(line, col || 1);
}

function optionLabel(name) {
  return name + (draft.packaged(name) ? " (packaged)" : "") + (draft.changed().includes(name) ? " \u2022 changed" : "");
}

function fileOptions() {
  const select = $("file-select");
  if (select.options.length !== draft.names().length) {
    select.replaceChildren(...draft.names().map((n) => el("option", { value: n }, optionLabel(n))));
  } else {
    for (const option of select.options) option.textContent = optionLabel(option.value);
  }
  if (current) select.value = current;
}

function fileState() {
  const box = $("file-state");
  const changed = draft.changed().includes(current);
  box.textContent = changed ? "changed, not saved" : "as saved";
  box.className = changed ? "dirty" : "muted";
}

// --- the aside: what the open file says, in plain words ------------------------------------------
function renderHelp() {
  const text = draft.text(current) || "";
  const help = $("help");
  help.replaceChildren();
  if (current === "policies.yaml") {
    help.append(el("h3", {}, "What the settings mean"));
    help.append(...headerHelp(text));
  } else {
    help.append(el("h3", {}, "The rules of this file"));
    const ids = [...text.matchAll(/^\s*-?\s*id:\s*(\S+)/gm)].map((m) => m[1]);
    const descs = [...text.matchAll(/^\s*description:\s*(.+)$/gm)].map((m) => m[1].replace(/^["']|["']$/g, ""));
    if (!ids.length) help.append(el("p", { class: "muted" }, "No rules yet."));
    ids.forEach((id, i) => help.append(el("p", {}, el("b", {}, id + ": "), descs[i] || "")));
  }
}

/** The policy's header comment (up to the first setting) as paragraphs, commands and a list of keys. */
function headerHelp(text) {
  const out = [];
  let para = null;
  let dl = null;
  let dd = null;
  for (const raw of text.split("\n")) {
    if (raw.startsWith("# yaml-language-server")) continue;
    if (!raw.startsWith("#")) {
      if (raw.trim()) break;
      continue;
    }
    const line = raw.replace(/^#\s?/, "");
    const key = /^ {1,3}(\S+)\s{2,}(.+)$/.exec(line);
    const more = /^\s{6,}(\S.*)$/.exec(line);
    if (key) {
      if (!dl) out.push((dl = el("dl", { class: "keys" })));
      dl.append(el("dt", {}, el("code", {}, key[1])), (dd = el("dd", {}, key[2])));
      para = null;
    } else if (more && dd) {
      dd.append(el("div", { class: "more" }, more[1]));
    } else if (/^ {4}\S/.test(line)) {
      out.push(el("pre", { class: "command" }, line.trim()));
      para = null;
    } else if (!line.trim()) {
      para = null;
      dl = null;
      dd = null;
    } else {
      if (!para) out.push((para = el("p", {})));
      else para.append(" ");
      para.append(line.trim());
      dl = null;
      dd = null;
    }
  }
  return out;
}

// --- problems ----------------------------------------------------------------------------------------
function jump(file, line, col) {
  if (file && draft.names().includes(file)) open(file, line, col);
  else if (line && current) open(current, line, col);
}

function showChecked(result) {
  renderProblems($("diagnostics"), result.diagnostics, {
    onJump: jump,
    empty: result.ok ? "No problems: the draft loads." : "",
  });
  for (const [name, made] of editors) {
    made.then(({ editor }) => editor.setDiagnostics(forEditor(result.diagnostics, name)));
  }
}

// --- save, undo, discard -------------------------------------------------------------------------------
/** Save `name` (the diff first, in the save dialog): the YAML tab's Save…, and the Policy and Rules
 * tabs' own Save… buttons, so a person who edits through a form never has to open the YAML. The
 * dialog opens once the dry run answers, with the diff and under it the checks before save (a plan
 * in use refuses the save; scenario expectations the change breaks are listed); meanwhile the
 * status line says what is being checked. */
export const saveFile = guarded(async (name) => {
  if (!draft.changed().includes(name)) {
    say(`${name} has no unsaved changes.`);
    return;
  }
  const text = draft.text(name);
  const asked = ++asking;
  say(`Checking the change to ${name}: running the folder's scenarios on the saved files and on it\u2026`);
  const data = await api("save", { file: name, text, token: draft.token(name), dry_run: true });
  if (asked !== asking) return; // another Save… was asked since: its answer opens the dialog
  say("");
  pending = { name, text };
  $("save-title").textContent = `Save ${name}?`;
  showDiff($("diff"), data.diff || "(no change)");
  const refused = showChecks($("save-checks"), data.checks);
  $("save-problems").replaceChildren();
  $("confirm-save").disabled = refused;
  $("confirm-save").title = refused ? "Refused: see the checks below the diff" : "";
  if (!$("save-dialog").open) {
    $("save-note").value = "";
    $("save-dialog").showModal();
  }
  showSaveImpact($("save-impact"), name, text); // not awaited: Save does not wait for it
});

/** The checks before save, under the diff; true when the save would be refused. */
function showChecks(box, checks) {
  box.replaceChildren();
  if (!checks) return false;
  const inUse = checks.plans_in_use || [];
  if (inUse.length) {
    const plans = [...new Set(inUse.map((p) => p.plan))];
    box.append(
      el(
        "section",
        { class: "check refused", role: "alert", "aria-labelledby": "check-plans" },
        el("h3", { id: "check-plans" }, `Cannot save: ${plans.length === 1 ? "a plan" : "plans"} in use would be removed`),
        el("ul", {}, ...inUse.map((p) => el("li", { "data-plan": p.plan }, code(p.message)))),
        el(
          "p",
          { class: "help" },
          "Those accounts could no longer be decided (",
          el("code", {}, "plan_in_use"),
          "). Keep ",
          code(plans.map((p) => "`" + p + "`").join(", ")),
          " in the policy, or move the accounts to another plan first.",
        ),
      ),
    );
  }
  if (!checks.loads) {
    box.append(
      el("p", { class: "check muted" }, "The folder does not load with this change, so its scenarios were not run; Save says why."),
    );
  } else {
    const changed = checks.expectations || [];
    const broken = checks.broken || [];
    if (changed.length) {
      const n = changed.length;
      box.append(
        el(
          "section",
          { class: "check changes", "aria-labelledby": "check-expectations" },
          el("h3", { id: "check-expectations" }, n === 1 ? "This expectation assumes the old numbers" : `These ${n} expectations assume the old numbers`),
          el("p", { class: "muted" }, "They held on the saved files and fail after this change. Saving is allowed: update them if the new numbers are meant."),
          checkTable(
            ["Where", "Expectation", "Expected", "Now"],
            changed.map((x) => [
              whereButton(x.scenario, x.line),
              x.what,
              el("span", { class: "num" }, shown(x.expected)),
              el("span", { class: "num now" }, shown(x.now)),
            ]),
            "check-expectations",
          ),
        ),
      );
    } else if (broken.length) {
      const left = Math.max(0, (checks.scenarios || 0) - broken.length);
      box.append(el("p", { class: "check muted none" }, `No expectation changes in the ${left} scenario${left === 1 ? "" : "s"} that still run.`));
    } else {
      const ran = checks.scenarios || 0;
      box.append(el("p", { class: "check ok none" }, `No scenario expectation changes (${ran} scenario${ran === 1 ? "" : "s"} run before and after).`));
    }
    if (broken.length) {
      box.append(
        el(
          "section",
          { class: "check changes", "aria-labelledby": "check-broken" },
          el("h3", { id: "check-broken" }, broken.length === 1 ? "This scenario no longer runs" : `These ${broken.length} scenarios no longer run`),
          el("p", { class: "muted" }, "They ran on the saved files; after this change they stop here:"),
          checkTable(
            ["Where", "Why"],
            broken.map((b) => [whereButton(b.scenario, b.line), el("span", { title: b.code }, code(b.message))]),
            "check-broken",
          ),
        ),
      );
    }
  }
  const features = checks.features || 0;
  box.append(
    el(
      "p",
      { class: "check muted note" },
      `The BDD features${features ? ` (${features} files in features/)` : ""} are not run here: run `,
      el("code", {}, "pytest tests/bdd"),
      " before merging.",
    ),
  );
  return inUse.length > 0;
}

/** A table of findings in a scrolling box (its head stays in view). */
function checkTable(heads, rows, labelledby) {
  return el(
    "div",
    { class: "check-table" },
    el(
      "table",
      { "aria-labelledby": labelledby },
      el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c))))),
    ),
  );
}

/** "file:line", a button that opens the scenario there in the Scenarios tab. */
function whereButton(scenario, line) {
  const where = line ? `${scenario}:${line}` : scenario;
  return el("button", { type: "button", class: "link", onclick: () => openScenario(scenario, line), title: `Open ${where} in the Scenarios tab` }, where);
}

/** A value as a scenario writes it: null, a number, a word, a list. */
function shown(v) {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "[" + v.join(", ") + "]";
  return String(v);
}

/** A message with its `backticked` values as code. */
function code(message) {
  const span = el("span", {});
  String(message).split(/(`[^`]*`)/).forEach((part) => {
    if (part.startsWith("`") && part.endsWith("`") && part.length > 1) span.append(el("code", {}, part.slice(1, -1)));
    else if (part) span.append(part);
  });
  return span;
}

/** Close the dialog (the change stays in the draft) and show the scenario in the Scenarios tab. */
const openScenario = guarded(async (name, line) => {
  $("save-dialog").close();
  const [main, scenarios] = await Promise.all([import("../main.js"), import("./scenarios.js")]);
  main.showTab("scenarios");
  if (!(await scenarios.open(name, line))) say(`${name} is not among the folder's scenarios.`, true);
});

const startSave = () => saveFile(current);

const confirmSave = guarded(async () => {
  if (!pending) return;
  const { name, text } = pending;
  $("confirm-save").disabled = true;
  let data;
  try {
    const note = $("save-note").value.trim();
    data = await api("save", { file: name, text, token: draft.token(name), ...(note ? { note } : {}) });
  } catch (err) {
    $("confirm-save").disabled = false;
    const box = $("save-problems");
    const list = el("ul", { class: "problems" });
    box.replaceChildren(
      el("p", { class: "bad" }, err instanceof Problem && err.diagnostics.length ? "Not saved: the folder would not load." : "Not saved: " + describe(err)),
      list,
    );
    if (err instanceof Problem && err.diagnostics.length) {
      renderProblems(list, err.diagnostics, {
        onJump: (file, line, col) => {
          $("save-dialog").close();
          jump(file, line, col);
        },
      });
    }
    say(`Not saved: ${describe(err)}`, true);
    return;
  }
  pending = null;
  $("save-dialog").close();
  draft.markSaved(name, text, data.token);
  say(`Saved ${name} (revision ${data.revision})`);
  await offerPublish();
});

const undo = guarded(async () => {
  const name = current;
  if (draft.changed().includes(name)) {
    const sure = await ask(`Undo the last save of ${name}?`, [{ label: "Undo the save", value: true, danger: true }],
      `Your unsaved changes to ${name} will be lost.`);
    if (!sure) return;
  }
  const data = await api("undo", { file: name });
  draft.markSaved(name, data.text, data.token);
  say(`Undid the last save of ${name} (revision ${data.revision})`);
  await offerPublish();
});

/** Drop the unsaved changes to `name` (asks first; offers all files when several are changed). */
export const discardFile = guarded(async (name) => {
  const changed = draft.changed();
  if (!changed.includes(name)) {
    say(changed.length ? `${name} has no unsaved changes (changed: ${changed.join(", ")}).` : "No unsaved changes.");
    return;
  }
  const answers = [{ label: `Discard changes to ${name}`, value: "one", danger: true }];
  if (changed.length > 1) answers.push({ label: `Discard all (${changed.length} files)`, value: "all", danger: true });
  const choice = await ask(`Discard your unsaved changes to ${name}?`, answers, "The saved text comes back; this cannot be undone.");
  if (!choice) return;
  if (choice === "all") {
    draft.discard();
    say(`Discarded the unsaved changes to ${changed.join(", ")}.`);
  } else {
    draft.discard(name);
    say(`Discarded the unsaved changes to ${name}.`);
  }
});

const discard = () => discardFile(current);

export default {
  id: "yaml",
  label: "YAML",
  open,

  async mount(section) {
    section.append(
      el(
        "div",
        { class: "toolbar" },
        el("label", { for: "file-select" }, "File"),
        el("select", { id: "file-select", onchange: (e) => open(e.target.value) }),
        el("button", { type: "button", id: "save", onclick: startSave }, "Save\u2026"),
        el("button", { type: "button", id: "undo", onclick: undo }, "Undo last save"),
        el("button", { type: "button", id: "revert", onclick: discard }, "Discard draft"),
        el("span", { id: "file-state", class: "muted", "aria-live": "polite" }),
      ),
      el(
        "div",
        { class: "split" },
        el("div", { id: "editors", class: "editors" }),
        el("aside", { id: "help", "aria-label": "What this file says" }),
      ),
      el(
        "p",
        { class: "keys-hint muted" },
        "Ctrl-Space completes a key, Ctrl-F searches, Ctrl-Alt-G goes to a line; Tab indents: press Esc, then Tab, to leave the editor.",
      ),
      el("h2", { id: "problems-title" }, "Problems"),
      el("ul", { id: "diagnostics", class: "problems", "aria-labelledby": "problems-title" }),
    );
    // the dialog belongs to the page, not to this tab: other tabs open it while this one is hidden
    document.body.append(
      el(
        "dialog",
        { id: "save-dialog", "aria-labelledby": "save-title" },
        el("h2", { id: "save-title" }, "Save this change?"),
        el("p", { class: "muted" }, "The change, as a diff of the saved file (+ added, - removed):"),
        el("pre", { id: "diff", tabindex: "0", "aria-label": "The diff" }),
        el("section", { id: "save-impact", class: "check", "aria-live": "polite", "aria-labelledby": "save-impact-title" }),
        el("div", { id: "save-checks", "aria-live": "polite", "aria-label": "Checks before save" }),
        el("div", { id: "save-problems", role: "alert" }),
        el("label", { for: "save-note" }, "Note (in a git folder, the commit message): "),
        el("input", { id: "save-note", type: "text", maxlength: "2000", placeholder: "Why this change?" }),
        el(
          "div",
          { class: "buttons" },
          el("button", { type: "button", id: "confirm-save", class: "primary", onclick: confirmSave }, "Save"),
          el("button", { type: "button", id: "cancel-save", onclick: () => $("save-dialog").close() }, "Cancel"),
        ),
      ),
    );
    $("save-dialog").addEventListener("close", stopSaveImpact); // a comparison nobody will read
    try {
      schemas = await getOnce("schemas");
    } catch {
      schemas = null; // no completion from a schema; the server's diagnostics still show
    }
    current = draft.names()[0] || null;
    fileOptions();
    draft.on((name, source) => {
      fileOptions();
      if (name === current) {
        fileState();
        renderHelp();
      }
      if (source !== "yaml" && editors.has(name)) {
        editors.get(name).then(({ editor }) => editor.setText(draft.text(name)));
      }
    });
    onChecked(showChecked);
    const result = latest();
    if (result) showChecked(result);
    if (current) await open(current);
  },

  show() {
    if (!current) return;
    editorFor(current).then(({ editor }) => editor.view && editor.view.requestMeasure());
  },
};
