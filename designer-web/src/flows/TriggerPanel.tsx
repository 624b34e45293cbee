// The flow designer's flow settings panel: the flow's label and its trigger (type, form,
// cron, date field, watched fields, condition), shown by FlowDesignerPage.
//
// data-testid: flow-trigger-panel, flow-flow-errors, flow-label-zh, flow-label-en,
// flow-trigger-errors, flow-trigger-type, flow-trigger-guard-help, flow-trigger-webhook-help,
// flow-trigger-deleted-help, flow-trigger-cron, flow-trigger-form, flow-trigger-field,
// flow-trigger-offset, flow-trigger-fields, flow-trigger-cond
import { useMemo } from 'react';
import { Alert, Divider, Form, Input, InputNumber, Select, Typography } from 'antd';
import type { JsonSchema } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { ConditionBuilder, Errors, fieldOptions, type Lookups } from './inputs.tsx';
import { cronLooksValid, type ErrorLike } from './checks.ts';
import { GUARD_NODE_TYPES, TRIGGER_TYPES, switchTriggerType, triggerHasForm, type FlowState, type Trigger } from './model.ts';
import type { Apply } from './Panels.tsx';

const isDate = (s: JsonSchema) => s['x-type'] === 'date' || s['x-type'] === 'datetime';

export function TriggerPanel(p: { state: FlowState; apply: Apply; lookups: Lookups; errors: ErrorLike[]; flowErrors: ErrorLike[] }) {
  const { t, label } = useI18n();
  const tr = p.state.trigger;
  const setTrigger = (patch: Partial<Trigger>) =>
    p.apply((s) => {
      const next: Trigger = { ...s.trigger, ...patch };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
      return { ...s, trigger: next };
    });
  const setFlowLabel = (locale: string, text: string) => p.apply((s) => ({ ...s, label: { ...s.label, [locale]: text } }));
  const fieldOpts = useMemo(() => fieldOptions(p.lookups.fields, label), [p.lookups.fields, label]);
  return (
    <Form layout="vertical" size="small" data-testid="flow-trigger-panel">
      <Typography.Title level={5} style={{ marginTop: 0 }}>
        {t('flows.editor.flowSettings')} <Typography.Text code>{p.state.key}</Typography.Text>
      </Typography.Title>
      <Errors errors={p.flowErrors} testId="flow-flow-errors" />
      <Form.Item label={t('flows.label.zh')}>
        <Input data-testid="flow-label-zh" value={p.state.label['zh-CN'] ?? ''} onChange={(e) => setFlowLabel('zh-CN', e.target.value)} />
      </Form.Item>
      <Form.Item label={t('flows.label.en')}>
        <Input data-testid="flow-label-en" value={p.state.label.en ?? ''} onChange={(e) => setFlowLabel('en', e.target.value)} />
      </Form.Item>
      <Divider style={{ margin: '8px 0' }}>{t('flows.editor.trigger')}</Divider>
      <Errors errors={p.errors} testId="flow-trigger-errors" />
      <Form.Item label={t('flows.trigger.type')}>
        <Select
          data-testid="flow-trigger-type"
          value={tr.type}
          options={TRIGGER_TYPES.map((x) => ({ value: x, label: t(`flows.trigger.type.${x}`) }))}
          onChange={(type: string) => p.apply((s) => ({ ...s, trigger: switchTriggerType(s.trigger, type) }))}
        />
      </Form.Item>
      {tr.type === 'before_write' && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 8 }}
          data-testid="flow-trigger-guard-help"
          message={t('flows.trigger.guardHelp', { types: GUARD_NODE_TYPES.map((x) => t(`flows.node.${x}`)).join(', ') })}
        />
      )}
      {tr.type === 'webhook' && (
        <Alert type="info" showIcon style={{ marginBottom: 8 }} data-testid="flow-trigger-webhook-help" message={t('flows.trigger.webhookHelp')} />
      )}
      {tr.type === 'record_deleted' && (
        <Alert type="info" showIcon style={{ marginBottom: 8 }} data-testid="flow-trigger-deleted-help" message={t('flows.trigger.deletedHelp')} />
      )}
      {tr.type === 'schedule' && (
        <Form.Item
          label={t('flows.trigger.cron')}
          help={typeof tr.cron === 'string' && tr.cron.trim() && !cronLooksValid(tr.cron) ? t('flows.trigger.cronBad') : t('flows.trigger.cronHelp')}
          validateStatus={typeof tr.cron === 'string' && tr.cron.trim() && !cronLooksValid(tr.cron) ? 'warning' : undefined}
        >
          <Input data-testid="flow-trigger-cron" value={typeof tr.cron === 'string' ? tr.cron : ''} placeholder="0 9 * * 1" onChange={(e) => setTrigger({ cron: e.target.value })} />
        </Form.Item>
      )}
      {triggerHasForm(tr.type) !== 'none' && (
      <Form.Item label={tr.type === 'schedule' ? t('flows.trigger.formOptional') : t('flows.trigger.form')}>
        <Select
          data-testid="flow-trigger-form"
          showSearch
          allowClear={tr.type === 'schedule'}
          optionFilterProp="label"
          value={tr.form || undefined}
          options={p.lookups.forms}
          onChange={(form: string | undefined) =>
            setTrigger({
              form: form ?? (tr.type === 'schedule' ? undefined : ''),
              fields: undefined,
              condition: undefined,
              field: tr.type === 'date_field' ? '' : undefined,
            })
          }
        />
      </Form.Item>
      )}
      {tr.type === 'date_field' && (
        <>
          <Form.Item label={t('flows.trigger.dateField')}>
            <Select
              data-testid="flow-trigger-field"
              showSearch
              optionFilterProp="label"
              value={tr.field || undefined}
              options={fieldOptions(p.lookups.fields, label, isDate)}
              onChange={(field: string) => setTrigger({ field })}
            />
          </Form.Item>
          <Form.Item label={t('flows.trigger.offsetDays')} help={t('flows.trigger.offsetHelp')}>
            <InputNumber
              data-testid="flow-trigger-offset"
              precision={0}
              value={typeof tr.offset_days === 'number' ? tr.offset_days : null}
              onChange={(v) => setTrigger({ offset_days: typeof v === 'number' ? Math.trunc(v) : undefined })}
            />
          </Form.Item>
        </>
      )}
      {(tr.type === 'record_updated' || tr.type === 'before_write') && (
        <Form.Item label={t('flows.trigger.fields')}>
          <Select
            data-testid="flow-trigger-fields"
            mode="multiple"
            allowClear
            optionFilterProp="label"
            value={Array.isArray(tr.fields) ? tr.fields : []}
            options={fieldOpts}
            onChange={(v: string[]) => setTrigger({ fields: v.length > 0 ? v : undefined })}
          />
        </Form.Item>
      )}
      {tr.type !== 'schedule' && tr.type !== 'webhook' && (
      <Form.Item label={t('flows.trigger.condition')}>
        <ConditionBuilder
          key={tr.form}
          value={tr.condition}
          onChange={(logic) => setTrigger({ condition: logic })}
          vars={p.lookups.vars}
          fields={p.lookups.fields}
          testId="flow-trigger-cond"
        />
      </Form.Item>
      )}
    </Form>
  );
}
