// The editors inside the report designer's measures zone: a measure's aggregation, what
// it aggregates (a field or the duration between two date fields), a ratio's measures, a
// formula, its condition (WhereEditor); key and label of a column in a popover. A
// dimension's: DimensionEditor. A filter row's operator and value: ConditionInputs.
//
// data-testid (i = the item's index): measure-agg-<i>, measure-field-<i>,
// measure-duration-<i>, measure-from-<i>, measure-to-<i>, measure-unit-<i>, measure-q-<i>,
// measure-of-<i>-0, measure-of-<i>-1, measure-formula-<i> (the text),
// measure-formula-keys-<i> (the measures it may use), <item>-settings-<i>, <item>-key-<i>,
// <item>-label-zh-<i>, <item>-label-en-<i> (measure-where-<i>…: WhereEditor)
import { Button, Checkbox, Input, InputNumber, Popover, Select, Space, Typography } from 'antd';
import { SettingOutlined } from '@ant-design/icons';
import type { Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { Addon } from './Addon.tsx';
import { aggPatch, isTemporal, type DraftMeasure, type PaletteField } from './draft.ts';
import { formulaRefs, parseFormula, printFormula } from './formula.ts';
import { AGGS, DURATION_UNITS, VALUE_AGGS, type DimensionDuration, type DimensionDurationUnit, type Measure } from './types.ts';
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

/** From and to (date or date-time fields of the palette, joined ones too) and the unit of
 * a duration. Test ids: <name>-from-<i>, <name>-to-<i>, <name>-unit-<i>. */
export function DurationInputs<D extends DimensionDuration>(p: {
  name: 'measure' | 'dimension';
  index: number;
  duration: D;
  units: D['unit'][];
  fields: PaletteField[];
  onChange: (duration: D) => void;
}) {
  const { t, label } = useI18n();
  const options = p.fields.filter((f) => isTemporal(f.type)).map((f) => ({ value: f.path, label: `${label(f.label, f.path)} (${f.path})` }));
  const d = p.duration;
  const pick = (which: 'from' | 'to', aria: string) => (
    <Select
      size="small"
      showSearch
      optionFilterProp="label"
      style={{ minWidth: 130 }}
      data-testid={`${p.name}-${which}-${p.index}`}
      aria-label={aria}
      placeholder={aria}
      status={d[which] ? undefined : 'error'}
      value={d[which] || undefined}
      options={options}
      onChange={(v: string) => p.onChange({ ...d, [which]: v })}
    />
  );
  return (
    <>
      {pick('from', t('reports.design.durationFrom'))}
      <span>{t('reports.design.durationTo')}</span>
      {pick('to', t('reports.design.durationToField'))}
      <Select
        size="small"
        data-testid={`${p.name}-unit-${p.index}`}
        aria-label={t('reports.design.durationUnit')}
        value={d.unit}
        options={p.units.map((u) => ({ value: u, label: t(`reports.unitName.${u}`) }))}
        onChange={(u: DimensionDurationUnit) => p.onChange({ ...d, unit: u })}
      />
    </>
  );
}

export interface MeasureEditorProps {
  index: number;
  measure: DraftMeasure;
  /** All palette fields (for the value, duration and condition pickers). */
  fields: PaletteField[];
  /** Keys of the measures a ratio or formula here may read (draft.ts `derivedOperands`). */
  operands: string[];
  onChange: (patch: Partial<DraftMeasure>) => void;
}

export function MeasureEditor(p: MeasureEditorProps) {
  const { t, label } = useI18n();
  const { measure: m, index } = p;
  const fieldOptions = (list: PaletteField[]) => list.map((f) => ({ value: f.path, label: `${label(f.label, f.path)} (${f.path})` }));
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
        onChange={(agg: Measure['agg']) => p.onChange(aggPatch(m, agg, p.operands))}
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
            <DurationInputs name="measure" index={index} duration={m.duration} units={DURATION_UNITS} fields={p.fields} onChange={(duration) => p.onChange({ duration })} />
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
              options={p.operands.map((k) => ({ value: k, label: k }))}
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
      {m.agg === 'formula' ? <FormulaInput {...p} /> : <WhereEditor index={index} measure={m} fields={p.fields} onChange={p.onChange} />}
    </>
  );
}

/** The text shown for a formula: as typed, else the saved one printed (as JSON when it is
 * not plain arithmetic). */
function formulaShown(m: DraftMeasure): string {
  if (m.formulaText !== undefined) return m.formulaText;
  if (m.expr === undefined || m.expr === null) return '';
  return printFormula(m.expr) ?? JSON.stringify(m.expr);
}

/** A formula as infix text over other measures' keys; its problems are the measure's
 * (validate.ts), shown under it. */
function FormulaInput(p: MeasureEditorProps) {
  const { t } = useI18n();
  const { measure: m, index } = p;
  const text = formulaShown(m);
  const parsed = parseFormula(text);
  const bad = 'error' in parsed || formulaRefs(parsed.expr).some((k) => !p.operands.includes(k)) || printFormula(parsed.expr) === null;
  return (
    <div style={{ flex: '1 1 100%', display: 'flex', flexDirection: 'column', gap: 2 }}>
      <Addon text="=" style={{ width: '100%' }}>
        <Input
          size="small"
          data-testid={`measure-formula-${index}`}
          aria-label={t('reports.design.formula')}
          placeholder={t('reports.design.formulaPlaceholder')}
          style={{ fontFamily: 'monospace' }}
          status={bad ? 'error' : undefined}
          value={text}
          onChange={(e) => {
            const next = parseFormula(e.target.value);
            p.onChange({ formulaText: e.target.value, ...('expr' in next ? { expr: next.expr } : {}) });
          }}
        />
      </Addon>
      <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid={`measure-formula-keys-${index}`}>
        {p.operands.length ? t('reports.design.formulaKeys', { keys: p.operands.join(', ') }) : t('reports.design.formulaNoKeys')}
      </Typography.Text>
    </div>
  );
}
