// A formula measure's `expr` (docs/reports.md) as admins write it: infix arithmetic over
// other measures' keys and numbers — `parts_cost + labour_hours * 300` — read into the
// JSON Logic the server runs (`{"+": [{"var": "parts_cost"}, {"*": [{"var":
// "labour_hours"}, 300]}]}`) and printed back from it. `*` and `/` bind tighter than `+`
// and `-`, all four group to the left, a leading `-` negates; chains of `+` or of `*` are
// one operator with several arguments, `-` and `/` always two. Text that starts with `{`
// is taken as the JSON Logic itself. Pure.

/** What went wrong reading a formula; `at` is the 1-based character position. */
export type FormulaError =
  | { code: 'empty' }
  | { code: 'unexpected'; at: number; token: string }
  | { code: 'end' }
  | { code: 'unclosed'; at: number }
  | { code: 'json' };
export const FORMULA_ERRORS: FormulaError['code'][] = ['empty', 'unexpected', 'end', 'unclosed', 'json'];

export type FormulaParse = { expr: unknown } | { error: FormulaError };

type Op = '+' | '-' | '*' | '/';
const OPS: Op[] = ['+', '-', '*', '/'];
const PREC: Record<Op, number> = { '+': 1, '-': 1, '*': 2, '/': 2 };
const UNARY_PREC = 3;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Token {
  kind: 'num' | 'ident' | 'op' | '(' | ')' | 'bad';
  text: string;
  /** 0-based offset in the text. */
  at: number;
}

const TOKEN_RE = /\s*(?:((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/])|([()])|(\S))/y;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m; m = TOKEN_RE.exec(text)) {
    const raw = m[0];
    const lexeme = raw.trimStart();
    const at = m.index + raw.length - lexeme.length;
    const kind = m[1] ? 'num' : m[2] ? 'ident' : m[3] ? 'op' : m[4] ? (lexeme as '(' | ')') : 'bad';
    out.push({ kind, text: lexeme, at });
  }
  return out;
}

class Fail {
  constructor(readonly error: FormulaError) {}
}

/** Reads a formula: its JSON Logic, or what is wrong with it. */
export function parseFormula(text: string): FormulaParse {
  const src = text.trim();
  if (!src) return { error: { code: 'empty' } };
  if (src.startsWith('{')) {
    try {
      const expr = JSON.parse(src) as unknown;
      return expr && typeof expr === 'object' && !Array.isArray(expr) ? { expr } : { error: { code: 'json' } };
    } catch {
      return { error: { code: 'json' } };
    }
  }
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const unexpected = (t: Token) => new Fail({ code: 'unexpected', at: t.at + 1, token: t.text });

  // One level of left-grouped binary operators: `+ -` or `* /`.
  const binary = (ops: [Op, Op], operand: () => unknown): unknown => {
    let left = operand();
    // The arguments of a `+` or `*` made at this level, which more of the same extend.
    let chain = null as { op: Op; args: unknown[] } | null;
    for (let t = peek(); t?.kind === 'op' && ops.includes(t.text as Op); t = peek()) {
      pos++;
      const op = t.text as Op;
      const right = operand();
      if (chain?.op === op) {
        chain.args.push(right);
      } else {
        const args = [left, right];
        chain = op === '+' || op === '*' ? { op, args } : null;
        left = { [op]: args };
      }
    }
    return left;
  };
  const sum = (): unknown => binary(['+', '-'], product);
  const product = (): unknown => binary(['*', '/'], unary);
  const unary = (): unknown => {
    const t = peek();
    if (t?.kind === 'op' && (t.text === '-' || t.text === '+')) {
      pos++;
      const next = peek();
      // `-3` is the number -3; `-x`, `-(…)` negate.
      if (t.text === '-' && next?.kind === 'num') {
        pos++;
        return -Number(next.text);
      }
      const inner = unary();
      return t.text === '-' ? { '-': [inner] } : inner;
    }
    return primary();
  };
  const primary = (): unknown => {
    const t = peek();
    if (!t) throw new Fail({ code: 'end' });
    pos++;
    if (t.kind === 'num') return Number(t.text);
    if (t.kind === 'ident') return { var: t.text };
    if (t.kind === '(') {
      const inner = sum();
      const close = peek();
      if (!close) throw new Fail({ code: 'unclosed', at: t.at + 1 });
      if (close.kind !== ')') throw unexpected(close);
      pos++;
      return inner;
    }
    throw unexpected(t);
  };

  try {
    const expr = sum();
    const rest = peek();
    if (rest) throw unexpected(rest);
    return { expr };
  } catch (e) {
    if (e instanceof Fail) return { error: e.error };
    throw e;
  }
}

