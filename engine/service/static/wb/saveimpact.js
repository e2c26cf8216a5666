// The impact headline in the Save dialog: what saving this file would change, in sentences, over the
// bound store's history (else every scenario of the folder). It runs as a job while the editor reads
// the diff; the Save button does not wait for it, and closing the dialog cancels it.
import { el } from "./dom.js";
import { defaultSource, runImpact } from "./tabs/impact.js";

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
  let source;
  try {
    source = await defaultSource();
  } catch {
    source = { none: true };
  }
  if (source.none) {
    box.replaceChildren();
    return;
  }
  const { over, what } = source;
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
