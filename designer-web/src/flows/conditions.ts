// The visual condition builder ↔ JSON Logic: conditions to and from the expressions the
// builder writes, whether a value is an expression, the context variables a condition
// may use and the variables an expression uses. Pure.
import { isObj, type FlowState } from './model.ts';
import { nodeVars, relDateOf, triggerVars } from './nodes.ts';

export type CondOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'empty' | 'not_empty';
export const COND_OPS: CondOp[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'empty', 'not_empty'];

export interface Cond {
  /** A context variable: `record.<field>`, `vars.<name>`, `initiator`, `task.outcome` … */
  var: string;
  op: CondOp;
  /** For `in`: a list. Unused for empty / not_empty. With `varValues`, `{var: name}`
   * (a context value, as in query filters: `customer == record.customer`) or a context
   * value shifted by days, `{add_days: [{var: name}, n]}` (`last_inspection_on <= today - 91`). */
  value?: unknown;
}

export interface ParseOptions {
  /** Accept `{var: …}` and `{add_days: [{var: …}, n]}` on the value side (query filters
   * compare fields with context values). */
  varValues?: boolean;
}

/** `{var: name}` → name (the value side of a filter condition), else null. */
export function valueVar(v: unknown): string | null {
  return varOf(v);
}

const CMP: Partial<Record<CondOp, string>> = { eq: '==', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };
const CMP_BACK: Record<string, CondOp> = { '==': 'eq', '===': 'eq', '!=': 'ne', '!==': 'ne', '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' };

export function needsValue(op: CondOp): boolean {
  return op !== 'empty' && op !== 'not_empty';
}

export function condLogic(c: Cond): unknown {
  const v = { var: c.var };
  if (c.op === 'empty') return { '!': v };
  if (c.op === 'not_empty') return { '!!': v };
  if (c.op === 'in') return { in: [v, Array.isArray(c.value) ? c.value : [c.value]] };
  return { [CMP[c.op]!]: [v, c.value ?? null] };
}

/** How the builder's conditions are joined: all must hold (`and`) or any (`or`). */
export type Join = 'and' | 'or';

/** One condition, or several joined with `and` (or `or`); undefined for none. */
export function condsLogic(cs: Cond[], join: Join = 'and'): unknown {
  if (cs.length === 0) return undefined;
  if (cs.length === 1) return condLogic(cs[0]!);
  return { [join]: cs.map(condLogic) };
}

function varOf(x: unknown): string | null {
  return isObj(x) && Object.keys(x).length === 1 && typeof x.var === 'string' ? x.var : null;
}

function parseOne(logic: unknown, opts: ParseOptions = {}): Cond | null {
  if (!isObj(logic)) return null;
  const ops = Object.keys(logic);
  if (ops.length !== 1) return null;
  const op = ops[0]!;
  const arg = logic[op];
  if (op === '!' || op === '!!') {
    const a = Array.isArray(arg) && arg.length === 1 ? arg[0] : arg;
    const v = varOf(a);
    return v ? { var: v, op: op === '!' ? 'empty' : 'not_empty' } : null;
  }
  if (!Array.isArray(arg) || arg.length !== 2) return null;
  const v = varOf(arg[0]);
  const rhsVar = varOf(arg[1]);
  if (!v || (isObj(arg[1]) && rhsVar !== null && !opts.varValues)) return null;
  if (op === 'in') return Array.isArray(arg[1]) ? { var: v, op: 'in', value: arg[1] } : null;
  const c = CMP_BACK[op];
  if (!c) return null;
  if (rhsVar !== null && opts.varValues) return { var: v, op: c, value: { var: rhsVar } };
  if (opts.varValues && relDateOf(arg[1])) return { var: v, op: c, value: arg[1] };
  if (isObj(arg[1]) || Array.isArray(arg[1])) return null;
  return { var: v, op: c, value: arg[1] };
}

/** The conditions of a JSON Logic expression of the builder's shapes (one comparison, or
 * `and` of several); [] for none; null when it is something else (shown as JSON). */
export function parseConds(logic: unknown, opts: ParseOptions = {}): Cond[] | null {
  const g = parseGroup(logic, opts);
  return g && g.join === 'and' ? g.conds : null;
}

/** Like `parseConds`, also for `or` of several comparisons: the conditions and how they
 * are joined; null for other shapes (nested groups are shown as JSON). */
export function parseGroup(logic: unknown, opts: ParseOptions = {}): { conds: Cond[]; join: Join } | null {
  if (logic === undefined || logic === null) return { conds: [], join: 'and' };
  for (const join of ['and', 'or'] as const) {
    if (isObj(logic) && Object.keys(logic).length === 1 && Array.isArray(logic[join])) {
      const parts = (logic[join] as unknown[]).map((x) => parseOne(x, opts));
      return parts.every((p) => p !== null) ? { conds: parts as Cond[], join } : null;
    }
  }
  const one = parseOne(logic, opts);
  return one ? { conds: [one], join: 'and' } : null;
}

/** Is a `set` / `data` value a JSON Logic expression (rather than a literal)? A plain
 * object with one operator key. */
const LOGIC_WORDS = new Set(['var', 'if', 'cat', 'and', 'or', 'in', 'min', 'max', 'substr', 'merge', 'map', 'filter', 'reduce', 'all', 'some', 'none', 'missing', 'missing_some', 'add_days', 'days_between']);

export function isLogicValue(v: unknown): boolean {
  if (!isObj(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 1) return false;
  const k = keys[0]!;
  return LOGIC_WORDS.has(k) || !/^[A-Za-z0-9_]+$/.test(k);
}

/** The context variables a condition may use, for the builder's field list. */
export function contextVars(recordFields: string[], s: FlowState | null): string[] {
  const vars = recordFields.map((f) => `record.${f}`);
  vars.push('record.id', 'initiator', 'today', 'now', 'task.outcome', 'task.comment', 'task.by');
  if (s) {
    vars.push(...triggerVars(s.trigger));
    for (const n of s.nodes) {
      const nd = n.data.node;
      if ((nd.type === 'set_var' || nd.type === 'query' || nd.type === 'users') && typeof nd.name === 'string' && nd.name) vars.push(`vars.${nd.name}`);
      if (nd.type === 'create_record') vars.push(`vars.${n.id}`);
      vars.push(...nodeVars(nd, n.id));
    }
  }
  return [...new Set(vars)];
}

/** The JSON Logic variables an expression uses (for a client-side check). */
export function logicVars(logic: unknown, out: string[] = []): string[] {
  if (Array.isArray(logic)) for (const x of logic) logicVars(x, out);
  else if (isObj(logic)) {
    for (const [k, v] of Object.entries(logic)) {
      if (k === 'var') {
        const name = Array.isArray(v) ? v[0] : v;
        if (typeof name === 'string') out.push(name);
      } else logicVars(v, out);
    }
  }
  return out;
}