function asOp(logic: unknown): { op: Op; args: unknown[] } | null {
  if (!logic || typeof logic !== 'object' || Array.isArray(logic)) return null;
  const entries = Object.entries(logic as Record<string, unknown>);
  if (entries.length !== 1) return null;
  const [op, args] = entries[0]!;
  if (!OPS.includes(op as Op) || !Array.isArray(args)) return null;
  const n = args.length;
  if (n < 1 || (n === 1 && op !== '-')) return null;
  return { op: op as Op, args };
}

function varOf(logic: unknown): string | null {
  if (!logic || typeof logic !== 'object' || Array.isArray(logic)) return null;
  const o = logic as Record<string, unknown>;
  return Object.keys(o).length === 1 && typeof o.var === 'string' ? o.var : null;
}

/** A formula's JSON Logic as infix text, or null when it is not the arithmetic formulas
 * are made of (then it is shown as JSON). */
export function printFormula(expr: unknown): string | null {
  // [text, precedence of its outermost operator]
  const go = (e: unknown): [string, number] | null => {
    if (typeof e === 'number') return Number.isFinite(e) ? [String(e), e < 0 ? UNARY_PREC : 9] : null;
    const v = varOf(e);
    if (v !== null) return IDENT_RE.test(v) ? [v, 9] : null;
    const o = asOp(e);
    if (!o) return null;
    const parts = o.args.map(go);
    if (parts.some((p) => p === null)) return null;
    const ps = parts as [string, number][];
    if (o.args.length === 1) {
      const [text, prec] = ps[0]!;
      // `-(3)`, since `-3` reads as the number -3.
      const inner = prec < UNARY_PREC || typeof o.args[0] === 'number' && o.args[0] >= 0 ? `(${text})` : text;
      return [`-${inner.startsWith('-') ? ' ' : ''}${inner}`, UNARY_PREC];
    }
    const p = PREC[o.op];
    // Left-grouped: the first argument needs brackets only below this level, the others
    // at it too (`a - (b - c)`, `a + (b + c)`).
    const text = ps.map(([t, q], i) => ((i === 0 ? q < p : q <= p) ? `(${t})` : t)).join(` ${o.op} `);
    return [text, p];
  };
  return go(expr)?.[0] ?? null;
}

/** The measure keys a formula names (`{"var": key}`), in order of first use. */
export function formulaRefs(expr: unknown, out: Set<string> = new Set()): string[] {
  const v = varOf(expr);
  if (v !== null) out.add(v);
  else if (Array.isArray(expr)) for (const x of expr) formulaRefs(x, out);
  else if (expr && typeof expr === 'object') for (const x of Object.values(expr)) formulaRefs(x, out);
  return [...out];
}

/** The formula's text with the measure key `from` renamed `to` (numbers left alone). */
export function renameInFormula(text: string, from: string, to: string): string {
  return text.replace(/(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*/g, (m) => (m === from ? to : m));
}

/** The JSON Logic with `{"var": from}` renamed `{"var": to}`. */
export function renameInExpr(expr: unknown, from: string, to: string): unknown {
  if (varOf(expr) === from) return { var: to };
  if (Array.isArray(expr)) return expr.map((x) => renameInExpr(x, from, to));
  if (expr && typeof expr === 'object') return Object.fromEntries(Object.entries(expr).map(([k, x]) => [k, renameInExpr(x, from, to)]));
  return expr;
}
