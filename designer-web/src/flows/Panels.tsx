// The flow designer's node panel: the selected node's properties. Its building blocks
// (assignee picker, condition builder, field → value editor) are in inputs.tsx; the editors
// of the loop and http nodes and the notify channels in EffectPanels.tsx, the subflow
// node's in SubflowEditor.tsx, the report node's in ReportNodeEditor.tsx. The edge panel is
// in EdgePanel.tsx, the flow and trigger panel in TriggerPanel.tsx.
import { useEffect, useState } from 'react';
import { Alert, Button, Checkbox, Divider, Form, Input, InputNumber, Popconfirm, Radio, Select, Space, Switch, Tag, Typography } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import type { JsonSchema, Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { nodeTypeText } from './FlowGraph.tsx';
import { CcEditor, HttpEditor, LoopEditor, NotifyEditor } from './EffectPanels.tsx';
import { SubflowEditor } from './SubflowEditor.tsx';
import { ReportNodeEditor } from './ReportNodeEditor.tsx';
import {
  AssigneeInput,
  ConditionBuilder,
  Errors,
  FieldValuesEditor,
  JsonInput,
  WRITABLE,
  fieldOptions,
  type Lookups,
} from './inputs.tsx';
import type { ErrorLike } from './checks.ts';
import { valueVar } from './conditions.ts';
import {
  DEADLINE_ACTIONS,
  DURATION_UNITS,
  GUARD_NODE_TYPES,
  isGuardTrigger,
  isKnownNodeType,
  nodeAllowed,
  nodeById,
  type Deadline,
  type DeadlineAction,
  type DurationUnit,
  type FlowNode,
  type FlowState,
} from './model.ts';
import { durationOf, joinModeKind, withDuration } from './nodeSettings.ts';
import { updateNode } from './operations.ts';
import { TASK_MODES, taskModeOf, terminatePatch } from './nodes.ts';

export { AssigneeInput, ConditionBuilder, FieldValueInput, FieldValuesEditor, fieldOptions, memberOptions, type Lookups, type Option, type VarOption } from './inputs.tsx';

// ---------------------------------------------------------------------------------------
// Node panel

export type Apply = (f: (s: FlowState) => FlowState) => void;

export function NodePanel(p: {
  state: FlowState;
  id: string;
  apply: Apply;
  rename: (from: string, to: string) => boolean;
  remove: () => void;
  lookups: Lookups;
  errors?: ErrorLike[];
}) {
  const { t, label } = useI18n();
  const cn = nodeById(p.state, p.id);
  const [idText, setIdText] = useState(p.id);
  const [idBad, setIdBad] = useState(false);
  useEffect(() => {
    setIdText(p.id);
    setIdBad(false);
  }, [p.id]);
  if (!cn) return null;
  const n = cn.data.node;
  const set = (patch: Partial<FlowNode>) => p.apply((s) => updateNode(s, p.id, patch));
  const setLabel = (locale: string, text: string) => {
    const l: Label = { ...((n.label as Label | undefined) ?? {}) };
    if (text) l[locale] = text;
    else delete l[locale];
    set({ label: Object.keys(l).length > 0 ? l : undefined });
  };
  const human = n.type === 'approval' || n.type === 'task';
  const deadline = n.deadline as Deadline | undefined;
  const dl = durationOf(deadline);
  const ownForm = (n.type === 'create_record' || n.type === 'query' || n.type === 'update_record') && typeof n.form === 'string' && n.form ? n.form : null;
  const targetFields = ownForm ? p.lookups.formFields(ownForm) : undefined;
  const known = isKnownNodeType(n.type);
  const allowed = nodeAllowed(String(n.type), p.state.trigger);

  return (
    <Form layout="vertical" size="small" data-testid="flow-node-panel">
      <Typography.Title level={5} style={{ marginTop: 0 }}>
        <Tag>{nodeTypeText(n.type, t)}</Tag> {label(n.label as Label | undefined, p.id)}
      </Typography.Title>
      <Errors errors={p.errors} testId="flow-node-errors" />
      {!allowed && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 8 }}
          data-testid="flow-node-guard-warning"
          message={
            isGuardTrigger(p.state.trigger)
              ? t('flows.guard.notAllowed', { types: GUARD_NODE_TYPES.map((x) => t(`flows.node.${x}`)).join(', ') })
              : t('flows.guard.rejectOnly')
          }
        />
      )}
      {!known && (
        <Alert
          type="info"
          style={{ marginBottom: 8 }}
          data-testid="flow-node-unknown"
          message={t('flows.prop.unknownType')}
          description={<Typography.Text code style={{ wordBreak: 'break-all' }}>{JSON.stringify(n)}</Typography.Text>}
        />
      )}
      <Form.Item label={t('flows.prop.id')} help={idBad ? t('flows.prop.idTaken') : t('flows.prop.idHelp')} validateStatus={idBad ? 'error' : undefined}>
        <Input
          data-testid="flow-prop-id"
          value={idText}
          onChange={(e) => setIdText(e.target.value.trim())}
          onBlur={() => setIdBad(idText !== p.id && !p.rename(p.id, idText))}
          onPressEnter={() => setIdBad(idText !== p.id && !p.rename(p.id, idText))}
        />
      </Form.Item>
      <Form.Item label={t('flows.prop.labelZh')}>
        <Input data-testid="flow-prop-label-zh" value={(n.label as Label | undefined)?.['zh-CN'] ?? ''} onChange={(e) => setLabel('zh-CN', e.target.value)} />
      </Form.Item>
      <Form.Item label={t('flows.prop.labelEn')}>
        <Input data-testid="flow-prop-label-en" value={(n.label as Label | undefined)?.en ?? ''} onChange={(e) => setLabel('en', e.target.value)} />
      </Form.Item>

      {human && (
        <>
          <Form.Item label={t('flows.prop.assignee')}>
            <AssigneeInput value={n.assignee} onChange={(a) => set({ assignee: a })} lookups={p.lookups} testId="flow-prop-assignee" />
          </Form.Item>
          <Form.Item
            label={t('flows.prop.mode')}
            help={
              (TASK_MODES as readonly string[]).includes(taskModeOf(n)) ? (
                <span data-testid="flow-prop-mode-help">{t(`flows.prop.modeHelp.${taskModeOf(n)}`)}</span>
              ) : undefined
            }
          >
            <Radio.Group
              data-testid="flow-prop-mode"
              value={taskModeOf(n)}
              onChange={(e) => set({ mode: e.target.value as string })}
              options={[
                ...TASK_MODES.map((m) => ({ value: m, label: t(`flows.prop.mode.${m}`) })),
                ...((TASK_MODES as readonly string[]).includes(taskModeOf(n)) ? [] : [{ value: taskModeOf(n), label: taskModeOf(n) }]),
              ]}
            />
          </Form.Item>
          <Form.Item label={t('flows.prop.editable')}>
            <Select
              data-testid="flow-prop-editable"
              mode="multiple"
              allowClear
              optionFilterProp="label"
              value={Array.isArray(n.editable) ? n.editable : []}
              options={fieldOptions(p.lookups.fields, label, WRITABLE)}
              onChange={(v: string[]) => set({ editable: v.length > 0 ? v : undefined })}
            />
          </Form.Item>
          <Form.Item label={t('flows.prop.deadline')}>
            <Switch
              data-testid="flow-prop-deadline"
              checked={!!deadline}
              onChange={(on) => set({ deadline: on ? { hours: 24, action: 'remind' } : undefined })}
            />
          </Form.Item>
          {deadline && (
            <div style={{ paddingInlineStart: 12, borderInlineStart: '2px solid #f0f0f0', marginBottom: 12 }}>
              <Form.Item label={t('flows.prop.deadline.amount')}>
                <Space.Compact>
                  <InputNumber
                    data-testid="flow-prop-deadline-amount"
                    min={1}
                    value={dl.amount}
                    onChange={(v) => set({ deadline: withDuration(deadline as unknown as Record<string, unknown>, typeof v === 'number' ? v : null, dl.unit) as unknown as Deadline })}
                  />
                  <Select
                    data-testid="flow-prop-deadline-unit"
                    style={{ width: 100 }}
                    value={dl.unit}
                    options={DURATION_UNITS.map((u) => ({ value: u, label: t(`flows.prop.unit.${u}`) }))}
                    onChange={(u: DurationUnit) => set({ deadline: withDuration(deadline as unknown as Record<string, unknown>, dl.amount, u) as unknown as Deadline })}
                  />
                </Space.Compact>
              </Form.Item>
              <Form.Item label={t('flows.prop.deadline.action')}>
                <Select
                  data-testid="flow-prop-deadline-action"
                  value={deadline.action}
                  options={DEADLINE_ACTIONS.filter((a) => n.type === 'approval' || !a.startsWith('auto_')).map((a) => ({ value: a, label: t(`flows.prop.deadline.${a}`) }))}
                  onChange={(a: DeadlineAction) => {
                    const next: Deadline = { ...deadline, action: a };
                    if (a !== 'escalate') delete next.to;
                    set({ deadline: next });
                  }}
                />
              </Form.Item>
              {deadline.action === 'escalate' && (
                <Form.Item label={t('flows.prop.deadline.to')}>
                  <AssigneeInput
                    value={deadline.to}
                    onChange={(a) => {
                      const next: Deadline = { ...deadline };
                      if (a) next.to = a;
                      else delete next.to;
                      set({ deadline: next });
                    }}
                    lookups={p.lookups}
                    testId="flow-prop-deadline-to"
                  />
                </Form.Item>
              )}
            </div>
          )}
        </>
      )}

      {n.type === 'update_record' && <UpdateTarget node={n} set={set} lookups={p.lookups} />}

      {n.type === 'update_record' && (
        <Form.Item label={t('flows.prop.set')}>
          <FieldValuesEditor
            key={typeof n.form === 'string' ? `form-${n.form}` : 'trigger'}
            value={(n.set as Record<string, unknown> | undefined) ?? {}}
            onChange={(v) => set({ set: v })}
            fields={n.form !== undefined ? (targetFields ?? new Map()) : p.lookups.fields}
            testId="flow-prop-set"
          />
        </Form.Item>
      )}

      {n.type === 'users' && (
        <>
          <Form.Item label={t('flows.prop.usersOf')}>
            <AssigneeInput value={n.of} onChange={(a) => set({ of: a })} lookups={p.lookups} testId="flow-prop-of" />
          </Form.Item>
          <Form.Item label={t('flows.prop.queryName')} help={t('flows.prop.usersNameHelp', { name: typeof n.name === 'string' && n.name ? n.name : '…' })}>
            <Input data-testid="flow-prop-name" value={typeof n.name === 'string' ? n.name : ''} onChange={(e) => set({ name: e.target.value.trim() })} />
          </Form.Item>
        </>
      )}

      {n.type === 'query' && (
        <>
          <Form.Item label={t('flows.prop.queryForm')}>
            <Select
              data-testid="flow-prop-form"
              showSearch
              optionFilterProp="label"
              value={n.form || undefined}
              options={p.lookups.forms}
              onChange={(f: string) => set({ form: f, filter: undefined })}
            />
          </Form.Item>
          <Form.Item label={t('flows.prop.queryName')} help={t('flows.prop.queryNameHelp', { name: typeof n.name === 'string' && n.name ? n.name : '…' })}>
            <Input data-testid="flow-prop-name" value={typeof n.name === 'string' ? n.name : ''} onChange={(e) => set({ name: e.target.value.trim() })} />
          </Form.Item>
          <Form.Item label={t('flows.prop.limit')} help={t('flows.prop.limitHelp')}>
            <InputNumber
              data-testid="flow-prop-limit"
              min={1}
              max={1000}
              precision={0}
              value={typeof n.limit === 'number' ? n.limit : null}
              onChange={(v) => set({ limit: typeof v === 'number' ? v : undefined })}
            />
          </Form.Item>
          <Form.Item label={t('flows.prop.filter')} help={t('flows.prop.filterHelp')}>
            <ConditionBuilder
              key={`${p.id}-${String(n.form)}`}
              value={n.filter}
              onChange={(logic) => set({ filter: logic })}
              vars={[...(targetFields ?? new Map<string, JsonSchema>()).entries()].map(([k, sc]) => ({
                value: k,
                label: `${label(sc['x-label'] as Label | undefined, k)} (${k})`,
                schema: sc,
              }))}
              fields={p.lookups.fields}
              queried={targetFields ?? new Map()}
              valueVars={p.lookups.vars}
              testId="flow-prop-filter"
            />
          </Form.Item>
        </>
      )}

      {n.type === 'reject' && (
        <>
          <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
            {t('flows.prop.rejectHelp')}
          </Typography.Paragraph>
          <Form.Item label={t('flows.prop.message')} help={t('flows.prop.templateHelp')}>
            <Input.TextArea
              data-testid="flow-prop-message"
              rows={3}
              value={typeof n.message === 'string' ? n.message : ''}
              onChange={(e) => set({ message: e.target.value })}
            />
          </Form.Item>
        </>
      )}

      {n.type === 'create_record' && (
        <>
          <Form.Item label={t('flows.prop.form')}>
            <Select
              data-testid="flow-prop-form"
              showSearch
              optionFilterProp="label"
              value={n.form || undefined}
              options={p.lookups.forms}
              onChange={(f: string) => set({ form: f, data: {} })}
            />
          </Form.Item>
          <Form.Item label={t('flows.prop.data')}>
            <FieldValuesEditor
              value={(n.data as Record<string, unknown> | undefined) ?? {}}
              onChange={(v) => set({ data: v })}
              fields={targetFields ?? new Map()}
              testId="flow-prop-data"
            />
          </Form.Item>
        </>
      )}

      {n.type === 'notify' && <NotifyEditor node={n} id={p.id} state={p.state} set={set} lookups={p.lookups} />}
      {n.type === 'cc' && <CcEditor node={n} id={p.id} state={p.state} set={set} lookups={p.lookups} />}
      {n.type === 'http' && <HttpEditor node={n} id={p.id} state={p.state} set={set} lookups={p.lookups} />}
      {n.type === 'report' && <ReportNodeEditor node={n} id={p.id} state={p.state} set={set} lookups={p.lookups} />}
      {n.type === 'loop' && <LoopEditor node={n} id={p.id} state={p.state} set={set} lookups={p.lookups} />}
      {n.type === 'subflow' && <SubflowEditor node={n} id={p.id} state={p.state} set={set} lookups={p.lookups} />}

      {n.type === 'end' && (
        <Form.Item help={t('flows.prop.terminateHelp')}>
          <Checkbox data-testid="flow-prop-terminate" checked={n.terminate === true} onChange={(e) => set(terminatePatch(e.target.checked))}>
            {t('flows.prop.terminate')}
          </Checkbox>
        </Form.Item>
      )}

      {n.type === 'delay' && (
        <Form.Item label={t('flows.prop.delay')}>
          <DelayInput node={n} onChange={(next) => p.apply((s) => updateNode(s, p.id, next))} />
        </Form.Item>
      )}

      {n.type === 'set_var' && (
        <>
          <Form.Item label={t('flows.prop.name')}>
            <Input data-testid="flow-prop-name" value={typeof n.name === 'string' ? n.name : ''} onChange={(e) => set({ name: e.target.value.trim() })} />
          </Form.Item>
          <Form.Item label={t('flows.prop.varValue')}>
            <JsonInput key={p.id} value={n.value} onChange={(v) => set({ value: v === undefined ? null : v })} testId="flow-prop-value" />
          </Form.Item>
        </>
      )}

      {n.type === 'join' && (
        <Form.Item label={t('flows.prop.joinMode')}>
          <Space>
            <Select
              data-testid="flow-prop-join-mode"
              style={{ width: 140 }}
              value={joinModeKind(n.mode)}
              options={(['all', 'any', 'n'] as const).map((m) => ({ value: m, label: t(`flows.prop.join.${m}`) }))}
              onChange={(m: 'all' | 'any' | 'n') => set({ mode: m === 'all' ? undefined : m === 'any' ? 'any' : { n: 2 } })}
            />
            {joinModeKind(n.mode) === 'n' && (
              <InputNumber
                data-testid="flow-prop-join-n"
                min={1}
                value={(n.mode as { n: number }).n}
                onChange={(v) => set({ mode: { n: typeof v === 'number' ? v : 1 } })}
              />
            )}
          </Space>
        </Form.Item>
      )}

      {['start', 'branch', 'parallel'].includes(n.type) && (
        <Typography.Paragraph type="secondary">{t('flows.prop.noProps')}</Typography.Paragraph>
      )}

      <Divider style={{ margin: '8px 0' }} />
      <Popconfirm title={t('flows.prop.delete')} onConfirm={p.remove}>
        <Button danger icon={<DeleteOutlined />} data-testid="flow-prop-delete">
          {t('flows.prop.delete')}
        </Button>
      </Popconfirm>
    </Form>
  );
}

