import { describe, expect, it } from 'vitest';
import {
  aggPatch,
  derivedOperands,
  formulaRefs,
  fromDefinition,
  measureLabel,
  parseFormula,
  printFormula,
  renameInFormula,
  toDefinition,
  updateMeasure,
  validateDraft,
  type DraftMeasure,
  type Measure,
  type ReportDefinition,
  type ReportDraft,
} from './model.ts';

const v = (key: string) => ({ var: key });
const expr = (text: string) => {
  const r = parseFormula(text);
  if ('error' in r) throw new Error(`${text}: ${JSON.stringify(r.error)}`);
  return r.expr;
};
const error = (text: string) => {
  const r = parseFormula(text);
  return 'error' in r ? r.error : null;
};

describe('formula text to JSON Logic', () => {
  it('reads the documented example', () => {
    expect(expr('parts_cost + labour_hours * 300')).toEqual({ '+': [v('parts_cost'), { '*': [v('labour_hours'), 300] }] });
  });

  it('* and / bind tighter than + and -; all four group to the left', () => {
    expect(expr('a * b + c')).toEqual({ '+': [{ '*': [v('a'), v('b')] }, v('c')] });
    expect(expr('a - b / c')).toEqual({ '-': [v('a'), { '/': [v('b'), v('c')] }] });
    expect(expr('a - b - c')).toEqual({ '-': [{ '-': [v('a'), v('b')] }, v('c')] });
    expect(expr('a / b / c')).toEqual({ '/': [{ '/': [v('a'), v('b')] }, v('c')] });
    expect(expr('a / b * c')).toEqual({ '*': [{ '/': [v('a'), v('b')] }, v('c')] });
    expect(expr('a + b - c + d')).toEqual({ '+': [{ '-': [{ '+': [v('a'), v('b')] }, v('c')] }, v('d')] });
  });

  it('chains of + or of * are one operator with several arguments', () => {
    expect(expr('a + b + c')).toEqual({ '+': [v('a'), v('b'), v('c')] });
    expect(expr('a * b * 2 + c')).toEqual({ '+': [{ '*': [v('a'), v('b'), 2] }, v('c')] });
    expect(expr('a + b * c + d')).toEqual({ '+': [v('a'), { '*': [v('b'), v('c')] }, v('d')] });
  });

  it('brackets group, and are not merged into a chain around them', () => {
    expect(expr('(a + b) * c')).toEqual({ '*': [{ '+': [v('a'), v('b')] }, v('c')] });
    expect(expr('a - (b - c)')).toEqual({ '-': [v('a'), { '-': [v('b'), v('c')] }] });
    expect(expr('a + (b + c)')).toEqual({ '+': [v('a'), { '+': [v('b'), v('c')] }] });
    expect(expr('((a))')).toEqual(v('a'));
    expect(expr('  ( fees )/ orders ')).toEqual({ '/': [v('fees'), v('orders')] });
  });

  it('a leading minus negates; before a number it makes a negative number', () => {
    expect(expr('-a')).toEqual({ '-': [v('a')] });
    expect(expr('-(a + b)')).toEqual({ '-': [{ '+': [v('a'), v('b')] }] });
    expect(expr('-3 * a')).toEqual({ '*': [-3, v('a')] });
    expect(expr('a * -b')).toEqual({ '*': [v('a'), { '-': [v('b')] }] });
    expect(expr('a - -2')).toEqual({ '-': [v('a'), -2] });
    expect(expr('-a * b')).toEqual({ '*': [{ '-': [v('a')] }, v('b')] });
    expect(expr('+a')).toEqual(v('a'));
  });

  it('numbers: whole, decimal, with an exponent', () => {
    expect(expr('0.5 * a')).toEqual({ '*': [0.5, v('a')] });
    expect(expr('.25 + 1.')).toEqual({ '+': [0.25, 1] });
    expect(expr('1e3 * a_2')).toEqual({ '*': [1000, v('a_2')] });
    expect(expr('42')).toBe(42);
  });

  it('says what is wrong and where', () => {
    expect(error('')).toEqual({ code: 'empty' });
    expect(error('   ')).toEqual({ code: 'empty' });
    expect(error('a +')).toEqual({ code: 'end' });
    expect(error('a * (b + c')).toEqual({ code: 'unclosed', at: 5 });
    expect(error('a b')).toEqual({ code: 'unexpected', at: 3, token: 'b' });
    expect(error('a + * b')).toEqual({ code: 'unexpected', at: 5, token: '*' });
    expect(error('a $ b')).toEqual({ code: 'unexpected', at: 3, token: '$' });
    expect(error('(a + b))')).toEqual({ code: 'unexpected', at: 8, token: ')' });
    expect(error('()')).toEqual({ code: 'unexpected', at: 2, token: ')' });
    expect(error('1.2.3')).toEqual({ code: 'unexpected', at: 4, token: '.3' });
    expect(error('2a')).toEqual({ code: 'unexpected', at: 2, token: 'a' });
    expect(error('a ^ 2')).toEqual({ code: 'unexpected', at: 3, token: '^' });
  });

  it('text starting with { is the JSON Logic itself', () => {
    expect(expr('{"/": [{"var": "fees"}, {"var": "orders"}]}')).toEqual({ '/': [v('fees'), v('orders')] });
    expect(error('{"/": [')).toEqual({ code: 'json' });
  });
});

