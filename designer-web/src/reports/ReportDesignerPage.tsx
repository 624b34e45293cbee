// `/apps/:app/reports/:key/design` (administrators): the report designer. Pick the source
// form, drag fields from the palette into Dimensions, Measures and Filters, choose the
// chart, watch the live preview (an unsaved run), save. A key without a saved report
// starts a new one (`?form=` preselects the source form).
//
// data-testid: report-designer, report-save, report-view, report-errors, report-preview,
// preview-error, measure-add-count (+ FieldPalette, ReportZones, ItemEditors, ReportSettings)
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { Alert, App as AntApp, Button, Card, Col, Empty, Row, Space, Spin, Typography } from 'antd';
import { EyeOutlined, PlusOutlined, SaveOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api/client.ts';
import type { FormSummary, Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { definitionPaths, errorText, formSchema, getReport, previewReport, putReport } from './api.ts';
import {
  addToZone,
  emptyDraft,
  derivedOperands,
  fromDefinition,
  moveItem,
  paletteFields,
  removeFromZone,
  rowPaletteFields,
  subTables,
  setDimensionSource,
  toDefinition,
  updateDimension,
  updateFilter,
  updateMeasure,
  type PaletteField,
  type ReportDraft,
  type Zone,
} from './draft.ts';
import { dimensionLabel, measureLabel, type FieldLookup } from './format.ts';
import { FieldPalette } from './FieldPalette.tsx';
import { FilterRowEditor } from './ConditionInputs.tsx';
import { DimensionEditor } from './DimensionEditor.tsx';
import { MeasureEditor } from './ItemEditors.tsx';
import { ReportDnd, DropZone, ZoneItem } from './ReportZones.tsx';
import { ReportSettings } from './ReportSettings.tsx';
import { ReportView } from './ReportView.tsx';
import type { ReportDefinition, RunResult } from './types.ts';
import { groupIssues, validateDraft } from './validate.ts';

const PREVIEW_DELAY_MS = 600;

export default function ReportDesignerPage() {
  const { app = '', key = '' } = useParams();
  const [params] = useSearchParams();
  const formParam = params.get('form') ?? '';
  const { t } = useI18n();
  const [initial, setInitial] = useState<ReportDraft | null>(null);
  const [forms, setForms] = useState<FormSummary[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items.filter((f) => f.published_version !== null)))
      .catch((e: unknown) => setError(errorText(e)));
    getReport(app, key, true)
      .then((def) => setInitial(def ? fromDefinition(def) : emptyDraft(formParam)))
      .catch((e: unknown) => setError(errorText(e)));
  }, [app, key, formParam]);

  if (error) return <Alert type="error" message={error} />;
  if (!initial) return <Spin />;
  return <Designer key={`${app}/${key}`} app={app} reportKey={key} initial={initial} forms={forms} title={t('reports.design.title', { name: key })} />;
}

interface DesignerProps {
  app: string;
  reportKey: string;
  initial: ReportDraft;
  forms: FormSummary[];
  title: string;
}

