// The workbench page: loads the draft, builds the tabs (one module each, in the contract's order),
// checks the draft after every change and keeps the status bar up to date.
// Plain ES modules, no build step, nothing from the network but this server.
import { $, el, say } from "./dom.js";
import { api, guarded, leave, leaveSoon, report } from "./api.js";
import { draft } from "./draft.js";
import { onChecked, recheck } from "./diagnostics.js";
import yaml from "./tabs/yaml.js";

// The tabs, in order: [module file, label used until the module loads]. policy is the landing tab.
const ORDER = [
  ["policy", "Policy"],
  ["rules", "Rules"],
  ["yaml", "YAML"],
  ["try", "Try a decision"],
  ["scenarios", "Scenarios"],
  ["impact", "Impact"],
  ["history", "History"],
  ["spec", "Spec"],
];

const tabs = []; // {id, label, module, button, section}

function tab(id) {
  return tabs.find((t) => t.id === id);
}

/** Show the tab `id` (its panel; the others hidden), and call its module's show(). */
export function showTab(id) {
  const chosen = tab(id) || tabs[0];
  if (!chosen) return;
  for (const t of tabs) {
    const on = t === chosen;
    t.button.setAttribute("aria-selected", String(on));
    t.button.tabIndex = on ? 0 : -1;
    t.section.hidden = !on;
  }
  if (location.hash !== "#" + chosen.id) history.replaceState(null, "", "#" + chosen.id);
  if (chosen.module && chosen.module.show) {
    guarded(async () => chosen.module.show())();
  }
}

/** Switch to the YAML tab, open `file` there and put the cursor on line:col (when given). */
export function openInYaml(file, line, col) {
  showTab("yaml");
  return yaml.open(file, line, col);
}

function onTabKey(e) {
  const i = tabs.findIndex((t) => t.button === e.target);
  if (i < 0) return;
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  const t = tabs[(next + tabs.length) % tabs.length];
  showTab(t.id);
  t.button.focus();
}

function draftState() {
  const changed = draft.changed();
  const box = $("draft-state");
  box.textContent = changed.length ? "Unsaved changes: " + changed.join(", ") : "No unsaved changes";
  box.className = changed.length ? "dirty" : "muted";
}

function showCheck(result) {
  const box = $("check");
  const errors = result.diagnostics.filter((d) => d.severity !== "warning").length;
  const warnings = result.diagnostics.length - errors;
  const w = warnings ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : "";
  if (result.ok) {
    box.textContent = `Draft valid (revision ${result.revision})${w}`;
    box.className = "ok";
  } else {
    box.textContent = `${errors} problem${errors === 1 ? "" : "s"} in the draft${w}`;
    box.className = "bad";
  }
}

function when(iso) {
  const t = iso ? new Date(iso) : null;
  if (!t || Number.isNaN(t.getTime())) return "an earlier visit";
  const sameDay = t.toDateString() === new Date().toDateString();
  const time = t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? time : `${t.toLocaleDateString()} ${time}`;
}

/** On a shared workbench: who is signed in (the author of their saves), and a way to sign out. */
async function showEditor() {
  let me;
  try {
    me = await api("me");
  } catch {
    return; // the header is all this costs
  }
  if (!me.shared) return;
  const box = $("editor");
  const out = el("button", { type: "button", class: "link" }, "Sign out");
  out.addEventListener(
    "click",
    guarded(async () => {
      leaveSoon(); // a check or poll answered 401 meanwhile must not send the page elsewhere first
      try {
        await api("signout", {});
      } catch (err) {
        leaveSoon(false);
        throw err;
      }
      leave("/signin");
    }),
  );
  box.replaceChildren(me.name ? `Signed in as ${me.name}` : "Signed in with the token", out);
  box.hidden = false;
}

let timer = null;
const checkSoon = () => {
  clearTimeout(timer);
  timer = setTimeout(guarded(recheck), 300);
};

async function start() {
  let restore;
  try {
    restore = await draft.load();
  } catch (err) {
    report(err);
    $("check").textContent = "The workbench did not answer: reload the page to try again.";
    return;
  }
  $("folder").textContent = "Folder: " + draft.folder;
  await showEditor();

  const nav = $("tabs");
  const main = $("panels");
  const modules = await Promise.all(
    ORDER.map(([id]) =>
      id === "yaml"
        ? Promise.resolve({ default: yaml })
        : import(`./tabs/${id}.js`).catch((err) => {
            console.error(`tab ${id}:`, err);
            return { error: err };
          }),
    ),
  );
  ORDER.forEach(([id, fallback], i) => {
    const module = modules[i].default || null;
    const label = (module && module.label) || fallback;
    const tid = (module && module.id) || id;
    const button = el(
      "button",
      { type: "button", role: "tab", id: "tab-" + tid, "aria-controls": "panel-" + tid, "aria-selected": "false", tabindex: "-1" },
      label,
    );
    button.addEventListener("click", () => showTab(tid));
    button.addEventListener("keydown", onTabKey);
    const section = el("section", { id: "panel-" + tid, role: "tabpanel", "aria-labelledby": "tab-" + tid, hidden: true });
    nav.append(button);
    main.append(section);
    tabs.push({ id: tid, label, module, button, section });
    if (!module) section.append(el("p", { class: "bad" }, `This tab could not be loaded: ${modules[i].error}`));
  });

  draftState();
  draft.on(() => {
    draftState();
    checkSoon();
  });
  onChecked(showCheck);

  for (const t of tabs) {
    if (!t.module || !t.module.mount) continue;
    try {
      await t.module.mount(t.section);
    } catch (err) {
      console.error(`tab ${t.id}:`, err);
      t.section.append(el("p", { class: "bad" }, `This tab could not be built: ${err.message || err}`));
    }
  }
  const wanted = location.hash.slice(1);
  showTab(tab(wanted) ? wanted : "policy");

  if (restore.restored) {
    const stale = restore.stale.length
      ? ` The saved ${restore.stale.join(", ")} changed since: saving ${restore.stale.length === 1 ? "it" : "them"} ` +
        "will be refused (changed on disk); copy your change, then discard the draft."
      : "";
    say(`Restored your unsaved changes to ${restore.names.join(", ")} from ${when(restore.at)}.${stale}`, !!stale);
  }
  try {
    await recheck();
  } catch (err) {
    report(err);
  }
}

window.addEventListener("unhandledrejection", (e) => report(e.reason));
start();
