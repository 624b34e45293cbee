// The field grid of the permission editor: read / write per field of one form, and under
// each sub-table one row per column, which can only be denied (never more than its table);
// the "all" boxes in the headers cover fields and columns.
// The logic is in permissions.ts.
import { Alert, Checkbox, Spin, Table, Tag, Typography } from 'antd';
import type { JsonSchema } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { fieldsOf, isServerAssigned, type Field } from '../forms/model.ts';
import {
  ALL_FORMS,
  allState,
  gridRows,
  hiddenColumns,
  otherFieldNames,
  setAllFields,
  setColumnAccess,
  setFieldAccess,
  type FieldAccess,
  type GridField,
  type GridRow,
  type RoleDoc,
} from './permissions.ts';
import { ErrorList, type PlacedError } from './ErrorList.tsx';

/** The columns of a sub-table field (its `items.properties`); none for other fields. */
function columnsOf(f: Field): Field[] {
  return f.type === 'sub_table' ? fieldsOf(f.schema.items as JsonSchema | undefined) : [];
}

export function FieldGrid({
  doc,
  form,
  fields,
  errors,
  setDoc,
}: {
  doc: RoleDoc;
  form: string;
  /** The form's fields; undefined while loading; [] for the "*" form. */
  fields: Field[] | undefined;
  errors: PlacedError[];
  setDoc: (f: (d: RoleDoc | null) => RoleDoc | null) => void;
}) {
  const { t, label } = useI18n();
  if (fields === undefined) return <Spin />;
  const gridFields: GridField[] =
    form === ALL_FORMS ? [{ key: ALL_FORMS, columns: [] }] : fields.map((f) => ({ key: f.key, columns: columnsOf(f).map((c) => c.key) }));
  const keys = gridFields.map((f) => f.key);
  const rule = doc.permissions?.[form];
  // Fields by key, and columns by `table.column`.
  const byKey = new Map<string, Field>();
  for (const f of fields) {
    byKey.set(f.key, f);
    for (const c of columnsOf(f)) byKey.set(`${f.key}.${c.key}`, c);
  }
  const rows = gridRows(rule, gridFields);
  const generalErrors = errors.filter((e) => !e.place.field || !rows.some((r) => r.key === e.place.field));
  const named = otherFieldNames(rule, gridFields);
  const change = (r: GridRow, c: Partial<FieldAccess>) =>
    setDoc((d) => {
      if (!d) return d;
      return r.kind === 'column' ? setColumnAccess(d, form, r.table, r.column, c) : setFieldAccess(d, form, keys, r.key, c);
    });
  // The "all" boxes cover the sub-table columns too.
  const all = (c: Partial<FieldAccess>) => setDoc((d) => (d ? setAllFields(d, form, gridFields, c) : d));
  const allRead = allState(rows, 'read');
  const allWrite = allState(rows, 'write');

  const fieldCell = (r: GridRow) => {
    const f = byKey.get(r.key);
    const name = r.key === ALL_FORMS ? t('admin.perm.allFields') : label(f?.schema['x-label'], r.kind === 'column' ? r.column : r.key);
    return (
      <div style={r.kind === 'column' ? { paddingLeft: 24 } : undefined}>
        {r.kind === 'column' && <Typography.Text type="secondary">└ </Typography.Text>}
        {name}{' '}
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {r.key}
        </Typography.Text>
        {f && isServerAssigned(f.type) && (
          <Tag style={{ marginLeft: 4 }} title={t('admin.perm.serverAssignedHelp')}>
            {t('admin.perm.serverAssigned')}
          </Tag>
        )}
        {r.kind === 'field' && r.write && hiddenColumns(rule, r.key).length > 0 && (
          <Tag color="orange" style={{ marginLeft: 4 }} data-testid={`perm-hidden-columns-${r.key}`}>
            {t('admin.perm.hiddenColumnsBlockWrite')}
          </Tag>
        )}
        <ErrorList errors={errors.filter((e) => e.place.field === r.key)} />
      </div>
    );
  };

  const lockedTitle = (r: GridRow, side: 'read' | 'write') =>
    r.kind === 'column' && (side === 'read' ? r.readLocked : r.writeLocked)
      ? t(side === 'read' ? 'admin.perm.columnReadLocked' : 'admin.perm.columnWriteLocked', { table: r.table })
      : undefined;

  const toggle = (r: GridRow, side: 'read' | 'write') => (
    <Checkbox
      data-testid={`perm-${side}-${r.key}`}
      aria-label={`${r.key} ${side}`}
      title={lockedTitle(r, side)}
      checked={r[side]}
      disabled={r.kind === 'column' && (side === 'read' ? r.readLocked : r.writeLocked)}
      onChange={(e) => change(r, { [side]: e.target.checked })}
    />
  );

  return (
    <>
      <ErrorList errors={generalErrors} testid="perm-fields-errors" />
      {form !== ALL_FORMS && fields.length === 0 && <Alert type="warning" message={t('admin.perm.noFields')} />}
      {named.length > 0 && (
        <Alert style={{ marginBottom: 8 }} type="warning" message={t('admin.perm.otherFieldRules', { fields: named.join(', ') })} />
      )}
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '0 0 8px' }}>
        {t('admin.perm.writeNeedsRead')}
        {rows.some((r) => r.kind === 'column') && <> {t('admin.perm.columnsHelp')}</>}
      </Typography.Paragraph>
      <Table
        size="small"
        pagination={false}
        rowKey="key"
        dataSource={rows}
        data-testid="perm-field-grid"
        columns={[
          { title: t('admin.perm.field'), key: 'field', render: (_: unknown, r: GridRow) => fieldCell(r) },
          {
            title: (
              <Checkbox
                data-testid="perm-read-all"
                checked={allRead.checked}
                indeterminate={allRead.indeterminate}
                onChange={(e) => all({ read: e.target.checked })}
              >
                {t('admin.perm.read')}
              </Checkbox>
            ),
            key: 'read',
            align: 'center' as const,
            render: (_: unknown, r: GridRow) => toggle(r, 'read'),
          },
          {
            title: (
              <Checkbox
                data-testid="perm-write-all"
                checked={allWrite.checked}
                indeterminate={allWrite.indeterminate}
                onChange={(e) => all({ write: e.target.checked })}
              >
                {t('admin.perm.write')}
              </Checkbox>
            ),
            key: 'write',
            align: 'center' as const,
            render: (_: unknown, r: GridRow) => toggle(r, 'write'),
          },
        ]}
      />
    </>
  );
}
