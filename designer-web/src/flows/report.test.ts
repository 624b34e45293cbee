// The report node in the designer's model: its palette template, its ok / failed edges
// (those of the http node), its settings hints, the variable it offers to later nodes,
// the reports offered, and a scheduled report delivery's exact round trip.
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lint } from './checks.ts';
import { contextVars } from './conditions.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { emptyDefinition, switchTriggerType, type FlowDefinition, type FlowState } from './model.ts';
import { addNode, connect, updateEdge, updateNode } from './operations.ts';
import { edgeHandleOf, edgeRuleProblems, httpOutcomePatch, nodeSettingProblems, reportChoices, reportColumnKeys, reportRowsTemplate } from './nodes.ts';
import { insertOnEdge } from './insertion.ts';

const CRM = resolve(import.meta.dirname, '..', '..', '..', 'seed-apps', 'medical-device-crm');
const crmReport = (key: string) => JSON.parse(readFileSync(join(CRM, 'reports', `${key}.json`), 'utf8')) as unknown;

const blank = () => fromDefinition(emptyDefinition('f', { en: 'F' }, 'service_order'));
const nodeOf = (s: FlowState, id: string) => toDefinition(s).nodes.find((n) => n.id === id);
const edgesOf = (s: FlowState, from: string) => toDefinition(s).edges.filter((e) => e.from === from);
const rules = (s: FlowState) => lint(s).map((p) => `${p.pointer} ${p.rule}`);
const handles = (s: FlowState, from: string) => s.edges.filter((e) => e.source === from).map((e) => e.sourceHandle);

/** A report node with its report and role picked, and a task to send failures to. */
const withReport = () => {
  let s = addNode(blank(), 'report', { x: 0, y: 0 }).state;
  s = addNode(s, 'task', { x: 0, y: 0 }).state;
  return updateNode(s, 'report_1', { report: 'orders_by_status', as_role: 'service_manager' });
};

/** A weekly delivery: run orders_by_status as the service manager, send the rows to the
 * service directors. */
const DELIVERY: FlowDefinition = {
  key: 'weekly_orders',
  label: { 'zh-CN': '每周工单状态', en: 'Weekly orders by status' },
  trigger: { type: 'schedule', cron: '0 8 * * 1' },
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'run', type: 'report', report: 'orders_by_status', as_role: 'service_manager', filter: { '!=': [{ var: 'status' }, 'cancelled'] }, name: 'by_status' },
    {
      id: 'send',
      type: 'notify',
      to: { role: 'service_director' },
      title: 'Orders by status',
      body: '{{#each vars.by_status.body.rows}}{{this.cells.status}}: {{this.cells.orders}}\n{{/each}}',
    },
    { id: 'oops', type: 'notify', to: { role: 'crm_admin' }, title: 'The weekly report failed', body: '' },
    { id: 'end', type: 'end' },
  ],
  edges: [
    { from: 'start', to: 'run' },
    { from: 'run', to: 'send' },
    { from: 'run', to: 'oops', outcome: 'failed' },
    { from: 'send', to: 'end' },
    { from: 'oops', to: 'end' },
  ],
  layout: { start: { x: 0, y: 0 }, run: { x: 0, y: 140 }, send: { x: 0, y: 280 }, oops: { x: 240, y: 280 }, end: { x: 0, y: 420 } },
};

