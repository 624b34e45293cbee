// A report run as the user sees it: the chart (or number cards, or a pivot), the withheld
// note, and, under it, the table of rows with a drill-down link per row. A click on a
// measure's cell (table, pivot, chart item) lists that cell's records: those of its row,
// narrowed by the measure's `where` when the server sent the cell's own drill.
//
// data-testid: report-chart (the chart, cards or pivot), report-withheld, report-rows,
// report-row-<i> (a row; clicking it drills down to the row's records), report-cell-<i>-<key>
// (the cell of column <key> in row <i>; a measure's cell drills down to its own records),
// report-drill-<i> (the row's link), report-number-<key>, report-pivot, pivot-cell-<r>-<c>
// (drills down to the cell's records)
import { useMemo } from 'react';
import { Link } from 'react-router';
import { Card, Empty, Statistic, Table, Tooltip, Typography } from 'antd';
import { useI18n } from '../i18n/index.tsx';
import { EChart } from './EChart.tsx';
import { cellDrill, chartSpec, drillOf, toChartOption, toNumberCards, toPivot, toTable, type ChartOption, type TableRow } from './chart.ts';
import { withheldText } from './api.ts';
import type { FieldLookup } from './format.ts';
import type { ReportDefinition, RunResult } from './types.ts';

export interface ReportViewProps {
  result: RunResult;
  definition?: ReportDefinition | null;
  lookup?: FieldLookup | undefined;
  /** Height of the chart area. */
  height?: number | string;
  /** Show the rows table under the chart. */
  rows?: boolean;
  /** A row's drill-down link (none: no drill-down). */
  drillHref?: (drill: unknown) => string;
  /** Drill into a row (click on a bar, slice, cell or row). */
  onDrill?: (drill: unknown) => void;
  title?: string;
  /** Rows per page of the rows table (50). */
  pageSize?: number;
}

export function ReportView(p: ReportViewProps) {
  const { t, locale } = useI18n();
  const { result, definition, lookup } = p;
  const spec = chartSpec(result, definition);
  const small = typeof p.height === 'number' && p.height < 240;
  const option = useMemo(() => {
    const o = toChartOption(result, definition, locale, lookup);
    // A small widget has no room for a legend (the tooltip names the series).
    if (!o || !small) return o;
    return { ...o, legend: { show: false }, ...(o.grid ? { grid: { ...(o.grid as object), top: 8 } } : {}) };
  }, [result, definition, locale, lookup, small]);
  const table = useMemo(() => toTable(result, definition, locale, lookup), [result, definition, locale, lookup]);
  const withheld = withheldText(result, locale, lookup);
  const height = p.height ?? naturalHeight(option);
  const drill = (d: unknown) => {
    if (d !== undefined && d !== null) p.onDrill?.(d);
  };

  let chart: React.ReactNode = null;
  if (result.rows.length === 0) chart = <Empty description={t('reports.view.noData')} />;
  else if (option)
    chart = (
      <EChart
        option={option}
        height={height}
        ariaLabel={t('reports.view.chartAria', { title: p.title ?? '' })}
        {...(p.onDrill ? { onItemClick: (data: unknown) => drill(drillOf(result, data)) } : {})}
      />
    );
  else if (spec.kind === 'number') chart = <NumberCards {...p} />;
  else if (spec.kind === 'pivot') chart = <PivotTable {...p} onCell={(i, measure) => drill(cellDrill(result, i, measure))} />;

  return (
    <div>
      {withheld && (
        <Typography.Paragraph type="secondary" data-testid="report-withheld" style={{ marginBottom: 8 }}>
          {withheld}
        </Typography.Paragraph>
      )}
      {chart && (
        <div data-testid="report-chart" data-kind={spec.kind} style={{ minHeight: option ? height : undefined, overflow: 'auto' }}>
          {chart}
        </div>
      )}
      {(p.rows || (!chart && spec.kind === 'table')) && (
        <Table<TableRow>
          data-testid="report-rows"
          size="small"
          rowKey="index"
          style={{ marginTop: 12 }}
          scroll={{ x: 'max-content' }}
          pagination={table.rows.length > (p.pageSize ?? 50) ? { pageSize: p.pageSize ?? 50, showSizeChanger: false } : false}
          dataSource={table.rows}
          locale={{ emptyText: t('reports.view.noData') }}
          onRow={(r) => ({
            'data-testid': `report-row-${r.index}`,
            onClick: r.drill && p.onDrill ? () => drill(r.drill) : undefined,
            style: r.drill && p.onDrill ? { cursor: 'pointer' } : undefined,
          })}
          columns={[
            ...table.columns.map((c) => ({
              key: c.key,
              title: c.label,
              align: c.kind === 'measure' ? ('right' as const) : undefined,
              onCell: (r: TableRow) => {
                // A measure's cell drills to its own records (the row's, or fewer); a
                // dimension's cell leaves the click to the row.
                const d = c.kind === 'measure' && p.onDrill ? cellDrill(result, r.index, c.key) : undefined;
                return {
                  'data-testid': `report-cell-${r.index}-${c.key}`,
                  onClick:
                    d !== undefined && d !== null
                      ? (e: React.MouseEvent) => {
                          e.stopPropagation();
                          drill(d);
                        }
                      : undefined,
                };
              },
              render: (_: unknown, r: TableRow) => (c.kind === 'dimension' && r.others ? <Typography.Text italic>{r.cells[c.key]}</Typography.Text> : r.cells[c.key]),
            })),
            {
              key: '_rows',
              title: t('reports.view.rows'),
              align: 'right' as const,
              render: (_: unknown, r: TableRow) =>
                p.drillHref && r.drill ? (
                  <Link to={p.drillHref(r.drill)} data-testid={`report-drill-${r.index}`} onClick={(e) => e.stopPropagation()}>
                    {r.rows.toLocaleString(locale)}
                  </Link>
                ) : p.drillHref && !r.others ? (
                  <Tooltip title={t('reports.view.noDrill')}>
                    <span>{r.rows.toLocaleString(locale)}</span>
                  </Tooltip>
                ) : (
                  r.rows.toLocaleString(locale)
                ),
            },
          ]}
        />
      )}
    </div>
  );
}

