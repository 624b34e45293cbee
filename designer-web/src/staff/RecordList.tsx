// The records of a list page: a table with sortable column headers (data-testid
// list-table), or at phone width cards (list-cards, list-card-<id>) with a sort menu
// (list-sort) in place of the headers. Both link each record (record-link-<id>).
import { Link, useNavigate } from 'react-router';
import { Card, Select, Space, Spin, Table, Typography } from 'antd';
import type { SortOrder } from 'antd/es/table/interface';
import type { RecordItem } from '../api/types.ts';
import type { Locale } from '../i18n/core.ts';
import { useI18n } from '../i18n/index.tsx';
import { displayValue } from '../forms/display.tsx';
import type { Field } from '../forms/model.ts';
import { sortKeys, sortable } from './filters.ts';
import { describeSort } from './listText.ts';
import { isSystemColumn, systemText } from './systemColumns.ts';

/** A cell: a field's value from the record's data, a system column from the record. */
function cellText(r: RecordItem, f: Field, locale: Locale): string {
  return isSystemColumn(f.key) ? systemText(r, f.key, locale) : displayValue(r.data[f.key], f.schema, locale, r.expand?.[f.key]);
}

/** The page as cards (phone width): `#id` links to the record, then each chosen column as
 *  a label/value line; sorting from a menu of the sortable columns (plus the current sort
 *  when a saved view sorts by several keys or by a field that is not a column). */
export function RecordCards(p: {
  items: RecordItem[];
  loading: boolean;
  /** The chosen columns. */
  fields: Field[];
  /** Every field of the form and the system columns, to name sort keys that are not columns. */
  byKey: Map<string, Field>;
  sort: string | undefined;
  onSort: (s: string | undefined) => void;
  href: (id: number) => string;
}) {
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
  if (p.sort && !sortOptions.some((o) => o.value === p.sort)) sortOptions.push({ value: p.sort, label: describeSort(p.sort, p.byKey, t, locale) });
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
                  <span style={{ flex: '1 1 auto', minWidth: 0, overflowWrap: 'anywhere' }}>{cellText(r, f, locale)}</span>
                </div>
              ))}
            </Card>
          ))}
        </Space>
      </Spin>
    </div>
  );
}


/** The page as a table: `#id` links to the record (double-click a row opens it too), then
 *  the chosen columns. A header click sorts by that column alone; the column of the first
 *  sort key shows the order (the list names a longer sort in a tag). */
export function RecordTable(p: {
  items: RecordItem[];
  loading: boolean;
  fields: Field[];
  sort: string | undefined;
  onSort: (s: string | undefined) => void;
  href: (id: number) => string;
}) {
  const { t, label, locale } = useI18n();
  const navigate = useNavigate();
  const primary = sortKeys(p.sort)[0];
  return (
    <Table<RecordItem>
      data-testid="list-table"
      rowKey="id"
      size="middle"
      loading={p.loading}
      scroll={{ x: 'max-content' }}
      dataSource={p.items}
      columns={[
        {
          key: '_id',
          title: '#',
          width: 70,
          render: (_: unknown, r: RecordItem) => (
            <Link to={p.href(r.id)} data-testid={`record-link-${r.id}`}>
              {r.id}
            </Link>
          ),
        },
        ...p.fields.map((f) => ({
          key: f.key,
          dataIndex: f.key,
          title: label(f.schema['x-label'], f.key),
          sorter: sortable(f),
          sortOrder: (primary?.key === f.key ? (primary.desc ? 'descend' : 'ascend') : null) as SortOrder,
          render: (_: unknown, r: RecordItem) => cellText(r, f, locale),
        })),
      ]}
      locale={{ emptyText: t('list.empty') }}
      pagination={false}
      onRow={(r) => ({ onDoubleClick: () => navigate(p.href(r.id)) })}
      onChange={(_p, _f, sorter) => {
        const s = Array.isArray(sorter) ? sorter[0] : sorter;
        const key = s?.columnKey ? String(s.columnKey) : undefined;
        p.onSort(key && s?.order ? (s.order === 'descend' ? `-${key}` : key) : undefined);
      }}
    />
  );
}
