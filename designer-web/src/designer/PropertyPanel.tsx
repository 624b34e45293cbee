// The property panel of the selected canvas element, the show/hide rule editor, the
// required-when editor, and the form's own settings when nothing is selected.
import { useEffect, useState } from 'react';
import { Alert, Button, Divider, Form, Input, InputNumber, Select, Space, Switch, Tag, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { api } from '../api/client.ts';
import type { FormDetail, FormSummary, JsonSchema } from '../api/types.ts';
import { fieldsOf, isScalar } from '../forms/model.ts';
import { useI18n } from '../i18n/index.tsx';
import type { Apply } from './Canvas.tsx';
import {
  RULE_OPS,
  addRequiredWhen,
  addRuleCondition,
  coerceValue,
  findNode,
  isColumn,
  isRequired,
  optionsOfField,
  parseCondition,
  remove,
  removeRequiredWhen,
  removeRuleCondition,
  renameField,
  rootFields,
  setFormLabel,
  setLabel,
  setOptions,
  setProp,
  setRequired,
  setRule,
  setRuleEffect,
  typeOf,
  unwrap,
  wrap,
  type Condition,
  type DesignerState,
  type FieldNode,
  type NodeId,
  type OptionItem,
  type RuleOp,
} from './model.ts';

export interface PanelProps {
  app: string;
  state: DesignerState;
  selected: NodeId | null;
  apply: Apply;
  onSelect: (id: NodeId | null) => void;
  forms: FormSummary[];
  /** Server errors of the selected node. */
  errors: string[];
}

export function PropertyPanel(p: PanelProps) {
  const e = p.selected ? findNode(p.state, p.selected) : null;
  if (!e) return <FormSettings {...p} />;
  if (e.node.kind === 'field') return <FieldPanel key={e.node.id} {...p} node={e.node} />;
  return <ContainerPanel key={e.node.id} {...p} />;
}

const LOCALES = [
  ['zh', 'zh-CN'],
  ['en', 'en'],
] as const;

function FormSettings(p: PanelProps) {
  const { t, label } = useI18n();
  const s = p.state;
  return (
    <div data-testid="designer-form-settings">
      <Typography.Title level={5}>{t('designer.form.settings')}</Typography.Title>
      <Form layout="vertical" size="small">
        <Form.Item label={t('designer.form.key')}>
          <Typography.Text code data-testid="form-key">
            {s.key}
          </Typography.Text>
        </Form.Item>
        {LOCALES.map(([short, loc]) => (
          <Form.Item key={loc} label={t(`designer.prop.label.${short}`)}>
            <Input
              data-testid={`form-label-${short}`}
              value={s.label[loc] ?? ''}
              onChange={(ev) => p.apply((st) => setFormLabel(st, loc, ev.target.value), { tag: `form-label-${loc}` })}
            />
          </Form.Item>
        ))}
      </Form>
      <Divider style={{ margin: '12px 0' }} />
      <Typography.Text strong>{t('designer.reqwhen.title')}</Typography.Text>
      {s.requiredWhen.length === 0 && (
        <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
          {t('designer.reqwhen.none')}
        </Typography.Paragraph>
      )}
      <ul style={{ paddingLeft: 16 }}>
        {s.requiredWhen.map((r) => (
          <li key={r.id}>
            {t('designer.reqwhen.sentence', {
              fields: r.fields.map((k) => fieldName(s, k, label)).join(', '),
              when: fieldName(s, r.when, label),
              value: JSON.stringify(r.value),
            })}
          </li>
        ))}
      </ul>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('designer.form.selectHint')}
      </Typography.Paragraph>
    </div>
  );
}

function fieldName(s: DesignerState, key: string, label: (l: Record<string, string> | undefined, f?: string) => string): string {
  const f = rootFields(s).find((x) => x.key === key);
  return f ? `${label(f.schema['x-label'], key)} (${key})` : key;
}

