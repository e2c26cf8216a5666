// The workbench's YAML editor: CodeMirror 6 with completion, hover and lint from a JSON Schema
// (codemirror-json-schema), plus the server's own diagnostics shown inline.
// Built into ../vendor/editor.js by build.mjs; see README.md. The page imports it as
//     import { createEditor } from "/wb/static/vendor/editor.js";

import { Annotation, EditorState, StateEffect, StateField, Transaction } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars, hoverTooltip,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching, indentOnInput, syntaxHighlighting, defaultHighlightStyle,
} from "@codemirror/language";
import { search, searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { autocompletion, completionKeymap } from "@codemirror/autocomplete";
import { linter, lintGutter, lintKeymap, forceLinting } from "@codemirror/lint";
import { yaml, yamlLanguage } from "@codemirror/lang-yaml";
import {
  yamlCompletion, yamlSchemaHover, yamlSchemaLinter,
} from "codemirror-json-schema/yaml";
import { stateExtensions, updateSchema, getJSONSchema, handleRefresh } from "codemirror-json-schema";

// marks a transaction made by setText, so that onChange is not called for it
const quiet = Annotation.define();

// ---- the server's diagnostics: placed on the text when they are set (1-based line/col, clamped),
// then carried along through edits until the next setDiagnostics

const setServerDiagnostics = StateEffect.define();

const serverDiagnostics = StateField.define({
  create: () => [],
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setServerDiagnostics)) value = e.value.map((d) => place(tr.newDoc, d));
    if (tr.docChanged && value.length && tr.annotation(quiet)) {
      value = value.map((p) => place(tr.newDoc, p.d)); // setText: back to their line and column
    } else if (tr.docChanged && value.length) {
      value = value.map((p) => {
        const from = tr.changes.mapPos(p.from, 1);
        return { ...p, from, to: Math.max(from, tr.changes.mapPos(p.to, -1)) };
      });
    }
    return value;
  },
});

function num(value, fallback) {
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
}

/** A 1-based line and column as a document offset, clamped into the document. */
function offset(doc, line, col) {
  const l = doc.line(Math.min(Math.max(num(line, 1), 1), doc.lines));
  return l.from + Math.min(Math.max(num(col, 1) - 1, 0), l.length);
}

