// Builds ../vendor/editor.js (one minified ES module) and ../vendor/LICENSES.txt (the license
// of every npm package inside it). Run: npm ci && node build.mjs
import { build } from "esbuild";
import { readFileSync, readdirSync, writeFileSync, existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../vendor");

// codemirror-json-schema renders descriptions with markdown-it + shiki; use markdown.js (no shiki)
const noShiki = {
  name: "no-shiki",
  setup(b) {
    b.onResolve({ filter: /utils\/markdown(\.js)?$/ }, (args) =>
      args.importer.includes(`${sep}codemirror-json-schema${sep}`) ? { path: join(here, "markdown.js") } : undefined,
    );
  },
};

const result = await build({
  absWorkingDir: here,
  entryPoints: ["editor.js"],
  outfile: join(out, "editor.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  legalComments: "none",
  metafile: true,
  plugins: [noShiki],
  logLevel: "warning",
});

const MIT = `Copyright (c) <holder>

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`;

// the packages whose files ended up in the bundle: node_modules/<name> or node_modules/@scope/<name>
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /(.*node_modules\/)((?:@[^/]+\/)?[^/]+)\//.exec(input.split(sep).join("/"));
  if (m) packages.set(m[2], join(here, m[1], m[2]));
}

const names = [...packages.keys()].sort();
const sections = names.map((name) => {
  const dir = packages.get(name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const license =
    typeof pkg.license === "string" ? pkg.license
    : pkg.license?.type ?? pkg.licenses?.map((l) => l.type ?? l).join(" OR ") ?? "no license field; see the text";
  const file = readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\.|$|-)/i.test(f) && statSync(join(dir, f)).isFile());
  let text;
  if (file) text = readFileSync(join(dir, file), "utf8").trim();
  else if (license === "MIT") {
    const author = typeof pkg.author === "string" ? pkg.author : pkg.author?.name ?? "the authors";
    text = `The package ships no license file; its package.json declares "license": "MIT" (author: ${author}).\n`
      + `The MIT License:\n\n${MIT.replace("<holder>", author)}`;
  } else throw new Error(`${name}: no license file and license "${license}"; add its text by hand`);
  const url = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url ?? pkg.homepage ?? "";
  return [`${name}@${pkg.version}  (${license})${url ? "  " + url : ""}`, "-".repeat(78), text].join("\n");
});

writeFileSync(
  join(out, "LICENSES.txt"),
  [
    "Third-party software in editor.js, built from engine/service/static/src (see its README.md).",
    `${names.length} npm packages, each with its license text as shipped in the package.`,
    "",
    ...sections.map((s) => s + "\n\n" + "=".repeat(78) + "\n"),
  ].join("\n"),
);

const code = readFileSync(join(out, "editor.js"));
const kb = (n) => (n / 1024).toFixed(1) + " KiB";
console.log(`${relative(process.cwd(), join(out, "editor.js"))}: ${kb(code.length)} (gzip ${kb(gzipSync(code).length)}), ${names.length} packages`);
if (!existsSync(join(out, "LICENSES.txt"))) process.exit(1);
