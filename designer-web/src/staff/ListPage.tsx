// A form's records: filters built from its fields, sort by column, column choice, cursor
// pagination (fast at any depth), CSV/XLSX export of the same selection and import.
// `?filter=<JSON Logic>` (a report's drill-down) is ANDed with the builder's conditions and
// shown as a removable tag (data-testid list-url-filter). Below the `md` breakpoint (an
// engineer's phone) the records are cards with the chosen columns as label/value lines and
// a sort menu instead of column headers (data-testid list-cards, list-card-<id>, list-sort),
// so nothing scrolls sideways.
//
// Saved views (SavedViews.tsx, views.ts): choosing one sets the filter (as builder
// conditions; what the builder cannot show goes to `?filter=`), sort, columns and page size,
// and puts `?view=<id>` in the URL, so a reload or a link opens the same view. A view's
// columns are not remembered as the form's own column choice; "All records" goes back to it.
//
// Besides the form's fields the column choice offers the system columns (created / updated
// at and by, owner: systemColumns.ts) and the filter builder offers them and the record
// id; views keep them under the server's names. An export has the list's filter and sort
// but only its form-field columns (after `_id`): the export API takes no system columns.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Alert, App as AntApp, Button, Checkbox, Dropdown, Grid, Popover, Select, Space, Tag, Typography } from 'antd';
import { DownloadOutlined, PlusOutlined, SettingOutlined, UploadOutlined } from '@ant-design/icons';
import { API, ApiError, api, qs } from '../api/client.ts';
import type { RecordPage } from '../api/types.ts';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';
import { fieldsOf } from '../forms/model.ts';
import { andFilters, defaultColumns, filterLogic, parseUrlFilter, sortKeys, type Condition } from './filters.ts';
import { describeSort } from './listText.ts';
import { ALL_RECORDS, DEFAULT_PAGE_SIZE, PAGE_SIZES, differsFromView, listFromSpec, mayChangeView, specFromList, type ListState } from './views.ts';
import { may, useFormDetail } from './useForm.ts';
import { FilterBuilder } from './FilterBuilder.tsx';
import { RecordCards, RecordTable } from './RecordList.tsx';
import { ViewBar, ViewDialog, useSavedViews } from './SavedViews.tsx';
import { fieldColumns, filterFields, listColumns } from './systemColumns.ts';
import { ImportDialog } from './ImportDialog.tsx';

function storedColumns(app: string, form: string): string[] | null {
  try {
    const v = localStorage.getItem(`formwork.columns.${app}.${form}`);
    return v ? (JSON.parse(v) as string[]) : null;
  } catch {
    return null;
  }
}

/** `?view=` as a view id, or null. */
function viewIdOf(param: string | null): number | null {
  return param !== null && /^[1-9]\d*$/.test(param) ? Number(param) : null;
}

