// The row scope of a role on one form: which records its rules reach (all, own,
// department, a JSON Logic filter typed by hand, …). `through` rules and unknown shapes
// are shown and kept, never written.
import { Input, Select, Space, Tag, Typography } from 'antd';
import { useI18n } from '../i18n/index.tsx';
import { EDITABLE_ROW_KINDS, filterText, parseFilter, rowKind, setRows, type RoleDoc, type RowKind } from './permissions.ts';
import { ErrorList, type PlacedError } from './ErrorList.tsx';

/** A filter being typed: the text, and why it is not (yet) written into the role. */
export interface FilterDraft {
  text: string;
  error?: string;
}

export function RowScope({
  doc,
  form,
  originalRows,
  draft,
  errors,
  setDraft,
  setDoc,
}: {
  doc: RoleDoc;
  form: string;
  originalRows: unknown;
  draft: FilterDraft | undefined;
  errors: PlacedError[];
  setDraft: (d: FilterDraft | null) => void;
  setDoc: (f: (d: RoleDoc | null) => RoleDoc | null) => void;
}) {
  const { t } = useI18n();
  const rows = doc.permissions?.[form]?.rows;
  const current = rowKind(rows);
  // A filter being typed shows as "filter" even before it is valid JSON.
  const shown: RowKind = draft ? 'filter' : current;
  const kinds: RowKind[] = [...EDITABLE_ROW_KINDS];
  if (current === 'through' || current === 'other') kinds.push(current);

  const type = (text: string) => {
    const p = parseFilter(text);
    if (p.ok) {
      setDoc((d) => (d ? setRows(d, form, 'filter', p.value) : d));
      setDraft({ text });
    } else {
      const error =
        p.error === 'empty'
          ? t('admin.rows.empty')
          : p.error === 'json'
            ? t('admin.rows.badJson', { message: p.message ?? '' })
            : t('admin.rows.notObject');
      setDraft({ text, error });
    }
  };

  const choose = (kind: RowKind) => {
    if (kind === 'filter') {
      if (current === 'filter') return;
      // Back to the filter the role had, if it had one; otherwise an empty one to fill in.
      const before = filterText(originalRows);
      if (before) type(before);
      else setDraft({ text: '', error: t('admin.rows.empty') });
      return;
    }
    setDraft(null);
    setDoc((d) => (d ? setRows(d, form, kind) : d));
  };

  return (
    <div style={{ marginBottom: 16 }}>
      <Space wrap>
        <span>{t('admin.perm.rows')}</span>
        <Select
          data-testid="perm-rows"
          style={{ minWidth: 280 }}
          value={shown}
          onChange={(v: RowKind) => choose(v)}
          options={kinds.map((k) => ({ value: k, label: t(`admin.rows.${k}`), disabled: k === 'through' || k === 'other' }))}
        />
        {current === 'through' && (
          <Tag data-testid="perm-rows-through">through: {String((rows as { through: unknown }).through)}</Tag>
        )}
      </Space>
      {current === 'through' && !draft && (
        <Typography.Paragraph type="secondary" style={{ margin: '4px 0 0', fontSize: 12 }}>
          {t('admin.rows.throughHelp', { field: String((rows as { through: unknown }).through) })}
        </Typography.Paragraph>
      )}
      {current === 'other' && !draft && (
        <Typography.Paragraph style={{ margin: '4px 0 0' }}>
          <Typography.Text code data-testid="perm-rows-other">
            {JSON.stringify(rows)}
          </Typography.Text>
        </Typography.Paragraph>
      )}
      {shown === 'filter' && (
        <div style={{ marginTop: 8 }}>
          <Input.TextArea
            data-testid="perm-rows-filter"
            autoSize={{ minRows: 3, maxRows: 14 }}
            style={{ fontFamily: 'monospace' }}
            value={draft?.text ?? filterText(rows)}
            status={draft?.error ? 'error' : undefined}
            onChange={(e) => type(e.target.value)}
          />
          {draft?.error ? (
            <Typography.Text type="danger" data-testid="perm-rows-filter-error">
              {draft.error}
            </Typography.Text>
          ) : (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('admin.rows.filterHelp')}
            </Typography.Text>
          )}
        </div>
      )}
      <ErrorList errors={errors} testid="perm-rows-errors" />
    </div>
  );
}
