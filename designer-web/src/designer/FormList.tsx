// The form list of the designer (`/apps/:app/design`): the app's forms with their published
// version, and "new form" (key and labels; the empty draft is saved and opened).
//
// data-testid: designer-form-list, designer-form-<key>, designer-new-form, new-form-key,
// new-form-label-zh, new-form-label-en, new-form-create, new-form-error
import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Alert, Button, Card, Empty, Form, Input, List, Modal, Space, Spin, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api/client.ts';
import type { FormSummary } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { KEY_RE, emptyState } from './model.ts';
import { toDefinition } from './definition.ts';

export function FormList({ app }: { app: string }) {
  const { t, label } = useI18n();
  const navigate = useNavigate();
  const [forms, setForms] = useState<FormSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState('');
  const [zh, setZh] = useState('');
  const [en, setEn] = useState('');
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<string | null>(null);

  useEffect(() => {
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items))
      .catch((e: Error) => setError(e.message));
  }, [app]);

  const keyProblem = !key
    ? null
    : !KEY_RE.test(key)
      ? t('designer.new.keyInvalid')
      : forms?.some((f) => f.key === key)
        ? t('designer.new.keyTaken')
        : null;

  const create = async () => {
    setBusy(true);
    setCreateError(null);
    try {
      const def = toDefinition(emptyState(key, { 'zh-CN': zh || en, en: en || zh }));
      await api(`/apps/${app}/forms/${key}/draft`, { method: 'PUT', body: def });
      navigate(`/apps/${app}/design/${key}`);
    } catch (e) {
      setCreateError(e instanceof ApiError ? [e.message, ...e.details.map((d) => `${d.pointer}: ${d.message}`)].join('; ') : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title={
        <Space>
          <Link to={`/apps/${app}`}>{t('common.back')}</Link>
          <span>{t('designer.list.title')}</span>
        </Space>
      }
      extra={
        <Button type="primary" icon={<PlusOutlined />} data-testid="designer-new-form" onClick={() => setOpen(true)}>
          {t('designer.list.new')}
        </Button>
      }
    >
      {error && <Alert type="error" message={error} />}
      {!forms && !error && <Spin />}
      {forms && (
        <List
          data-testid="designer-form-list"
          dataSource={forms}
          locale={{ emptyText: <Empty description={t('designer.list.empty')} /> }}
          renderItem={(f) => (
            <List.Item>
              <Link to={`/apps/${app}/design/${f.key}`} data-testid={`designer-form-${f.key}`}>
                {label(f.label, f.key)}
              </Link>
              <Space>
                <Typography.Text code>{f.key}</Typography.Text>
                {f.published_version ? (
                  <Tag color="green">{t('designer.versions.version', { n: f.published_version })}</Tag>
                ) : (
                  <Tag>{t('designer.list.unpublished')}</Tag>
                )}
              </Space>
            </List.Item>
          )}
        />
      )}
      <Modal
        open={open}
        title={t('designer.new.title')}
        onCancel={() => setOpen(false)}
        footer={[
          <Button key="cancel" onClick={() => setOpen(false)}>
            {t('common.cancel')}
          </Button>,
          <Button
            key="create"
            type="primary"
            loading={busy}
            disabled={!key || !!keyProblem || (!zh && !en)}
            data-testid="new-form-create"
            onClick={() => void create()}
          >
            {t('designer.new.create')}
          </Button>,
        ]}
      >
        <Form layout="vertical">
          <Form.Item
            label={t('designer.form.key')}
            help={keyProblem ?? t('designer.prop.keyHelp')}
            validateStatus={keyProblem ? 'error' : undefined}
          >
            <Input data-testid="new-form-key" value={key} onChange={(e) => setKey(e.target.value.trim())} />
          </Form.Item>
          <Form.Item label={t('designer.prop.label.zh')}>
            <Input data-testid="new-form-label-zh" value={zh} onChange={(e) => setZh(e.target.value)} />
          </Form.Item>
          <Form.Item label={t('designer.prop.label.en')}>
            <Input data-testid="new-form-label-en" value={en} onChange={(e) => setEn(e.target.value)} />
          </Form.Item>
          {createError && <Alert type="error" message={createError} data-testid="new-form-error" />}
        </Form>
      </Modal>
    </Card>
  );
}
