// A form's records: filters built from its fields, sort by column, column choice, cursor
// pagination (fast at any depth), CSV/XLSX export of the same selection and import.
// `?filter=<JSON Logic>` (a report's drill-down) is ANDed with the builder's conditions and
// shown as a removable tag (data-testid list-url-filter). Below the `md` breakpoint (an
// engineer's phone) the records are cards with the chosen columns as label/value lines and
// a sort menu instead of column headers (data-testid list-cards, list-card-<id>, list-sort),
// so nothing scrolls sideways.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Alert, Button, Card, Checkbox, Dropdown, Grid, InputNumber, Input, Popover, Select, Space, Spin, Table, Tag, Typography } from 'antd';
import { DownloadOutlined, FilterOutlined, PlusOutlined, SettingOutlined, UploadOutlined } from '@ant-design/icons';
import type { SortOrder } from 'antd/es/table/interface';
import { API, ApiError, api, qs } from '../api/client.ts';
import type { JsonSchema, RecordItem, RecordPage } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { displayValue } from '../forms/display.tsx';
import { fieldMap, fieldsOf, fieldType, isNumeric, optionsOf, type Field } from '../forms/model.ts';
import { andFilters, defaultColumns, filterLogic, needsValue, opsFor, parseUrlFilter, sortable, type Condition, type Op } from './filters.ts';
import { may, useFormDetail } from './useForm.ts';
import { ImportDialog } from './ImportDialog.tsx';

const PAGE_SIZES = [20, 50, 100];

function storedColumns(app: string, form: string): string[] | null {
  try {
    const v = localStorage.getItem(`formwork.columns.${app}.${form}`);
    return v ? (JSON.parse(v) as string[]) : null;
  } catch {
    return null;
  }
}

