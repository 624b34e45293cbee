// The side-panel editor of the subflow node (docs/flows.md "Nodes": `subflow`), shown by
// NodePanel: the flow it starts, the record that flow runs on (this instance's or another
// form's), its input, whether it is waited for and the variable its result goes into.
//
// data-testid: flow-prop-subflow-flow, flow-prop-subflow-target, flow-prop-subflow-form,
// flow-prop-subflow-record-ref, flow-prop-subflow-record (JSON Logic),
// flow-prop-subflow-input(-…), flow-prop-subflow-wait, flow-prop-subflow-nowait-failed
// (a failed edge left on a subflow that is not waited for), flow-prop-name,
// flow-prop-subflow-key (JSON Logic)
import { useState } from 'react';
import { Alert, Checkbox, Form, Input, Radio, Select, Typography } from 'antd';
import type { Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { KeyValueEditor, type EditorProps } from './EffectPanels.tsx';
import { JsonInput } from './inputs.tsx';
import { valueVar } from './conditions.ts';
import {
  isVarKey,
  optionalValue,
  subflowChoices,
  subflowOnOtherRecord,
  subflowResultName,
  subflowTargetPatch,
  subflowWaitPatch,
  subflowWaits,
} from './nodes.ts';

const text = (v: unknown) => (typeof v === 'string' ? v : '');

export function SubflowEditor(p: EditorProps) {
  const { t, label } = useI18n();
  const n = p.node;
  const waits = subflowWaits(n);
  const name = subflowResultName(n, p.id);
  const nameBad = n.name !== undefined && !isVarKey(n.name);
  const flow = text(n.flow);
  const choices = subflowChoices(p.lookups.flows ?? [], p.state.key, n.flow);
  const chosen = choices.find((f) => f.key === flow);
  const self = flow !== '' && flow === p.state.key;
  const failedEdges = p.state.edges.filter((e) => e.source === p.id && e.data.edge.outcome === 'failed').length;
  const flowHelp = self
    ? t('flows.prop.subflowSelf')
    : !flow
      ? t('flows.prop.subflowFlowHelp')
      : chosen?.unpublished && p.lookups.flows !== null
        ? t('flows.prop.subflowUnpublished')
        : undefined;
  return (
    <>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('flows.prop.subflowHelp')}
      </Typography.Paragraph>
      <Form.Item label={t('flows.prop.subflowFlow')} help={flowHelp} validateStatus={self ? 'error' : !flow || flowHelp ? 'warning' : undefined}>
        <Select
          data-testid="flow-prop-subflow-flow"
          showSearch
          optionFilterProp="label"
          loading={p.lookups.flows === null}
          placeholder={t('flows.prop.assignee.pick')}
          notFoundContent={t('flows.prop.subflowNone')}
          value={flow || undefined}
          options={choices.map((f) => ({
            value: f.key,
            label: `${label(f.label ?? undefined, f.key)} (${f.key})${f.unpublished ? ` · ${t('flows.list.unpublished')}` : ''}`,
          }))}
          onChange={(f: string) => p.set({ flow: f })}
        />
      </Form.Item>
      <SubflowTarget {...p} />
      <Form.Item label={t('flows.prop.subflowInput')} help={t('flows.prop.subflowInputHelp')}>
        <KeyValueEditor value={n.input} onChange={(v) => p.set({ input: v })} kind="logic" vars={p.lookups.vars} testId="flow-prop-subflow-input" />
      </Form.Item>
      <Form.Item help={waits ? t('flows.prop.subflowWaitHelp') : t('flows.prop.subflowNoWaitHelp')}>
        <Checkbox data-testid="flow-prop-subflow-wait" checked={waits} onChange={(e) => p.set(subflowWaitPatch(e.target.checked))}>
          {t('flows.prop.subflowWait')}
        </Checkbox>
      </Form.Item>
      {!waits && failedEdges > 0 && (
        <Alert type="warning" showIcon style={{ marginBottom: 8 }} data-testid="flow-prop-subflow-nowait-failed" message={t('flows.editor.lint.subflowNoWait')} />
      )}
      <Form.Item
        label={t('flows.prop.subflowName')}
        help={nameBad ? t('flows.prop.keyBad') : t(waits ? 'flows.prop.subflowNameHelp' : 'flows.prop.subflowNameNoWait', { name })}
        validateStatus={nameBad ? 'error' : undefined}
      >
        <Input data-testid="flow-prop-name" placeholder={p.id} value={text(n.name)} onChange={(e) => p.set({ name: optionalValue(e.target.value.trim()) })} />
      </Form.Item>
      <Form.Item label={t('flows.prop.subflowKey')} help={t('flows.prop.subflowKeyHelp')}>
        <JsonInput key={p.id} value={n.key} onChange={(v) => p.set({ key: optionalValue(v) })} testId="flow-prop-subflow-key" rows={2} />
      </Form.Item>
    </>
  );
}