export function ListPage() {
  const { app = '', form = '' } = useParams();
  const { t, label, locale } = useI18n();
  const { me, isAdmin } = useSession();
  const { message } = AntApp.useApp();
  const navigate = useNavigate();
  const { detail, error } = useFormDetail(app, form);
  // Cards at phone width; `md` is undefined until measured, so the table is the default.
  const phone = Grid.useBreakpoint().md === false;
  const schema = detail?.definition?.schema;
  const fields = useMemo(() => fieldsOf(schema), [schema]);
  /** What the list may show: the fields, then the system columns. */
  const choices = useMemo(() => listColumns(fields), [fields]);
  const byKey = useMemo(() => new Map(choices.map((f) => [f.key, f])), [choices]);
  const filterable = useMemo(() => filterFields(fields), [fields]);

  const [columns, setColumns] = useState<string[]>([]);
  const [conds, setConds] = useState<Condition[]>([]);
  const [applied, setApplied] = useState<Condition[]>([]);
  const [sort, setSort] = useState<string | undefined>(undefined);
  const [limit, setLimit] = useState(DEFAULT_PAGE_SIZE);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<RecordPage | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const [reload, setReload] = useState(0);

  /** The form's own columns: the user's remembered choice, else the defaults. */
  const ownColumns = useCallback(() => {
    const stored = storedColumns(app, form)?.filter((k) => byKey.has(k));
    return stored && stored.length ? stored : defaultColumns(fields);
  }, [app, form, fields, byKey]);

  useEffect(() => {
    if (!schema) return;
    setColumns(ownColumns());
  }, [schema, ownColumns]);

  const chooseColumns = (keys: string[]) => {
    setColumns(keys);
    try {
      localStorage.setItem(`formwork.columns.${app}.${form}`, JSON.stringify(keys));
    } catch {
      // not remembered
    }
  };

  const [params, setParams] = useSearchParams();
  const urlFilterParam = params.get('filter');
  const urlFilter = useMemo(() => parseUrlFilter(urlFilterParam), [urlFilterParam]);
  const filter = useMemo(() => andFilters(urlFilter, filterLogic(applied)), [urlFilter, applied]);
  useEffect(() => setCursors([null]), [urlFilter]);
  const expand = useMemo(() => columns.filter((k) => byKey.get(k)?.type === 'reference'), [columns, byKey]);
  const cursor = cursors[cursors.length - 1] ?? null;

  // Saved views. `activeView` is the view whose state the list was last set to; `?view=`
  // says which one the URL asks for (they differ until the views have loaded, and after
  // the back button).
  const savedViews = useSavedViews(app, form);
  const views = savedViews.views;
  const viewParam = params.get('view');
  const [activeView, setActiveView] = useState<number | null>(null);
  const [viewMissing, setViewMissing] = useState(false);
  const [viewDialog, setViewDialog] = useState<'create' | 'update' | null>(null);
  const active = views?.find((v) => v.id === activeView) ?? null;
  const current: ListState = { extra: urlFilter, conditions: applied, sort, columns, pageSize: limit };
  const modified = active !== null && differsFromView(current, active.spec, fields);
  const canChange = active !== null && mayChangeView(active, me?.username, isAdmin);
  // Hold queries while the list and `?view=` disagree: on the first load until the URL's
  // view is applied (no flash of all records), and for the render in which a chosen view is
  // applied but the URL (updated in a transition) still names the previous one.
  const viewPending = views === null ? viewParam !== null : String(activeView ?? '') !== (viewParam ?? '');

  /** Set the list to `s` as view `viewId` (null: no view), with the URL to match. */
  const applyList = useCallback(
    (s: ListState, viewId: number | null, history: 'push' | 'replace' | 'none') => {
      setConds(s.conditions);
      setApplied(s.conditions);
      setSort(s.sort);
      setLimit(s.pageSize);
      setColumns(s.columns ?? ownColumns());
      setActiveView(viewId);
      setCursors([null]);
      if (history === 'none') return;
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (s.extra === undefined) next.delete('filter');
          else next.set('filter', JSON.stringify(s.extra));
          if (viewId === null) next.delete('view');
          else next.set('view', String(viewId));
          return next;
        },
        { replace: history === 'replace' },
      );
    },
    [ownColumns, setParams],
  );

  // Follow `?view=`: on the first load, and when the back button or a link changes it. Only
  // a change of the URL (or of the form) is followed: a render in which the views list
  // changed while the URL still lags behind a view just chosen must not undo the choice.
  const followedUrl = useRef<string | null>(null);
  useEffect(() => {
    if (!schema || !views || detail?.app !== app || detail.key !== form) return;
    const url = `${app}/${form}?${viewParam ?? ''}`;
    if (followedUrl.current === url) return;
    followedUrl.current = url;
    const id = viewIdOf(viewParam);
    if (id === activeView && (id !== null || viewParam === null)) return;
    const v = id === null ? undefined : views.find((x) => x.id === id);
    if (v) {
      setViewMissing(false);
      applyList(listFromSpec(v.spec, fields), v.id, 'replace');
    } else {
      // No such view (deleted, someone else's, or the URL left the view): the list
      // without a view, keeping a `?filter=` the URL has.
      setViewMissing(viewParam !== null);
      applyList({ ...ALL_RECORDS, extra: urlFilter }, null, viewParam === null ? 'none' : 'replace');
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [app, form, schema, views, viewParam]);

  const pickView = (id: number | null) => {
    const v = id === null ? undefined : views?.find((x) => x.id === id);
    setViewMissing(false);
    applyList(v ? listFromSpec(v.spec, fields) : ALL_RECORDS, v?.id ?? null, 'push');
  };

  const deleteView = async () => {
    if (!active) return;
    try {
      await savedViews.remove(active.id);
      applyList(ALL_RECORDS, null, 'push');
      message.success(t('list.viewDeleted'));
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  // Only the answer to the latest query is shown (a view or filter chosen while an older
  // query is in flight must not be overwritten by it).
  const querySeq = useRef(0);
  const load = useCallback(async () => {
    if (!schema || columns.length === 0 || viewPending) return;
    const seq = ++querySeq.current;
    setLoading(true);
    setLoadError(null);
    try {
      // System columns come with every record; `fields` names only form fields.
      const body: Record<string, unknown> = { limit, fields: fieldColumns(columns) };
      if (filter !== undefined) body.filter = filter;
      if (sort) body.sort = sort;
      if (expand.length) body.expand = expand;
      if (cursor) body.cursor = cursor;
      else body.total = true;
      const r = await api<RecordPage>(`/apps/${app}/forms/${form}/records/query`, { body });
      if (seq !== querySeq.current) return;
      setPage(r);
      if (r.total !== undefined) setTotal(r.total);
    } catch (e) {
      if (seq !== querySeq.current) return;
      setLoadError(e instanceof ApiError ? `${e.message}${e.details.map((d) => ` (${d.pointer}: ${d.message})`).join('')}` : String(e));
    } finally {
      if (seq === querySeq.current) setLoading(false);
    }
  }, [app, form, schema, columns, limit, filter, sort, expand, cursor, viewPending]);

  useEffect(() => {
    void load();
  }, [load, reload]);

  // A new selection starts from the first page.
  const restart = () => setCursors([null]);

  const exportHref = (format: 'csv' | 'xlsx') =>
    `${API}/apps/${app}/forms/${form}/records/export${qs({
      format,
      filter: filter === undefined ? undefined : JSON.stringify(filter),
      sort,
      // The export takes system columns too (they follow `_id`, which it always has).
      fields: columns.join(','),
    })}`;

  if (error) return <Alert type="error" message={error instanceof Error ? error.message : String(error)} />;
  if (!detail?.definition) return <Typography.Text>{t('common.loading')}</Typography.Text>;

  // A sort the column headers cannot show: several keys, or a key that is not a column.
  const sorted = sortKeys(sort);
  const sortNotShown = !phone && (sorted.length > 1 || (sorted[0] !== undefined && !columns.includes(sorted[0].key)));
  const records = {
    items: page?.items ?? [],
    loading,
    fields: columns.map((k) => byKey.get(k)).filter((f) => f !== undefined),
    sort,
    onSort: (s: string | undefined) => {
      setSort(s);
      restart();
    },
    href: (id: number) => `/apps/${app}/forms/${form}/records/${id}`,
  };
  return (
    <>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }}>
        <Space wrap>
          <Link to={`/apps/${app}`}>{t('common.back')}</Link>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="list-title">
            {label(detail.definition.label, form)}
          </Typography.Title>
          {total !== null && <span data-testid="list-total">{t('list.total', { total })}</span>}
        </Space>
        <Space wrap>
          {may(detail, 'create') && (
            <Button type="primary" icon={<PlusOutlined />} data-testid="list-new" onClick={() => navigate(`/apps/${app}/forms/${form}/new`)}>
              {t('list.new')}
            </Button>
          )}
          <Popover
            trigger="click"
            placement="bottomRight"
            content={
              <Checkbox.Group
                data-testid="list-columns"
                style={{ display: 'flex', flexDirection: 'column', maxHeight: 360, overflow: 'auto' }}
                value={columns}
                options={choices.map((f) => ({ value: f.key, label: label(f.schema['x-label'], f.key) }))}
                onChange={(v) => {
                  chooseColumns(choices.map((f) => f.key).filter((k) => (v as string[]).includes(k)));
                  restart();
                }}
              />
            }
          >
            <Button icon={<SettingOutlined />} data-testid="list-columns-button">
              {t('list.columns')}
            </Button>
          </Popover>
          {may(detail, 'export') && (
            <Dropdown
              menu={{
                items: [
                  { key: 'csv', label: <a href={exportHref('csv')} data-testid="export-csv">CSV</a> },
                  { key: 'xlsx', label: <a href={exportHref('xlsx')} data-testid="export-xlsx">XLSX</a> },
                ],
              }}
            >
              <Button icon={<DownloadOutlined />} data-testid="list-export">
                {t('list.export')}
              </Button>
            </Dropdown>
          )}
          {may(detail, 'import') && may(detail, 'create') && (
            <Button icon={<UploadOutlined />} data-testid="list-import" onClick={() => setImportOpen(true)}>
              {t('list.import')}
            </Button>
          )}
        </Space>
      </Space>

      <ViewBar
        views={views}
        active={active}
        modified={modified}
        canChange={canChange}
        phone={phone}
        onPick={pickView}
        onSaveAs={() => setViewDialog('create')}
        onUpdate={() => setViewDialog('update')}
        onDelete={deleteView}
      />
      {savedViews.error && <Alert type="warning" showIcon message={t('list.viewsUnavailable', { message: savedViews.error })} style={{ marginBottom: 8 }} data-testid="list-views-error" />}
      {viewMissing && (
        <Alert type="info" showIcon closable message={t('list.viewMissing')} style={{ marginBottom: 8 }} data-testid="list-view-missing" onClose={() => setViewMissing(false)} />
      )}
      {urlFilter !== undefined && (
        <Tag
          closable
          color="blue"
          data-testid="list-url-filter"
          title={JSON.stringify(urlFilter)}
          style={{ marginBottom: 8 }}
          onClose={() => {
            const next = new URLSearchParams(params);
            next.delete('filter');
            setParams(next);
          }}
        >
          {t(activeView !== null ? 'list.fromView' : 'list.fromReport')}
        </Tag>
      )}
      {sortNotShown && (
        <Tag
          closable
          data-testid="list-sort-summary"
          style={{ marginBottom: 8 }}
          onClose={() => {
            setSort(undefined);
            restart();
          }}
        >
          {t('list.sortedBy', { sort: describeSort(sort, byKey, t, locale) })}
        </Tag>
      )}
      <FilterBuilder
        fields={filterable}
        conds={conds}
        onChange={setConds}
        onApply={() => {
          setApplied(conds);
          restart();
        }}
      />

      {loadError && <Alert type="error" message={loadError} style={{ margin: '8px 0' }} data-testid="list-error" />}

      {phone ? <RecordCards {...records} byKey={byKey} /> : <RecordTable {...records} />}
      <Space wrap style={{ marginTop: 12 }}>
        <Button data-testid="page-first" disabled={cursors.length <= 1} onClick={() => setCursors([null])}>
          {t('list.first')}
        </Button>
        <Button data-testid="page-prev" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          {t('list.prev')}
        </Button>
        <span data-testid="page-number">{t('list.page', { page: cursors.length })}</span>
        <Button data-testid="page-next" disabled={!page?.next_cursor} onClick={() => page?.next_cursor && setCursors([...cursors, page.next_cursor])}>
          {t('list.next')}
        </Button>
        <Select
          data-testid="page-size"
          value={limit}
          onChange={(v) => {
            setLimit(v);
            restart();
          }}
          options={(PAGE_SIZES.includes(limit) ? PAGE_SIZES : [...PAGE_SIZES, limit].sort((a, b) => a - b)).map((n) => ({
            value: n,
            label: t('list.pageSize', { n }),
          }))}
        />
      </Space>
      {viewDialog && (
        <ViewDialog
          mode={viewDialog}
          name={viewDialog === 'update' ? (active?.name ?? '') : ''}
          shared={viewDialog === 'update' ? (active?.shared ?? false) : false}
          isAdmin={isAdmin}
          spec={specFromList(current)}
          fields={fields}
          onClose={() => setViewDialog(null)}
          onSubmit={async (body) => {
            const v = await savedViews.save(body, viewDialog === 'update' ? active?.id : undefined);
            setViewDialog(null);
            setViewMissing(false);
            setActiveView(v.id);
            setParams(
              (prev) => {
                const next = new URLSearchParams(prev);
                next.set('view', String(v.id));
                return next;
              },
              { replace: viewDialog === 'update' },
            );
            message.success(t('list.viewSaved', { name: v.name }));
          }}
        />
      )}
      {importOpen && (
        <ImportDialog
          app={app}
          form={form}
          onClose={(imported) => {
            setImportOpen(false);
            if (imported) {
              restart();
              setReload((n) => n + 1);
            }
          }}
        />
      )}
    </>
  );
}
