// The report designer's settings: source form (and the sub-table whose rows it counts),
// name, chart kind, sort and top-N.
//
// data-testid: report-form, report-rows, report-label-zh, report-label-en, chart-kind, chart-stacked,
// chart-horizontal, report-sort, report-sort-desc, report-limit, report-others,
// issues-form, issues-chart, issues-sort, issues-limit
import { Checkbox, Form, Input, InputNumber, Select, Space, Typography } from 'antd';
import type { FormSummary, Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { Addon } from './Addon.tsx';
import { columnKeys } from './draft.ts';
import { CHART_KINDS, type ChartKind, type ReportDefinition } from './types.ts';

export interface ReportSettingsProps {
  def: ReportDefinition;
  forms: FormSummary[];
  onChange: (patch: Partial<ReportDefinition>) => void;
  onForm: (form: string) => void;
  /** The form's sub-tables, whose rows a report may count instead of the records. */
  tables: { key: string; label?: Label }[];
  onRows: (rows: string | undefined) => void;
  issues: Map<string, string[]>;
}

function Issues({ list, id }: { list: string[] | undefined; id: string }) {
  if (!list?.length) return null;
  return (
    <div data-testid={`issues-${id}`}>
      {list.map((m, i) => (
        <Typography.Text key={i} type="danger" style={{ display: 'block', fontSize: 12 }}>
          {m}
        </Typography.Text>
      ))}
    </div>
  );
}

export function ReportSettings({ def, forms, onChange, onForm, tables, onRows, issues }: ReportSettingsProps) {
  const { t, label } = useI18n();
  const kind = def.chart?.kind ?? 'table';
  const setLabel = (lang: 'zh-CN' | 'en', v: string) => {
    const next: Label = { ...def.label, [lang]: v };
    if (!v) delete next[lang];
    onChange({ label: Object.keys(next).length ? next : undefined });
  };
  const sort0 = def.sort?.[0];
  const setSort = (by: string | undefined, desc: boolean) => {
    const rest = def.sort?.slice(1) ?? [];
    onChange({ sort: by ? [{ by, ...(desc ? { desc } : {}) }, ...rest] : rest.length ? rest : undefined });
  };
  return (
    <Form layout="vertical" size="small">
      <Form.Item label={t('reports.design.form')} style={{ marginBottom: 8 }}>
        <Select
          data-testid="report-form"
          showSearch
          optionFilterProp="label"
          value={def.form || undefined}
          options={forms.map((f) => ({ value: f.key, label: `${label(f.label, f.key)} (${f.key})` }))}
          onChange={onForm}
        />
        <Issues list={issues.get('form')} id="form" />
      </Form.Item>
      {(tables.length > 0 || def.rows) && (
        <Form.Item label={t('reports.design.rows')} style={{ marginBottom: 8 }}>
          <Select
            data-testid="report-rows"
            value={def.rows ?? ''}
            options={[
              { value: '', label: t('reports.design.records') },
              ...tables.map((s) => ({ value: s.key, label: `${label(s.label, s.key)} (${s.key})` })),
            ]}
            onChange={(v: string) => onRows(v || undefined)}
          />
          <Issues list={issues.get('rows')} id="rows" />
        </Form.Item>
      )}
      <Space wrap style={{ marginBottom: 8 }}>
        <Addon text={t('reports.design.labelZh')}>
          <Input data-testid="report-label-zh" value={def.label?.['zh-CN'] ?? ''} onChange={(e) => setLabel('zh-CN', e.target.value)} />
        </Addon>
        <Addon text={t('reports.design.labelEn')}>
          <Input data-testid="report-label-en" value={def.label?.en ?? ''} onChange={(e) => setLabel('en', e.target.value)} />
        </Addon>
      </Space>
      <Space wrap align="center" style={{ marginBottom: 8 }}>
        <span>{t('reports.design.chart')}</span>
        <Select
          data-testid="chart-kind"
          style={{ minWidth: 120 }}
          value={kind}
          options={CHART_KINDS.map((k) => ({ value: k, label: t(`reports.kind.${k}`) }))}
          onChange={(k: ChartKind) =>
            onChange({
              chart: {
                kind: k,
                // Presentation flags only where the kind has them.
                ...(def.chart?.stacked && ['bar', 'line', 'area'].includes(k) ? { stacked: true } : {}),
                ...(def.chart?.horizontal && ['bar', 'area'].includes(k) ? { horizontal: true } : {}),
              },
            })
          }
        />
        {(kind === 'bar' || kind === 'area' || kind === 'line') && (
          <Checkbox data-testid="chart-stacked" checked={def.chart?.stacked === true} onChange={(e) => onChange({ chart: { ...def.chart!, stacked: e.target.checked || undefined } })}>
            {t('reports.design.stacked')}
          </Checkbox>
        )}
        {(kind === 'bar' || kind === 'area') && (
          <Checkbox data-testid="chart-horizontal" checked={def.chart?.horizontal === true} onChange={(e) => onChange({ chart: { ...def.chart!, horizontal: e.target.checked || undefined } })}>
            {t('reports.design.horizontal')}
          </Checkbox>
        )}
      </Space>
      <Issues list={issues.get('chart')} id="chart" />
      <Space wrap align="center">
        <span>{t('reports.design.sort')}</span>
        <Select
          data-testid="report-sort"
          style={{ minWidth: 140 }}
          value={sort0?.by ?? ''}
          options={[
            { value: '', label: t('reports.design.sortDefault') },
            { value: '_rows', label: t('reports.design.sortRows') },
            ...columnKeys(def).map((k) => ({ value: k, label: k })),
          ]}
          onChange={(v: string) => setSort(v || undefined, sort0?.desc === true)}
        />
        {sort0 && (
          <Checkbox data-testid="report-sort-desc" checked={sort0.desc === true} onChange={(e) => setSort(sort0.by, e.target.checked)}>
            {t('reports.design.desc')}
          </Checkbox>
        )}
        <span>{t('reports.design.limit')}</span>
        <InputNumber
          data-testid="report-limit"
          min={1}
          precision={0}
          value={def.limit ?? null}
          onChange={(v) => onChange(typeof v === 'number' ? { limit: v } : { limit: undefined, others: undefined })}
        />
        {def.limit !== undefined && (
          <Checkbox data-testid="report-others" checked={def.others === true} onChange={(e) => onChange({ others: e.target.checked || undefined })}>
            {t('reports.design.others')}
          </Checkbox>
        )}
      </Space>
      <Issues list={issues.get('sort')} id="sort" />
      <Issues list={issues.get('limit')} id="limit" />
    </Form>
  );
}
