// Ask the server why a user may or may not do something: GET /apps/{app}/explain.
import { useEffect, useState } from 'react';
import { Alert, Button, Card, Descriptions, Select, Space, Table, Tag, Typography } from 'antd';
import { ApiError, api, qs } from '../api/client.ts';
import type { FormSummary, User } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import type { Field } from '../forms/model.ts';
import { describeRows, EXPLAIN_ACTIONS, type ExplainAnswer } from './permissions.ts';
import { searchable } from './select.ts';

export function ExplainPanel({
  app,
  forms,
  users,
  fieldsOf,
  loadFields,
}: {
  app: string;
  forms: FormSummary[];
  users: User[];
  fieldsOf: (form: string) => Field[] | undefined;
  loadFields: (form: string) => void;
}) {
  const { t, label } = useI18n();
  const [user, setUser] = useState<string | undefined>();
  const [form, setForm] = useState<string | undefined>();
  const [action, setAction] = useState<string>('read');
  const [field, setField] = useState<string | undefined>();
  const [answer, setAnswer] = useState<ExplainAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (form) loadFields(form);
  }, [form, loadFields]);

  const run = async () => {
    if (!user || !form) return;
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      setAnswer(await api<ExplainAnswer>(`/apps/${app}/explain${qs({ user, form, action, field })}`));
    } catch (e) {
      setError(e instanceof ApiError ? `${e.status} ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };

  const fields = form ? (fieldsOf(form) ?? []) : [];
  return (
    <Card title={t('admin.explain.title')} size="small">
      <Space wrap align="end">
        <div>
          <Typography.Text type="secondary">{t('admin.explain.user')}</Typography.Text>
          <br />
          <Select
            data-testid="explain-user"
            style={{ width: 200 }}
            value={user}
            onChange={(v: string) => setUser(v)}
            {...searchable}
            options={users.map((u) => ({ value: u.username, label: u.display_name ? `${u.display_name} (${u.username})` : u.username }))}
          />
        </div>
        <div>
          <Typography.Text type="secondary">{t('admin.explain.form')}</Typography.Text>
          <br />
          <Select
            data-testid="explain-form"
            style={{ width: 200 }}
            value={form}
            onChange={(v: string) => {
              setForm(v);
              setField(undefined);
            }}
            {...searchable}
            options={forms.map((f) => ({ value: f.key, label: `${label(f.label, f.key)} (${f.key})` }))}
          />
        </div>
        <div>
          <Typography.Text type="secondary">{t('admin.explain.action')}</Typography.Text>
          <br />
          <Select
            data-testid="explain-action"
            style={{ width: 150 }}
            value={action}
            onChange={(v: string) => setAction(v)}
            {...searchable}
            options={EXPLAIN_ACTIONS.map((a) => ({ value: a, label: `${t(`admin.action.${a}`)} (${a})` }))}
          />
        </div>
        <div>
          <Typography.Text type="secondary">{t('admin.explain.field')}</Typography.Text>
          <br />
          <Select
            data-testid="explain-field"
            style={{ width: 200 }}
            value={field}
            allowClear
            onChange={(v: string | undefined) => setField(v)}
            {...searchable}
            options={fields.map((f) => ({ value: f.key, label: `${label(f.schema['x-label'], f.key)} (${f.key})` }))}
          />
        </div>
        <Button type="primary" data-testid="explain-run" disabled={!user || !form || busy} loading={busy} onClick={() => void run()}>
          {t('admin.explain.run')}
        </Button>
      </Space>
      {error && <Alert style={{ marginTop: 12 }} type="error" message={error} />}
      {answer && (
        <div data-testid="explain-result" data-allowed={String(answer.allowed)} style={{ marginTop: 12 }}>
          <Alert
            type={answer.allowed ? 'success' : 'error'}
            showIcon
            message={
              <span data-testid="explain-verdict">
                {answer.allowed ? t('admin.explain.allowed') : t('admin.explain.denied')}
                {' — '}
                {answer.user} · {answer.form} · {answer.action}
                {answer.field ? ` · ${answer.field}` : ''}
              </span>
            }
            description={`${t('admin.explain.reason')}: ${answer.reason}`}
          />
          <Descriptions size="small" column={1} style={{ marginTop: 8 }}>
            <Descriptions.Item label={t('admin.explain.roles')}>
              {answer.roles.length === 0 ? t('admin.explain.noRoles') : answer.roles.map((r) => <Tag key={r}>{r}</Tag>)}
              {answer.platform_role && (
                <Tag color="gold">
                  {t('admin.explain.platformRole')}: {answer.platform_role}
                </Tag>
              )}
            </Descriptions.Item>
            <Descriptions.Item label={t('admin.explain.rows')}>
              <Space direction="vertical" size={0}>
                {describeRows(answer.rows).map((r, i) => (
                  <Typography.Text code key={i}>
                    {r}
                  </Typography.Text>
                ))}
              </Space>
            </Descriptions.Item>
          </Descriptions>
          <Table
            size="small"
            pagination={false}
            rowKey={(r) => `${r.role}|${r.object}|${r.action}|${r.effect}`}
            dataSource={answer.matched_rules}
            locale={{ emptyText: t('admin.explain.noRules') }}
            title={() => t('admin.explain.rules')}
            columns={[
              { title: t('admin.explain.roles'), dataIndex: 'role' },
              { title: t('admin.explain.object'), dataIndex: 'object', render: (v: string) => <Typography.Text code>{v}</Typography.Text> },
              { title: t('admin.explain.action'), dataIndex: 'action' },
              {
                title: t('admin.explain.effect'),
                dataIndex: 'effect',
                render: (v: string) => <Tag color={v === 'deny' ? 'red' : 'green'}>{v}</Tag>,
              },
            ]}
          />
        </div>
      )}
    </Card>
  );
}
