// The one door to the server: every request of the page goes through api(), and every answer that
// is not a 2xx JSON body (problem+json, a bare error, an HTML page, a dropped connection) becomes a
// Problem, so no caller ever reads `diagnostics` of an answer that has none.
import { say } from "./dom.js";

export class Problem extends Error {
  constructor({ status = 0, code = "error", detail = "", diagnostics = [], data = null } = {}) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = "Problem";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.diagnostics = Array.isArray(diagnostics) ? diagnostics : [];
    this.data = data;
  }
}

function text(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map((v) => (v && v.msg ? v.msg : text(v))).join("; ");
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

// Set once the page leaves on purpose (Sign out, or a session found ended): from then on another
// answer of 401 (a check or a poll still in flight) must not start a second navigation, which
// would abort the first or land on another address; the draft is in this browser's storage, so
// there is nothing to ask before leaving either.
let leaving = false;

/** From now on the page is leaving (``on``), or not after all (a sign-out the server refused). */
export function leaveSoon(on = true) {
  leaving = on;
}

/** Whether the page is leaving on purpose (no "leave site?" prompt for the draft: it is kept). */
export const isLeaving = () => leaving;

/** Leave for ``url``, on purpose. */
export function leave(url) {
  leaving = true;
  location.assign(url);
}

/** GET /wb/api/<path> when body is undefined, else POST it as JSON. The parsed JSON of a 2xx answer;
 *  anything else throws a Problem (code "network" when the server cannot be reached). */
export async function api(path, body) {
  const opts =
    body === undefined
      ? { headers: { Accept: "application/json" } }
      : {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(body),
        };
  let r;
  try {
    r = await fetch("/wb/api/" + path, opts);
  } catch (err) {
    throw new Problem({ code: "network", detail: `the workbench did not answer (${err.message || err})` });
  }
  let data = null;
  let raw = "";
  try {
    raw = await r.text();
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = null;
  }
  if (r.ok && data !== null && typeof data === "object") return data;
  if (r.status === 401 && path !== "signout" && !leaving) {
    // a shared workbench whose session ended (expired, or the workbench restarted): sign in again;
    // the draft is in this browser's storage and is restored after
    leave("/signin?next=" + encodeURIComponent(location.pathname).replace(/%2F/g, "/") + location.hash);
  }
  if (r.ok) {
    throw new Problem({ status: r.status, code: "bad_answer", detail: `${path}: the answer is not JSON`, data: raw });
  }
  const d = data && typeof data === "object" && !Array.isArray(data) ? data : {};
  throw new Problem({
    status: r.status,
    code: typeof d.code === "string" && d.code ? d.code : `http_${r.status}`,
    detail: text(d.detail) || text(d.title) || r.statusText || (raw && !data ? raw.slice(0, 200) : ""),
    diagnostics: d.diagnostics,
    data: d,
  });
}

/** One line for a problem (or any error): "code: detail", else its first diagnostic. */
export function describe(problem) {
  if (!(problem instanceof Problem)) return String((problem && problem.message) || problem);
  const first = problem.diagnostics.find((d) => d.severity !== "warning") || problem.diagnostics[0];
  const more = first
    ? `${first.file || ""}${first.line ? ":" + first.line : ""} ${first.code}: ${first.message}` +
      (problem.diagnostics.length > 1 ? ` (and ${problem.diagnostics.length - 1} more)` : "")
    : "";
  return `${problem.code}: ${problem.detail || more || "the request was refused"}`;
}

/** Show a problem in the status line. */
export function report(problem) {
  say(describe(problem), true);
}

/** An event handler that reports whatever it throws instead of leaving it uncaught. */
export function guarded(fn) {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      if (!(err instanceof Problem)) console.error(err); // a bug of the page: tests see it
      report(err);
      return undefined;
    }
  };
}

const once = new Map();
/** A GET whose answer does not change while the page is open (the schemas): asked once. */
export function getOnce(path) {
  if (!once.has(path)) {
    const p = api(path);
    p.catch(() => once.delete(path));
    once.set(path, p);
  }
  return once.get(path);
}
