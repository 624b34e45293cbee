// Checking a report designer's draft before it goes to the server (the problems the
// server would refuse, with pointers into the definition), and placing messages — ours
// and the server's — beside the designer part they are about. Pure.
import { compileRow, needsValue, parseWhereText } from './conditions.ts';
import { COLUMN_KEY_RE, columnKeys, derivedOperands, isTemporal, type FieldTypes, type Issue, type ReportDraft } from './draft.ts';
import { dimKey } from './format.ts';
import { formulaRefs, parseFormula, printFormula, type FormulaError } from './formula.ts';
import { NUMERIC_AGGS, VALUE_AGGS, type Dimension } from './types.ts';

/** Problems the server would refuse, found before saving. Pointers are into the
 * definition (`/measures/2/key`), or `/filters/i` for a filter row. */
export function validateDraft(d: ReportDraft, types?: FieldTypes): Issue[] {
  const def = d.def;
  const out: Issue[] = [];
  if (!def.form) out.push({ pointer: '/form', code: 'form' });
  if (def.measures.length === 0) out.push({ pointer: '/measures', code: 'noMeasure' });
  const seen = new Set<string>();
  const dup = (key: string, pointer: string) => {
    if (seen.has(key)) out.push({ pointer, code: 'keyDuplicate', vars: { key } });
    seen.add(key);
  };
  def.dimensions.forEach((dim, i) => {
    const p = `/dimensions/${i}`;
    out.push(...dimensionIssues(dim, p, types));
    const key = dimKey(dim, def.dimensions);
    if (key) dup(key, `${p}/key`);
  });
  def.measures.forEach((m, i) => {
    const p = `/measures/${i}`;
    if (!COLUMN_KEY_RE.test(m.key)) out.push({ pointer: `${p}/key`, code: 'keyInvalid', vars: { key: m.key } });
    dup(m.key, `${p}/key`);
    if (VALUE_AGGS.includes(m.agg)) {
      if (m.duration) {
        if (!m.duration.from || !m.duration.to) out.push({ pointer: `${p}/duration`, code: 'durationFields' });
      } else if (!m.field) {
        out.push({ pointer: `${p}/field`, code: 'fieldMissing' });
      } else if (NUMERIC_AGGS.includes(m.agg)) {
        const f = types?.(m.field);
        if (f && !f.numeric) out.push({ pointer: `${p}/agg`, code: 'numeric', vars: { agg: m.agg } });
      }
    }
    if (m.agg === 'percentile' && !(typeof m.q === 'number' && m.q >= 0 && m.q <= 1)) out.push({ pointer: `${p}/q`, code: 'q' });
    if (m.agg === 'share' && (m.where === undefined || m.where === null)) out.push({ pointer: `${p}/where`, code: 'shareWhere' });
    const edit = m.whereEdit;
    if (edit && 'json' in edit && parseWhereText(edit.json) === null) out.push({ pointer: `${p}/where`, code: 'whereJson' });
    if (edit && 'rows' in edit && edit.rows.rows.some((r) => compileRow(r, types?.(r.field)?.numeric) === null))
      out.push({ pointer: `${p}/where`, code: 'whereRow' });
    if (m.agg === 'ratio') {
      const operands = derivedOperands(def.measures, i);
      const ok = Array.isArray(m.of) && m.of.length === 2 && m.of.every((k) => operands.includes(k));
      if (!ok) out.push({ pointer: `${p}/of`, code: 'ratioOf' });
    }
    if (m.agg === 'formula') out.push(...formulaIssues(d, i));
  });
  const sortable = new Set([...columnKeys(def), '_rows']);
  def.sort?.forEach((s, i) => {
    if (!sortable.has(s.by)) out.push({ pointer: `/sort/${i}/by`, code: 'sortBy', vars: { by: s.by } });
  });
  if (def.limit !== undefined && !(Number.isInteger(def.limit) && def.limit > 0)) out.push({ pointer: '/limit', code: 'limit' });
  const kind = def.chart?.kind;
  const need = kind === 'heatmap' ? 2 : kind === 'pie' || kind === 'funnel' ? 1 : 0;
  if (def.dimensions.length < need) out.push({ pointer: '/chart/kind', code: 'chartDims', vars: { n: need } });
  d.filters.forEach((r, i) => {
    if (!r.field) out.push({ pointer: `/filters/${i}`, code: 'fieldMissing' });
    else if (needsValue(r.op) && compileRow(r) === null) out.push({ pointer: `/filters/${i}`, code: 'filterValue' });
  });
  return out;
}

