// Create, view and edit one record: the form as the caller may see it, the server's
// validation messages on the fields they concern, and the record's history.
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Alert, App, Button, Input, Popconfirm, Space, Table, Tabs, Tag, Timeline, Typography } from 'antd';
import { ApiError, api, fieldErrors } from '../api/client.ts';
import type { HistoryEntry, RecordItem } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { RecordForm } from '../forms/RecordForm.tsx';
import { displayValue } from '../forms/display.tsx';
import { defaults, fieldMap, fieldsOf, isServerAssigned } from '../forms/model.ts';
import { may, useFormDetail } from './useForm.ts';
import { useSession } from '../auth.tsx';
import { personalDefaults } from './personalDefaults.ts';
import { RecordFlows } from './RecordFlows.tsx';
import { createBody, mergePatch } from './recordDiff.ts';

export function RecordPage() {
  const { app = '', form = '', id } = useParams();
  const isNew = id === undefined;
  const { t, label, locale } = useI18n();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const { detail, error } = useFormDetail(app, form);
  const { me } = useSession();
  const def = detail?.definition ?? null;
  const [record, setRecord] = useState<RecordItem | null>(null);
  const [data, setData] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<Map<string, string[]>>(new Map());
  const [problem, setProblem] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    setErrors(new Map());
    setProblem(null);
    if (isNew) {
      setRecord(null);
      // Defaults only for fields the caller may write: the others would be refused.
      if (def) {
        const all = personalDefaults(defaults(def.schema), def.schema, me);
        const w = detail?.writable;
        setData(w ? Object.fromEntries(Object.entries(all).filter(([k]) => w.includes(k))) : all);
      }
      return;
    }
    api<RecordItem>(`/apps/${app}/forms/${form}/records/${id}`)
      .then((r) => {
        setRecord(r);
        setData(r.data);
      })
      .catch((e: unknown) => setLoadError(e instanceof ApiError && e.status === 404 ? t('common.notFound') : String(e)));
  }, [app, form, id, isNew, def, detail, t, me]);

  const serverAssigned = useMemo(
    () => new Set(fieldsOf(def?.schema).filter((f) => isServerAssigned(f.type)).map((f) => f.key)),
    [def],
  );
  const canWrite = isNew ? may(detail, 'create') : may(detail, 'update');
  const writable = useMemo(() => (detail?.writable ? new Set(detail.writable) : undefined), [detail]);

  const showError = (e: unknown) => {
    if (e instanceof ApiError) {
      const { byField, other } = fieldErrors(e.details);
      setErrors(byField);
      if (e.status === 412) setProblem(t('record.conflict'));
      else if (byField.size > 0 && other.length === 0) setProblem(t('record.invalid'));
      else setProblem([e.message, ...other.map((d) => `${d.pointer || '/'}: ${d.message}`)].join('\n'));
    } else setProblem(String(e));
  };

  const save = async () => {
    setBusy(true);
    setErrors(new Map());
    setProblem(null);
    try {
      const r = reason.trim() ? { reason: reason.trim() } : {};
      if (isNew) {
        const created = await api<RecordItem>(`/apps/${app}/forms/${form}/records`, {
          body: { data: createBody(data, serverAssigned), ...r },
        });
        message.success(t('common.saved'));
        navigate(`/apps/${app}/forms/${form}/records/${created.id}`, { replace: true });
      } else if (record) {
        const patch = mergePatch(record.data, data);
        for (const k of serverAssigned) delete patch[k];
        const updated = await api<RecordItem>(`/apps/${app}/forms/${form}/records/${record.id}`, {
          method: 'PATCH',
          body: { data: patch, ...r },
          headers: { 'If-Match': `"${record.row_version}"` },
        });
        setRecord(updated);
        setData(updated.data);
        setReason('');
        message.success(t('common.saved'));
      }
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!record) return;
    try {
      await api(`/apps/${app}/forms/${form}/records/${record.id}`, { method: 'DELETE', headers: { 'If-Match': `"${record.row_version}"` } });
      navigate(`/apps/${app}/forms/${form}`);
    } catch (e) {
      showError(e);
    }
  };

  if (error) return <Alert type="error" message={error instanceof Error ? error.message : String(error)} />;
  if (loadError) return <Alert type="error" message={loadError} data-testid="record-error" />;
  if (!def || (!isNew && !record)) return <Typography.Text>{t('common.loading')}</Typography.Text>;

  const formLabel = label(def.label, form);
  const details = (
    <>
      <RecordForm app={app} definition={def} data={data} onChange={setData} errors={errors} writable={writable} readOnly={!canWrite} />
      {problem && <Alert type="error" message={<span style={{ whiteSpace: 'pre-wrap' }}>{problem}</span>} style={{ marginBottom: 12 }} data-testid="record-problem" />}
      {canWrite && (
        <Space wrap>
          {!isNew && <Input style={{ width: 280 }} placeholder={t('record.reason')} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="record-reason" />}
          <Button type="primary" loading={busy} onClick={() => void save()} data-testid="record-save">
            {t('common.save')}
          </Button>
          {!isNew && may(detail, 'delete') && (
            <Popconfirm title={t('record.confirmDelete')} onConfirm={() => void remove()}>
              <Button danger data-testid="record-delete">
                {t('common.delete')}
              </Button>
            </Popconfirm>
          )}
        </Space>
      )}
    </>
  );

  return (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Link to={`/apps/${app}/forms/${form}`} data-testid="record-back">
          {t('common.back')}
        </Link>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="record-title">
          {isNew ? t('record.new', { form: formLabel }) : t('record.title', { form: formLabel, id: record?.id ?? '' })}
        </Typography.Title>
        {!canWrite && <Tag>{t('record.readOnly')}</Tag>}
        {!isNew && record && may(detail, 'print') && (
          // The server renders the page from what the caller may read (docs/api.md#printing).
          <a
            href={`/api/v1/apps/${app}/forms/${form}/records/${record.id}/print?locale=${encodeURIComponent(locale)}`}
            target="_blank"
            rel="noopener"
            data-testid="record-print"
          >
            {t('record.print')}
          </a>
        )}
      </Space>
      {isNew ? (
        details
      ) : (
        <Tabs
          items={[
            { key: 'details', label: t('record.details'), children: details },
            { key: 'history', label: <span data-testid="tab-history">{t('record.history')}</span>, children: <History app={app} form={form} id={record!.id} rowVersion={record!.row_version} schema={def.schema} /> },
            { key: 'flows', label: <span data-testid="tab-flows">{t('record.flows')}</span>, children: <RecordFlows app={app} form={form} id={record!.id} /> },
          ]}
        />
      )}
    </>
  );
}