function ContainerPanel(p: PanelProps) {
  const { t } = useI18n();
  const n = findNode(p.state, p.selected!)!.node;
  if (n.kind === 'field') return null;
  const id = n.id;
  return (
    <div data-testid="designer-container-panel">
      <Typography.Title level={5}>
        {t(n.kind === 'group' ? 'designer.palette.group' : n.kind === 'row' ? 'designer.palette.row' : 'designer.canvas.vertical')}
      </Typography.Title>
      <ErrorList errors={p.errors} />
      {n.kind === 'group' && (
        <Form layout="vertical" size="small">
          {LOCALES.map(([short, loc]) => (
            <Form.Item key={loc} label={t(`designer.prop.label.${short}`)}>
              <Input
                data-testid={`prop-label-${short}`}
                value={n.label?.[loc] ?? ''}
                onChange={(ev) => p.apply((st) => setLabel(st, id, loc, ev.target.value), { tag: `label-${loc}:${id}`, node: id })}
              />
            </Form.Item>
          ))}
        </Form>
      )}
      <Space wrap>
        <Button size="small" data-testid="prop-unwrap" onClick={() => p.apply((st) => unwrap(st, id))}>
          {t('designer.prop.unwrap')}
        </Button>
        <Button
          size="small"
          danger
          icon={<DeleteOutlined />}
          data-testid="prop-delete"
          onClick={() => {
            p.apply((st) => remove(st, id));
            p.onSelect(null);
          }}
        >
          {t('designer.prop.deleteContainer')}
        </Button>
      </Space>
      <Divider style={{ margin: '12px 0' }} />
      <RuleEditor {...p} nodeId={id} />
    </div>
  );
}