describe('JSON Logic to formula text', () => {
  it('prints the documented example and keeps brackets only where needed', () => {
    expect(printFormula({ '+': [v('parts_cost'), { '*': [v('labour_hours'), 300] }] })).toBe('parts_cost + labour_hours * 300');
    expect(printFormula({ '*': [{ '+': [v('a'), v('b')] }, v('c')] })).toBe('(a + b) * c');
    expect(printFormula({ '-': [v('a'), { '-': [v('b'), v('c')] }] })).toBe('a - (b - c)');
    expect(printFormula({ '-': [{ '-': [v('a'), v('b')] }, v('c')] })).toBe('a - b - c');
    expect(printFormula({ '/': [v('a'), { '*': [v('b'), v('c')] }] })).toBe('a / (b * c)');
    expect(printFormula({ '-': [{ '+': [v('a'), v('b')] }] })).toBe('-(a + b)');
    expect(printFormula({ '-': [v('a'), -2] })).toBe('a - -2');
  });

  it('several arguments of - and / read left to right (the server folds them so)', () => {
    expect(printFormula({ '-': [v('a'), v('b'), v('c')] })).toBe('a - b - c');
    expect(printFormula({ '/': [v('a'), 2, 3] })).toBe('a / 2 / 3');
  });

  it('what is not arithmetic over measures and numbers does not print', () => {
    for (const e of [
      { if: [true, 1, 2] },
      { '+': [v('a')] },
      { '*': [] },
      { '+': [v('a'), 'b'] },
      { '+': 1 },
      { var: 'device.model' },
      { var: ['a', 0] },
      { '+': [v('a'), v('b')], '-': [v('c')] },
      'a',
      Infinity,
      null,
    ]) {
      expect(printFormula(e), JSON.stringify(e)).toBeNull();
    }
  });

  it('text goes to JSON Logic and back unchanged', () => {
    for (const text of [
      'parts_cost + labour_hours * 300',
      'a + b + c',
      'a - b - c',
      'a - (b - c)',
      'a + (b + c)',
      'a * (b + c) / 2',
      '(a + b) * (c - d)',
      'a / (b / c)',
      '-a',
      '-(a * b)',
      '-3 * a + 0.25',
      'a * -b',
      '- -a',
      'fees / orders * 100',
      '1e+21 * a',
    ]) {
      expect(printFormula(expr(text))).toBe(text);
    }
  });

  it('JSON Logic goes to text and back unchanged', () => {
    for (const e of [
      { '+': [v('a'), { '*': [v('b'), 2] }, v('c')] },
      { '-': [{ '-': [v('a'), v('b')] }, { '-': [v('c'), v('d')] }] },
      { '/': [{ '*': [v('a'), v('b')] }, { '*': [v('c'), v('d')] }] },
      { '*': [v('x'), { '+': [1, v('y')] }] },
      { '-': [3] },
      { '-': [-3] },
      { '-': [{ '-': [v('a')] }] },
      { '*': [-1, v('a')] },
    ]) {
      expect(expr(printFormula(e)!), JSON.stringify(e)).toEqual(e);
    }
  });

  it('names the measures a formula uses, and renames them in the text', () => {
    expect(formulaRefs(expr('a + b * (a - c)'))).toEqual(['a', 'b', 'c']);
    expect(renameInFormula('fees / fees_2 + 1e5 * fees', 'fees', 'revenue')).toBe('revenue / fees_2 + 1e5 * revenue');
  });
});