describe('report node', () => {
  test('palette template: no report and no role yet, flagged until picked and an edge drawn', () => {
    const r = addNode(blank(), 'report', { x: 0, y: 0 });
    expect(r.id).toBe('report_1');
    expect(nodeOf(r.state, 'report_1')).toEqual({ id: 'report_1', type: 'report', report: '', as_role: '' });
    expect(rules(r.state)).toEqual(['/nodes/2 reportEdges', '/nodes/2/report reportReport', '/nodes/2/as_role reportRole']);
  });

  test('ok handle: a plain edge; failed handle: outcome failed (as out of an http node)', () => {
    let s = withReport();
    s = connect(s, { source: 'report_1', sourceHandle: 'ok', target: 'end' });
    s = connect(s, { source: 'report_1', sourceHandle: 'failed', target: 'task_1' });
    expect(edgesOf(s, 'report_1')).toEqual([
      { from: 'report_1', to: 'end' },
      { from: 'report_1', to: 'task_1', outcome: 'failed' },
    ]);
    expect(handles(s, 'report_1')).toEqual(['ok', 'failed']);
    expect(rules(s)).toEqual([]);
  });

  test('without a handle the edge is the ok one; two ok edges are flagged', () => {
    let s = withReport();
    s = connect(s, { source: 'report_1', target: 'end' });
    expect(handles(s, 'report_1')).toEqual(['ok']);
    s = connect(s, { source: 'report_1', target: 'task_1' });
    expect(rules(s)).toEqual(['/nodes/2 reportEdges']);
    expect(edgeRuleProblems('report', [{ outcome: 'ok' }, { outcome: 'failed' }])).toEqual([]);
    expect(edgeRuleProblems('report', [{}, { outcome: 'failed' }, { outcome: 'failed' }])).toEqual(['reportEdges']);
  });

  test('switching the outcome in the edge panel moves the handle', () => {
    let s = withReport();
    s = connect(s, { source: 'report_1', target: 'end' });
    const id = s.edges.find((e) => e.source === 'report_1')!.id;
    s = updateEdge(s, id, httpOutcomePatch(s.edges.find((e) => e.id === id)!.data.edge, 'failed'));
    expect(edgesOf(s, 'report_1')).toEqual([{ from: 'report_1', to: 'end', outcome: 'failed' }]);
    expect(handles(s, 'report_1')).toEqual(['failed']);
    expect(edgeHandleOf('report', { outcome: 'ok' })).toBe('ok');
    expect(edgeHandleOf('report', {})).toBe('ok');
    expect(edgeHandleOf('report', { outcome: 'failed' })).toBe('failed');
  });

  test('inserted on an edge, it goes on by its ok edge', () => {
    let s = blank();
    s = connect(s, { source: 'start', target: 'end' });
    const r = insertOnEdge(s, s.edges[0]!.id, 'report')!;
    expect(r.id).toBe('report_1');
    expect(edgesOf(r.state, 'report_1')).toEqual([{ from: 'report_1', to: 'end' }]);
    expect(handles(r.state, 'report_1')).toEqual(['ok']);
  });

  test('its result is offered to later nodes as vars.<name> (default: the node id)', () => {
    let s = withReport();
    expect(contextVars([], s)).toEqual(
      expect.arrayContaining(['vars.report_1', 'vars.report_1.ok', 'vars.report_1.status', 'vars.report_1.body', 'vars.report_1.body.rows']),
    );
    s = updateNode(s, 'report_1', { name: 'by_status' });
    expect(contextVars([], s)).toEqual(expect.arrayContaining(['vars.by_status', 'vars.by_status.body.rows', 'vars.by_status.body.total_rows']));
    expect(contextVars([], s)).not.toContain('vars.report_1');
  });

  test('setting hints: a bad name, a filter that is not an object', () => {
    const ok = { id: 'r', type: 'report' as const, report: 'orders_by_status', as_role: 'service_manager' };
    expect(nodeSettingProblems(ok)).toEqual([]);
    expect(nodeSettingProblems({ ...ok, name: 'Bad Name' })).toEqual([{ key: 'name', rule: 'key' }]);
    expect(nodeSettingProblems({ ...ok, filter: [1] })).toEqual([{ key: 'filter', rule: 'reportFilter' }]);
    expect(nodeSettingProblems({ ...ok, filter: { '==': [{ var: 'priority' }, 'urgent'] } })).toEqual([]);
    expect(nodeSettingProblems({ id: 'r', type: 'report' })).toEqual([
      { key: 'report', rule: 'reportReport' },
      { key: 'as_role', rule: 'reportRole' },
    ]);
  });

  test('a scheduled delivery round-trips exactly and has no hints', () => {
    const s = fromDefinition(DELIVERY);
    expect(toDefinition(s)).toEqual(DELIVERY);
    expect(toDefinition(fromDefinition(toDefinition(s)))).toEqual(DELIVERY);
    expect(handles(s, 'run')).toEqual(['ok', 'failed']);
    expect(rules(s)).toEqual([]);
    expect(contextVars([], s)).toContain('vars.by_status.body.rows');
  });

  test('built in the designer: schedule trigger, report, notify — the definition it writes', () => {
    let s = blank();
    s = { ...s, trigger: switchTriggerType(s.trigger, 'schedule') };
    s = addNode(s, 'report', { x: 0, y: 140 }).state;
    s = addNode(s, 'notify', { x: 0, y: 280 }).state;
    s = updateNode(s, 'report_1', { report: 'orders_by_status', as_role: 'service_manager', name: 'by_status' });
    const body = reportRowsTemplate('by_status', reportColumnKeys(crmReport('orders_by_status')));
    s = updateNode(s, 'notify_1', { to: { role: 'service_director' }, title: 'Orders by status', body });
    s = connect(s, { source: 'start', target: 'report_1' });
    s = connect(s, { source: 'report_1', sourceHandle: 'ok', target: 'notify_1' });
    s = connect(s, { source: 'notify_1', target: 'end' });
    const def = toDefinition(s);
    expect(def.trigger).toEqual({ type: 'schedule', cron: '0 9 * * 1', form: 'service_order' });
    expect(def.nodes.find((n) => n.id === 'report_1')).toEqual({
      id: 'report_1',
      type: 'report',
      report: 'orders_by_status',
      as_role: 'service_manager',
      name: 'by_status',
    });
    expect(def.edges).toEqual([
      { from: 'start', to: 'report_1' },
      { from: 'report_1', to: 'notify_1' },
      { from: 'notify_1', to: 'end' },
    ]);
    expect(rules(s)).toEqual([]);
  });
});

