// Publish: after a save, reload the running `inmail serve` the workbench was started with
// (`--publish-to`), and say which revision it answers with now. The bar sits under the header, so it
// is there whichever tab saved (the YAML tab's Save…, or the Policy and Rules tabs' own Save…).
import { $, el, say } from "./dom.js";
import { api, describe, guarded, Problem } from "./api.js";
import { renderProblems } from "./diagnostics.js";

let target = null; // the promise of GET /wb/api/publish: {configured, url}

function where() {
  if (!target) target = api("publish").catch(() => ({ configured: false, url: null }));
  return target;
}

function bar() {
  let box = $("publish-bar");
  if (box) return box;
  box = el(
    "div",
    {
      id: "publish-bar",
      role: "region",
      "aria-label": "Publish",
      style: "display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center;padding:.45rem 1rem;background:#fff8e1;border-bottom:1px solid #e0c97a",
    },
    el("button", { type: "button", id: "publish", class: "primary", onclick: publish }, "Publish"),
    el("span", { id: "publish-note", "aria-live": "polite" }),
    el("ul", { id: "publish-problems", class: "problems", style: "flex-basis:100%;margin:0" }),
  );
  document.querySelector("header").after(box);
  return box;
}

/** Called after a save: offers Publish when the workbench was started with --publish-to. */
export async function offerPublish() {
  const { configured, url } = await where();
  if (!configured) return;
  bar();
  $("publish").disabled = false;
  $("publish-note").className = "muted";
  $("publish-note").textContent = `Saved. Publish reloads the service at ${url}.`;
  $("publish-problems").replaceChildren();
}

const publish = guarded(async () => {
  const note = $("publish-note");
  const list = $("publish-problems");
  $("publish").disabled = true;
  note.className = "muted";
  note.textContent = "Publishing…";
  list.replaceChildren();
  let data;
  try {
    data = await api("publish", {});
  } catch (err) {
    $("publish").disabled = false;
    note.className = "bad";
    note.textContent = "Not published: " + describe(err);
    if (err instanceof Problem && err.diagnostics.length) renderProblems(list, err.diagnostics, { empty: "" });
    throw err; // the status line says it too
  }
  const text = data.changed
    ? `Published: the service at ${data.url} now answers with revision ${data.revision} (was ${data.previous})`
    : `Published: the service at ${data.url} already answered with revision ${data.revision}`;
  note.className = "ok";
  note.textContent = text;
  say(text);
});