export function ListPage() {
  const { app = '', form = '' } = useParams();
  const { t, label, locale } = useI18n();
  const navigate = useNavigate();
  const { detail, error } = useFormDetail(app, form);
  // Cards at phone width; `md` is undefined until measured, so the table is the default.
  const phone = Grid.useBreakpoint().md === false;
  const schema = detail?.definition?.schema;
  const fields = useMemo(() => fieldsOf(schema), [schema]);
  const byKey = useMemo(() => fieldMap(schema), [schema]);

  const [columns, setColumns] = useState<string[]>([]);
  const [conds, setConds] = useState<Condition[]>([]);
  const [applied, setApplied] = useState<Condition[]>([]);
  const [sort, setSort] = useState<string | undefined>(undefined);
  const [limit, setLimit] = useState(20);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<RecordPage | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    if (!schema) return;
    const stored = storedColumns(app, form)?.filter((k) => byKey.has(k));
    setColumns(stored && stored.length ? stored : defaultColumns(fields));
  }, [app, form, schema, fields, byKey]);

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

  const load = useCallback(async () => {
    if (!schema || columns.length === 0) return;
    setLoading(true);
    setLoadError(null);
    try {
      const body: Record<string, unknown> = { limit, fields: columns };
      if (filter !== undefined) body.filter = filter;
      if (sort) body.sort = sort;
      if (expand.length) body.expand = expand;
      if (cursor) body.cursor = cursor;
      else body.total = true;
      const r = await api<RecordPage>(`/apps/${app}/forms/${form}/records/query`, { body });
      setPage(r);
      if (r.total !== undefined) setTotal(r.total);
    } catch (e) {
      setLoadError(e instanceof ApiError ? `${e.message}${e.details.map((d) => ` (${d.pointer}: ${d.message})`).join('')}` : String(e));
    } finally {
      setLoading(false);
    }
  }, [app, form, schema, columns, limit, filter, sort, expand, cursor]);

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
      fields: columns.join(','),
    })}`;

  if (error) return <Alert type="error" message={error instanceof Error ? error.message : String(error)} />;
  if (!detail?.definition) return <Typography.Text>{t('common.loading')}</Typography.Text>;

  const tableColumns = columns
    .map((k) => byKey.get(k))
    .filter((f) => f !== undefined)
    .map((f) => ({
      key: f.key,
      dataIndex: f.key,
      title: label(f.schema['x-label'], f.key),
      sorter: sortable(f),
      sortOrder: (sort === f.key ? 'ascend' : sort === `-${f.key}` ? 'descend' : null) as SortOrder,
      render: (_: unknown, r: RecordItem) => displayValue(r.data[f.key], f.schema, locale, r.expand?.[f.key]),
    }));

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
                options={fields.map((f) => ({ value: f.key, label: label(f.schema['x-label'], f.key) }))}
                onChange={(v) => {
                  chooseColumns(fields.map((f) => f.key).filter((k) => (v as string[]).includes(k)));
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
          {t('list.fromReport')}
        </Tag>
      )}
      <FilterBuilder
        fields={fields.filter((f) => opsFor(f.schema).length > 0)}
        conds={conds}
        onChange={setConds}
        onApply={() => {
          setApplied(conds);
          restart();
        }}
      />

      {loadError && <Alert type="error" message={loadError} style={{ margin: '8px 0' }} data-testid="list-error" />}

      {phone ? (
        <RecordCards
          items={page?.items ?? []}
          loading={loading}
          fields={columns.map((k) => byKey.get(k)).filter((f) => f !== undefined)}
          sort={sort}
          onSort={(s) => {
            setSort(s);
            restart();
          }}
          href={(id) => `/apps/${app}/forms/${form}/records/${id}`}
        />
      ) : (
        <Table<RecordItem>
          data-testid="list-table"
          rowKey="id"
          size="middle"
          loading={loading}
          scroll={{ x: 'max-content' }}
          dataSource={page?.items ?? []}
          columns={[
            {
              key: '_id',
              title: '#',
              width: 70,
              render: (_: unknown, r: RecordItem) => (
                <Link to={`/apps/${app}/forms/${form}/records/${r.id}`} data-testid={`record-link-${r.id}`}>
                  {r.id}
                </Link>
              ),
            },
            ...tableColumns,
          ]}
          locale={{ emptyText: t('list.empty') }}
          pagination={false}
          onRow={(r) => ({ onDoubleClick: () => navigate(`/apps/${app}/forms/${form}/records/${r.id}`) })}
          onChange={(_p, _f, sorter) => {
            const s = Array.isArray(sorter) ? sorter[0] : sorter;
            const key = s?.columnKey ? String(s.columnKey) : undefined;
            setSort(key && s?.order ? (s.order === 'descend' ? `-${key}` : key) : undefined);
            restart();
          }}
        />
      )}
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
          value={limit}
          onChange={(v) => {
            setLimit(v);
            restart();
          }}
          options={PAGE_SIZES.map((n) => ({ value: n, label: t('list.pageSize', { n }) }))}
        />
      </Space>
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

/** The page as cards (phone width): `#id` links to the record, then each chosen column as
 *  a label/value line; sorting from a menu of the sortable columns. */
function RecordCards(p: { items: RecordItem[]; loading: boolean; fields: Field[]; sort: string | undefined; onSort: (s: string | undefined) => void; href: (id: number) => string }) {
  const { t, label, locale } = useI18n();
  const sortOptions = [
    { value: '', label: t('list.sortNewest') },
    ...p.fields.filter(sortable).flatMap((f) => {
      const name = label(f.schema['x-label'], f.key);
      return [
        { value: f.key, label: t('list.ascending', { field: name }) },
        { value: `-${f.key}`, label: t('list.descending', { field: name }) },
      ];
    }),
  ];
  return (
    <div data-testid="list-cards">
      <Select
        data-testid="list-sort"
        style={{ width: '100%', marginBottom: 8 }}
        aria-label={t('list.sort')}
        value={p.sort ?? ''}
        options={sortOptions}
        onChange={(v: string) => p.onSort(v || undefined)}
      />
      <Spin spinning={p.loading}>
        {p.items.length === 0 && !p.loading && <Typography.Text type="secondary">{t('list.empty')}</Typography.Text>}
        <Space direction="vertical" style={{ width: '100%' }} size={8}>
          {p.items.map((r) => (
            <Card
              key={r.id}
              size="small"
              data-testid={`list-card-${r.id}`}
              title={
                <Link to={p.href(r.id)} data-testid={`record-link-${r.id}`}>
                  #{r.id}
                </Link>
              }
            >
              {p.fields.map((f) => (
                <div key={f.key} data-field={f.key} style={{ display: 'flex', gap: 8, minWidth: 0 }}>
                  <Typography.Text type="secondary" style={{ flex: '0 0 40%', overflowWrap: 'anywhere' }}>
                    {label(f.schema['x-label'], f.key)}
                  </Typography.Text>
                  <span style={{ flex: '1 1 auto', minWidth: 0, overflowWrap: 'anywhere' }}>{displayValue(r.data[f.key], f.schema, locale, r.expand?.[f.key])}</span>
                </div>
              ))}
            </Card>
          ))}
        </Space>
      </Spin>
    </div>
  );
}