describe('reports offered and the rows template', () => {
  test('the app\'s reports by key; the node\'s report kept when it is not there', () => {
    const listed = [
      { key: 'open_orders', label: { en: 'Open orders' }, form: 'service_order' },
      { key: 'customers_by_grade', label: { en: 'Customers' }, form: 'customer' },
    ];
    expect(reportChoices(listed).map((r) => r.key)).toEqual(['customers_by_grade', 'open_orders']);
    expect(reportChoices(listed, 'open_orders').some((r) => r.missing)).toBe(false);
    expect(reportChoices(listed, 'gone').at(-1)).toEqual({ key: 'gone', missing: true });
    expect(reportChoices([], '')).toEqual([]);
  });

  test('cell keys: dimensions (key, else field), then measures', () => {
    expect(reportColumnKeys(crmReport('orders_by_status'))).toEqual(['status', 'orders', 'urgent']);
    expect(
      reportColumnKeys({
        dimensions: [{ field: 'reported_at', bucket: 'month' }, { field: 'satisfaction', key: 'band' }, { field: 'device.product.model' }],
        measures: [{ key: 'orders', agg: 'count' }, { agg: 'count' }],
      }),
    ).toEqual(['reported_at', 'band', 'device.product.model', 'orders']);
    expect(reportColumnKeys(null)).toEqual([]);
  });

  test('the notify body lists each row\'s cells; a path is a literal segment', () => {
    expect(reportRowsTemplate('by_status', ['status', 'orders'])).toBe('{{#each vars.by_status.body.rows}}{{this.cells.status}} · {{this.cells.orders}}\n{{/each}}');
    expect(reportRowsTemplate('x', ['device.product.model'])).toBe('{{#each vars.x.body.rows}}{{this.cells.[device.product.model]}}\n{{/each}}');
  });
});
