// `/apps/:app/dashboards/:key/design` (administrators): name and roles of a dashboard,
// its shared filters (date ranges; choices of values), and its widgets: which report,
// where in the 12-column grid (dragged and resized in the layout, or by number and arrow
// buttons), and which field of the report's form each shared filter applies to (a date
// field for a date range, a text-valued one for a choice). A key without a saved
// dashboard starts a new one.
//
// data-testid: dashboard-builder, dashboard-label-zh, dashboard-label-en, dashboard-roles,
// dashboard-add-filter (a date range), dashboard-add-choice-filter, shared-filter-<i>,
// shared-filter-type-<i>, shared-filter-key-<i>, shared-filter-label-zh-<i>,
// shared-filter-label-en-<i>, shared-filter-remove-<i>, dashboard-add-widget, widget-<i>,
// widget-report-<i>, widget-x-<i>, widget-y-<i>, widget-w-<i>, widget-h-<i>,
// widget-left-<i>, widget-right-<i>, widget-up-<i>, widget-down-<i>,
// widget-filter-<i>-<key>, widget-remove-<i>, widget-issues-<i>, layout-preview,
// layout-box-<i>, dashboard-save, dashboard-view, dashboard-errors
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, App as AntApp, Button, Card, Col, Input, InputNumber, Row, Select, Space, Spin, Tag, Typography } from 'antd';
import { ArrowDownOutlined, ArrowLeftOutlined, ArrowRightOutlined, ArrowUpOutlined, DeleteOutlined, EyeOutlined, PlusOutlined, SaveOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api/client.ts';
import type { Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { Addon } from './Addon.tsx';
import { LayoutEditor } from './LayoutEditor.tsx';
import { errorText, getDashboard, listReports, putDashboard } from './api.ts';
import {
  GRID_COLUMNS,
  addChoiceFilter,
  addSharedFilter,
  addWidget,
  mapWidgetFilter,
  removeSharedFilter,
  removeWidget,
  updateSharedFilter,
  updateWidget,
  validateDashboard,
  type FieldResolver,
} from './dashboard.ts';
import { resolveField } from './dashboardFilters.ts';
import { useReportForms, type ReportForm } from './hooks.ts';
import type { DashboardDefinition, ReportSummary, Widget } from './types.ts';

export default function DashboardBuilderPage() {
  const { app = '', key = '' } = useParams();
  const [def, setDef] = useState<DashboardDefinition | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getDashboard(app, key)
      .then((d) => setDef(d ? { ...d, widgets: d.widgets ?? [] } : { roles: [], filters: [], widgets: [] }))
      .catch((e: unknown) => setError(errorText(e)));
  }, [app, key]);
  if (error) return <Alert type="error" message={error} />;
  if (!def) return <Spin />;
  return <Builder key={`${app}/${key}`} app={app} dashKey={key} initial={def} />;
}