/** A horizontal bar chart grows with its categories; others are 360 px high. */
function naturalHeight(option: ChartOption | null): number {
  const y = option?.yAxis as { type?: string; data?: unknown[] } | undefined;
  if (y?.type === 'category' && option?.xAxis && (option.xAxis as { type?: string }).type === 'value') return Math.max(360, (y.data?.length ?? 0) * 28 + 60);
  return 360;
}

function NumberCards(p: ReportViewProps) {
  const { locale } = useI18n();
  const cards = toNumberCards(p.result, p.definition, locale, p.lookup);
  return (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12 }}>
      {cards.map((c) => (
        <Card key={c.key} size="small" data-testid={`report-number-${c.key}`} style={{ flex: '1 1 96px', minWidth: 0 }}>
          <Statistic title={c.label} value={c.text} />
        </Card>
      ))}
    </div>
  );
}

function PivotTable(p: ReportViewProps & { onCell: (row: number, measure: string) => void }) {
  const { locale } = useI18n();
  const pivot = toPivot(p.result, p.definition, locale, p.lookup);
  const cell: React.CSSProperties = { padding: '4px 8px', borderBottom: '1px solid #f0f0f0', whiteSpace: 'nowrap' };
  // With several measures: a header row of second-dimension values spanning their measures.
  const groups: { label: string; span: number }[] = [];
  for (const c of pivot.columns) {
    if (c.group === undefined) continue;
    const last = groups[groups.length - 1];
    if (last && last.label === c.group) last.span += 1;
    else groups.push({ label: c.group, span: 1 });
  }
  return (
    <table data-testid="report-pivot" style={{ borderCollapse: 'collapse', width: '100%', fontSize: 13 }}>
      <thead style={{ background: '#fafafa' }}>
        {groups.length > 0 && (
          <tr>
            <th rowSpan={2} style={{ ...cell, textAlign: 'left' }}>
              {pivot.corner}
            </th>
            {groups.map((g, gi) => (
              <th key={gi} colSpan={g.span} style={{ ...cell, textAlign: 'center' }}>
                {g.label}
              </th>
            ))}
          </tr>
        )}
        <tr>
          {groups.length === 0 && <th style={{ ...cell, textAlign: 'left' }}>{pivot.corner}</th>}
          {pivot.columns.map((c, ci) => (
            <th key={ci} style={{ ...cell, textAlign: 'right' }}>
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {pivot.rows.map((r, ri) => (
          <tr key={ri}>
            <th style={{ ...cell, textAlign: 'left', fontWeight: 500 }}>{r.label}</th>
            {r.cells.map((c, ci) => {
              const measure = pivot.columns[ci]!.measure;
              const drillable = c !== null && p.onDrill !== undefined && cellDrill(p.result, c.row, measure) !== undefined;
              return (
                <td
                  key={ci}
                  data-testid={`pivot-cell-${ri}-${ci}`}
                  style={{ ...cell, textAlign: 'right', cursor: drillable ? 'pointer' : undefined, color: drillable ? '#1677ff' : undefined }}
                  onClick={drillable ? () => p.onCell(c.row, measure) : undefined}
                >
                  {c?.text ?? ''}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
