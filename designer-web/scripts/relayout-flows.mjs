// Recomputes the `layout` of package flow files with the flow designer's top-down
// auto-layout (src/flows/layout.ts, bundled on the fly with rolldown, which vite brings),
// the way the designer's "top-down" button lays a flow out, with the node sizes the layout
// assumes when no drawn sizes are known. Only each file's `layout` member is rewritten; the
// rest of the file stays byte for byte as it is (a file in JSON.stringify(…, null, 2) form
// gets its layout in that form, a hand-formatted one a compact `{"x": …, "y": …}` per node).
//
//   node scripts/relayout-flows.mjs                 # seed-apps/medical-device-crm/flows/*.json
//   node scripts/relayout-flows.mjs FILE|DIR …      # these flow files / every *.json in DIR
//   node scripts/relayout-flows.mjs --check …       # change nothing; exit 1 if a layout is stale
//
// Re-runnable: a file whose layout already is the computed one is left untouched.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { rolldown } from 'rolldown';

const WEB = resolve(import.meta.dirname, '..');
const ROOT = resolve(WEB, '..');
const DEFAULT_DIR = join(ROOT, 'seed-apps', 'medical-device-crm', 'flows');

/** The real layout.ts as an ES module (its type-only imports vanish in the bundle). */
async function loadLayout() {
  const bundle = await rolldown({ input: join(WEB, 'src', 'flows', 'layout.ts'), logLevel: 'warn' });
  const { output } = await bundle.generate({ format: 'esm' });
  await bundle.close();
  const code = output[0].code;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/** Where the top-level member `name`'s value is in the JSON text: {start, end, indent}
 * (`indent`: the whitespace before the member's key on its line), or null. */
function memberSpan(text, name) {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const skipString = () => {
    // at the opening quote
    for (i++; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') return void i++;
    }
    throw new Error('unterminated string');
  };
  const skipValue = () => {
    ws();
    if (text[i] === '"') return skipString();
    if (text[i] === '{' || text[i] === '[') {
      let depth = 0;
      while (i < text.length) {
        const c = text[i];
        if (c === '"') {
          skipString();
          continue;
        }
        if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') depth--;
        i++;
        if (depth === 0) return;
      }
      throw new Error('unbalanced brackets');
    }
    while (i < text.length && !/[\s,}\]]/.test(text[i])) i++;
  };
  ws();
  if (text[i] !== '{') throw new Error('not a JSON object');
  i++;
  for (;;) {
    ws();
    if (text[i] === '}') return null;
    const keyAt = i;
    skipString();
    const key = JSON.parse(text.slice(keyAt, i));
    ws();
    if (text[i] !== ':') throw new Error(`expected ":" after ${key}`);
    i++;
    ws();
    const start = i;
    skipValue();
    if (key === name) {
      const lineStart = text.lastIndexOf('\n', keyAt) + 1;
      const indent = /^[ \t]*/.exec(text.slice(lineStart, keyAt))[0];
      return { start, end: i, indent, keyAt, lineStart };
    }
    ws();
    if (text[i] === ',') i++;
  }
}

const WIDTH = 100;
const point = (p) => `{"x": ${p.x}, "y": ${p.y}}`;

/** The layout value as text, in the file's style. */
function renderLayout(layout, { pretty, indent, prefixLen, suffixLen, oneLine }) {
  if (pretty) return JSON.stringify(layout, null, 2).replaceAll('\n', `\n${indent}`);
  const entries = Object.entries(layout).map(([id, p]) => `${JSON.stringify(id)}: ${point(p)}`);
  const single = `{${entries.join(', ')}}`;
  if (oneLine && prefixLen + single.length + suffixLen <= WIDTH) return single;
  const inner = `${indent}  `;
  const lines = [];
  let line = '';
  for (const e of entries) {
    if (line && inner.length + line.length + 2 + e.length + 1 > WIDTH) {
      lines.push(`${line},`);
      line = e;
    } else line = line ? `${line}, ${e}` : e;
  }
  lines.push(line);
  return `{\n${lines.map((l) => inner + l).join('\n')}\n${indent}}`;
}

const sameLayout = (a, b) =>
  a && typeof a === 'object' && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([id, p]) => a[id]?.x === p.x && a[id]?.y === p.y);

function flowFiles(args) {
  const targets = args.length > 0 ? args.map((a) => resolve(a)) : [DEFAULT_DIR];
  return targets.flatMap((t) =>
    statSync(t).isDirectory()
      ? readdirSync(t)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => join(t, f))
      : [t],
  );
}

async function main() {
  const argv = process.argv.slice(2);
  const check = argv.includes('--check');
  const files = flowFiles(argv.filter((a) => a !== '--check'));
  const { topDownLayout, TOP_DOWN_DEFAULTS } = await loadLayout();
  let changed = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const def = JSON.parse(text);
    const name = relative(process.cwd(), file);
    if (!Array.isArray(def.nodes) || !Array.isArray(def.edges)) {
      console.log(`skip ${name} (not a flow definition)`);
      continue;
    }
    // the designer's layout with no drawn heights: every node TOP_DOWN_DEFAULTS' size
    const computed = topDownLayout(def.nodes, def.edges, { ...TOP_DOWN_DEFAULTS });
    // in node order, as the designer saves a layout
    const layout = Object.fromEntries(def.nodes.filter((n) => computed[n.id]).map((n) => [n.id, computed[n.id]]));
    if (sameLayout(def.layout, layout)) {
      console.log(`ok   ${name}`);
      continue;
    }
    changed++;
    if (check) {
      console.log(`stale ${name}`);
      continue;
    }
    const pretty = JSON.stringify(def, null, 2) + '\n' === text;
    const span = memberSpan(text, 'layout');
    let out;
    if (span) {
      const lineEnd = text.indexOf('\n', span.end);
      const value = renderLayout(layout, {
        pretty,
        indent: span.indent,
        prefixLen: span.start - span.lineStart,
        suffixLen: (lineEnd < 0 ? text.length : lineEnd) - span.end,
        oneLine: !text.slice(span.start, span.end).includes('\n'),
      });
      out = text.slice(0, span.start) + value + text.slice(span.end);
    } else {
      // no layout yet: a last member before the closing brace
      const close = text.lastIndexOf('}');
      const body = text.slice(0, close).trimEnd();
      const value = renderLayout(layout, { pretty, indent: '  ', prefixLen: 12, suffixLen: 0, oneLine: true });
      out = `${body},\n  "layout": ${value}\n${text.slice(close)}`;
    }
    // nothing but the layout may differ
    const back = JSON.parse(out);
    if (JSON.stringify({ ...def, layout: back.layout }) !== JSON.stringify(back) || !sameLayout(back.layout, layout)) {
      throw new Error(`${name}: rewriting the layout would change more than the layout`);
    }
    writeFileSync(file, out);
    console.log(`laid ${name}`);
  }
  console.log(`${files.length} file(s), ${changed} ${check ? 'stale' : 'rewritten'}`);
  if (check && changed > 0) process.exitCode = 1;
}

await main();