function Builder({ app, dashKey, initial }: { app: string; dashKey: string; initial: DashboardDefinition }) {
  const { t, label } = useI18n();
  const { message } = AntApp.useApp();
  const [def, setDefState] = useState(initial);
  const [reports, setReports] = useState<ReportSummary[]>([]);
  const [roles, setRoles] = useState<{ key: string; label?: Label }[]>([]);
  const [serverErrors, setServerErrors] = useState<{ pointer: string; message: string }[]>([]);
  const [general, setGeneral] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [tried, setTried] = useState(false);
  const forms = useReportForms(app, def.widgets);
  const fieldOf: FieldResolver = useCallback(
    (report, path) => {
      const f = forms[report];
      return f ? resolveField(f.schemas, f.form, path) : undefined;
    },
    [forms],
  );

  useEffect(() => {
    listReports(app)
      .then(setReports)
      .catch(() => setReports([]));
    api<{ items: { key: string; label?: Label }[] }>(`/apps/${app}/roles`)
      .then((r) => setRoles(r.items))
      .catch(() => setRoles([]));
  }, [app]);

  const setDef = (fn: (d: DashboardDefinition) => DashboardDefinition) => {
    setDefState(fn);
    setServerErrors([]);
    setGeneral(null);
  };
  const reportKeys = reports.map((r) => r.key);
  const local = useMemo(() => validateDashboard(def, reportKeys.length ? reportKeys : undefined, fieldOf), [def, reportKeys, fieldOf]);
  const issues = useMemo(() => {
    const all = [...local.map((i) => ({ pointer: i.pointer, message: t(`dashboards.issue.${i.code}`, i.vars) })), ...serverErrors];
    const byWidget = new Map<string, string[]>();
    for (const i of all) {
      const m = /^(?:\/definition)?\/(widgets|filters)\/(\d+)/.exec(i.pointer);
      const k = m ? `${m[1]}/${m[2]}` : '';
      byWidget.set(k, [...(byWidget.get(k) ?? []), i.message]);
    }
    return byWidget;
  }, [local, serverErrors, t]);
  const reportLabel = (k: string) => label(reports.find((r) => r.key === k)?.label, k);

  const save = async () => {
    setTried(true);
    if (local.length) {
      void message.error(t('dashboards.builder.notSaved'));
      return;
    }
    setSaving(true);
    try {
      await putDashboard(app, dashKey, def);
      setSaved(true);
      void message.success(t('dashboards.builder.saved'));
    } catch (e) {
      if (e instanceof ApiError && e.details.length) setServerErrors(e.details.map((d) => ({ pointer: d.pointer, message: d.message })));
      else setGeneral(errorText(e));
    } finally {
      setSaving(false);
    }
  };

  const setLabel = (lang: 'zh-CN' | 'en', v: string) =>
    setDef((d) => {
      const next: Label = { ...d.label, [lang]: v };
      if (!v) delete next[lang];
      const { label: _old, ...rest } = d;
      void _old;
      return Object.keys(next).length ? { label: next, ...rest } : rest;
    });
  const move = (i: number, dx: number, dy: number) => setDef((d) => updateWidget(d, i, { x: d.widgets[i]!.x + dx, y: d.widgets[i]!.y + dy }));
  const generalIssues = [general, ...(tried || serverErrors.length ? (issues.get('') ?? []) : [])].filter(Boolean);

  return (
    <div data-testid="dashboard-builder">
      <Space wrap style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }}>
        <Space wrap>
          <Link to={`/apps/${app}/reports`}>{t('common.back')}</Link>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {t('dashboards.builder.title', { name: label(def.label, dashKey) })}
          </Typography.Title>
        </Space>
        <Space wrap>
          {saved && (
            <Link to={`/apps/${app}/dashboards/${dashKey}`} data-testid="dashboard-view">
              <Button icon={<EyeOutlined />}>{t('dashboards.builder.view')}</Button>
            </Link>
          )}
          <Button type="primary" icon={<SaveOutlined />} loading={saving} data-testid="dashboard-save" onClick={() => void save()}>
            {t('common.save')}
          </Button>
        </Space>
      </Space>
      {generalIssues.length > 0 && <Alert type="error" data-testid="dashboard-errors" style={{ marginBottom: 12 }} message={generalIssues.join('; ')} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <Card size="small" style={{ marginBottom: 12 }}>
            <Space orientation="vertical" style={{ width: '100%' }}>
              <Space wrap>
                <Addon text={t('dashboards.builder.labelZh')}>
                  <Input data-testid="dashboard-label-zh" value={def.label?.['zh-CN'] ?? ''} onChange={(e) => setLabel('zh-CN', e.target.value)} />
                </Addon>
                <Addon text={t('dashboards.builder.labelEn')}>
                  <Input data-testid="dashboard-label-en" value={def.label?.en ?? ''} onChange={(e) => setLabel('en', e.target.value)} />
                </Addon>
              </Space>
              <Typography.Text>{t('dashboards.builder.roles')}</Typography.Text>
              <Select
                mode="tags"
                data-testid="dashboard-roles"
                style={{ width: '100%' }}
                value={def.roles ?? []}
                options={roles.map((r) => ({ value: r.key, label: `${label(r.label, r.key)} (${r.key})` }))}
                onChange={(v: string[]) => setDef((d) => ({ ...d, roles: v }))}
              />
            </Space>
          </Card>
          <Card
            size="small"
            title={t('dashboards.builder.filters')}
            style={{ marginBottom: 12 }}
            extra={
              <Space wrap size={4}>
                <Button size="small" icon={<PlusOutlined />} data-testid="dashboard-add-filter" onClick={() => setDef(addSharedFilter)}>
                  {t('dashboards.builder.addFilter')}
                </Button>
                <Button size="small" icon={<PlusOutlined />} data-testid="dashboard-add-choice-filter" onClick={() => setDef(addChoiceFilter)}>
                  {t('dashboards.builder.addChoiceFilter')}
                </Button>
              </Space>
            }
          >
            {(def.filters ?? []).map((f, i) => (
              <div key={i} data-testid={`shared-filter-${i}`} style={{ marginBottom: 8 }}>
                <Space wrap>
                  <Tag data-testid={`shared-filter-type-${i}`}>{f.type === 'select' ? t('dashboards.builder.choice') : t('dashboards.builder.dateRange')}</Tag>
                  <Addon text={t('dashboards.builder.filterKey')}>
                    <Input
                      style={{ width: 140 }}
                      data-testid={`shared-filter-key-${i}`}
                      value={f.key}
                      onChange={(e) => setDef((d) => updateSharedFilter(d, i, { key: e.target.value.trim() }))}
                    />
                  </Addon>
                  {(['zh-CN', 'en'] as const).map((lang) => (
                    <Addon key={lang} text={lang === 'en' ? 'EN' : '中'}>
                      <Input
                        style={{ width: 140 }}
                        data-testid={`shared-filter-label-${lang === 'en' ? 'en' : 'zh'}-${i}`}
                        value={f.label?.[lang] ?? ''}
                        onChange={(e) => setDef((d) => updateSharedFilter(d, i, { label: { ...f.label, [lang]: e.target.value } }))}
                      />
                    </Addon>
                  ))}
                  <Button size="small" danger icon={<DeleteOutlined />} data-testid={`shared-filter-remove-${i}`} aria-label={t('common.remove')} onClick={() => setDef((d) => removeSharedFilter(d, f.key))} />
                </Space>
                <WidgetIssues list={issues.get(`filters/${i}`)} id={`shared-filter-issues-${i}`} />
              </div>
            ))}
          </Card>
          <Card
            size="small"
            title={t('dashboards.builder.widgets')}
            extra={
              <Select
                size="small"
                style={{ minWidth: 200 }}
                data-testid="dashboard-add-widget"
                showSearch
                optionFilterProp="label"
                placeholder={t('dashboards.builder.addWidget')}
                value={null}
                options={reports.map((r) => ({ value: r.key, label: reportLabel(r.key) }))}
                onChange={(r: string) => setDef((d) => addWidget(d, r))}
              />
            }
          >
            {def.widgets.map((w, i) => (
              <WidgetEditor
                key={i}
                index={i}
                widget={w}
                def={def}
                reports={reports}
                form={forms[w.report]}
                issues={issues.get(`widgets/${i}`)}
                onChange={(patch) => setDef((d) => updateWidget(d, i, patch))}
                onMap={(filter, field) => setDef((d) => mapWidgetFilter(d, i, filter, field))}
                onMove={(dx, dy) => move(i, dx, dy)}
                onRemove={() => setDef((d) => removeWidget(d, i))}
              />
            ))}
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('dashboards.builder.layout')}>
            <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12, marginBottom: 4 }}>
              {t('dashboards.builder.layoutHelp')}
            </Typography.Text>
            <LayoutEditor widgets={def.widgets} label={reportLabel} onChange={(i, patch) => setDef((d) => updateWidget(d, i, patch))} />
          </Card>
        </Col>
      </Row>
    </div>
  );
}

