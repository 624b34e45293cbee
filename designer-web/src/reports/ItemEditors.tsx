// The editors inside the report designer's zones: a dimension's bucket, a measure's
// aggregation, what it aggregates and its condition (WhereEditor); key and label of a
// column in a popover. A filter row's operator and value: ConditionInputs.
//
// data-testid (i = the item's index): dimension-bucket-<i>, dimension-width-<i>,
// measure-agg-<i>, measure-field-<i>, measure-duration-<i>, measure-from-<i>,
// measure-to-<i>, measure-unit-<i>, measure-q-<i>, measure-of-<i>-0, measure-of-<i>-1,
// <item>-settings-<i>, <item>-key-<i>, <item>-label-zh-<i>, <item>-label-en-<i>
// (measure-where-<i>…: WhereEditor)
import { Button, Checkbox, Input, InputNumber, Popover, Select, Space } from 'antd';
import { SettingOutlined } from '@ant-design/icons';
import type { Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { Addon } from './Addon.tsx';
import { isTemporal, type DraftMeasure, type PaletteField } from './draft.ts';
import { AGGS, TIME_BUCKETS, VALUE_AGGS, type Dimension, type DurationUnit, type Measure } from './types.ts';
import { WhereEditor } from './WhereEditor.tsx';

type Name = 'dimension' | 'measure' | 'filter';

/** Key and zh/en label of a column. */
export function ColumnSettings(p: { name: Name; index: number; keyValue: string; placeholder?: string; label?: Label; onChange: (patch: { key?: string; label?: Label }) => void }) {
  const { t } = useI18n();
  const setLabel = (lang: 'zh-CN' | 'en', v: string) => {
    const next: Label = { ...p.label, [lang]: v };
    if (!v) delete next[lang];
    p.onChange({ label: Object.keys(next).length ? next : undefined });
  };
  return (
    <Popover
      trigger="click"
      content={
        <Space orientation="vertical" style={{ width: 240 }}>
          <Addon text={t('reports.design.key')}>
            <Input
              data-testid={`${p.name}-key-${p.index}`}
              value={p.keyValue}
              placeholder={p.placeholder}
              onChange={(e) => p.onChange({ key: e.target.value.trim() || undefined })}
            />
          </Addon>
          <Addon text="中">
            <Input data-testid={`${p.name}-label-zh-${p.index}`} value={p.label?.['zh-CN'] ?? ''} onChange={(e) => setLabel('zh-CN', e.target.value)} />
          </Addon>
          <Addon text="EN">
            <Input data-testid={`${p.name}-label-en-${p.index}`} value={p.label?.en ?? ''} onChange={(e) => setLabel('en', e.target.value)} />
          </Addon>
        </Space>
      }
    >
      <Button size="small" icon={<SettingOutlined />} data-testid={`${p.name}-settings-${p.index}`} aria-label={t('reports.design.label')} />
    </Popover>
  );
}

export function DimensionEditor(p: { index: number; dim: Dimension; field?: PaletteField | undefined; onChange: (patch: Partial<Dimension>) => void }) {
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
      <ColumnSettings name="dimension" index={index} keyValue={dim.key ?? ''} label={dim.label} onChange={(x) => p.onChange(x)} />
    </>
  );
}

export interface MeasureEditorProps {
  index: number;
  measure: DraftMeasure;
  /** All palette fields (for the value, duration and condition pickers). */
  fields: PaletteField[];
  /** Keys of the other measures (for ratios). */
  otherKeys: string[];
  onChange: (patch: Partial<DraftMeasure>) => void;
}

