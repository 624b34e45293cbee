// Editors of a field's type-specific settings in the property panel: its default value,
// a select's options, a reference's target form and display field, a computed field's
// formula.
import { useEffect, useState } from 'react';
import { Button, Form, Input, InputNumber, Select, Space } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { api } from '../api/client.ts';
import type { FormDetail, FormSummary, JsonSchema } from '../api/types.ts';
import { fieldsOf, isScalar } from '../forms/model.ts';
import { useI18n } from '../i18n/index.tsx';
import { optionsOfField, typeOf, type OptionItem } from './fieldTypes.ts';

/** Types with a minimum and a maximum (and a number as default). */
export const NUMBER_LIMITS = ['number', 'integer', 'money'];
const DEFAULT_TEXT = ['text', 'long_text', 'email', 'cn_mobile', 'uscc', 'date', 'datetime', 'member', 'department'];

export function DefaultInput({ schema, onChange }: { schema: JsonSchema; onChange: (v: unknown) => void }) {
  const { t, label } = useI18n();
  const type = typeOf(schema);
  const value = schema.default;
  let input: React.ReactNode = null;
  if (DEFAULT_TEXT.includes(type)) {
    input = (
      <Input
        data-testid="prop-default"
        value={typeof value === 'string' ? value : ''}
        placeholder={type === 'date' ? 'YYYY-MM-DD' : type === 'datetime' ? '2026-11-22T09:30:00+08:00' : undefined}
        onChange={(ev) => onChange(ev.target.value === '' ? undefined : ev.target.value)}
      />
    );
  } else if (NUMBER_LIMITS.includes(type)) {
    input = (
      <InputNumber
        data-testid="prop-default"
        style={{ width: '100%' }}
        value={typeof value === 'number' ? value : null}
        onChange={(v) => onChange(v === null || v === undefined ? undefined : Number(v))}
      />
    );
  } else if (type === 'boolean') {
    input = (
      <Select
        data-testid="prop-default"
        allowClear
        value={typeof value === 'boolean' ? String(value) : undefined}
        options={[
          { value: 'true', label: t('common.yes') },
          { value: 'false', label: t('common.no') },
        ]}
        onChange={(v?: string) => onChange(v === undefined ? undefined : v === 'true')}
      />
    );
  } else if (type === 'select' || type === 'multi_select') {
    input = (
      <Select
        data-testid="prop-default"
        allowClear
        mode={type === 'multi_select' ? 'multiple' : undefined}
        value={value as string | string[] | undefined}
        options={optionsOfField(schema).map((o) => ({ value: o.value, label: label(o.label, o.value) }))}
        onChange={(v?: string | string[]) => onChange(v === undefined || (Array.isArray(v) && v.length === 0) ? undefined : v)}
      />
    );
  }
  if (!input) return null;
  return <Form.Item label={t('designer.prop.default')}>{input}</Form.Item>;
}

export function OptionsEditor({ options, onChange }: { options: OptionItem[]; onChange: (o: OptionItem[]) => void }) {
  const { t } = useI18n();
  const upd = (i: number, f: (o: OptionItem) => OptionItem) => onChange(options.map((o, j) => (j === i ? f(o) : o)));
  return (
    <Form.Item label={t('designer.prop.options')} help={t('designer.prop.optionsHelp')}>
      <div data-testid="prop-options" style={{ display: 'flex', flexDirection: 'column', gap: 4 }}>
        {options.map((o, i) => (
          <Space.Compact key={i} style={{ width: '100%' }}>
            <Input
              data-testid={`prop-option-value-${i}`}
              placeholder={t('designer.prop.optionValue')}
              value={o.value}
              style={{ width: '36%' }}
              onChange={(ev) => upd(i, (x) => ({ ...x, value: ev.target.value.trim() }))}
            />
            <Input
              data-testid={`prop-option-zh-${i}`}
              placeholder="中文"
              style={{ width: '28%' }}
              value={o.label['zh-CN'] ?? ''}
              onChange={(ev) => upd(i, (x) => ({ ...x, label: { ...x.label, 'zh-CN': ev.target.value } }))}
            />
            <Input
              data-testid={`prop-option-en-${i}`}
              placeholder="English"
              style={{ width: '28%' }}
              value={o.label.en ?? ''}
              onChange={(ev) => upd(i, (x) => ({ ...x, label: { ...x.label, en: ev.target.value } }))}
            />
            <Button
              data-testid={`prop-option-remove-${i}`}
              aria-label={t('common.remove')}
              icon={<DeleteOutlined />}
              onClick={() => onChange(options.filter((_, j) => j !== i))}
            />
          </Space.Compact>
        ))}
        <Button
          size="small"
          icon={<PlusOutlined />}
          data-testid="prop-option-add"
          onClick={() => {
            let n = options.length + 1;
            while (options.some((o) => o.value === `option_${n}`)) n++;
            onChange([...options, { value: `option_${n}`, label: { 'zh-CN': `选项${n}`, en: `Option ${n}` } }]);
          }}
        >
          {t('designer.prop.optionAdd')}
        </Button>
      </div>
    </Form.Item>
  );
}

