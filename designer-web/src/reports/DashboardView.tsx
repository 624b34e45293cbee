// A dashboard: shared filters above a 12-column grid of report widgets; each widget runs
// its report with the shared filters mapped to its fields, and links to the report page.
// At phone width the widgets stack in one column, in reading order.
//
// data-testid: dashboard-filters, dashboard-filter-<key> (around a date range picker),
// dashboard-grid, dashboard-widget-<i>, widget-link-<i>, widget-error-<i>
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Alert, Card, DatePicker, Empty, Space, Spin, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useI18n } from '../i18n/index.tsx';
import { drillPath, errorText, getReport, runReport } from './api.ts';
import { GRID_COLUMNS, GRID_ROW_PX, dateRange, gridArea, stackOrder, widgetFilter, type FilterValues } from './dashboard.ts';
import { PHONE, useLookup, useMedia } from './hooks.ts';
import { ReportView } from './ReportView.tsx';
import type { DashboardDefinition, ReportDefinition, RunResult, Widget } from './types.ts';

export function DashboardView({ app, def }: { app: string; def: DashboardDefinition }) {
  const { t, label } = useI18n();
  const phone = useMedia(PHONE);
  const [values, setValues] = useState<FilterValues>({});
  const filters = def.filters ?? [];
  const order = useMemo(() => stackOrder(def.widgets), [def.widgets]);

  return (
    <div>
      {filters.length > 0 && (
        <Space wrap data-testid="dashboard-filters" style={{ marginBottom: 12 }}>
          {filters.map((f) => (
            <Space key={f.key} data-testid={`dashboard-filter-${f.key}`}>
              <Typography.Text>{label(f.label, f.key)}</Typography.Text>
              <DatePicker.RangePicker
                allowClear
                onChange={(v: [Dayjs | null, Dayjs | null] | null) => {
                  const [a, b] = v ?? [null, null];
                  setValues((old) => ({ ...old, [f.key]: a && b ? dateRange(a.format('YYYY-MM-DD'), b.format('YYYY-MM-DD')) : undefined }));
                }}
              />
            </Space>
          ))}
        </Space>
      )}
      {def.widgets.length === 0 && <Empty description={t('dashboards.empty')} />}
      <div
        data-testid="dashboard-grid"
        style={
          phone
            ? { display: 'flex', flexDirection: 'column', gap: 12 }
            : { display: 'grid', gridTemplateColumns: `repeat(${GRID_COLUMNS}, minmax(0, 1fr))`, gridAutoRows: GRID_ROW_PX, gap: 12 }
        }
      >
        {order.map((i) => {
          const w = def.widgets[i]!;
          return (
            <div key={i} style={phone ? { height: w.h * GRID_ROW_PX } : gridArea(w)}>
              <WidgetCard app={app} index={i} widget={w} filter={widgetFilter(def, w, values)} />
            </div>
          );
        })}
      </div>
    </div>
  );
}

function WidgetCard({ app, index, widget, filter }: { app: string; index: number; widget: Widget; filter: unknown }) {
  const { t, label } = useI18n();
  const navigate = useNavigate();
  const [def, setDef] = useState<ReportDefinition | null>(null);
  const [result, setResult] = useState<RunResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const filterJson = JSON.stringify(filter ?? null);

  useEffect(() => {
    void getReport(app, widget.report)
      .then(setDef)
      .catch(() => setDef(null));
  }, [app, widget.report]);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    const f = JSON.parse(filterJson) as unknown;
    runReport(app, widget.report, f === null ? undefined : f, ctl.signal)
      .then(setResult)
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setError(errorText(e));
      });
    return () => ctl.abort();
  }, [app, widget.report, filterJson]);

  const form = result?.form ?? def?.form;
  const lookup = useLookup(app, form, def);
  const title = label(def?.label, widget.report);
  const bodyHeight = widget.h * GRID_ROW_PX - 58;

  return (
    <Card
      size="small"
      data-testid={`dashboard-widget-${index}`}
      style={{ height: '100%', display: 'flex', flexDirection: 'column' }}
      styles={{ body: { flex: 1, minHeight: 0, overflow: 'auto', padding: 8 } }}
      title={
        <Link to={`/apps/${app}/reports/${widget.report}`} data-testid={`widget-link-${index}`} title={t('reports.view.openReport')}>
          {title}
        </Link>
      }
    >
      {error && <Alert type="error" message={error} data-testid={`widget-error-${index}`} />}
      {!result && !error && <Spin />}
      {result && form && (
        <ReportView
          result={result}
          definition={def}
          lookup={lookup}
          title={title}
          height={Math.max(120, bodyHeight - (result.withheld?.length ? 30 : 0))}
          onDrill={(d) => navigate(drillPath(app, form, d))}
        />
      )}
    </Card>
  );
}
