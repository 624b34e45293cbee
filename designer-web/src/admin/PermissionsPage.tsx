// The permission editor of one app: roles, their action matrix (ActionMatrix.tsx), field
// grid (FieldGrid.tsx) and row scope (RowScope.tsx), new roles (NewRoleDialog.tsx), and the
// explain panel. The logic (document ↔ matrix / grid) is in permissions.ts.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, App as AntApp, Button, Card, Popconfirm, Select, Space, Spin, Tag, Typography } from 'antd';
import type { ButtonProps } from 'antd';
import { DeleteOutlined, PlusOutlined, SaveOutlined, UndoOutlined } from '@ant-design/icons';
import { ApiError, api } from '../api/client.ts';
import type { FormDetail, FormSummary, User } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { fieldsOf, type Field } from '../forms/model.ts';
import { ALL_FORMS, changedForms, errorPlace, jsonEqual, matrixForms, setAction, type ErrorPlace, type RoleDoc } from './permissions.ts';
import { ActionMatrix } from './ActionMatrix.tsx';
import { errorMessage, type PlacedError } from './ErrorList.tsx';
import { ExplainPanel } from './ExplainPanel.tsx';
import { FieldGrid } from './FieldGrid.tsx';
import { NewRoleDialog } from './NewRoleDialog.tsx';
import { RowScope, type FilterDraft } from './RowScope.tsx';
import { searchable } from './select.ts';

