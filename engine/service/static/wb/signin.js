// The sign-in page of a shared workbench: sends the token and the editor's name, then goes back to
// the page that asked for it. The session cookie is HttpOnly: this script never sees it. The name
// (never the token) is remembered in this browser to fill the form next time.
const form = document.getElementById("signin");
const name = document.getElementById("name");
const token = document.getElementById("token");
const error = document.getElementById("signin-error");
const REMEMBERED = "inmail-wb:editor";

/** Where to go once signed in: a path on this server only (never another site, never `//host`). */
function next() {
  const asked = new URLSearchParams(location.search).get("next") || "/";
  return asked.startsWith("/") && !asked.startsWith("//") && !asked.includes("\\") ? asked : "/";
}

function fail(message, field) {
  error.textContent = message;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

try {
  name.value = localStorage.getItem(REMEMBERED) || "";
} catch {
  /* storage may be off: the name is typed again */
}
(name.value ? token : name).focus();

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  error.textContent = "";
  for (const f of [name, token]) f.removeAttribute("aria-invalid");
  if (!name.value.trim()) return fail("Give your name: it is the author of the versions you save.", name);
  if (!token.value) return fail("Give the workbench's token.", token);
  let r;
  try {
    r = await fetch("/wb/api/signin", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ name: name.value.trim(), token: token.value }),
    });
  } catch (err) {
    return fail(`The workbench did not answer (${err.message || err}).`);
  }
  if (r.ok) {
    try {
      localStorage.setItem(REMEMBERED, name.value.trim());
    } catch {
      /* not remembered: no harm */
    }
    location.assign(next() + location.hash); // a redirect keeps the tab asked for (#policy) here
    return;
  }
  let problem = {};
  try {
    problem = await r.json();
  } catch {
    problem = {};
  }
  if (problem.code === "unauthorized") return fail("That is not this workbench's token.", token);
  if (problem.code === "too_many_attempts") return fail(`Too many wrong tokens: ${problem.detail}.`, token);
  if (problem.code === "invalid_request") {
    return fail("A name is one line of at most 100 characters, without < or >.", name);
  }
  fail(`${problem.code || "http_" + r.status}: ${problem.detail || r.statusText}`);
});
