// Stands in for codemirror-json-schema's utils/markdown.js (build.mjs swaps it in).
// The original also loads shiki (syntax highlighting of code blocks, with themes and a grammar
// loaded by dynamic import): several hundred kB that the schema's short descriptions never need.
// Same exports, same markdown-it settings, no highlighting. markdown-it escapes raw HTML (html: false).
import md from "markdown-it";

const renderer = md({ linkify: true, typographer: true });

export function renderMarkdown(markdown, inline = true) {
  if (!inline) return renderer.render(markdown);
  return renderer.renderInline(markdown);
}
