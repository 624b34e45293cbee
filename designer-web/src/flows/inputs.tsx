// Building blocks of the flow designer's side panels: what the panels need to offer
// choices (Lookups), the assignee picker, a field's value, JSON in a text area, the visual
// condition builder and the field → value editor, the list of server problems.
import { useState } from 'react';
import { Alert, Button, Checkbox, Input, InputNumber, Radio, Select, Space, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import type { JsonSchema, Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { describeCond, valueText } from './FlowGraph.tsx';
import type { ErrorLike } from './checks.ts';
import {
  COND_OPS,
  condsLogic,
  isLogicValue,
  needsValue,
  parseGroup,
  valueVar,
  type Cond,
  type CondOp,
  type Join,
} from './conditions.ts';
import { memberFieldPaths } from './flowForms.ts';
import { ASSIGNEE_KINDS, type Assignee, type AssigneeKind } from './model.ts';
import { assigneeKind, assigneeValue, makeAssignee } from './nodeSettings.ts';
import { relDateLogic, relDateOf, type FlowChoice, type ReportChoice } from './nodes.ts';

export interface Option {
  value: string;
  label: string;
}

export interface VarOption extends Option {
  schema?: JsonSchema;
}

/** What the panels need to offer choices. */
export interface Lookups {
  app: string;
  users: Option[];
  roles: Option[];
  forms: Option[];
  /** Fields of the trigger form (key → property schema). */
  fields: Map<string, JsonSchema>;
  /** Variables a condition may use. */
  vars: VarOption[];
  /** Fields of another form (create_record). */
  formFields: (form: string) => Map<string, JsonSchema> | undefined;
  /** The app's flows (`GET /apps/{app}/flows`), for the subflow node; null while loading. */
  flows: FlowChoice[] | null;
  /** The app's reports (`GET /apps/{app}/reports`), for the report node; null while loading. */
  reports: ReportChoice[] | null;
}

export function fieldOptions(fields: Map<string, JsonSchema>, label: (l: Label | undefined, f?: string) => string, filter?: (s: JsonSchema) => boolean): Option[] {
  return [...fields.entries()]
    .filter(([, s]) => !filter || filter(s))
    .map(([k, s]) => ({ value: k, label: `${label(s['x-label'] as Label | undefined, k)} (${k})` }));
}

/** Member fields of the trigger form, then `reference.member` through its references
 * (the target form's schema from `x-ref.form`). */
export function memberOptions(lookups: Lookups, label: (l: Label | undefined, f?: string) => string): Option[] {
  return memberFieldPaths(lookups.fields, lookups.formFields).map((m) => {
    if (!m.via) return { value: m.path, label: `${label(lookups.fields.get(m.field)?.['x-label'] as Label | undefined, m.field)} (${m.path})` };
    const via = label(lookups.fields.get(m.via)?.['x-label'] as Label | undefined, m.via);
    const member = label(lookups.formFields(m.form ?? '')?.get(m.field)?.['x-label'] as Label | undefined, m.field);
    return { value: m.path, label: `${via} → ${member} (${m.path})` };
  });
}
/** Whose department head: the initiator's, the record owner's, or that of a member or
 * department field's user / department (values as `makeAssignee('head', …)` reads them). */
export function headOptions(lookups: Lookups, label: (l: Label | undefined, f?: string) => string, t: (k: string) => string): Option[] {
  const fields = [...lookups.fields.entries()]
    .filter(([, s]) => s['x-type'] === 'member' || s['x-type'] === 'department')
    .map(([k, s]) => ({ value: `field:${k}`, label: `${t('flows.prop.assignee.headOfField')} ${label(s['x-label'] as Label | undefined, k)} (${k})` }));
  return [
    { value: 'initiator', label: t('flows.prop.assignee.headOfInitiator') },
    { value: 'record', label: t('flows.prop.assignee.headOfRecord') },
    ...fields,
  ];
}
export const WRITABLE = (s: JsonSchema) => !['serial', 'computed'].includes(String(s['x-type'])) && s.readOnly !== true;

// ---------------------------------------------------------------------------------------
// Building blocks

export function AssigneeInput(p: { value: unknown; onChange: (a: Assignee | undefined) => void; lookups: Lookups; testId: string; allowEmpty?: boolean }) {
  const { t, label } = useI18n();
  const kind = assigneeKind(p.value);
  const [pendingKind, setPendingKind] = useState<AssigneeKind | null>(null);
  const shownKind = pendingKind ?? kind;
  const current = assigneeValue(p.value);
  const choices: Option[] = [
    ...(shownKind === 'user'
      ? p.lookups.users
      : shownKind === 'role' || shownKind === 'roles'
        ? p.lookups.roles
        : shownKind === 'field'
          ? memberOptions(p.lookups, label)
          : shownKind === 'head'
            ? headOptions(p.lookups, label, t)
            : []),
  ];
  // a stored value the lists do not (yet) offer is still shown
  if (shownKind === kind && current && !choices.some((c) => c.value === current)) choices.push({ value: current, label: current });
  return (
    <Space.Compact style={{ width: '100%' }}>
      <Select
        data-testid={`${p.testId}-kind`}
        style={{ width: '45%' }}
        value={shownKind ?? undefined}
        allowClear={p.allowEmpty}
        placeholder={t('flows.prop.assignee.pick')}
        options={ASSIGNEE_KINDS.map((k) => ({ value: k, label: t(`flows.prop.assignee.${k}`) }))}
        onChange={(k: AssigneeKind | undefined) => {
          if (!k) {
            setPendingKind(null);
            p.onChange(undefined);
          } else if (k === 'initiator') {
            setPendingKind(null);
            p.onChange(makeAssignee('initiator', ''));
          } else setPendingKind(k);
        }}
      />
      {shownKind === 'roles' && (
        <Select
          data-testid={p.testId}
          style={{ width: '55%' }}
          mode="multiple"
          optionFilterProp="label"
          placeholder={t('flows.prop.assignee.pick')}
          value={shownKind === kind && current ? current.split(',') : []}
          options={p.lookups.roles}
          onChange={(v: string[]) => {
            setPendingKind(null);
            p.onChange(makeAssignee('roles', v.join(',')));
          }}
        />
      )}
      {shownKind && shownKind !== 'initiator' && shownKind !== 'roles' && (
        <Select
          data-testid={p.testId}
          style={{ width: '55%' }}
          showSearch
          optionFilterProp="label"
          placeholder={t('flows.prop.assignee.pick')}
          value={shownKind === kind && current ? current : undefined}
          options={choices}
          onChange={(v: string) => {
            setPendingKind(null);
            p.onChange(makeAssignee(shownKind, v));
          }}
        />
      )}
    </Space.Compact>
  );
}

/** A value for a field: its options, yes/no, a number, or text. */
export function FieldValueInput(p: { schema?: JsonSchema; multiple?: boolean; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const { t, label } = useI18n();
  const s = p.schema;
  const enumValues = (s?.enum ?? (s?.items as JsonSchema | undefined)?.enum) as unknown[] | undefined;
  if (s && Array.isArray(enumValues)) {
    return (
      <Select
        data-testid={p.testId}
        style={{ width: '100%' }}
        mode={p.multiple ? 'multiple' : undefined}
        value={p.value as string | string[] | undefined}
        placeholder={t('flows.cond.value')}
        options={enumValues.map((v) => ({ value: String(v), label: valueText(v, s, t, label) }))}
        onChange={(v: unknown) => p.onChange(v)}
      />
    );
  }
  if (s?.type === 'boolean') {
    return (
      <Select
        data-testid={p.testId}
        style={{ width: '100%' }}
        value={p.value === undefined ? undefined : String(p.value)}
        placeholder={t('flows.cond.value')}
        options={[
          { value: 'true', label: t('common.yes') },
          { value: 'false', label: t('common.no') },
        ]}
        onChange={(v: string) => p.onChange(v === 'true')}
      />
    );
  }
  const numeric = s?.type === 'number' || s?.type === 'integer';
  const coerce = (x: string): unknown => (numeric && x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : x);
  const text = Array.isArray(p.value) ? p.value.join(', ') : p.value === undefined || p.value === null ? '' : String(p.value);
  return (
    <Input
      data-testid={p.testId}
      placeholder={p.multiple ? t('flows.cond.valuesComma') : t('flows.cond.value')}
      value={text}
      onChange={(ev) => {
        const raw = ev.target.value;
        p.onChange(p.multiple ? raw.split(',').map((x) => coerce(x.trim())).filter((x) => x !== '') : coerce(raw));
      }}
    />
  );
}

/** JSON in a text area; calls onChange only with valid JSON. */
export function JsonInput(p: { value: unknown; onChange: (v: unknown) => void; testId: string; rows?: number }) {
  const { t } = useI18n();
  const [text, setText] = useState(() => (p.value === undefined ? '' : JSON.stringify(p.value)));
  const [bad, setBad] = useState(false);
  return (
    <>
      <Input.TextArea
        data-testid={p.testId}
        rows={p.rows ?? 3}
        value={text}
        style={{ fontFamily: 'monospace', fontSize: 12 }}
        status={bad ? 'error' : undefined}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const v = e.target.value.trim() === '' ? undefined : (JSON.parse(e.target.value) as unknown);
            setBad(false);
            p.onChange(v);
          } catch {
            setBad(true);
          }
        }}
      />
      {bad && <Typography.Text type="danger">{t('flows.prop.badJson')}</Typography.Text>}
    </>
  );
}