export default function PermissionsPage() {
  const { app = '' } = useParams();
  const { t, label } = useI18n();
  const { message, modal } = AntApp.useApp();

  const [forms, setForms] = useState<FormSummary[] | null>(null);
  const [roles, setRoles] = useState<RoleDoc[] | null>(null);
  const [users, setUsers] = useState<User[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [fieldsByForm, setFieldsByForm] = useState<Record<string, Field[]>>({});
  const requested = useRef(new Set<string>());

  const [roleKey, setRoleKey] = useState<string | undefined>();
  const [original, setOriginal] = useState<RoleDoc | null>(null);
  const [doc, setDoc] = useState<RoleDoc | null>(null);
  const [gridForm, setGridForm] = useState<string | undefined>();
  const [drafts, setDrafts] = useState<Record<string, FilterDraft>>({});
  const [errors, setErrors] = useState<PlacedError[]>([]);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [creating, setCreating] = useState(false);

  const loadRoles = useCallback(async () => {
    const r = await api<{ items: RoleDoc[] }>(`/apps/${app}/roles`);
    setRoles(r.items);
    return r.items;
  }, [app]);

  useEffect(() => {
    setLoadError(null);
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items))
      .catch((e: unknown) => setLoadError(errorMessage(e)));
    loadRoles().catch((e: unknown) => setLoadError(errorMessage(e)));
    api<{ items: User[] }>(`/admin/users`)
      .then((r) => setUsers(r.items))
      .catch(() => setUsers([]));
  }, [app, loadRoles]);

  const loadFields = useCallback(
    (form: string) => {
      if (form === ALL_FORMS || requested.current.has(form)) return;
      requested.current.add(form);
      api<FormDetail>(`/apps/${app}/forms/${encodeURIComponent(form)}`)
        .then((d) => setFieldsByForm((m) => ({ ...m, [form]: fieldsOf((d.definition ?? d.draft)?.schema) })))
        .catch(() => setFieldsByForm((m) => ({ ...m, [form]: [] })));
    },
    [app],
  );
  const fieldsFor = useCallback((form: string) => fieldsByForm[form], [fieldsByForm]);

  const openRole = useCallback(
    (key: string | undefined, list: RoleDoc[] | null) => {
      const r = list?.find((x) => x.key === key) ?? null;
      setRoleKey(r?.key);
      setOriginal(r);
      setDoc(r);
      setDrafts({});
      setErrors([]);
      setSaveError(null);
      const first = r ? Object.keys(r.permissions ?? {})[0] : undefined;
      setGridForm((g) => (r && g && (g in (r.permissions ?? {}) || forms?.some((f) => f.key === g)) ? g : first));
    },
    [forms],
  );

  const dirty = useMemo(() => !!doc && !!original && !jsonEqual(doc, original), [doc, original]);
  const changed = useMemo(() => changedForms(original, doc), [original, doc]);
  const badDrafts = Object.values(drafts).some((d) => d.error);

  const chooseRole = (key: string) => {
    if (dirty) {
      modal.confirm({
        title: t('admin.perm.discardTitle'),
        onOk: () => openRole(key, roles),
      });
    } else openRole(key, roles);
  };

  useEffect(() => {
    if (gridForm) loadFields(gridForm);
  }, [gridForm, loadFields]);

  // Roles may only name published forms; others still show when a role names them.
  const published = useMemo(() => (forms ?? []).filter((f) => f.published_version !== null), [forms]);
  const appFormKeys = useMemo(() => published.map((f) => f.key), [published]);
  const gridCard = useRef<HTMLDivElement>(null);
  const selectForGrid = (form: string) => {
    setGridForm(form);
    gridCard.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  };
  const formLabel = (key: string) => {
    if (key === ALL_FORMS) return t('admin.perm.allForms');
    const f = forms?.find((x) => x.key === key);
    return f ? label(f.label, key) : key;
  };

  const save = async () => {
    if (!doc || !roleKey) return;
    setSaving(true);
    setErrors([]);
    setSaveError(null);
    try {
      const saved = await api<RoleDoc>(`/apps/${app}/roles/${encodeURIComponent(roleKey)}`, { method: 'PUT', body: doc });
      const next = saved ?? doc;
      setOriginal(next);
      setDoc(next);
      setDrafts({});
      setRoles((rs) => rs?.map((r) => (r.key === roleKey ? next : r)) ?? rs);
      void message.success(t('admin.perm.saved'));
    } catch (e) {
      if (e instanceof ApiError && e.details.length > 0) {
        setErrors(e.details.map((detail) => ({ detail, place: errorPlace(detail.pointer, doc) })));
      }
      setSaveError(
        e instanceof ApiError && e.status === 403
          ? t('admin.perm.forbidden', { message: e.message })
          : t('admin.perm.saveFailed', { message: errorMessage(e) }),
      );
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!roleKey) return;
    try {
      await api(`/apps/${app}/roles/${encodeURIComponent(roleKey)}`, { method: 'DELETE' });
      void message.success(t('admin.perm.deleted'));
      const list = await loadRoles();
      openRole(list[0]?.key, list);
    } catch (e) {
      setSaveError(errorMessage(e));
    }
  };

  const created = async (role: RoleDoc) => {
    setCreating(false);
    void message.success(t('admin.perm.created'));
    const list = await loadRoles();
    openRole(role.key, list);
  };

  if (loadError) return <Alert type="error" message={loadError} data-testid="perm-load-error" />;
  if (!forms || !roles) return <Spin />;

  const errorsFor = (pred: (p: ErrorPlace) => boolean) => errors.filter((e) => pred(e.place));

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>
          <Link to={`/apps/${app}`}>{app}</Link> / {t('admin.perm.title')}
        </Typography.Title>
      </Space>

      <Card size="small">
        <Space wrap>
          <span>{t('admin.perm.role')}</span>
          <Select
            data-testid="perm-role"
            style={{ minWidth: 260 }}
            placeholder={t('admin.perm.pickRole')}
            value={roleKey}
            onChange={(v: string) => chooseRole(v)}
            notFoundContent={t('admin.perm.noRoles')}
            {...searchable}
            options={roles.map((r) => ({ value: r.key, label: `${label(r.label, r.key)} (${r.key})` }))}
          />
          <Button icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="perm-new-role">
            {t('admin.perm.newRole')}
          </Button>
          {roleKey && (
            <Popconfirm
              title={t('admin.perm.deleteConfirm', { role: label(original?.label, roleKey) })}
              okButtonProps={{ danger: true, 'data-testid': 'perm-delete-confirm' } as ButtonProps}
              onConfirm={() => void remove()}
            >
              <Button danger icon={<DeleteOutlined />} data-testid="perm-delete-role">
                {t('admin.perm.deleteRole')}
              </Button>
            </Popconfirm>
          )}
          {doc && (
            <>
              <Button
                type="primary"
                icon={<SaveOutlined />}
                data-testid="perm-save"
                disabled={!dirty || badDrafts || saving}
                loading={saving}
                onClick={() => void save()}
              >
                {t('admin.perm.save')}
              </Button>
              <Button
                icon={<UndoOutlined />}
                disabled={!dirty && Object.keys(drafts).length === 0}
                onClick={() => openRole(roleKey, roles)}
                data-testid="perm-revert"
              >
                {t('admin.perm.revert')}
              </Button>
              {dirty && <Tag color="orange">{t('admin.perm.unsaved')}</Tag>}
              {badDrafts && <Tag color="red">{t('admin.perm.invalidDrafts')}</Tag>}
            </>
          )}
        </Space>
        {original?.description && (
          <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }}>
            {label(original.description)}
          </Typography.Paragraph>
        )}
        {saveError && (
          <Alert
            style={{ marginTop: 8 }}
            type="error"
            data-testid="perm-save-error"
            message={saveError}
            description={
              errors.length > 0 && (
                <ul style={{ margin: 0, paddingLeft: 18 }}>
                  {errors.map((e, i) => (
                    <li key={i}>
                      <Typography.Text code>{e.detail.pointer}</Typography.Text> {e.detail.message}
                    </li>
                  ))}
                </ul>
              )
            }
          />
        )}
      </Card>

      {doc && (
        <ActionMatrix
          doc={doc}
          forms={matrixForms(doc, appFormKeys)}
          appForms={appFormKeys}
          formLabel={formLabel}
          changed={changed}
          selected={gridForm}
          errors={errorsFor((p) => p.part === 'actions' || p.part === 'form')}
          onToggle={(form, action, on) => setDoc((d) => (d ? setAction(d, form, action, on) : d))}
          onSelect={selectForGrid}
        />
      )}

      {doc && (
        <Card size="small" title={t('admin.perm.editFields')} ref={gridCard}>
          <Space wrap style={{ marginBottom: 12 }}>
            <span>{t('admin.perm.fieldsOf')}</span>
            <Select
              data-testid="perm-field-form"
              style={{ minWidth: 260 }}
              value={gridForm}
              onChange={(v: string) => setGridForm(v)}
              {...searchable}
              options={matrixForms(doc, appFormKeys).map((f) => ({ value: f, label: `${formLabel(f)} (${f})` }))}
            />
            {gridForm && changed.has(gridForm) && <Tag color="orange">{t('admin.perm.modified')}</Tag>}
          </Space>
          {gridForm && (
            <>
              {!doc.permissions?.[gridForm] && <Alert type="info" style={{ marginBottom: 12 }} message={t('admin.rows.noRule')} />}
              <RowScope
                doc={doc}
                form={gridForm}
                originalRows={original?.permissions?.[gridForm]?.rows}
                draft={drafts[gridForm]}
                errors={errorsFor((p) => p.part === 'rows' && p.form === gridForm)}
                setDraft={(d) =>
                  setDrafts((all) => {
                    const next = { ...all };
                    if (d) next[gridForm] = d;
                    else delete next[gridForm];
                    return next;
                  })
                }
                setDoc={setDoc}
              />
              <FieldGrid
                doc={doc}
                form={gridForm}
                fields={gridForm === ALL_FORMS ? [] : fieldsByForm[gridForm]}
                errors={errorsFor((p) => p.part === 'fields' && p.form === gridForm)}
                setDoc={setDoc}
              />
            </>
          )}
        </Card>
      )}

      <ExplainPanel app={app} forms={published} users={users} fieldsOf={fieldsFor} loadFields={loadFields} />

      <NewRoleDialog app={app} open={creating} existing={roles.map((r) => r.key)} onCancel={() => setCreating(false)} onCreated={(r) => void created(r)} />
    </Space>
  );
}