function History(p: { app: string; form: string; id: number; rowVersion: number; schema: Record<string, unknown> }) {
  const { t, label, locale } = useI18n();
  const [items, setItems] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fields = useMemo(() => fieldMap(p.schema), [p.schema]);
  useEffect(() => {
    api<{ items: HistoryEntry[] }>(`/apps/${p.app}/forms/${p.form}/records/${p.id}/history`)
      .then((r) => setItems(r.items))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [p.app, p.form, p.id, p.rowVersion]);
  if (error) return <Alert type="error" message={error} />;
  if (!items) return <Typography.Text>{t('common.loading')}</Typography.Text>;
  if (items.length === 0) return <Typography.Text>{t('history.empty')}</Typography.Text>;
  const show = (field: string, v: unknown) => {
    const s = displayValue(v, fields.get(field)?.schema, locale);
    return s.length > 120 ? `${s.slice(0, 120)}…` : s;
  };
  return (
    <Timeline
      data-testid="history"
      items={[...items].reverse().map((e) => ({
        key: e.seq,
        children: (
          <div data-testid={`history-entry-${e.seq}`}>
            <Typography.Text strong>{t(`action.${e.action}`)}</Typography.Text> · {e.actor} · {new Date(e.at).toLocaleString(locale)}
            {e.reason && <> · {e.reason}</>}
            {e.changes.length > 0 && (
              <Table
                size="small"
                pagination={false}
                rowKey="field"
                dataSource={e.changes}
                columns={[
                  { key: 'f', title: t('history.field'), render: (_: unknown, c) => label(fields.get(c.field)?.schema['x-label'], c.field) },
                  { key: 'b', title: t('history.before'), render: (_: unknown, c) => show(c.field, c.before) },
                  { key: 'a', title: t('history.after'), render: (_: unknown, c) => show(c.field, c.after) },
                ]}
              />
            )}
          </div>
        ),
      }))}
    />
  );
}