/** The visual JSON Logic builder: conditions joined with "and" or "or" (the all / any
 * switch, `<testId>-join`, shown from two conditions on); nested groups as JSON. */
/** With `queried` (a query node's filter): the variables on the left are fields of the
 * queried form (`vars` lists them), and `valueVars` (context values: record.*, vars.*,
 * today …) may stand on the value side, e.g. `customer == record.customer`. */
export function ConditionBuilder(p: {
  value: unknown;
  onChange: (logic: unknown) => void;
  vars: VarOption[];
  fields: Map<string, JsonSchema>;
  testId: string;
  queried?: Map<string, JsonSchema>;
  valueVars?: VarOption[];
}) {
  const { t, label } = useI18n();
  const filterMode = p.valueVars !== undefined;
  const group = parseGroup(p.value, { varValues: filterMode });
  const conds = group?.conds ?? null;
  const join = group?.join ?? 'and';
  const [asJson, setAsJson] = useState(conds === null);
  const [v, setV] = useState<string | undefined>();
  const [op, setOp] = useState<CondOp>('eq');
  const [value, setValue] = useState<unknown>(undefined);
  const [fromContext, setFromContext] = useState(false);
  const schema = p.vars.find((x) => x.value === v)?.schema;
  const canAdd = !!v && (!needsValue(op) || (value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)));
  const contextValue = filterMode && fromContext && needsValue(op) && op !== 'in';
  // a context value, possibly shifted by days (`today - 91`: {add_days: [{var: today}, -91]})
  const ctxVar = valueVar(value) ?? relDateOf(value)?.var;
  const ctxDays = relDateOf(value)?.days ?? 0;
  if (asJson || conds === null) {
    return (
      <div data-testid={p.testId}>
        <JsonInput value={p.value} onChange={p.onChange} testId={`${p.testId}-json`} />
        <Space style={{ marginTop: 4 }}>
          {conds !== null && (
            <Button size="small" onClick={() => setAsJson(false)} data-testid={`${p.testId}-visual`}>
              {t('flows.cond.visual')}
            </Button>
          )}
          <Button size="small" onClick={() => p.onChange(undefined)} data-testid={`${p.testId}-clear`}>
            {t('flows.cond.clear')}
          </Button>
        </Space>
      </div>
    );
  }
  return (
    <div data-testid={p.testId}>
      <div data-testid={`${p.testId}-current`} style={{ marginBottom: 6 }}>
        {conds.length === 0 && <Typography.Text type="secondary">{t('flows.cond.none')}</Typography.Text>}
        {conds.length > 1 && (
          <Radio.Group
            size="small"
            optionType="button"
            value={join}
            data-testid={`${p.testId}-join`}
            style={{ marginBottom: 4 }}
            options={[
              { value: 'and', label: t('flows.cond.all') },
              { value: 'or', label: t('flows.cond.any') },
            ]}
            onChange={(e) => p.onChange(condsLogic(conds, e.target.value as Join))}
          />
        )}
        {conds.map((c, i) => (
          <div key={i} style={{ display: 'flex', alignItems: 'center', gap: 4, fontSize: 13 }}>
            {i > 0 && <Tag>{t(join === 'or' ? 'flows.cond.or' : 'flows.cond.and')}</Tag>}
            <span>{describeCond(c, p.fields, t, label, p.queried)}</span>
            <Button
              type="link"
              size="small"
              data-testid={`${p.testId}-remove-${i}`}
              onClick={() => p.onChange(condsLogic(conds.filter((_, j) => j !== i), join))}
            >
              {t('common.remove')}
            </Button>
          </div>
        ))}
      </div>
      <div style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 6 }}>
        <Select
          data-testid={`${p.testId}-var`}
          showSearch
          optionFilterProp="label"
          placeholder={t('flows.cond.var')}
          value={v}
          options={p.vars.map((x) => ({ value: x.value, label: x.label }))}
          onChange={(x: string) => {
            setV(x);
            setValue(undefined);
          }}
          style={{ gridColumn: '1 / 3' }}
        />
        <Select
          data-testid={`${p.testId}-op`}
          value={op}
          options={COND_OPS.map((o) => ({ value: o, label: t(`flows.cond.op.${o}`) }))}
          onChange={(o: CondOp) => {
            setOp(o);
            setValue(undefined);
          }}
        />
        {!needsValue(op) ? (
          <span />
        ) : contextValue ? (
          <Select
            data-testid={`${p.testId}-value-var`}
            showSearch
            optionFilterProp="label"
            placeholder={t('flows.cond.contextValue')}
            value={ctxVar ?? undefined}
            options={(p.valueVars ?? []).map((x) => ({ value: x.value, label: x.label }))}
            onChange={(x: string) => setValue(relDateLogic({ var: x, days: ctxDays }))}
          />
        ) : (
          <FieldValueInput key={`${v}-${op}`} schema={schema} multiple={op === 'in'} value={value} onChange={setValue} testId={`${p.testId}-value`} />
        )}
        {contextValue && (
          <InputNumber
            data-testid={`${p.testId}-value-days`}
            style={{ gridColumn: '1 / 3', width: '100%' }}
            precision={0}
            disabled={!ctxVar}
            placeholder={t('flows.cond.plusDays')}
            value={ctxDays || null}
            onChange={(n) => ctxVar && setValue(relDateLogic({ var: ctxVar, days: typeof n === 'number' ? Math.trunc(n) : 0 }))}
          />
        )}
        {filterMode && needsValue(op) && op !== 'in' && (
          <Checkbox
            style={{ gridColumn: '1 / 3' }}
            checked={fromContext}
            data-testid={`${p.testId}-from-context`}
            onChange={(e) => {
              setFromContext(e.target.checked);
              setValue(undefined);
            }}
          >
            {t('flows.cond.fromContext')}
          </Checkbox>
        )}
      </div>
      <Space style={{ marginTop: 6 }}>
        <Button
          size="small"
          type="primary"
          ghost
          icon={<PlusOutlined />}
          disabled={!canAdd}
          data-testid={`${p.testId}-add`}
          onClick={() => {
            if (!v) return;
            const c: Cond = needsValue(op) ? { var: v, op, value } : { var: v, op };
            p.onChange(condsLogic([...conds, c], join));
            setValue(undefined);
          }}
        >
          {t('flows.cond.add')}
        </Button>
        <Button size="small" type="link" onClick={() => setAsJson(true)} data-testid={`${p.testId}-json-toggle`}>
          {t('flows.cond.json')}
        </Button>
      </Space>
    </div>
  );
}