function ErrorList({ errors }: { errors: string[] }) {
  if (errors.length === 0) return null;
  return (
    <Alert
      type="error"
      showIcon
      data-testid="prop-errors"
      style={{ marginBottom: 12 }}
      message={
        <ul style={{ margin: 0, paddingLeft: 16 }}>
          {errors.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      }
    />
  );
}

const STRING_LIMITS = ['text', 'long_text', 'email', 'cn_mobile', 'uscc'];
const NUMBER_LIMITS = ['number', 'integer', 'money'];
const ITEM_LIMITS = ['multi_select', 'attachment', 'sub_table'];
const DEFAULT_TEXT = ['text', 'long_text', 'email', 'cn_mobile', 'uscc', 'date', 'datetime', 'member', 'department'];

function FieldPanel(p: PanelProps & { node: FieldNode }) {
  const { t } = useI18n();
  const n = p.node;
  const id = n.id;
  const sc = n.schema;
  const type = typeOf(sc);
  const column = isColumn(p.state, id);
  const set = (path: string[], value: unknown, tag?: string) =>
    p.apply((st) => setProp(st, id, path, value), { tag: tag ?? `${path.join('.')}:${id}`, node: id });
  const num = (name: string, min?: number) => (
    <Form.Item label={t(`designer.prop.${name}`)} key={name}>
      <InputNumber
        data-testid={`prop-${name}`}
        style={{ width: '100%' }}
        min={min}
        value={typeof sc[name] === 'number' ? sc[name] : null}
        onChange={(v) => set([name], v === null || v === undefined ? undefined : Number(v))}
      />
    </Form.Item>
  );
  const serverAssigned = type === 'serial' || type === 'computed';
  return (
    <div data-testid="designer-field-panel">
      <Typography.Title level={5} style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
        {t('designer.prop.field')} <Tag>{t(`designer.palette.${type}`)}</Tag>
      </Typography.Title>
      <ErrorList errors={p.errors} />
      <Form layout="vertical" size="small">
        <Form.Item label={t('designer.prop.key')} tooltip={t('designer.prop.keyHelp')}>
          <Input
            data-testid="prop-key"
            value={n.key}
            onChange={(ev) => p.apply((st) => renameField(st, id, ev.target.value.trim()), { tag: `key:${id}`, node: id })}
          />
        </Form.Item>
        {LOCALES.map(([short, loc]) => (
          <Form.Item key={loc} label={t(`designer.prop.label.${short}`)}>
            <Input
              data-testid={`prop-label-${short}`}
              value={(sc['x-label'] as Record<string, string> | undefined)?.[loc] ?? ''}
              onChange={(ev) => set(['x-label', loc], ev.target.value)}
            />
          </Form.Item>
        ))}
        <Form.Item label={t('designer.prop.required')} help={serverAssigned ? t('designer.prop.serverAssigned') : undefined}>
          <Switch
            data-testid="prop-required"
            disabled={serverAssigned}
            checked={isRequired(p.state, id)}
            onChange={(v) => p.apply((st) => setRequired(st, id, v), { node: id })}
          />
        </Form.Item>
        {LOCALES.map(([short, loc]) => (
          <Form.Item key={`help-${loc}`} label={t(`designer.prop.help.${short}`)}>
            <Input
              data-testid={`prop-help-${short}`}
              value={(sc['x-help'] as Record<string, string> | undefined)?.[loc] ?? ''}
              onChange={(ev) => set(['x-help', loc], ev.target.value)}
            />
          </Form.Item>
        ))}
        <DefaultInput schema={sc} onChange={(v) => set(['default'], v)} />
        {STRING_LIMITS.includes(type) && [num('minLength'), num('maxLength')]}
        {NUMBER_LIMITS.includes(type) && [num('minimum'), num('maximum')]}
        {ITEM_LIMITS.includes(type) && num('maxItems')}
        {type === 'money' && (
          <Form.Item label={t('designer.prop.currency')}>
            <Input
              data-testid="prop-currency"
              value={String(sc['x-currency'] ?? '')}
              maxLength={3}
              onChange={(ev) => set(['x-currency'], ev.target.value.toUpperCase() || undefined)}
            />
          </Form.Item>
        )}
        {(type === 'select' || type === 'multi_select') && (
          <OptionsEditor options={optionsOfField(sc)} onChange={(o) => p.apply((st) => setOptions(st, id, o), { tag: `options:${id}`, node: id })} />
        )}
        {type === 'reference' && <ReferenceEditor app={p.app} forms={p.forms} schema={sc} set={set} />}
        {type === 'serial' && (
          <Form.Item label={t('designer.prop.serial')} help={t('designer.prop.serialHelp')}>
            <Input data-testid="prop-serial" value={String(sc['x-serial'] ?? '')} onChange={(ev) => set(['x-serial'], ev.target.value)} />
          </Form.Item>
        )}
        {type === 'computed' && <FormulaEditor schema={sc} set={set} />}
        {(type === 'attachment' || type === 'signature') && (
          <>
            <Form.Item label={t('designer.prop.accept')} help={t('designer.prop.acceptHelp')}>
              <Input
                data-testid="prop-accept"
                value={((sc['x-accept'] as string[] | undefined) ?? []).join(', ')}
                onChange={(ev) => {
                  const list = ev.target.value
                    .split(',')
                    .map((x) => x.trim())
                    .filter(Boolean);
                  set(['x-accept'], list.length > 0 ? list : undefined);
                }}
              />
            </Form.Item>
            {num('x-max-size', 1)}
          </>
        )}
        <Space wrap size="large">
          {!column && (
            <Form.Item label={t('designer.prop.indexed')}>
              <Switch data-testid="prop-indexed" checked={sc['x-indexed'] === true} onChange={(v) => set(['x-indexed'], v || undefined)} />
            </Form.Item>
          )}
          {!column && (
            <Form.Item label={t('designer.prop.unique')}>
              <Switch data-testid="prop-unique" checked={sc['x-unique'] === true} onChange={(v) => set(['x-unique'], v || undefined)} />
            </Form.Item>
          )}
          <Form.Item label={t('designer.prop.confidential')}>
            <Switch
              data-testid="prop-confidential"
              checked={sc['x-confidential'] === true}
              onChange={(v) => set(['x-confidential'], v || undefined)}
            />
          </Form.Item>
        </Space>
      </Form>
      <Space wrap>
        {!column && (
          <>
            <Button size="small" data-testid="prop-wrap-group" onClick={() => p.apply((st) => wrap(st, id, 'group'))}>
              {t('designer.prop.wrapGroup')}
            </Button>
            <Button size="small" data-testid="prop-wrap-row" onClick={() => p.apply((st) => wrap(st, id, 'row'))}>
              {t('designer.prop.wrapRow')}
            </Button>
          </>
        )}
        <Button
          size="small"
          danger
          icon={<DeleteOutlined />}
          data-testid="prop-delete"
          onClick={() => {
            p.apply((st) => remove(st, id));
            p.onSelect(null);
          }}
        >
          {t('designer.prop.delete')}
        </Button>
      </Space>
      {!column && (
        <>
          <Divider style={{ margin: '12px 0' }} />
          <RuleEditor {...p} nodeId={id} />
          <Divider style={{ margin: '12px 0' }} />
          {!serverAssigned && <RequiredWhenEditor {...p} />}
        </>
      )}
    </div>
  );
}

function DefaultInput({ schema, onChange }: { schema: JsonSchema; onChange: (v: unknown) => void }) {
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

function OptionsEditor({ options, onChange }: { options: OptionItem[]; onChange: (o: OptionItem[]) => void }) {
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

function ReferenceEditor(p: { app: string; forms: FormSummary[]; schema: JsonSchema; set: (path: string[], v: unknown) => void }) {
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

function FormulaEditor({ schema, set }: { schema: JsonSchema; set: (path: string[], v: unknown) => void }) {
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

function RuleEditor(p: PanelProps & { nodeId: NodeId }) {
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

function RequiredWhenEditor(p: PanelProps & { node: FieldNode }) {
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

