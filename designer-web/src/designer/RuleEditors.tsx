// The rule editors of the property panel: an element's show/hide rule (conditions on
// other fields, joined with "and") and a field's required-when rules.
import { useState } from 'react';
import { Button, Input, Select, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import type { JsonSchema } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { findNode, rootFields, type DesignerState, type FieldNode, type NodeId } from './model.ts';
import { coerceValue, optionsOfField, typeOf } from './fieldTypes.ts';
import type { Apply } from './history.ts';
import {
  RULE_OPS,
  addRequiredWhen,
  addRuleCondition,
  parseCondition,
  removeRequiredWhen,
  removeRuleCondition,
  setRule,
  setRuleEffect,
  type Condition,
  type RuleOp,
} from './rules.ts';

/** What the rule editors edit: the state, through `apply`. */
interface EditorProps {
  state: DesignerState;
  apply: Apply;
}

/** `Label (key)` of a root field, or the key when there is no such field. */
export function fieldName(s: DesignerState, key: string, label: (l: Record<string, string> | undefined, f?: string) => string): string {
  const f = rootFields(s).find((x) => x.key === key);
  return f ? `${label(f.schema['x-label'], key)} (${key})` : key;
}

/** A value of a field for a condition: the field's options, yes/no, or typed text. */
function ValueInput(p: { schema?: JsonSchema; multiple?: boolean; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const { t, label } = useI18n();
  const type = p.schema ? typeOf(p.schema) : 'text';
  if (p.schema && (type === 'select' || type === 'multi_select' || Array.isArray(p.schema.enum))) {
    return (
      <Select
        data-testid={p.testId}
        style={{ width: '100%' }}
        mode={p.multiple ? 'multiple' : undefined}
        value={p.value as string | string[] | undefined}
        placeholder={t('designer.rule.value')}
        options={optionsOfField(p.schema).map((o) => ({ value: o.value, label: label(o.label, o.value) }))}
        onChange={(v: unknown) => p.onChange(v)}
      />
    );
  }
  if (type === 'boolean') {
    return (
      <Select
        data-testid={p.testId}
        style={{ width: '100%' }}
        value={p.value === undefined ? undefined : String(p.value)}
        placeholder={t('designer.rule.value')}
        options={[
          { value: 'true', label: t('common.yes') },
          { value: 'false', label: t('common.no') },
        ]}
        onChange={(v: string) => p.onChange(v === 'true')}
      />
    );
  }
  const text = Array.isArray(p.value) ? p.value.join(', ') : p.value === undefined ? '' : String(p.value);
  return (
    <Input
      data-testid={p.testId}
      placeholder={p.multiple ? t('designer.rule.valuesComma') : t('designer.rule.value')}
      value={text}
      onChange={(ev) => {
        const raw = ev.target.value;
        p.onChange(p.multiple ? raw.split(',').map((x) => coerceValue(p.schema, x.trim())) : coerceValue(p.schema, raw));
      }}
    />
  );
}

function describeCondition(
  s: DesignerState,
  c: Condition,
  t: (k: string, v?: Record<string, string | number>) => string,
  label: (l: Record<string, string> | undefined, f?: string) => string,
): string {
  const f = rootFields(s).find((x) => x.key === c.field);
  const valueText = (v: unknown): string => {
    if (Array.isArray(v)) return v.map(valueText).join(', ');
    const opt = f ? optionsOfField(f.schema).find((o) => o.value === v) : undefined;
    return opt ? label(opt.label, String(v)) : JSON.stringify(v);
  };
  return t(`designer.rule.sentence.${c.op}`, { field: fieldName(s, c.field, label), value: valueText(c.value) });
}

export function RuleEditor(p: EditorProps & { nodeId: NodeId }) {
  const { t, label } = useI18n();
  const node = findNode(p.state, p.nodeId)!.node;
  const rule = node.rule;
  const conds = rule ? parseCondition(rule.condition) : null;
  const [effect, setEffect] = useState<'SHOW' | 'HIDE'>(rule?.effect ?? 'SHOW');
  const [field, setField] = useState<string | undefined>();
  const [op, setOp] = useState<RuleOp>('eq');
  const [value, setValue] = useState<unknown>(undefined);
  const candidates = rootFields(p.state).filter((f) => f.id !== p.nodeId && !['sub_table', 'attachment', 'signature', 'region'].includes(typeOf(f.schema)));
  const fieldSchema = candidates.find((f) => f.key === field)?.schema;
  const needsValue = op === 'eq' || op === 'ne' || op === 'in';
  const canAdd = !!field && (!needsValue || (value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)));
  return (
    <div data-testid="rule-editor">
      <Typography.Text strong>{t('designer.rule.title')}</Typography.Text>
      {rule && conds && (
        <div data-testid="rule-current" style={{ margin: '6px 0' }}>
          <Tag color="purple">{t(rule.effect === 'SHOW' ? 'designer.rule.showWhen' : 'designer.rule.hideWhen')}</Tag>
          {conds.map((c, i) => (
            <div key={i} style={{ display: 'flex', alignItems: 'center', gap: 4, fontSize: 13 }}>
              {i > 0 && <Tag>{t('designer.rule.and')}</Tag>}
              <span>{describeCondition(p.state, c, t, label)}</span>
              <Button
                type="link"
                size="small"
                data-testid={`rule-remove-${i}`}
                onClick={() => p.apply((st) => removeRuleCondition(st, p.nodeId, i), { node: p.nodeId })}
              >
                {t('common.remove')}
              </Button>
            </div>
          ))}
        </div>
      )}
      {rule && !conds && (
        <div style={{ margin: '6px 0' }}>
          <Typography.Text code style={{ fontSize: 12, wordBreak: 'break-all' }}>
            {rule.effect} {JSON.stringify(rule.condition)}
          </Typography.Text>
          <Button type="link" size="small" data-testid="rule-clear" onClick={() => p.apply((st) => setRule(st, p.nodeId, undefined))}>
            {t('common.remove')}
          </Button>
        </div>
      )}
      {!rule && (
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '4px 0' }}>
          {t('designer.rule.none')}
        </Typography.Paragraph>
      )}
      <div style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 6, marginTop: 6 }}>
        <Select
          data-testid="rule-effect"
          value={effect}
          options={[
            { value: 'SHOW', label: t('designer.rule.effect.SHOW') },
            { value: 'HIDE', label: t('designer.rule.effect.HIDE') },
          ]}
          onChange={(v: 'SHOW' | 'HIDE') => {
            setEffect(v);
            if (rule) p.apply((st) => setRuleEffect(st, p.nodeId, v), { node: p.nodeId });
          }}
        />
        <Select
          data-testid="rule-field"
          showSearch
          optionFilterProp="label"
          placeholder={t('designer.rule.field')}
          value={field}
          options={candidates.map((f) => ({ value: f.key, label: `${label(f.schema['x-label'], f.key)} (${f.key})` }))}
          onChange={(v: string) => {
            setField(v);
            setValue(undefined);
          }}
        />
        <Select
          data-testid="rule-op"
          value={op}
          options={RULE_OPS.map((o) => ({ value: o, label: t(`designer.rule.op.${o}`) }))}
          onChange={(v: RuleOp) => {
            setOp(v);
            setValue(undefined);
          }}
        />
        {needsValue ? (
          <ValueInput key={`${field}-${op}`} schema={fieldSchema} multiple={op === 'in'} value={value} onChange={setValue} testId="rule-value" />
        ) : (
          <span />
        )}
      </div>
      <Button
        size="small"
        type="primary"
        ghost
        icon={<PlusOutlined />}
        style={{ marginTop: 6 }}
        disabled={!canAdd}
        data-testid="rule-add"
        onClick={() => {
          if (!field) return;
          const c: Condition = needsValue ? { field, op, value } : { field, op };
          p.apply((st) => addRuleCondition(st, p.nodeId, effect, c), { node: p.nodeId });
          setValue(undefined);
        }}
      >
        {t('designer.rule.add')}
      </Button>
    </div>
  );
}