function WidgetIssues({ list, id }: { list: string[] | undefined; id: string }) {
  if (!list?.length) return null;
  return (
    <div data-testid={id}>
      {list.map((m, i) => (
        <Typography.Text key={i} type="danger" style={{ display: 'block', fontSize: 12 }}>
          {m}
        </Typography.Text>
      ))}
    </div>
  );
}

interface WidgetEditorProps {
  index: number;
  widget: Widget;
  def: DashboardDefinition;
  reports: ReportSummary[];
  form: ReportForm | undefined;
  issues: string[] | undefined;
  onChange: (patch: Partial<Widget>) => void;
  onMap: (filter: string, field: string | undefined) => void;
  onMove: (dx: number, dy: number) => void;
  onRemove: () => void;
}

function WidgetEditor(p: WidgetEditorProps) {
  const { t, label } = useI18n();
  const { widget: w, index: i } = p;
  const num = (k: 'x' | 'y' | 'w' | 'h', min: number, max?: number) => (
    <Addon text={k}>
      <InputNumber
        size="small"
        style={{ width: 64 }}
        min={min}
        max={max}
        precision={0}
        data-testid={`widget-${k}-${i}`}
        value={w[k]}
        onChange={(v) => typeof v === 'number' && p.onChange({ [k]: v })}
      />
    </Addon>
  );
  const arrows: [string, number, number, React.ReactNode, string][] = [
    ['left', -1, 0, <ArrowLeftOutlined key="l" />, 'moveLeft'],
    ['right', 1, 0, <ArrowRightOutlined key="r" />, 'moveRight'],
    ['up', 0, -1, <ArrowUpOutlined key="u" />, 'moveUp'],
    ['down', 0, 1, <ArrowDownOutlined key="d" />, 'moveDown'],
  ];
  return (
    <div data-testid={`widget-${i}`} style={{ border: `1px solid ${p.issues?.length ? '#ff4d4f' : '#f0f0f0'}`, borderRadius: 4, padding: 8, marginBottom: 8 }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Space wrap>
          <Typography.Text strong>{t('dashboards.builder.widget', { n: i + 1 })}</Typography.Text>
          <Select
            size="small"
            style={{ minWidth: 180 }}
            data-testid={`widget-report-${i}`}
            showSearch
            optionFilterProp="label"
            value={w.report || undefined}
            placeholder={t('dashboards.builder.pickReport')}
            options={p.reports.map((r) => ({ value: r.key, label: label(r.label, r.key) }))}
            onChange={(r: string) => p.onChange({ report: r })}
          />
        </Space>
        <Button size="small" danger icon={<DeleteOutlined />} data-testid={`widget-remove-${i}`} aria-label={t('common.remove')} onClick={p.onRemove} />
      </Space>
      <Space wrap style={{ marginTop: 6 }}>
        {num('x', 0, GRID_COLUMNS - 1)}
        {num('y', 0)}
        {num('w', 1, GRID_COLUMNS)}
        {num('h', 1)}
        {arrows.map(([name, dx, dy, icon, msg]) => (
          <Button key={name} size="small" icon={icon} data-testid={`widget-${name}-${i}`} aria-label={t(`dashboards.builder.${msg}`)} onClick={() => p.onMove(dx, dy)} />
        ))}
      </Space>
      {(p.def.filters ?? []).map((f) => {
        const fields = (f.type === 'select' ? p.form?.choiceFields : p.form?.dateFields) ?? [];
        const options = fields.map((x) => ({ value: x.path, label: `${label(x.label, x.path)} (${x.path})` }));
        const current = w.filters?.[f.key];
        // A mapping the list does not offer (a deeper join, a field of the wrong type) stays shown.
        if (current && !options.some((o) => o.value === current)) options.push({ value: current, label: current });
        return (
          <Space key={f.key} wrap style={{ marginTop: 6, display: 'flex' }}>
            <span>{t('dashboards.builder.mapFilter', { filter: label(f.label, f.key) })}</span>
            <Select
              size="small"
              allowClear
              showSearch
              optionFilterProp="label"
              style={{ minWidth: 160 }}
              data-testid={`widget-filter-${i}-${f.key}`}
              value={current ?? ''}
              options={[{ value: '', label: t('dashboards.builder.unmapped') }, ...options]}
              onChange={(v: string | undefined) => p.onMap(f.key, v || undefined)}
            />
          </Space>
        );
      })}
      <WidgetIssues list={p.issues} id={`widget-issues-${i}`} />
    </div>
  );
}