/** The record a subflow runs on: this instance's record, or another form's record (`form`
 * + `record`, JSON Logic giving its id, e.g. `{"var": "record.customer"}`). */
function SubflowTarget(p: EditorProps) {
  const { t, label } = useI18n();
  const n = p.node;
  const other = subflowOnOtherRecord(n);
  const [recordKey, setRecordKey] = useState(0);
  const form = text(n.form);
  // reference fields of the trigger form pointing at a form
  const refsTo = (f: string) => [...p.lookups.fields.entries()].filter(([, sc]) => sc['x-type'] === 'reference' && (sc['x-ref'] as { form?: string } | undefined)?.form === f);
  const refs = refsTo(form);
  const rv = valueVar(n.record);
  return (
    <>
      <Form.Item label={t('flows.prop.subflowTarget')}>
        <Radio.Group
          data-testid="flow-prop-subflow-target"
          value={other ? 'other' : 'this'}
          onChange={(e) => {
            p.set(subflowTargetPatch(n, e.target.value === 'other'));
            setRecordKey((k) => k + 1);
          }}
          options={[
            { value: 'this', label: t('flows.prop.subflowTarget.this') },
            { value: 'other', label: t('flows.prop.subflowTarget.other') },
          ]}
        />
      </Form.Item>
      {other && (
        <>
          <Form.Item label={t('flows.prop.form')} validateStatus={!form ? 'warning' : undefined}>
            <Select
              data-testid="flow-prop-subflow-form"
              showSearch
              optionFilterProp="label"
              value={form || undefined}
              options={p.lookups.forms}
              onChange={(f: string) => {
                const candidates = refsTo(f);
                p.set({ form: f, record: candidates.length === 1 ? { var: `record.${candidates[0]![0]}` } : n.record });
                setRecordKey((k) => k + 1);
              }}
            />
          </Form.Item>
          <Form.Item
            label={t('flows.prop.record')}
            help={t('flows.prop.recordHelp')}
            validateStatus={n.record === undefined || n.record === null ? 'warning' : undefined}
          >
            {refs.length > 0 && (
              <Select
                data-testid="flow-prop-subflow-record-ref"
                style={{ width: '100%', marginBottom: 4 }}
                placeholder={t('flows.prop.recordRef')}
                value={rv && refs.some(([k]) => `record.${k}` === rv) ? rv : undefined}
                options={refs.map(([k, sc]) => ({ value: `record.${k}`, label: `${label(sc['x-label'] as Label | undefined, k)} (record.${k})` }))}
                onChange={(v: string) => {
                  p.set({ record: { var: v } });
                  setRecordKey((k) => k + 1);
                }}
              />
            )}
            <JsonInput key={`${p.id}-${recordKey}`} value={n.record} onChange={(v) => p.set({ record: v })} testId="flow-prop-subflow-record" rows={2} />
          </Form.Item>
        </>
      )}
    </>
  );
}
