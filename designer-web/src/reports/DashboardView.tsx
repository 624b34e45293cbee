// A dashboard: shared filters above a 12-column grid of report widgets; each widget runs
// its report with the shared filters mapped to its fields, and links to the report page.
// A date range filter is a range picker; a choice filter picks values of the field the
// first widget mapping it names (a select's options, staff, departments, or typed
// values). A widget runs again only when its own filter changes. At phone width the
// filters wrap and the widgets stack in one column, in reading order.
//
// data-testid: dashboard-filters, dashboard-filter-<key> (around a date range picker; a
// choice filter's select), dashboard-grid, dashboard-widget-<i>, widget-link-<i>,
// widget-error-<i>
import { useEffect, useMemo, useState, type CSSProperties } from 'react';
import { Link, useNavigate } from 'react-router';
import { Alert, Card, DatePicker, Empty, Select, Spin, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { directoryDepartments, directoryUsers } from '../forms/directory.ts';
import { useI18n } from '../i18n/index.tsx';
import { drillPath, errorText, getReport, runReport, schemasFor } from './api.ts';
import { GRID_COLUMNS, GRID_ROW_PX, dateRange, gridArea, stackOrder, widgetFilter, type FilterValues } from './dashboard.ts';
import { choiceSource, departmentChoices, firstMapping, userChoices, type Choice, type ChoiceSource } from './dashboardFilters.ts';
import { PHONE, useLookup, useMedia } from './hooks.ts';
import { ReportView } from './ReportView.tsx';
import type { DashboardDefinition, ReportDefinition, RunResult, Widget } from './types.ts';

export function DashboardView({ app, def }: { app: string; def: DashboardDefinition }) {
  const { t, label } = useI18n();
  const phone = useMedia(PHONE);
  const [values, setValues] = useState<FilterValues>({});
  const filters = def.filters ?? [];
  const order = useMemo(() => stackOrder(def.widgets), [def.widgets]);
  const set = (key: string, v: FilterValues[string]) => setValues((old) => ({ ...old, [key]: v }));
  const item: CSSProperties = { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 8, minWidth: 0, maxWidth: '100%', ...(phone ? { flex: '1 1 100%' } : {}) };

  return (
    <div>
      {filters.length > 0 && (
        <div data-testid="dashboard-filters" style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '8px 16px', marginBottom: 12 }}>
          {filters.map((f) =>
            f.type === 'select' ? (
              <div key={f.key} style={item}>
                <Typography.Text>{label(f.label, f.key)}</Typography.Text>
                <ChoiceFilter app={app} def={def} filterKey={f.key} phone={phone} value={values[f.key]} onChange={(v) => set(f.key, v)} />
              </div>
            ) : (
              <div key={f.key} data-testid={`dashboard-filter-${f.key}`} style={item}>
                <Typography.Text>{label(f.label, f.key)}</Typography.Text>
                <DatePicker.RangePicker
                  allowClear
                  onChange={(v: [Dayjs | null, Dayjs | null] | null) => {
                    const [a, b] = v ?? [null, null];
                    set(f.key, a && b ? dateRange(a.format('YYYY-MM-DD'), b.format('YYYY-MM-DD')) : undefined);
                  }}
                />
              </div>
            ),
          )}
        </div>
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

/** The values of a choice filter: the choices of the field of the first widget that maps
 * it; typed values (tags) when that field has no fixed choices or they cannot be read. */
function ChoiceFilter(p: {
  app: string;
  def: DashboardDefinition;
  filterKey: string;
  phone: boolean;
  value: FilterValues[string];
  onChange: (v: string[] | undefined) => void;
}) {
  const { t, locale } = useI18n();
  const mapping = firstMapping(p.def, p.filterKey);
  const report = mapping?.report;
  const field = mapping?.field;
  const [source, setSource] = useState<ChoiceSource | null>(null);
  const [options, setOptions] = useState<Choice[]>([]);

  useEffect(() => {
    let live = true;
    setSource(null);
    const load = async (): Promise<[ChoiceSource, Choice[]]> => {
      const form = report && field ? (await getReport(p.app, report))?.form : undefined;
      if (!form || !field) return [{ kind: 'tags' }, []];
      const s = choiceSource(await schemasFor(p.app, form, [field]), form, field, locale);
      if (s.kind === 'users') return [s, userChoices(await directoryUsers())];
      if (s.kind === 'departments') return [s, departmentChoices(await directoryDepartments())];
      return [s, s.kind === 'options' ? s.options : []];
    };
    load()
      .catch((): [ChoiceSource, Choice[]] => [{ kind: 'tags' }, []])
      .then(([s, list]) => {
        if (!live) return;
        setSource(s);
        setOptions(list);
      });
    return () => {
      live = false;
    };
  }, [p.app, report, field, locale]);

  const tags = source?.kind === 'tags';
  return (
    <Select
      mode={tags ? 'tags' : 'multiple'}
      allowClear
      showSearch
      optionFilterProp="label"
      maxTagCount="responsive"
      data-testid={`dashboard-filter-${p.filterKey}`}
      loading={!source}
      placeholder={tags ? t('dashboards.choiceTags') : t('dashboards.choiceAll')}
      style={p.phone ? { flex: 1, minWidth: 0, maxWidth: '100%' } : { minWidth: 200, maxWidth: 420 }}
      value={Array.isArray(p.value) ? p.value : []}
      options={options}
      onChange={(v: string[]) => p.onChange(v.length ? v : undefined)}
    />
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