function FilterBuilder(p: {
  fields: ReturnType<typeof fieldsOf>;
  conds: Condition[];
  onChange: (c: Condition[]) => void;
  onApply: () => void;
}) {
  const { t, label } = useI18n();
  const byKey = new Map(p.fields.map((f) => [f.key, f]));
  const set = (i: number, c: Condition) => p.onChange(p.conds.map((x, j) => (j === i ? c : x)));
  return (
    <div data-testid="filter-builder" style={{ marginBottom: 8 }}>
      {p.conds.map((c, i) => {
        const f = byKey.get(c.field);
        const ops = f ? opsFor(f.schema) : [];
        return (
          <Space key={i} wrap style={{ marginBottom: 6 }} data-testid={`filter-row-${i}`}>
            <Select
              data-testid={`filter-field-${i}`}
              style={{ minWidth: 150 }}
              showSearch
              optionFilterProp="label"
              placeholder={t('list.field')}
              value={c.field || undefined}
              options={p.fields.map((x) => ({ value: x.key, label: label(x.schema['x-label'], x.key) }))}
              onChange={(k: string) => {
                const nf = byKey.get(k);
                set(i, { field: k, op: nf ? (opsFor(nf.schema)[0] ?? 'eq') : 'eq' });
              }}
            />
            <Select
              data-testid={`filter-op-${i}`}
              style={{ minWidth: 110 }}
              value={c.op}
              options={ops.map((o) => ({ value: o, label: t(`op.${o}`) }))}
              onChange={(o: Op) => set(i, { ...c, op: o })}
            />
            {f && needsValue(c.op) && <FilterValue schema={f.schema} value={c.value} onChange={(v) => set(i, { ...c, value: v })} testId={`filter-value-${i}`} />}
            <Button onClick={() => p.onChange(p.conds.filter((_, j) => j !== i))} aria-label={t('common.remove')}>
              ×
            </Button>
          </Space>
        );
      })}
      <Space>
        <Button icon={<FilterOutlined />} data-testid="filter-add" onClick={() => p.onChange([...p.conds, { field: '', op: 'eq' }])}>
          {t('list.addFilter')}
        </Button>
        <Button type="primary" data-testid="filter-apply" onClick={p.onApply}>
          {t('list.apply')}
        </Button>
      </Space>
    </div>
  );
}

function FilterValue(p: { schema: JsonSchema; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const { t, label } = useI18n();
  const type = fieldType(p.schema);
  if (type === 'select' || type === 'multi_select')
    return (
      <Select
        data-testid={p.testId}
        style={{ minWidth: 140 }}
        value={p.value as string | undefined}
        options={optionsOf(p.schema).map((o) => ({ value: o.value, label: label(o.label, o.value) }))}
        onChange={p.onChange}
      />
    );
  if (type === 'boolean')
    return (
      <Select
        data-testid={p.testId}
        style={{ minWidth: 90 }}
        value={p.value as boolean | undefined}
        options={[
          { value: true, label: t('common.yes') },
          { value: false, label: t('common.no') },
        ]}
        onChange={p.onChange}
      />
    );
  if (isNumeric(type, p.schema))
    return <InputNumber data-testid={p.testId} value={typeof p.value === 'number' ? p.value : null} onChange={(v) => p.onChange(v ?? undefined)} />;
  return <Input data-testid={p.testId} style={{ width: 180 }} value={typeof p.value === 'string' ? p.value : ''} onChange={(e) => p.onChange(e.target.value)} />;
}
