// Saved views of a list: the picker with save, update and delete (data-testid list-views,
// list-view, list-view-option-<id>, list-view-modified, list-view-revert, list-view-save,
// list-view-update, list-view-delete, list-view-delete-confirm) and the dialog that names a
// view and shows what it keeps, with the server's errors next to the part they concern
// (view-dialog, view-name, view-shared, view-submit, view-spec-<part>, view-error-<part>).
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Alert, Button, Checkbox, Form, Input, Modal, Popconfirm, Select, Tag, Typography, type ButtonProps } from 'antd';
import { DeleteOutlined, EditOutlined, SaveOutlined, UndoOutlined } from '@ant-design/icons';
import { ApiError, api } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import type { Field } from '../forms/model.ts';
import { describeCondition, describeSort } from './listText.ts';
import { filterFields } from './systemColumns.ts';
import { sortViews, splitFilter, viewErrors, type SavedView, type ViewBody, type ViewErrors, type ViewPart, type ViewSpec } from './views.ts';

/** The caller's and the shared views of a form, and the writes that keep the list current. */
export function useSavedViews(app: string, form: string) {
  const base = `/apps/${app}/forms/${form}/views`;
  // Tagged with the form they belong to, so another form's views are never taken for these.
  const [loaded, setLoaded] = useState<{ base: string; items: SavedView[]; error: string | null } | null>(null);
  useEffect(() => {
    let current = true;
    api<{ items: SavedView[] }>(base)
      .then((r) => current && setLoaded({ base, items: r.items, error: null }))
      .catch((e: unknown) => {
        // The list works without views; say why there are none.
        if (current) setLoaded({ base, items: [], error: e instanceof Error ? e.message : String(e) });
      });
    return () => {
      current = false;
    };
  }, [base]);
  const mine = loaded?.base === base ? loaded : null;
  const change = useCallback(
    (f: (items: SavedView[]) => SavedView[]) => setLoaded((l) => (l && l.base === base ? { ...l, items: f(l.items) } : l)),
    [base],
  );
  const save = useCallback(
    async (body: ViewBody, id?: number) => {
      const v =
        id === undefined ? await api<SavedView>(base, { body }) : await api<SavedView>(`${base}/${id}`, { method: 'PUT', body });
      change((items) => sortViews([...items.filter((x) => x.id !== v.id), v]));
      return v;
    },
    [base, change],
  );
  const remove = useCallback(
    async (id: number) => {
      await api(`${base}/${id}`, { method: 'DELETE' });
      change((items) => items.filter((x) => x.id !== id));
    },
    [base, change],
  );
  return { views: mine?.items ?? null, error: mine?.error ?? null, save, remove };
}

const searchByName = {
  showSearch: {
    filterOption: (input: string, option?: { name?: string }) => (option?.name ?? '').toLowerCase().includes(input.toLowerCase()),
  },
};

/** The view picker ("All records" and the views) with its actions. */
export function ViewBar(p: {
  views: SavedView[] | null;
  active: SavedView | null;
  /** The list shows something other than the active view. */
  modified: boolean;
  /** The caller may update and delete the active view. */
  canChange: boolean;
  phone: boolean;
  onPick: (id: number | null) => void;
  onSaveAs: () => void;
  onUpdate: () => void;
  onDelete: () => Promise<void>;
}) {
  const { t } = useI18n();
  const options = [
    { value: 0, name: t('list.allRecords'), label: t('list.allRecords'), 'data-testid': 'list-view-option-all' },
    ...(p.views ?? []).map((v) => ({
      value: v.id,
      name: v.name,
      label: v.shared ? `${v.name} · ${t('list.viewShared')}` : v.name,
      'data-testid': `list-view-option-${v.id}`,
    })),
  ];
  return (
    <div data-testid="list-views" style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', marginBottom: 8 }}>
      <Select
        data-testid="list-view"
        aria-label={t('list.view')}
        style={{ flex: p.phone ? '1 1 100%' : '0 1 260px', minWidth: 0 }}
        loading={p.views === null}
        value={p.active?.id ?? 0}
        options={options}
        onChange={(v: number) => p.onPick(v || null)}
        {...searchByName}
      />
      {p.active && p.modified && (
        <>
          <Tag color="orange" data-testid="list-view-modified" style={{ marginInlineEnd: 0 }}>
            {t('list.viewModified')}
          </Tag>
          <Button type="link" size="small" icon={<UndoOutlined />} data-testid="list-view-revert" onClick={() => p.active && p.onPick(p.active.id)}>
            {t('list.revertView')}
          </Button>
        </>
      )}
      <Button icon={<SaveOutlined />} data-testid="list-view-save" onClick={p.onSaveAs}>
        {t('list.saveView')}
      </Button>
      {p.active && p.canChange && p.modified && (
        <Button type="primary" ghost icon={<EditOutlined />} data-testid="list-view-update" onClick={p.onUpdate}>
          {t('list.updateView')}
        </Button>
      )}
      {p.active && p.canChange && (
        <Popconfirm
          title={t('list.deleteViewConfirm', { name: p.active.name })}
          okButtonProps={{ danger: true, 'data-testid': 'list-view-delete-confirm' } as ButtonProps}
          onConfirm={p.onDelete}
        >
          <Button danger icon={<DeleteOutlined />} data-testid="list-view-delete">
            {t('list.deleteView')}
          </Button>
        </Popconfirm>
      )}
    </div>
  );
}