function dimensionIssues(dim: Dimension, p: string, types: FieldTypes | undefined): Issue[] {
  const out: Issue[] = [];
  if (dim.key !== undefined && !COLUMN_KEY_RE.test(dim.key)) out.push({ pointer: `${p}/key`, code: 'keyInvalid', vars: { key: dim.key } });
  if (dim.field !== undefined && dim.duration) out.push({ pointer: `${p}/duration`, code: 'durationExclusive' });
  if (dim.field === undefined && dim.duration) {
    const { from, to } = dim.duration;
    const notDate = (path: string) => {
      const t = types?.(path)?.type;
      return t !== undefined && !isTemporal(t);
    };
    if (!from || !to) out.push({ pointer: `${p}/duration`, code: 'durationFields' });
    else if (notDate(from) || notDate(to)) out.push({ pointer: `${p}/duration`, code: 'durationTypes' });
    if (!dim.key) out.push({ pointer: `${p}/key`, code: 'durationKey' });
    if (typeof dim.bucket === 'string') out.push({ pointer: `${p}/bucket`, code: 'durationBucket' });
  } else if (!dim.field) {
    out.push({ pointer: `${p}/field`, code: 'fieldMissing' });
  } else {
    const t = types?.(dim.field)?.type;
    if (typeof dim.bucket === 'string' && t !== undefined && !isTemporal(t)) out.push({ pointer: `${p}/bucket`, code: 'bucketTime' });
  }
  if (typeof dim.bucket === 'object' && !(Number.isFinite(dim.bucket.width) && dim.bucket.width > 0))
    out.push({ pointer: `${p}/bucket`, code: 'bucketWidth' });
  return out;
}

/** A formula's problems: text that does not read, no formula, a name that is not a
 * measure it may use (listing those it may), JSON Logic that is not arithmetic. */
export function formulaIssues(d: ReportDraft, index: number): Issue[] {
  const m = d.def.measures[index]!;
  const pointer = `/measures/${index}/expr`;
  const parsed = m.formulaText === undefined ? null : parseFormula(m.formulaText);
  if (parsed && 'error' in parsed) return [formulaErrorIssue(pointer, parsed.error)];
  if (m.expr === undefined || m.expr === null) return [{ pointer, code: 'formulaEmpty' }];
  if (printFormula(m.expr) === null) return [{ pointer, code: 'formulaShape' }];
  const known = derivedOperands(d.def.measures, index);
  const keys = d.def.measures.map((x) => x.key);
  const names = formulaRefs(m.expr).filter((k) => !known.includes(k));
  // Named, but a ratio or formula computed after this one.
  const later = names.filter((k) => k !== m.key && keys.includes(k));
  const unknown = names.filter((k) => !later.includes(k));
  const out: Issue[] = [];
  if (unknown.length) out.push({ pointer, code: 'formulaUnknown', vars: { keys: unknown.join(', '), known: known.join(', ') || '—' } });
  if (later.length) out.push({ pointer, code: 'formulaOrder', vars: { keys: later.join(', ') } });
  return out;
}

function formulaErrorIssue(pointer: string, e: FormulaError): Issue {
  switch (e.code) {
    case 'empty':
      return { pointer, code: 'formulaEmpty' };
    case 'unexpected':
      return { pointer, code: 'formulaUnexpected', vars: { token: e.token, at: e.at } };
    case 'end':
      return { pointer, code: 'formulaEnd' };
    case 'unclosed':
      return { pointer, code: 'formulaUnclosed', vars: { at: e.at } };
    case 'json':
      return { pointer, code: 'formulaJson' };
  }
}

/** Where in the designer a pointer belongs: `dimensions/1`, `measures/0`, `filters/2`,
 * `filter`, `form`, `chart`, `limit`, `sort`, `label` or `` (the page). Server pointers
 * may be prefixed with `/definition`. */
export function issueTarget(pointer: string): string {
  const p = pointer.replace(/^\/definition(?=\/|$)/, '');
  const m = /^\/(dimensions|measures|filters)\/(\d+)/.exec(p);
  if (m) return `${m[1]}/${m[2]}`;
  const top = /^\/([a-z_]+)/.exec(p)?.[1];
  if (top === 'others') return 'limit';
  if (top === 'dimensions' || top === 'measures') return top;
  return top && ['filter', 'form', 'rows', 'chart', 'limit', 'sort', 'label'].includes(top) ? top : '';
}

/** Messages grouped by designer target. */
export function groupIssues<T extends { pointer: string }>(issues: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of issues) {
    const k = issueTarget(i.pointer);
    out.set(k, [...(out.get(k) ?? []), i]);
  }
  return out;
}
