import { expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { messages as common } from '../i18n/messages.ts';
import { messages } from './messages.ts';
import { COND_OPS } from './conditions.ts';
import { ASSIGNEE_KINDS, DEADLINE_ACTIONS, DURATION_UNITS, NODE_TYPES, TRIGGER_TYPES } from './model.ts';
import { HTTP_OUTCOMES, LOOP_HANDLES, NOTIFY_CHANNELS, SUBFLOW_OUTCOMES, TASK_MODES } from './nodes.ts';

test('every literal message key used by the flow pages has zh-CN and en text', () => {
  const dir = import.meta.dirname;
  const used = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.tsx'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/'((?:flows|common)\.[\w.-]+)'/g)) used.add(m[1]!);
  }
  expect(used.size).toBeGreaterThan(100);
  const all = { ...common, ...messages };
  const missing = [...used].filter((k) => !all[k]?.['zh-CN'] || !all[k]?.en);
  expect(missing).toEqual([]);
});

test('keys built from values exist', () => {
  const keys = [
    ...NODE_TYPES.map((x) => `flows.node.${x}`),
    ...COND_OPS.map((x) => `flows.cond.op.${x}`),
    ...ASSIGNEE_KINDS.map((x) => `flows.prop.assignee.${x}`),
    ...DEADLINE_ACTIONS.map((x) => `flows.prop.deadline.${x}`),
    ...DURATION_UNITS.map((x) => `flows.prop.unit.${x}`),
    ...TRIGGER_TYPES.map((x) => `flows.trigger.type.${x}`),
    ...['approved', 'rejected', ...HTTP_OUTCOMES, ...SUBFLOW_OUTCOMES].map((x) => `flows.edge.outcome.${x}`),
    ...LOOP_HANDLES.map((x) => `flows.edge.${x}`),
    ...NOTIFY_CHANNELS.map((x) => `flows.prop.channel.${x}`),
    ...['relDate.after', 'relDate.before'].map((x) => `flows.cond.${x}`),
    ...['all', 'any', 'n'].map((x) => `flows.prop.join.${x}`),
    ...TASK_MODES.map((x) => `flows.prop.mode.${x}`),
    ...TASK_MODES.map((x) => `flows.prop.modeHelp.${x}`),
    ...['subflowEdges', 'subflowNoWait', 'subflowFlow', 'subflowSelf', 'subflowRecord'].map((x) => `flows.editor.lint.${x}`),
    ...['subflow_started', 'subflow_completed', 'subflow_failed', 'subflow_skipped'].map((x) => `flows.step.${x}`),
    ...['approval', 'task'].map((x) => `flows.kind.${x}`),
    ...['open', 'approved', 'rejected', 'done', 'cancelled'].map((x) => `flows.taskStatus.${x}`),
    ...['running', 'completed', 'cancelled', 'failed'].map((x) => `flows.instance.status.${x}`),
    ...['outcomes', 'default', 'start', 'required', 'unique', 'guard', 'guardOnly', 'cron', 'dateField'].map((x) => `flows.editor.lint.${x}`),
    ...['loopEdges', 'httpEdges', 'loopOver', 'key', 'url', 'asRole', 'recipients', 'webhookForm'].map((x) => `flows.editor.lint.${x}`),
    ...['reportEdges', 'reportReport', 'reportRole', 'reportFilter'].map((x) => `flows.editor.lint.${x}`),
    ...['initiator', 'today', 'now', 'record.id', 'task.outcome', 'task.comment', 'task.by'].map((x) => `flows.cond.var.${x}`),
  ];
  expect(keys.filter((k) => !messages[k])).toEqual([]);
});

test('all keys start with flows. and have both languages', () => {
  for (const [k, v] of Object.entries(messages)) {
    expect(k.startsWith('flows.'), k).toBe(true);
    expect(v['zh-CN'] && v.en, k).toBeTruthy();
  }
});