/** One server diagnostic ({line, col, end_line?, end_col?, severity, code, message, help?}) on `doc`. */
function place(doc, d) {
  d = d && typeof d === "object" ? d : { message: String(d) };
  const col = d.col ?? d.column;
  const from = offset(doc, d.line, col);
  let to;
  if (d.end_line != null || d.end_col != null || d.end_column != null) {
    to = offset(doc, d.end_line ?? d.line, d.end_col ?? d.end_column ?? col);
  } else {
    // no end given: mark the word (or the run of non-blank characters) that starts there
    const line = doc.lineAt(from);
    const rest = line.text.slice(from - line.from);
    const m = /^[^\s:#,[\]{}]+/.exec(rest) || /^\S/.exec(rest);
    to = from + (m ? m[0].length : 0);
  }
  return { from, to: Math.max(from, to), d };
}

function toLint({ from, to, d }) {
  const severity = d.severity === "warning" ? "warning" : d.severity === "info" ? "info" : "error";
  const head = d.code ? `${d.code}: ${d.message ?? ""}` : String(d.message ?? "");
  const message = d.help ? `${head}\nhelp: ${d.help}` : head;
  return {
    from, to, severity, message, source: "inmail",
    renderMessage() {
      const dom = document.createElement("div");
      dom.className = "cm-inmail-diagnostic";
      dom.appendChild(document.createElement("div")).textContent = head;
      if (d.help) {
        const help = dom.appendChild(document.createElement("div"));
        help.className = "cm-inmail-help";
        help.textContent = "help: " + d.help;
      }
      return dom;
    },
  };
}

const serverLinter = linter((view) => view.state.field(serverDiagnostics).map(toLint), {
  needsRefresh: (update) =>
    update.startState.field(serverDiagnostics) !== update.state.field(serverDiagnostics),
});

// ---- the schema's extensions: always present, idle while the schema is null

const schemaHover = yamlSchemaHover();
const schemaCompletion = yamlCompletion();
const schemaLint = yamlSchemaLinter();

function schemaExtensions(schema) {
  return [
    stateExtensions(schema),
    linter((view) => (getJSONSchema(view.state) ? schemaLint(view) : []), { needsRefresh: handleRefresh }),
    yamlLanguage.data.of({
      autocomplete: (ctx) => (getJSONSchema(ctx.state) ? schemaCompletion(ctx) : null),
    }),
    hoverTooltip((view, pos, side) => (getJSONSchema(view.state) ? schemaHover(view, pos, side) : null)),
  ];
}

const theme = EditorView.theme({
  "&": { height: "100%", fontSize: "14px", backgroundColor: "#fff" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "1.45" },
  ".cm-content": { caretColor: "#000" },
  ".cm-gutters": { backgroundColor: "#f6f7f9", color: "#6b7280", borderRight: "1px solid #e5e7eb" },
  ".cm-activeLine": { backgroundColor: "#f3f6fb" },
  ".cm-activeLineGutter": { backgroundColor: "#e8edf5" },
  "&.cm-focused": { outline: "2px solid #2563eb", outlineOffset: "-2px" },
  ".cm-tooltip": {
    maxWidth: "36em", fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", fontSize: "13px",
  },
  ".cm-tooltip-hover": { padding: "4px 8px" },
  ".cm6-json-schema-hover--description p": { margin: "0.2em 0" },
  ".cm6-json-schema-hover--code-wrapper": { color: "#555", fontSize: "90%" },
  ".cm6-json-schema-hover--code p": { margin: "0.2em 0" },
  ".cm-inmail-help": { color: "#444", marginTop: "0.2em" },
  ".cm-diagnosticText": { whiteSpace: "pre-wrap" },
});

/**
 * Mount an editor in `parent`. See README.md for the options and the returned object.
 */
export function createEditor(parent, options = {}) {
  const { doc = "", schema = null, label = "Editor", onChange = null, readOnly = false } = options;

  const extensions = [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    autocompletion(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    search({ top: true }),
    yaml(),
    lintGutter(),
    serverDiagnostics,
    serverLinter,
    schemaExtensions(schema),
    keymap.of([
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...completionKeymap,
      ...lintKeymap,
      indentWithTab,
    ]),
    EditorView.contentAttributes.of({ "aria-label": String(label) }),
    EditorState.readOnly.of(!!readOnly), // still focusable, selectable and searchable
    theme,
    EditorView.updateListener.of((update) => {
      if (!onChange || !update.docChanged) return;
      if (!update.transactions.some((tr) => tr.docChanged && !tr.annotation(quiet))) return;
      onChange(update.state.doc.toString());
    }),
  ];

  const view = new EditorView({ state: EditorState.create({ doc, extensions }), parent });

  return {
    view,
    getText: () => view.state.doc.toString(),
    setText(text) {
      const value = String(text ?? "");
      const old = view.state.doc.toString();
      if (value === old) return;
      // replace only what differs, so that the cursor, the scroll position and marks elsewhere stay
      let start = 0;
      const most = Math.min(old.length, value.length);
      while (start < most && old.charCodeAt(start) === value.charCodeAt(start)) start++;
      let end = 0;
      while (end < most - start && old.charCodeAt(old.length - 1 - end) === value.charCodeAt(value.length - 1 - end)) end++;
      const high = (code) => code >= 0xd800 && code < 0xdc00; // do not split a surrogate pair
      if (start > 0 && high(old.charCodeAt(start - 1))) start--;
      if (end > 0 && high(old.charCodeAt(old.length - end - 1))) end--;
      view.dispatch({
        changes: { from: start, to: old.length - end, insert: value.slice(start, value.length - end) },
        annotations: [quiet.of(true), Transaction.addToHistory.of(true)],
      });
    },
    setSchema(next) {
      updateSchema(view, next ?? null);
    },
    setDiagnostics(list) {
      view.dispatch({ effects: setServerDiagnostics.of(Array.isArray(list) ? list.slice() : []) });
      forceLinting(view);
    },
    goTo(line, col = 1) {
      const pos = offset(view.state.doc, line, col);
      view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
      view.focus();
    },
    focus: () => view.focus(),
  };
}
