// A condition's operator and value for a field, the value picker fitting the field: its
// options for select fields, yes/no, a number, a date — a fixed one or a relative one
// (today, today ± n days, the start of this week, month, quarter or year); used by the
// report filter's rows and by a measure's `where` rows.
//
// data-testid: filter-op-<i>, filter-value-<i> (a filter row; other users name their own),
// and for dates <value>-mode (fixed or which relative date), <value>-days (today ± n)
import { DatePicker, Input, InputNumber, Select } from 'antd';
import dayjs from 'dayjs';
import { useI18n } from '../i18n/index.tsx';
import {
  DATE_CHOICES,
  FILTER_OPS,
  dateChoice,
  dateChoiceValue,
  parseRelativeDate,
  relativeDateLogic,
  type DateChoice,
  type FilterOp,
  type FilterRow,
} from './conditions.ts';
import { isTemporal, type PaletteField } from './draft.ts';

/** Operators offered for a field. */
export function filterOpsFor(f: PaletteField | undefined): FilterOp[] {
  if (!f) return FILTER_OPS;
  if (f.numeric || isTemporal(f.type)) return ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'empty', 'notEmpty'];
  return ['eq', 'ne', 'in', 'empty', 'notEmpty'];
}

export interface ConditionInputsProps {
  row: FilterRow;
  field?: PaletteField | undefined;
  opTestId: string;
  valueTestId: string;
  /** Marks the value as missing. */
  invalid?: boolean;
  onChange: (patch: Partial<FilterRow>) => void;
}

export function ConditionInputs(p: ConditionInputsProps) {
  const { t } = useI18n();
  const { row, field } = p;
  return (
    <>
      <Select
        size="small"
        style={{ minWidth: 120 }}
        data-testid={p.opTestId}
        aria-label={t('reports.design.operator')}
        value={row.op}
        options={filterOpsFor(field).map((o) => ({ value: o, label: t(`reports.design.op.${o}`) }))}
        onChange={(op: FilterOp) => p.onChange({ op, value: op === 'in' || row.op === 'in' ? undefined : row.value })}
      />
      <ConditionValue {...p} />
    </>
  );
}

/** What every value input has. */
interface ValueCommon {
  size: 'small';
  'data-testid': string;
  'aria-label': string;
  status: 'error' | undefined;
}

function ConditionValue(p: ConditionInputsProps) {
  const { t, label } = useI18n();
  const { row, field } = p;
  const common: ValueCommon = { size: 'small', 'data-testid': p.valueTestId, 'aria-label': t('reports.design.value'), status: p.invalid ? 'error' : undefined };
  const options = field?.options ? Object.entries(field.options).map(([v, l]) => ({ value: v, label: label(l, v) })) : null;
  if (row.op === 'empty' || row.op === 'notEmpty') return null;
  if (options)
    return (
      <Select
        {...common}
        style={{ minWidth: 140 }}
        mode={row.op === 'in' ? 'multiple' : undefined}
        value={row.value as string | string[] | undefined}
        options={options}
        onChange={(v: unknown) => p.onChange({ value: v })}
      />
    );
  if (field?.type === 'boolean')
    return (
      <Select
        {...common}
        style={{ minWidth: 80 }}
        value={row.value as boolean | undefined}
        options={[
          { value: true, label: t('reports.true') },
          { value: false, label: t('reports.false') },
        ]}
        onChange={(v: boolean) => p.onChange({ value: v })}
      />
    );
  if (field?.numeric && row.op !== 'in')
    return <InputNumber {...common} value={typeof row.value === 'number' ? row.value : null} onChange={(v) => p.onChange({ value: v ?? undefined })} />;
  // A date (against a date-time field: its local midnight); a value typed otherwise stays.
  const relative = parseRelativeDate(row.value) !== null;
  const date =
    row.op !== 'in' &&
    (relative || (isTemporal(field?.type) && (row.value === undefined || row.value === '' || (typeof row.value === 'string' && dayjs(row.value).isValid()))));
  if (date) return <DateValue {...p} common={common} />;
  return (
    <Input
      {...common}
      style={{ width: 170 }}
      placeholder={isTemporal(field?.type) ? 'YYYY-MM-DD' : undefined}
      value={Array.isArray(row.value) ? row.value.join(', ') : typeof row.value === 'string' ? row.value : row.value === undefined ? '' : String(row.value)}
      onChange={(e) => p.onChange({ value: e.target.value })}
    />
  );
}

/** A date condition's value: a date picked, today, today ± n days, or the start of this
 * week, month, quarter or year. */
function DateValue(p: ConditionInputsProps & { common: ValueCommon }) {
  const { t } = useI18n();
  const { row, common } = p;
  const relative = parseRelativeDate(row.value);
  const mode = dateChoice(row.value);
  return (
    <>
      <Select
        size="small"
        style={{ minWidth: 120 }}
        data-testid={`${p.valueTestId}-mode`}
        aria-label={t('reports.design.date.mode')}
        value={mode}
        options={DATE_CHOICES.map((m) => ({ value: m, label: t(`reports.design.date.${m}`) }))}
        onChange={(m: DateChoice) => p.onChange({ value: dateChoiceValue(m, row.value) })}
      />
      {mode === 'date' && (
        <DatePicker
          {...common}
          value={typeof row.value === 'string' && row.value ? dayjs(row.value) : null}
          onChange={(d) => p.onChange({ value: d ? d.format('YYYY-MM-DD') : undefined })}
        />
      )}
      {relative?.kind === 'days' && (
        <InputNumber
          size="small"
          precision={0}
          style={{ width: 110 }}
          data-testid={`${p.valueTestId}-days`}
          aria-label={t('reports.design.date.daysInput')}
          suffix={t('reports.unitName.days')}
          value={relative.days}
          onChange={(v) => p.onChange({ value: relativeDateLogic({ kind: 'days', days: typeof v === 'number' ? Math.trunc(v) : 0 }) })}
        />
      )}
    </>
  );
}

/** A filter row of the report: operator and value (the field is the row's). */
export function FilterRowEditor(p: { index: number; row: FilterRow; field?: PaletteField | undefined; onChange: (patch: Partial<FilterRow>) => void }) {
  return <ConditionInputs row={p.row} field={p.field} opTestId={`filter-op-${p.index}`} valueTestId={`filter-value-${p.index}`} onChange={p.onChange} />;
}
