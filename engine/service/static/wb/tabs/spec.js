// The Spec tab: each requirement, its feature scenarios (the folder's features/) and the saved rules
// that cite it.
import { $, el, fill } from "../dom.js";
import { api, describe } from "../api.js";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

async function load() {
  const list = $("spec-list");
  let data;
  try {
    data = await api("spec");
  } catch (err) {
    list.replaceChildren(el("p", { class: "bad" }, describe(err)));
    return;
  }
  const note = data.features ? null : el("p", { class: "muted" }, "This folder has no features/: the rules only.");
  fill(
    list,
    note,
    ...Object.entries(data.requirements).map(([req, r]) =>
      el(
        "article",
        { class: "requirement" },
        el("h3", {}, req + (r.title ? ": " + r.title : "")),
        el("p", { class: "muted" }, (data.features ? plural(r.scenarios.length, "feature scenario") + ", " : "") + plural(r.rules.length, "rule")),
        r.scenarios.length ? el("h4", {}, "Feature scenarios") : null,
        r.scenarios.length ? el("ul", { class: "scenarios" }, ...r.scenarios.map((s) => el("li", {}, `${s.feature}:${s.line} ${s.name}`))) : null,
        r.rules.length ? el("h4", {}, "Rules") : null,
        r.rules.length
          ? el("ul", { class: "rules" }, ...r.rules.map((x) => el("li", {}, el("b", {}, x.rule), ` (${x.event}): ${x.description}`)))
          : null,
      ),
    ),
  );
}

export default {
  id: "spec",
  label: "Spec",

  mount(section) {
    section.append(el("h2", {}, "Requirements and the rules that implement them"), el("div", { id: "spec-list" }));
  },

  show() {
    return load(); // the saved rules: again after every save
  },
};