/** update_record: the trigger record, or another record (`form` + `record`, JSON Logic
 * giving its id, e.g. `{"var": "record.customer"}`). */
function UpdateTarget(p: { node: FlowNode; set: (patch: Partial<FlowNode>) => void; lookups: Lookups }) {
  const { t, label } = useI18n();
  const n = p.node;
  const other = n.form !== undefined || n.record !== undefined;
  const [recordKey, setRecordKey] = useState(0);
  const form = typeof n.form === 'string' ? n.form : '';
  // reference fields of the trigger form pointing at the chosen form
  const refs = [...p.lookups.fields.entries()].filter(([, sc]) => sc['x-type'] === 'reference' && (sc['x-ref'] as { form?: string } | undefined)?.form === form);
  const rv = valueVar(n.record);
  return (
    <>
      <Form.Item label={t('flows.prop.updateTarget')}>
        <Radio.Group
          data-testid="flow-prop-update-target"
          value={other ? 'other' : 'trigger'}
          onChange={(e) => {
            if (e.target.value === 'other') p.set({ form: '', set: {} });
            else p.set({ form: undefined, record: undefined, set: {} });
            setRecordKey((k) => k + 1);
          }}
          options={[
            { value: 'trigger', label: t('flows.prop.updateTarget.trigger') },
            { value: 'other', label: t('flows.prop.updateTarget.other') },
          ]}
        />
      </Form.Item>
      {other && (
        <>
          <Form.Item label={t('flows.prop.form')}>
            <Select
              data-testid="flow-prop-update-form"
              showSearch
              optionFilterProp="label"
              value={form || undefined}
              options={p.lookups.forms}
              onChange={(f: string) => {
                const candidates = [...p.lookups.fields.entries()].filter(([, sc]) => sc['x-type'] === 'reference' && (sc['x-ref'] as { form?: string } | undefined)?.form === f);
                p.set({ form: f, set: {}, record: candidates.length === 1 ? { var: `record.${candidates[0]![0]}` } : n.record });
                setRecordKey((k) => k + 1);
              }}
            />
          </Form.Item>
          <Form.Item label={t('flows.prop.record')} help={t('flows.prop.recordHelp')}>
            {refs.length > 0 && (
              <Select
                data-testid="flow-prop-record-ref"
                style={{ width: '100%', marginBottom: 4 }}
                placeholder={t('flows.prop.recordRef')}
                value={rv && rv.startsWith('record.') && refs.some(([k]) => `record.${k}` === rv) ? rv : undefined}
                options={refs.map(([k, sc]) => ({ value: `record.${k}`, label: `${label(sc['x-label'] as Label | undefined, k)} (record.${k})` }))}
                onChange={(v: string) => {
                  p.set({ record: { var: v } });
                  setRecordKey((k) => k + 1);
                }}
              />
            )}
            <JsonInput key={recordKey} value={n.record} onChange={(v) => p.set({ record: v })} testId="flow-prop-record" rows={2} />
          </Form.Item>
        </>
      )}
    </>
  );
}

function DelayInput(p: { node: FlowNode; onChange: (n: Partial<FlowNode>) => void }) {
  const { t } = useI18n();
  const d = durationOf(p.node);
  const emit = (amount: number | null, unit: DurationUnit) => {
    const out: Partial<FlowNode> = { minutes: undefined, hours: undefined, days: undefined };
    if (amount !== null) out[unit] = amount;
    p.onChange(out);
  };
  return (
    <Space.Compact>
      <InputNumber data-testid="flow-prop-delay-amount" min={1} value={d.amount} onChange={(v) => emit(typeof v === 'number' ? v : null, d.unit)} />
      <Select
        data-testid="flow-prop-delay-unit"
        style={{ width: 100 }}
        value={d.unit}
        options={DURATION_UNITS.map((u) => ({ value: u, label: t(`flows.prop.unit.${u}`) }))}
        onChange={(u: DurationUnit) => emit(d.amount, u)}
      />
    </Space.Compact>
  );
}
