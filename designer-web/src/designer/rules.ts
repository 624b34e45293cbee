// Show/hide rules (JSON Logic on layout elements) in the shapes the visual editor writes,
// and required-when rules. Pure.
import type { LayoutRule } from '../api/types.ts';
import { clone, findNode, isColumn, isObj, type DesignerState, type NodeId, type RequiredWhen } from './model.ts';

export type RuleOp = 'eq' | 'ne' | 'empty' | 'not_empty' | 'in';
export const RULE_OPS: RuleOp[] = ['eq', 'ne', 'empty', 'not_empty', 'in'];

export interface Condition {
  field: string;
  op: RuleOp;
  /** For `in`: a list. Unused for empty / not_empty. */
  value?: unknown;
}

/** JSON Logic of one condition. "Empty" is JSON Logic falsiness (missing, null, "", []). */
export function conditionLogic(c: Condition): unknown {
  const v = { var: c.field };
  switch (c.op) {
    case 'eq':
      return { '==': [v, c.value ?? null] };
    case 'ne':
      return { '!=': [v, c.value ?? null] };
    case 'empty':
      return { '!': v };
    case 'not_empty':
      return { '!!': v };
    case 'in':
      return { in: [v, Array.isArray(c.value) ? c.value : [c.value]] };
  }
}

function parseOne(logic: unknown): Condition | null {
  if (!isObj(logic)) return null;
  const ops = Object.keys(logic);
  if (ops.length !== 1) return null;
  const op = ops[0]!;
  const arg = logic[op];
  const varName = (x: unknown): string | null =>
    isObj(x) && Object.keys(x).length === 1 && typeof x.var === 'string' ? x.var : null;
  if (op === '!' || op === '!!') {
    const a = Array.isArray(arg) && arg.length === 1 ? arg[0] : arg;
    const f = varName(a);
    return f ? { field: f, op: op === '!' ? 'empty' : 'not_empty' } : null;
  }
  if ((op === '==' || op === '!=' || op === '===' || op === '!==' || op === 'in') && Array.isArray(arg) && arg.length === 2) {
    const f = varName(arg[0]);
    if (!f) return null;
    if (op === 'in') return Array.isArray(arg[1]) ? { field: f, op: 'in', value: arg[1] } : null;
    return { field: f, op: op.startsWith('=') ? 'eq' : 'ne', value: arg[1] };
  }
  return null;
}

/** The conditions of a rule's JSON Logic (one, or several joined with `and`), or null
 * when it is not of the shapes the visual editor writes. */
export function parseCondition(logic: unknown): Condition[] | null {
  if (isObj(logic) && Object.keys(logic).length === 1 && Array.isArray(logic.and)) {
    const parts = (logic.and as unknown[]).map(parseOne);
    return parts.every((p) => p !== null) ? (parts as Condition[]) : null;
  }
  const one = parseOne(logic);
  return one ? [one] : null;
}

export function conditionsLogic(cs: Condition[]): unknown {
  if (cs.length === 1) return conditionLogic(cs[0]!);
  return { and: cs.map(conditionLogic) };
}

export function setRule(state: DesignerState, id: NodeId, rule: LayoutRule | undefined): DesignerState {
  const s = clone(state);
  const e = findNode(s, id);
  if (!e || isColumn(s, id)) return state;
  if (rule) e.node.rule = rule;
  else delete e.node.rule;
  return s;
}

/** Add a condition to an element's show/hide rule (joined with `and` to the ones it has),
 * setting the rule's effect. A rule not built by the editor is replaced. */
export function addRuleCondition(state: DesignerState, id: NodeId, effect: 'SHOW' | 'HIDE', c: Condition): DesignerState {
  const e = findNode(state, id);
  if (!e) return state;
  const existing = e.node.rule ? parseCondition(e.node.rule.condition) : null;
  const conds = [...(existing ?? []), c];
  return setRule(state, id, { effect, condition: conditionsLogic(conds) });
}

export function removeRuleCondition(state: DesignerState, id: NodeId, index: number): DesignerState {
  const e = findNode(state, id);
  if (!e?.node.rule) return state;
  const conds = parseCondition(e.node.rule.condition);
  if (!conds) return setRule(state, id, undefined);
  conds.splice(index, 1);
  return setRule(state, id, conds.length > 0 ? { effect: e.node.rule.effect, condition: conditionsLogic(conds) } : undefined);
}

export function setRuleEffect(state: DesignerState, id: NodeId, effect: 'SHOW' | 'HIDE'): DesignerState {
  const e = findNode(state, id);
  if (!e?.node.rule) return state;
  return setRule(state, id, { ...e.node.rule, effect });
}

// Required-when rules

export function addRequiredWhen(state: DesignerState, r: Omit<RequiredWhen, 'id'>): DesignerState {
  const s = clone(state);
  let n = 1;
  while (s.requiredWhen.some((x) => x.id === `r${n}`)) n++;
  s.requiredWhen.push({ ...clone(r), id: `r${n}` });
  return s;
}

export function removeRequiredWhen(state: DesignerState, id: string): DesignerState {
  const s = clone(state);
  s.requiredWhen = s.requiredWhen.filter((r) => r.id !== id);
  return s;
}
