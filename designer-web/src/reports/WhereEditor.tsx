// A measure's `where` in the report designer ("count where…", "share of rows where…"):
// condition rows — field, operator, value, as the report filter's — that all hold or any
// holds, compiled to JSON Logic. A `where` the rows cannot say (`hours_between`, nested
// groups, a field against a field, …) is shown as JSON, editable there, and kept as it is
// until edited; "Edit as JSON" turns any `where` into its text.
//
// data-testid (i = the measure's index, j = the row's): measure-where-<i> (the editor),
// measure-where-<i>-join, measure-where-<i>-field-<j>, measure-where-<i>-op-<j>,
// measure-where-<i>-value-<j>, measure-where-<i>-remove-<j>, measure-where-<i>-add,
// measure-where-<i>-to-json, measure-where-<i>-json (the text), measure-where-<i>-to-visual,
// measure-where-<i>-complex (the note on a `where` the rows cannot say)
import { useMemo } from 'react';
import { Button, Input, Select, Space, Typography } from 'antd';
import { CloseOutlined, PlusOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n/index.tsx';
import { ConditionInputs, filterOpsFor } from './ConditionInputs.tsx';
import { WHERE_JOINS, compileRow, compileWhere, needsValue, parseWhere, parseWhereText, type FilterRow, type WhereJoin, type WhereRows } from './conditions.ts';
import type { DraftMeasure, PaletteField } from './draft.ts';

export interface WhereEditorProps {
  index: number;
  measure: DraftMeasure;
  /** The fields a condition may name (the palette's). */
  fields: PaletteField[];
  onChange: (patch: Partial<DraftMeasure>) => void;
}

export function WhereEditor(p: WhereEditorProps) {
  const edit = p.measure.whereEdit;
  const rows = edit ? ('rows' in edit ? edit.rows : null) : parseWhere(p.measure.where);
  return rows ? <WhereRowsEditor {...p} rows={rows} /> : <WhereJson {...p} />;
}

const box: React.CSSProperties = { flex: '1 1 100%', display: 'flex', flexDirection: 'column', gap: 4 };
const line: React.CSSProperties = { display: 'flex', gap: 6, alignItems: 'center', flexWrap: 'wrap' };

function whereText(where: unknown): string {
  return where === undefined ? '' : JSON.stringify(where, null, 2);
}

function WhereRowsEditor(p: WhereEditorProps & { rows: WhereRows }) {
  const { t, label } = useI18n();
  const { measure: m, rows } = p;
  const id = `measure-where-${p.index}`;
  const byPath = useMemo(() => new Map(p.fields.map((f) => [f.path, f])), [p.fields]);
  const numeric = (path: string) => byPath.get(path)?.numeric === true;
  const set = (next: WhereRows) => p.onChange({ whereEdit: { rows: next }, where: compileWhere(next, (path) => byPath.get(path)) });
  const setRow = (j: number, patch: Partial<FilterRow>) => set({ ...rows, rows: rows.rows.map((r, k) => (k === j ? { ...r, ...patch } : r)) });
  const setField = (j: number, path: string) => {
    const ops = filterOpsFor(byPath.get(path));
    const op = rows.rows[j]!.op;
    setRow(j, { field: path, op: ops.includes(op) ? op : 'eq', value: undefined });
  };
  const fieldOptions = p.fields.map((f) => ({ value: f.path, label: `${label(f.label, f.path)} (${f.path})` }));
  const add = (
    <Button size="small" type="dashed" icon={<PlusOutlined />} data-testid={`${id}-add`} onClick={() => set({ ...rows, rows: [...rows.rows, { field: '', op: 'eq' }] })}>
      {t('reports.design.whereAdd')}
    </Button>
  );
  // No condition on a count or a value: just the button, beside the other settings.
  if (rows.rows.length === 0 && m.agg !== 'share')
    return (
      <span data-testid={id} title={t('reports.design.where')}>
        {add}
      </span>
    );
  return (
    <div data-testid={id} style={box}>
      <div style={line}>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t(m.agg === 'share' ? 'reports.design.whereShare' : 'reports.design.where')}
        </Typography.Text>
        {rows.rows.length > 1 && (
          <Select
            size="small"
            data-testid={`${id}-join`}
            aria-label={t('reports.design.whereJoinAria')}
            value={rows.join}
            options={WHERE_JOINS.map((j) => ({ value: j, label: t(`reports.design.whereJoin.${j}`) }))}
            onChange={(join: WhereJoin) => set({ ...rows, join })}
          />
        )}
      </div>
      {rows.rows.map((r, j) => (
        <div key={j} style={{ ...line, paddingLeft: 8 }}>
          <Select
            size="small"
            showSearch
            optionFilterProp="label"
            style={{ minWidth: 160 }}
            data-testid={`${id}-field-${j}`}
            aria-label={t('reports.design.whereField')}
            placeholder={t('reports.design.whereField')}
            status={r.field ? undefined : 'error'}
            value={r.field || undefined}
            options={fieldOptions}
            onChange={(v: string) => setField(j, v)}
          />
          {r.field && (
            <ConditionInputs
              row={r}
              field={byPath.get(r.field)}
              opTestId={`${id}-op-${j}`}
              valueTestId={`${id}-value-${j}`}
              invalid={needsValue(r.op) && compileRow(r, numeric(r.field)) === null}
              onChange={(patch) => setRow(j, patch)}
            />
          )}
          <Button
            size="small"
            type="text"
            icon={<CloseOutlined />}
            data-testid={`${id}-remove-${j}`}
            aria-label={t('common.remove')}
            onClick={() => set({ ...rows, rows: rows.rows.filter((_, k) => k !== j) })}
          />
        </div>
      ))}
      <Space size={4} wrap>
        {add}
        <Button size="small" type="link" data-testid={`${id}-to-json`} onClick={() => p.onChange({ whereEdit: { json: whereText(m.where) } })}>
          {t('reports.design.whereJson')}
        </Button>
      </Space>
    </div>
  );
}

function WhereJson(p: WhereEditorProps) {
  const { t } = useI18n();
  const { measure: m } = p;
  const id = `measure-where-${p.index}`;
  const edit = m.whereEdit;
  const text = edit && 'json' in edit ? edit.json : whereText(m.where);
  const parsed = parseWhereText(text);
  const visual = parsed ? parseWhere(parsed.logic) : null;
  return (
    <div data-testid={id} style={box}>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t(m.agg === 'share' ? 'reports.design.whereShare' : 'reports.design.where')} (JSON Logic)
      </Typography.Text>
      <Input.TextArea
        data-testid={`${id}-json`}
        aria-label={t('reports.design.whereJsonAria')}
        autoSize={{ minRows: 2, maxRows: 8 }}
        style={{ fontFamily: 'monospace', fontSize: 12 }}
        status={parsed ? undefined : 'error'}
        value={text}
        onChange={(e) => {
          const next = parseWhereText(e.target.value);
          p.onChange({ whereEdit: { json: e.target.value }, ...(next ? { where: next.logic } : {}) });
        }}
      />
      {parsed && !visual && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid={`${id}-complex`}>
          {t('reports.design.whereComplex')}
        </Typography.Text>
      )}
      {visual && (
        <Space size={4}>
          <Button size="small" type="link" data-testid={`${id}-to-visual`} onClick={() => p.onChange({ whereEdit: { rows: visual }, where: parsed!.logic })}>
            {t('reports.design.whereVisual')}
          </Button>
        </Space>
      )}
    </div>
  );
}