export function MeasureEditor(p: MeasureEditorProps) {
  const { t, label } = useI18n();
  const { measure: m, index } = p;
  const fieldOptions = (list: PaletteField[]) => list.map((f) => ({ value: f.path, label: `${label(f.label, f.path)} (${f.path})` }));
  const setAgg = (agg: Measure['agg']) => {
    const patch: Partial<Measure> = { agg };
    if (!VALUE_AGGS.includes(agg)) Object.assign(patch, { field: undefined, duration: undefined });
    patch.q = agg === 'percentile' ? (m.q ?? 0.9) : undefined;
    if (agg === 'ratio') patch.of = m.of ?? [p.otherKeys[0] ?? '', p.otherKeys[1] ?? p.otherKeys[0] ?? ''];
    else patch.of = undefined;
    p.onChange(patch);
  };
  const temporal = p.fields.filter((f) => isTemporal(f.type));
  return (
    <>
      <Select
        size="small"
        style={{ minWidth: 120 }}
        data-testid={`measure-agg-${index}`}
        aria-label={t('reports.design.agg')}
        value={m.agg}
        options={AGGS.map((a) => ({ value: a, label: t(`reports.agg.${a}`) }))}
        onChange={setAgg}
      />
      {VALUE_AGGS.includes(m.agg) && (
        <>
          <Checkbox
            data-testid={`measure-duration-${index}`}
            checked={m.duration !== undefined}
            onChange={(e) =>
              p.onChange(
                e.target.checked
                  ? { field: undefined, duration: { from: temporal[0]?.path ?? '', to: temporal[1]?.path ?? '', unit: 'hours' } }
                  : { duration: undefined },
              )
            }
          >
            {t('reports.design.useDuration')}
          </Checkbox>
          {m.duration ? (
            <>
              <Select size="small" style={{ minWidth: 130 }} data-testid={`measure-from-${index}`} value={m.duration.from || undefined} options={fieldOptions(temporal)} onChange={(v: string) => p.onChange({ duration: { ...m.duration!, from: v } })} />
              <span>{t('reports.design.durationTo')}</span>
              <Select size="small" style={{ minWidth: 130 }} data-testid={`measure-to-${index}`} value={m.duration.to || undefined} options={fieldOptions(temporal)} onChange={(v: string) => p.onChange({ duration: { ...m.duration!, to: v } })} />
              <Select
                size="small"
                data-testid={`measure-unit-${index}`}
                aria-label={t('reports.design.durationUnit')}
                value={m.duration.unit}
                options={(['minutes', 'hours', 'days'] as DurationUnit[]).map((u) => ({ value: u, label: t(`reports.unitName.${u}`) }))}
                onChange={(u: DurationUnit) => p.onChange({ duration: { ...m.duration!, unit: u } })}
              />
            </>
          ) : (
            <Select
              size="small"
              showSearch
              optionFilterProp="label"
              style={{ minWidth: 160 }}
              data-testid={`measure-field-${index}`}
              value={m.field || undefined}
              placeholder={t('reports.design.fields')}
              options={fieldOptions(p.fields)}
              onChange={(v: string) => p.onChange({ field: v })}
            />
          )}
        </>
      )}
      {m.agg === 'percentile' && (
        <InputNumber size="small" min={0} max={1} step={0.05} data-testid={`measure-q-${index}`} aria-label={t('reports.design.q')} value={m.q} onChange={(v) => p.onChange({ q: typeof v === 'number' ? v : undefined })} />
      )}
      {m.agg === 'ratio' && (
        <Space.Compact size="small">
          {[0, 1].map((side) => (
            <Select
              key={side}
              size="small"
              style={{ minWidth: 100 }}
              data-testid={`measure-of-${index}-${side}`}
              aria-label={t('reports.design.ratioOf')}
              value={m.of?.[side] || undefined}
              options={p.otherKeys.map((k) => ({ value: k, label: k }))}
              onChange={(v: string) => {
                const of: [string, string] = [m.of?.[0] ?? '', m.of?.[1] ?? ''];
                of[side] = v;
                p.onChange({ of });
              }}
            />
          ))}
        </Space.Compact>
      )}
      <ColumnSettings name="measure" index={index} keyValue={m.key} label={m.label} onChange={(x) => p.onChange('key' in x ? { key: x.key ?? '' } : x)} />
      <WhereEditor index={index} measure={m} fields={p.fields} onChange={p.onChange} />
    </>
  );
}