export function RequiredWhenEditor(p: EditorProps & { node: FieldNode }) {
  const { t, label } = useI18n();
  const key = p.node.key;
  const [when, setWhen] = useState<string | undefined>();
  const [value, setValue] = useState<unknown>(undefined);
  const mine = p.state.requiredWhen.filter((r) => r.fields.includes(key));
  const candidates = rootFields(p.state).filter(
    (f) => f.key !== key && ['text', 'select', 'boolean', 'number', 'integer', 'money', 'email', 'member', 'department', 'date'].includes(typeOf(f.schema)),
  );
  const whenSchema = candidates.find((f) => f.key === when)?.schema;
  return (
    <div data-testid="reqwhen-editor">
      <Typography.Text strong>{t('designer.reqwhen.title')}</Typography.Text>
      {mine.map((r) => (
        <div key={r.id} style={{ fontSize: 13, display: 'flex', alignItems: 'center', gap: 4 }}>
          <span>
            {t('designer.reqwhen.short', { when: fieldName(p.state, r.when, label), value: JSON.stringify(r.value) })}
            {r.fields.length > 1 && ` (+${r.fields.filter((f) => f !== key).join(', ')})`}
          </span>
          <Button
            type="link"
            size="small"
            data-testid={`reqwhen-remove-${r.id}`}
            onClick={() => p.apply((st) => removeRequiredWhen(st, r.id))}
          >
            {t('common.remove')}
          </Button>
        </div>
      ))}
      <div style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 6, marginTop: 6 }}>
        <Select
          data-testid="reqwhen-field"
          placeholder={t('designer.rule.field')}
          value={when}
          options={candidates.map((f) => ({ value: f.key, label: `${label(f.schema['x-label'], f.key)} (${f.key})` }))}
          onChange={(v: string) => {
            setWhen(v);
            setValue(undefined);
          }}
        />
        <ValueInput key={when} schema={whenSchema} value={value} onChange={setValue} testId="reqwhen-value" />
      </div>
      <Button
        size="small"
        icon={<PlusOutlined />}
        style={{ marginTop: 6 }}
        disabled={!when || value === undefined || value === ''}
        data-testid="reqwhen-add"
        onClick={() => {
          if (!when) return;
          p.apply((st) => addRequiredWhen(st, { fields: [key], when, value }));
          setValue(undefined);
        }}
      >
        {t('designer.reqwhen.add')}
      </Button>
    </div>
  );
}

