// The impact headline in the Save dialog: what saving this file would change, in sentences, over the
// bound store's history (else every scenario of the folder). It runs as a job while the editor reads
// the diff; the Save button does not wait for it, and closing the dialog cancels it.
import { el } from "./dom.js";
import { getOnce } from "./api.js";
import { draft } from "./draft.js";
import { runImpact } from "./tabs/impact.js";

let running = null; // the signal of the job under way, if any

/** Stop the dialog's impact job, if one runs (the dialog closed, or another Save… was asked). */
export function stopSaveImpact() {
  if (running) running.cancelled = true;
  running = null;
}

/** Work out, in `box`, the impact headline of saving `text` as `name`. */
export async function showSaveImpact(box, name, text) {
  stopSaveImpact();
  const signal = { cancelled: false };
  running = signal;
  let over;
  try {
    over = draft.store ? { store: true } : { scenarios: (await getOnce("scenarios")).scenarios.map((s) => s.name) };
  } catch {
    box.replaceChildren();
    return;
  }
  if (!draft.store && !over.scenarios.length) {
    box.replaceChildren();
    return;
  }
  const what = draft.store ? `the history of ${draft.stores[0]}` : `the folder's ${over.scenarios.length} scenarios`;
  const body = el("div", {});
  box.replaceChildren(el("h3", { id: "save-impact-title" }, `Impact over ${what}`), body);
  await runImpact(
    body,
    "impact/jobs",
    { files: { [name]: text }, ...over },
    (report) => {
      const lost = report.losses && report.losses.accounts > 0;
      body.replaceChildren(
        el("ul", { id: "save-impact-headline", class: lost ? "bad" : "" }, ...(report.headline || []).map((s) => el("li", {}, s))),
        el("p", { class: "muted" }, "The Impact tab has the whole report: each plan, each account, the chart."),
      );
    },
    signal,
  );
  if (running === signal) running = null;
}
