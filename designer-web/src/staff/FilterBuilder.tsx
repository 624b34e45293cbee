// The list's filter builder: one row per condition (field, operator, a value input by the
// field's type), applied together (data-testid filter-row-N, filter-field-N, filter-op-N,
// filter-value-N, filter-add, filter-apply). The fields include the system columns
// (systemColumns.ts); their timestamps are picked in local time and sent as the server
// writes them (UTC).
import { Button, DatePicker, Input, InputNumber, Select, Space } from 'antd';
import { FilterOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { useI18n } from '../i18n/index.tsx';
import { fieldType, isNumeric, optionsOf, type Field } from '../forms/model.ts';
import { needsValue, opsFor, type Condition, type Op } from './filters.ts';
import { isSystemTimestamp, timestampFilterValue } from './systemColumns.ts';

export function FilterBuilder(p: {
  fields: Field[];
  conds: Condition[];
  onChange: (c: Condition[]) => void;
  onApply: () => void;
}) {
  const { t, label } = useI18n();
  const byKey = new Map(p.fields.map((f) => [f.key, f]));
  const set = (i: number, c: Condition) => p.onChange(p.conds.map((x, j) => (j === i ? c : x)));
  return (
    <div data-testid="filter-builder" style={{ marginBottom: 8 }}>
      {p.conds.map((c, i) => {
        const f = byKey.get(c.field);
        const ops = f ? opsFor(f.schema) : [];
        return (
          <Space key={i} wrap style={{ marginBottom: 6 }} data-testid={`filter-row-${i}`}>
            <Select
              data-testid={`filter-field-${i}`}
              style={{ minWidth: 150 }}
              showSearch
              optionFilterProp="label"
              placeholder={t('list.field')}
              value={c.field || undefined}
              options={p.fields.map((x) => ({ value: x.key, label: label(x.schema['x-label'], x.key) }))}
              onChange={(k: string) => {
                const nf = byKey.get(k);
                set(i, { field: k, op: nf ? (opsFor(nf.schema)[0] ?? 'eq') : 'eq' });
              }}
            />
            <Select
              data-testid={`filter-op-${i}`}
              style={{ minWidth: 110 }}
              value={c.op}
              options={ops.map((o) => ({ value: o, label: t(`op.${o}`) }))}
              onChange={(o: Op) => set(i, { ...c, op: o })}
            />
            {f && needsValue(c.op) && <FilterValue field={f} value={c.value} onChange={(v) => set(i, { ...c, value: v })} testId={`filter-value-${i}`} />}
            <Button onClick={() => p.onChange(p.conds.filter((_, j) => j !== i))} aria-label={t('common.remove')}>
              ×
            </Button>
          </Space>
        );
      })}
      <Space>
        <Button icon={<FilterOutlined />} data-testid="filter-add" onClick={() => p.onChange([...p.conds, { field: '', op: 'eq' }])}>
          {t('list.addFilter')}
        </Button>
        <Button type="primary" data-testid="filter-apply" onClick={p.onApply}>
          {t('list.apply')}
        </Button>
      </Space>
    </div>
  );
}

function FilterValue(p: { field: Field; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const { t, label } = useI18n();
  const schema = p.field.schema;
  const type = fieldType(schema);
  if (isSystemTimestamp(p.field.key)) {
    const d = typeof p.value === 'string' && p.value ? dayjs(p.value) : null;
    return (
      <DatePicker
        data-testid={p.testId}
        showTime
        value={d?.isValid() ? d : null}
        onChange={(v) => p.onChange(v ? timestampFilterValue(v.toDate()) : undefined)}
      />
    );
  }
  if (type === 'select' || type === 'multi_select')
    return (
      <Select
        data-testid={p.testId}
        style={{ minWidth: 140 }}
        value={p.value as string | undefined}
        options={optionsOf(schema).map((o) => ({ value: o.value, label: label(o.label, o.value) }))}
        onChange={p.onChange}
      />
    );
  if (type === 'boolean')
    return (
      <Select
        data-testid={p.testId}
        style={{ minWidth: 90 }}
        value={p.value as boolean | undefined}
        options={[
          { value: true, label: t('common.yes') },
          { value: false, label: t('common.no') },
        ]}
        onChange={p.onChange}
      />
    );
  if (isNumeric(type, schema))
    return <InputNumber data-testid={p.testId} value={typeof p.value === 'number' ? p.value : null} onChange={(v) => p.onChange(v ?? undefined)} />;
  return <Input data-testid={p.testId} style={{ width: 180 }} value={typeof p.value === 'string' ? p.value : ''} onChange={(e) => p.onChange(e.target.value)} />;
}