/** Fields of another form of the app (its draft, else its published version). */
function useFormFields(app: string, form: string | undefined) {
  const [fields, setFields] = useState<{ key: string; label: Record<string, string> }[]>([]);
  useEffect(() => {
    if (!form) {
      setFields([]);
      return;
    }
    let live = true;
    api<FormDetail>(`/apps/${app}/forms/${form}`)
      .then((d) => {
        const def = d.draft ?? d.definition;
        if (live)
          setFields(
            fieldsOf(def?.schema)
              .filter((f) => isScalar(f.type))
              .map((f) => ({ key: f.key, label: (f.schema['x-label'] ?? {}) as Record<string, string> })),
          );
      })
      .catch(() => live && setFields([]));
    return () => {
      live = false;
    };
  }, [app, form]);
  return fields;
}

export function ReferenceEditor(p: { app: string; forms: FormSummary[]; schema: JsonSchema; set: (path: string[], v: unknown) => void }) {
  const { t, label } = useI18n();
  const ref = (p.schema['x-ref'] ?? {}) as { form?: string; display?: string };
  const fields = useFormFields(p.app, ref.form || undefined);
  return (
    <>
      <Form.Item label={t('designer.prop.refForm')}>
        <Select
          data-testid="prop-ref-form"
          showSearch
          optionFilterProp="label"
          value={ref.form || undefined}
          placeholder={t('designer.prop.refFormPick')}
          options={p.forms.map((f) => ({ value: f.key, label: `${label(f.label, f.key)} (${f.key})` }))}
          onChange={(v: string) => p.set(['x-ref'], { ...ref, form: v, display: '' })}
        />
      </Form.Item>
      <Form.Item label={t('designer.prop.refDisplay')}>
        <Select
          data-testid="prop-ref-display"
          showSearch
          optionFilterProp="label"
          value={ref.display || undefined}
          options={fields.map((f) => ({ value: f.key, label: `${label(f.label, f.key)} (${f.key})` }))}
          onChange={(v: string) => p.set(['x-ref', 'display'], v)}
        />
      </Form.Item>
    </>
  );
}

export function FormulaEditor({ schema, set }: { schema: JsonSchema; set: (path: string[], v: unknown) => void }) {
  const { t } = useI18n();
  const [text, setText] = useState(() => JSON.stringify(schema['x-formula'] ?? null, null, 2));
  const [bad, setBad] = useState(false);
  return (
    <>
      <Form.Item label={t('designer.prop.computedType')}>
        <Select
          data-testid="prop-computed-type"
          value={String(schema.type ?? 'number')}
          options={['number', 'integer', 'string', 'boolean'].map((v) => ({ value: v, label: t(`designer.prop.jsonType.${v}`) }))}
          onChange={(v: string) => set(['type'], v)}
        />
      </Form.Item>
      <Form.Item
        label={t('designer.prop.formula')}
        help={bad ? t('designer.prop.formulaBad') : t('designer.prop.formulaHelp')}
        validateStatus={bad ? 'error' : undefined}
      >
        <Input.TextArea
          data-testid="prop-formula"
          rows={5}
          style={{ fontFamily: 'monospace', fontSize: 12 }}
          value={text}
          onChange={(ev) => {
            setText(ev.target.value);
            try {
              const v = JSON.parse(ev.target.value) as unknown;
              setBad(false);
              set(['x-formula'], v);
            } catch {
              setBad(true);
            }
          }}
        />
      </Form.Item>
    </>
  );
}