/** `{field: value or JSON Logic}` (update_record `set`, create_record `data`). */
export function FieldValuesEditor(p: { value: Record<string, unknown>; onChange: (v: Record<string, unknown>) => void; fields: Map<string, JsonSchema>; testId: string }) {
  const { t, label } = useI18n();
  const [field, setField] = useState<string | undefined>();
  const [value, setValue] = useState<unknown>(undefined);
  const [expr, setExpr] = useState(false);
  const schema = field ? p.fields.get(field) : undefined;
  const entries = Object.entries(p.value);
  return (
    <div data-testid={p.testId}>
      {entries.map(([k, v]) => (
        <div key={k} style={{ display: 'flex', alignItems: 'center', gap: 4, fontSize: 13 }} data-testid={`${p.testId}-row-${k}`}>
          <span style={{ flex: 1, wordBreak: 'break-all' }}>
            {label(p.fields.get(k)?.['x-label'] as Label | undefined, k)} ={' '}
            {isLogicValue(v) ? <Typography.Text code>{JSON.stringify(v)}</Typography.Text> : valueText(v, p.fields.get(k), t, label)}
          </span>
          <Button
            type="link"
            size="small"
            danger
            data-testid={`${p.testId}-remove-${k}`}
            onClick={() => {
              const next = { ...p.value };
              delete next[k];
              p.onChange(next);
            }}
          >
            {t('common.remove')}
          </Button>
        </div>
      ))}
      <div style={{ display: 'grid', gridTemplateColumns: '1fr', gap: 6, marginTop: 6 }}>
        <Select
          data-testid={`${p.testId}-field`}
          showSearch
          optionFilterProp="label"
          placeholder={t('flows.prop.field')}
          value={field}
          options={fieldOptions(p.fields, label, WRITABLE)}
          onChange={(f: string) => {
            setField(f);
            setValue(undefined);
          }}
        />
        <Checkbox checked={expr} onChange={(e) => setExpr(e.target.checked)} data-testid={`${p.testId}-expr`}>
          {t('flows.prop.expression')}
        </Checkbox>
        {expr ? (
          <JsonInput key={`${field}-expr`} value={value} onChange={setValue} testId={`${p.testId}-value`} rows={2} />
        ) : (
          <FieldValueInput key={field} schema={schema} multiple={schema?.type === 'array'} value={value} onChange={setValue} testId={`${p.testId}-value`} />
        )}
        <Button
          size="small"
          type="primary"
          ghost
          icon={<PlusOutlined />}
          disabled={!field || value === undefined || value === ''}
          data-testid={`${p.testId}-add`}
          onClick={() => {
            if (!field) return;
            p.onChange({ ...p.value, [field]: value });
            setField(undefined);
            setValue(undefined);
          }}
        >
          {t('common.add')}
        </Button>
      </div>
    </div>
  );
}

/** The server's problems with a node, an edge or the trigger. */
export function Errors({ errors, testId }: { errors: ErrorLike[] | undefined; testId: string }) {
  const { t } = useI18n();
  if (!errors || errors.length === 0) return null;
  return (
    <Alert
      type="error"
      style={{ marginBottom: 8 }}
      data-testid={testId}
      message={t('flows.prop.errors')}
      description={
        <ul style={{ margin: 0, paddingInlineStart: 16 }}>
          {errors.map((e, i) => (
            <li key={i}>
              <Typography.Text code>{e.pointer}</Typography.Text> {e.message}
            </li>
          ))}
        </ul>
      }
    />
  );
}