function Designer({ app, reportKey, initial, forms, title }: DesignerProps) {
  const { t, locale } = useI18n();
  const { message } = AntApp.useApp();
  const [draft, setDraftState] = useState<ReportDraft>(initial);
  const [rootFields, setRootFields] = useState<PaletteField[]>([]);
  const [expanded, setExpanded] = useState<Record<string, PaletteField[] | null>>({});
  const [serverErrors, setServerErrors] = useState<{ pointer: string; message: string }[]>([]);
  const [generalError, setGeneralError] = useState<string | null>(null);
  const [tried, setTried] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const form = draft.def.form;

  const setDraft = useCallback((fn: (d: ReportDraft) => ReportDraft) => {
    setDraftState(fn);
    setServerErrors([]);
    setGeneralError(null);
  }, []);

  // Palette: the source form's fields (and a sub-table's columns when the report counts
  // its rows); referenced forms on demand.
  const rowsOf = draft.def.rows;
  const [tables, setTables] = useState<{ key: string; label?: Label }[]>([]);
  useEffect(() => {
    setRootFields([]);
    setExpanded({});
    setTables([]);
    if (!form) return;
    let live = true;
    void formSchema(app, form).then((s) => {
      if (!live) return;
      setTables(subTables(s ?? undefined));
      setRootFields(rowsOf ? rowPaletteFields(s ?? undefined, rowsOf) : paletteFields(s ?? undefined));
    });
    return () => {
      live = false;
    };
  }, [app, form, rowsOf]);

  const allFields = useMemo(() => {
    const m = new Map<string, PaletteField>();
    for (const f of rootFields) m.set(f.path, f);
    for (const list of Object.values(expanded)) for (const f of list ?? []) m.set(f.path, f);
    return m;
  }, [rootFields, expanded]);
  const types = useCallback((p: string) => allFields.get(p), [allFields]);
  const lookup: FieldLookup = types;
  const fieldsRef = useRef(allFields);
  fieldsRef.current = allFields;

  const expand = useCallback(
    async (path: string) => {
      const ref = fieldsRef.current.get(path)?.ref;
      if (!ref) return;
      setExpanded((e) => (path in e ? e : { ...e, [path]: null }));
      const schema = await formSchema(app, ref);
      const list = paletteFields(schema ?? undefined, path);
      fieldsRef.current = new Map([...fieldsRef.current, ...list.map((f) => [f.path, f] as const)]);
      setExpanded((e) => ({ ...e, [path]: list }));
    },
    [app],
  );
  const toggle = (path: string) => {
    if (path in expanded) {
      setExpanded((e) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== path && !k.startsWith(`${path}.`))));
    } else void expand(path);
  };

  // Open the references a saved definition already goes through.
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current || rootFields.length === 0) return;
    opened.current = true;
    const prefixes = new Set<string>();
    for (const p of definitionPaths(toDefinition(initial))) {
      const segs = p.split('.');
      for (let i = 1; i < segs.length; i++) prefixes.add(segs.slice(0, i).join('.'));
    }
    void (async () => {
      for (const p of [...prefixes].sort((a, b) => a.split('.').length - b.split('.').length)) await expand(p);
    })();
  }, [rootFields, initial, expand]);

  const definition = useMemo(() => toDefinition(draft, types), [draft, types]);
  const localIssues = useMemo(() => validateDraft(draft, rootFields.length ? types : undefined), [draft, types, rootFields]);
  const issues = useMemo(() => {
    const local = localIssues
      .filter((i) => tried || !['/form', '/measures'].includes(i.pointer))
      .map((i) => ({ pointer: i.pointer, message: t(`reports.design.issue.${i.code}`, i.vars) }));
    const grouped = groupIssues([...local, ...serverErrors]);
    return new Map([...grouped].map(([k, v]) => [k, v.map((x) => x.message)]));
  }, [localIssues, serverErrors, tried, t]);

  const preview = usePreview(app, definition, localIssues.length === 0);

  const save = async () => {
    setTried(true);
    if (localIssues.length) {
      void message.error(t('reports.design.notSaved'));
      return;
    }
    setSaving(true);
    try {
      await putReport(app, reportKey, definition);
      setSaved(true);
      void message.success(t('reports.design.saved'));
    } catch (e) {
      if (e instanceof ApiError && e.details.length) {
        setServerErrors(e.details.map((d) => ({ pointer: d.pointer, message: d.message })));
        void message.error(t('reports.design.notSaved'));
      } else setGeneralError(errorText(e));
    } finally {
      setSaving(false);
    }
  };

  const nameOf = (path: string) => dimensionLabel({ field: path }, locale, lookup);
  const fieldList = useMemo(() => [...allFields.values()], [allFields]);
  const zoneIssues = (k: string) => issues.get(k);
  const sizes = { dimensions: draft.def.dimensions.length, measures: draft.def.measures.length, filters: draft.filters.length };
  const remove = (zone: Zone, i: number) => setDraft((d) => removeFromZone(d, zone, i));
  const general = issues.get('');

  return (
    <div data-testid="report-designer">
      <Space wrap style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }}>
        <Space wrap>
          <Link to={`/apps/${app}/reports`}>{t('common.back')}</Link>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {title}
          </Typography.Title>
        </Space>
        <Space wrap>
          {saved && (
            <Link to={`/apps/${app}/reports/${reportKey}`} data-testid="report-view">
              <Button icon={<EyeOutlined />}>{t('reports.design.view')}</Button>
            </Link>
          )}
          <Button type="primary" icon={<SaveOutlined />} loading={saving} data-testid="report-save" onClick={() => void save()}>
            {t('common.save')}
          </Button>
        </Space>
      </Space>
      {(generalError || general) && (
        <Alert type="error" data-testid="report-errors" style={{ marginBottom: 12 }} message={[generalError, ...(general ?? [])].filter(Boolean).join('; ')} />
      )}
      <ReportDnd
        sizes={sizes}
        nameOf={nameOf}
        onAdd={(path, zone, index) => {
          const f = allFields.get(path);
          if (f) setDraft((d) => addToZone(d, zone, f, index));
        }}
        onMove={(from, to) => setDraft((d) => moveItem(d, from, to, types))}
      >
        <Row gutter={[16, 16]}>
          <Col xs={24} md={7} lg={5}>
            <Card size="small" styles={{ body: { maxHeight: '75vh', overflow: 'auto' } }}>
              {form ? <FieldPalette fields={rootFields} expanded={expanded} onToggle={toggle} /> : <Empty description={t('reports.design.form')} />}
            </Card>
          </Col>
          <Col xs={24} md={17} lg={10}>
            <Card size="small" style={{ marginBottom: 12 }}>
              <ReportSettings
                def={draft.def}
                forms={forms}
                issues={issues}
                onChange={(patch) => setDraft((d) => ({ ...d, def: { ...d.def, ...patch } }))}
                tables={tables}
                onForm={(f) => setDraft((d) => ({ ...d, def: { ...d.def, form: f, rows: undefined, dimensions: [], measures: [], sort: undefined }, filters: [], rawFilter: undefined, loaded: undefined }))}
                onRows={(rows) => setDraft((d) => ({ ...d, def: { ...d.def, rows, dimensions: [], measures: [], sort: undefined }, filters: [], rawFilter: undefined, loaded: undefined }))}
              />
            </Card>
            <DropZone zone="dimensions" title={t('reports.design.dimensions')} count={sizes.dimensions} issues={zoneIssues('dimensions')}>
              {draft.def.dimensions.map((dim, i) => (
                <ZoneItem
                  key={i}
                  zone="dimensions"
                  index={i}
                  name={dimensionLabel(dim.field === undefined && dim.duration ? { duration: dim.duration } : { field: dim.field }, locale, lookup)}
                  issues={zoneIssues(`dimensions/${i}`)}
                  onRemove={() => remove('dimensions', i)}
                >
                  <DimensionEditor
                    index={i}
                    dim={dim}
                    field={dim.field ? allFields.get(dim.field) : undefined}
                    fields={fieldList}
                    onChange={(patch) => setDraft((d) => updateDimension(d, i, patch))}
                    onSource={(source) => setDraft((d) => setDimensionSource(d, i, source, fieldList))}
                  />
                </ZoneItem>
              ))}
            </DropZone>
            <DropZone
              zone="measures"
              title={t('reports.design.measures')}
              count={sizes.measures}
              issues={zoneIssues('measures')}
              extra={
                <Button size="small" icon={<PlusOutlined />} data-testid="measure-add-count" onClick={() => setDraft((d) => addToZone(d, 'measures', null))}>
                  {t('reports.design.addCount')}
                </Button>
              }
            >
              {draft.def.measures.map((m, i) => (
                <ZoneItem key={i} zone="measures" index={i} name={`${measureLabel(m, locale, lookup)} · ${m.key}`} issues={zoneIssues(`measures/${i}`)} onRemove={() => remove('measures', i)}>
                  <MeasureEditor
                    index={i}
                    measure={m}
                    fields={fieldList}
                    operands={derivedOperands(draft.def.measures, i)}
                    onChange={(patch) => setDraft((d) => updateMeasure(d, i, patch))}
                  />
                </ZoneItem>
              ))}
            </DropZone>
            <DropZone zone="filters" title={t('reports.design.filters')} count={sizes.filters} issues={zoneIssues('filter')}>
              {draft.filters.map((r, i) => (
                <ZoneItem key={i} zone="filters" index={i} name={nameOf(r.field)} issues={zoneIssues(`filters/${i}`)} onRemove={() => remove('filters', i)}>
                  <FilterRowEditor index={i} row={r} field={allFields.get(r.field)} onChange={(patch) => setDraft((d) => updateFilter(d, i, patch))} />
                </ZoneItem>
              ))}
              {draft.rawFilter !== undefined && (
                <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="raw-filter">
                  {t('reports.design.rawFilter')} <code>{JSON.stringify(draft.rawFilter)}</code>
                </Typography.Text>
              )}
            </DropZone>
          </Col>
          <Col xs={24} lg={9}>
            <Card size="small" title={t('reports.design.preview')} data-testid="report-preview" extra={preview.loading ? <Spin size="small" /> : null}>
              {preview.error && <Alert type="error" message={preview.error} data-testid="preview-error" />}
              {!preview.result && !preview.error && <Typography.Text type="secondary">{t('reports.design.previewIdle')}</Typography.Text>}
              {preview.result && <ReportView result={preview.result} definition={definition} lookup={lookup} height={300} rows pageSize={10} />}
            </Card>
          </Col>
        </Row>
      </ReportDnd>
    </div>
  );
}

/** The live preview: runs the unsaved definition a moment after the last change. */
function usePreview(app: string, definition: ReportDefinition, ready: boolean): { result: RunResult | null; error: string | null; loading: boolean } {
  const [result, setResult] = useState<RunResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const json = JSON.stringify(definition);
  useEffect(() => {
    if (!ready) {
      setResult(null);
      setError(null);
      return;
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      setLoading(true);
      previewReport(app, JSON.parse(json) as ReportDefinition, ctl.signal)
        .then((r) => {
          setResult(r);
          setError(null);
        })
        .catch((e: unknown) => {
          if (!ctl.signal.aborted) setError(errorText(e));
        })
        .finally(() => {
          if (!ctl.signal.aborted) setLoading(false);
        });
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [app, json, ready]);
  return { result, error, loading };
}
