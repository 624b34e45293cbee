// A dimension's editor in the report designer: what it groups by — a field's values (with
// a time bucket for dates, a band width for numbers) or the time between two date fields
// in minutes, hours, days or years (optionally in bands, e.g. device age at failure by
// year) — and its key and label.
//
// data-testid (i = the dimension's index): dimension-source-<i> (field or duration),
// dimension-bucket-<i>, dimension-width-<i> (band width), dimension-from-<i>,
// dimension-to-<i>, dimension-unit-<i> (+ ColumnSettings: dimension-settings-<i>, …)
import { InputNumber, Select } from 'antd';
import { useI18n } from '../i18n/index.tsx';
import { isTemporal, type PaletteField } from './draft.ts';
import { ColumnSettings, DurationInputs } from './ItemEditors.tsx';
import { DIMENSION_DURATION_UNITS, TIME_BUCKETS, type Dimension } from './types.ts';

export type DimensionSource = 'field' | 'duration';

export interface DimensionEditorProps {
  index: number;
  dim: Dimension;
  /** The palette entry of the dimension's field. */
  field?: PaletteField | undefined;
  /** All palette fields (for a duration's from and to). */
  fields: PaletteField[];
  onChange: (patch: Partial<Dimension>) => void;
  /** Group by a field or by a duration (draft.ts `setDimensionSource`). */
  onSource: (source: DimensionSource) => void;
}

export function DimensionEditor(p: DimensionEditorProps) {
  const { t } = useI18n();
  const { dim, index } = p;
  const duration = dim.field === undefined ? dim.duration : undefined;
  return (
    <>
      <Select
        size="small"
        style={{ minWidth: 90 }}
        data-testid={`dimension-source-${index}`}
        aria-label={t('reports.design.dimSource')}
        value={duration ? 'duration' : 'field'}
        options={(['field', 'duration'] as DimensionSource[]).map((s) => ({ value: s, label: t(`reports.design.dimSource.${s}`) }))}
        onChange={p.onSource}
      />
      {duration ? (
        <>
          <DurationInputs name="dimension" index={index} duration={duration} units={DIMENSION_DURATION_UNITS} fields={p.fields} onChange={(d) => p.onChange({ duration: d })} />
          <InputNumber
            size="small"
            min={0}
            style={{ width: 150 }}
            data-testid={`dimension-width-${index}`}
            aria-label={t('reports.design.bandOptional')}
            placeholder={t('reports.design.bandOptional')}
            value={typeof dim.bucket === 'object' ? dim.bucket.width : null}
            onChange={(v) => p.onChange({ bucket: typeof v === 'number' ? { width: v } : undefined })}
          />
        </>
      ) : (
        <FieldBucket {...p} />
      )}
      <ColumnSettings name="dimension" index={index} keyValue={dim.key ?? ''} label={dim.label} onChange={(x) => p.onChange(x)} />
    </>
  );
}

/** A time bucket for a date field, a band width for a number field. */
function FieldBucket(p: DimensionEditorProps) {
  const { t } = useI18n();
  const { dim, index } = p;
  const temporal = isTemporal(p.field?.type) || typeof dim.bucket === 'string';
  const numeric = p.field?.numeric === true || typeof dim.bucket === 'object';
  const bucketValue = dim.bucket === undefined ? '' : typeof dim.bucket === 'string' ? dim.bucket : 'width';
  return (
    <>
      {(temporal || numeric) && (
        <Select
          size="small"
          style={{ minWidth: 110 }}
          data-testid={`dimension-bucket-${index}`}
          value={bucketValue}
          options={[
            { value: '', label: t('reports.bucket.none') },
            ...(temporal ? TIME_BUCKETS.map((b) => ({ value: b, label: t(`reports.bucket.${b}`) })) : []),
            ...(numeric ? [{ value: 'width', label: t('reports.bucket.widthInput') }] : []),
          ]}
          onChange={(v: string) => p.onChange({ bucket: v === '' ? undefined : v === 'width' ? { width: 10 } : (v as Dimension['bucket']) })}
        />
      )}
      {typeof dim.bucket === 'object' && (
        <InputNumber
          size="small"
          min={0}
          data-testid={`dimension-width-${index}`}
          aria-label={t('reports.bucket.widthInput')}
          value={dim.bucket.width}
          onChange={(v) => p.onChange({ bucket: { width: typeof v === 'number' ? v : 0 } })}
        />
      )}
    </>
  );
}