const NO_ERRORS: ViewErrors = { messages: {}, badColumns: [] };

/** Name a view (administrators may share it) and show what it keeps; "update" rewrites
 *  the chosen view with what the list shows now. */
export function ViewDialog(p: {
  mode: 'create' | 'update';
  name: string;
  shared: boolean;
  isAdmin: boolean;
  spec: ViewSpec;
  /** The form's fields as the caller sees them. */
  fields: Field[];
  onSubmit: (body: ViewBody) => Promise<void>;
  onClose: () => void;
}) {
  const { t, label, locale } = useI18n();
  const [name, setName] = useState(p.name);
  const [shared, setShared] = useState(p.shared);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<ViewErrors>(NO_ERRORS);
  // Columns, sort keys and conditions may name system columns (conditions also the id).
  const byKey = new Map(filterFields(p.fields).map((f) => [f.key, f]));
  const { conditions, extra } = splitFilter(p.spec.filter, p.fields);

  const submit = async () => {
    const trimmed = name.trim();
    if (!trimmed) {
      setErrors({ messages: { name: [t('list.viewNameRequired')] }, badColumns: [] });
      return;
    }
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      await p.onSubmit({ name: trimmed, ...(p.isAdmin ? { shared } : {}), spec: p.spec });
    } catch (e) {
      setErrors(e instanceof ApiError ? viewErrors(e) : { messages: { other: [String(e)] }, badColumns: [] });
    } finally {
      setBusy(false);
    }
  };

  const help = (part: ViewPart): { validateStatus?: 'error'; help?: ReactNode } => {
    const m = errors.messages[part];
    return m ? { validateStatus: 'error', help: <span data-testid={`view-error-${part}`}>{m.join('; ')}</span> } : {};
  };

  return (
    <Modal
      open
      title={p.mode === 'create' ? t('list.saveView') : t('list.updateView')}
      onCancel={p.onClose}
      onOk={() => void submit()}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      okButtonProps={{ loading: busy, 'data-testid': 'view-submit' } as ButtonProps}
    >
      <div data-testid="view-dialog">
        <Form layout="vertical" component="div">
          <Form.Item label={t('list.viewName')} required {...help('name')}>
            <Input data-testid="view-name" autoFocus maxLength={200} value={name} onChange={(e) => setName(e.target.value)} onPressEnter={() => void submit()} />
          </Form.Item>
          {p.isAdmin && (
            <Form.Item {...help('shared')} extra={t('list.viewSharedHelp')}>
              <Checkbox data-testid="view-shared" checked={shared} onChange={(e) => setShared(e.target.checked)}>
                {t('list.viewShared')}
              </Checkbox>
            </Form.Item>
          )}
          <Typography.Text type="secondary">{t('list.viewKeeps')}</Typography.Text>
          <Form.Item label={t('list.filter')} style={{ marginBottom: 8 }} {...help('filter')}>
            <div data-testid="view-spec-filter">
              {conditions.length === 0 && extra === undefined && <Typography.Text type="secondary">{t('list.viewNoFilter')}</Typography.Text>}
              {conditions.map((c, i) => (
                <div key={i}>{describeCondition(c, byKey, t, locale)}</div>
              ))}
              {extra !== undefined && (
                <Typography.Text code style={{ overflowWrap: 'anywhere' }}>
                  {JSON.stringify(extra)}
                </Typography.Text>
              )}
            </div>
          </Form.Item>
          <Form.Item label={t('list.sort')} style={{ marginBottom: 8 }} {...help('sort')}>
            <span data-testid="view-spec-sort">{describeSort(p.spec.sort, byKey, t, locale)}</span>
          </Form.Item>
          <Form.Item label={t('list.columns')} style={{ marginBottom: 8 }} {...help('columns')}>
            <div data-testid="view-spec-columns" style={{ display: 'flex', flexWrap: 'wrap', gap: 4 }}>
              {(p.spec.columns ?? []).map((k, i) => (
                <Tag key={k} color={errors.badColumns.includes(i) ? 'error' : undefined} data-column={k} style={{ marginInlineEnd: 0 }}>
                  {label(byKey.get(k)?.schema['x-label'], k)}
                </Tag>
              ))}
            </div>
          </Form.Item>
          <Form.Item label={t('list.pageSizeLabel')} style={{ marginBottom: 8 }} {...help('pageSize')}>
            <span data-testid="view-spec-page-size">{p.spec.page_size ?? ''}</span>
          </Form.Item>
        </Form>
        {errors.messages.other && <Alert type="error" data-testid="view-error" message={errors.messages.other.join('; ')} />}
      </div>
    </Modal>
  );
}