describe('formula measures in the designer', () => {
  const def: ReportDefinition = {
    form: 'service_order',
    dimensions: [{ field: 'priority' }],
    measures: [
      { key: 'parts_cost', agg: 'sum', field: 'parts_cost' },
      { key: 'labour_hours', agg: 'sum', field: 'labour_hours' },
      { key: 'orders', agg: 'count' },
      { key: 'total_cost', agg: 'formula', expr: { '+': [v('parts_cost'), { '*': [v('labour_hours'), 300] }] }, label: { en: 'Total cost', 'zh-CN': '总成本' } },
      { key: 'cost_per_order', agg: 'formula', expr: { '/': [v('total_cost'), v('orders')] } },
    ],
  };
  const issues = (d: ReportDraft) => validateDraft(d).map((i) => `${i.pointer} ${i.code}${i.vars ? ` ${JSON.stringify(i.vars)}` : ''}`);
  const edit = (d: ReportDraft, i: number, text: string) => {
    const r = parseFormula(text);
    return updateMeasure(d, i, { formulaText: text, ...('expr' in r ? { expr: r.expr } : {}) });
  };

  it('a saved formula loads and saves back unchanged and valid; it needs no field', () => {
    const d = fromDefinition(def);
    expect(toDefinition(d)).toEqual(def);
    expect(issues(d)).toEqual([]);
    expect(measureLabel(def.measures[4]!, 'en')).toBe('cost_per_order');
  });

  it('typed text is saved as JSON Logic; the text itself is not saved', () => {
    const d = edit(fromDefinition(def), 4, '(parts_cost + labour_hours * 300) / orders');
    const m = toDefinition(d).measures[4]!;
    expect(m).toEqual({ key: 'cost_per_order', agg: 'formula', expr: { '/': [{ '+': [v('parts_cost'), { '*': [v('labour_hours'), 300] }] }, v('orders')] } });
    expect(issues(d)).toEqual([]);
  });

  it('text that does not read keeps the last formula and is a problem of the measure', () => {
    let d = edit(fromDefinition(def), 3, 'parts_cost + ');
    expect(toDefinition(d).measures[3]!.expr).toEqual(def.measures[3]!.expr);
    expect(issues(d)).toEqual(['/measures/3/expr formulaEnd']);
    d = edit(d, 3, 'parts_cost + (labour_hours');
    expect(issues(d)).toEqual(['/measures/3/expr formulaUnclosed {"at":14}']);
    d = edit(d, 3, 'parts_cost labour_hours');
    expect(issues(d)).toEqual(['/measures/3/expr formulaUnexpected {"token":"labour_hours","at":12}']);
    d = edit(d, 3, '');
    expect(issues(d)).toEqual(['/measures/3/expr formulaEmpty']);
  });

  it('an unknown measure is named, with the measures the formula may use', () => {
    const d = edit(fromDefinition(def), 3, 'parts_cost + labor_hours * 300');
    expect(issues(d)).toEqual(['/measures/3/expr formulaUnknown {"keys":"labor_hours","known":"parts_cost, labour_hours, orders"}']);
  });

  it('a formula may use plain measures anywhere, ratios and formulas only before it, never itself', () => {
    const measures: Measure[] = [
      { key: 'a', agg: 'formula', expr: v('b') },
      { key: 'b', agg: 'sum', field: 'x' },
      { key: 'r', agg: 'ratio', of: ['b', 'c'] },
      { key: 'f', agg: 'formula', expr: v('r') },
      { key: 'c', agg: 'count' },
      { key: 'g', agg: 'formula', expr: v('b') },
    ];
    expect(derivedOperands(measures, 0)).toEqual(['b', 'c']);
    expect(derivedOperands(measures, 3)).toEqual(['a', 'b', 'r', 'c']);
    expect(derivedOperands(measures, 5)).toEqual(['a', 'b', 'r', 'f', 'c']);
    const d = fromDefinition({ form: 'f', dimensions: [], measures });
    expect(issues(d)).toEqual([]);
    expect(issues(edit(d, 0, 'f + b'))).toEqual(['/measures/0/expr formulaOrder {"keys":"f"}']);
    expect(issues(edit(d, 3, 'f * 2'))).toEqual(['/measures/3/expr formulaUnknown {"keys":"f","known":"a, b, r, c"}']);
    // Ratios follow the same rule (as the server does).
    expect(issues(updateMeasure(d, 2, { of: ['a', 'c'] }))).toEqual([]);
    expect(issues(updateMeasure(d, 2, { of: ['b', 'f'] }))).toEqual(['/measures/2/of ratioOf']);
    expect(issues(updateMeasure(d, 2, { of: ['b', 'r'] }))).toEqual(['/measures/2/of ratioOf']);
  });

  it('JSON Logic that is not arithmetic is a problem', () => {
    const d = updateMeasure(fromDefinition(def), 3, { expr: { if: [v('orders'), 1, 0] } });
    expect(issues(d)).toEqual(['/measures/3/expr formulaShape']);
  });

  it('renaming a measure renames it in the formulas that use it, saved and typed', () => {
    let d = edit(fromDefinition(def), 4, 'total_cost / orders + orders_2');
    d = updateMeasure(d, 2, { key: 'n' });
    expect(d.def.measures[4]!.formulaText).toBe('total_cost / n + orders_2');
    expect(d.def.measures[4]!.expr).toEqual({ '+': [{ '/': [v('total_cost'), v('n')] }, v('orders_2')] });
    d = updateMeasure(d, 3, { key: 'cost' });
    expect(toDefinition(d).measures[4]!.expr).toEqual({ '+': [{ '/': [v('cost'), v('n')] }, v('orders_2')] });
  });

  it('choosing formula drops what a formula does not take; leaving it drops the formula', () => {
    const counted: DraftMeasure = { key: 'urgent', agg: 'count', where: { '==': [v('priority'), 'urgent'] } };
    const toFormula = aggPatch(counted, 'formula', ['a', 'b']);
    expect(toFormula).toMatchObject({ agg: 'formula', where: undefined, whereEdit: undefined, field: undefined, duration: undefined, of: undefined, formulaText: '' });
    const d = fromDefinition({ form: 'f', dimensions: [], measures: [{ key: 'a', agg: 'count' }, counted] });
    const f = updateMeasure(d, 1, toFormula);
    expect(toDefinition(f).measures[1]).toEqual({ key: 'urgent', agg: 'formula' });
    expect(issues(f)).toEqual(['/measures/1/expr formulaEmpty']);
    const back = updateMeasure(edit(f, 1, 'a * 2'), 1, aggPatch(f.def.measures[1]!, 'sum', ['a']));
    expect(toDefinition(back).measures[1]).toEqual({ key: 'urgent', agg: 'sum' });
    expect(issues(back)).toEqual(['/measures/1/field fieldMissing']);
  });
});
