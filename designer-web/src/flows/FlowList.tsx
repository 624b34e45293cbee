// `/apps/:app/flows`: the app's flows (trigger, key, published version) and the "new flow"
// dialog (key, labels, trigger form), which saves an empty draft and opens it.
//
// data-testid: flow-new, flow-list, flow-row-<key>, flow-new-key, flow-new-label-zh / -en,
// flow-new-form, flow-new-create, flow-new-error
import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Alert, Button, Card, Empty, Form, Input, List, Modal, Select, Space, Spin, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { api } from '../api/client.ts';
import type { FormSummary } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { errorText } from './designerApi.ts';
import { KEY_RE, emptyDefinition } from './model.ts';
import type { FlowSummary } from './types.ts';

export function FlowList({ app }: { app: string }) {
  const { t, label } = useI18n();
  const navigate = useNavigate();
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [forms, setForms] = useState<FormSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState('');
  const [zh, setZh] = useState('');
  const [en, setEn] = useState('');
  const [form, setForm] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<string | null>(null);

  useEffect(() => {
    api<{ items: FlowSummary[] }>(`/apps/${app}/flows`)
      .then((r) => setFlows(r.items))
      .catch((e: unknown) => setError(errorText(e)));
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items))
      .catch(() => setForms([]));
  }, [app]);

  const keyProblem = !key ? null : !KEY_RE.test(key) ? t('flows.new.keyInvalid') : flows?.some((f) => f.key === key) ? t('flows.new.keyTaken') : null;
  const chosenForm = form ?? forms[0]?.key;

  const create = async () => {
    setBusy(true);
    setCreateError(null);
    try {
      const def = emptyDefinition(key, { 'zh-CN': zh || en, en: en || zh }, chosenForm ?? '');
      await api(`/apps/${app}/flows/${key}/draft`, { method: 'PUT', body: def });
      navigate(`/apps/${app}/flows/${key}`);
    } catch (e) {
      setCreateError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title={
        <Space>
          <Link to={`/apps/${app}`}>{t('common.back')}</Link>
          <span>{t('flows.list.title')}</span>
        </Space>
      }
      extra={
        <Button type="primary" icon={<PlusOutlined />} data-testid="flow-new" onClick={() => setOpen(true)}>
          {t('flows.list.new')}
        </Button>
      }
    >
      {error && <Alert type="error" message={error} />}
      {!flows && !error && <Spin />}
      {flows && (
        <List
          data-testid="flow-list"
          dataSource={flows}
          locale={{ emptyText: <Empty description={t('flows.list.empty')} /> }}
          renderItem={(f) => (
            <List.Item data-testid={`flow-row-${f.key}`}>
              <Link to={`/apps/${app}/flows/${f.key}`}>{label(f.label, f.key)}</Link>
              <Space>
                {f.trigger && (
                  <Tag>
                    {t(`flows.trigger.type.${f.trigger.type}`)}
                    {f.trigger.form ? ` · ${label(forms.find((x) => x.key === f.trigger?.form)?.label, f.trigger.form)}` : ''}
                  </Tag>
                )}
                <Typography.Text code>{f.key}</Typography.Text>
                {f.published_version ? <Tag color="green">{t('flows.list.version', { n: f.published_version })}</Tag> : <Tag>{t('flows.list.unpublished')}</Tag>}
              </Space>
            </List.Item>
          )}
        />
      )}
      <Modal
        open={open}
        title={t('flows.new.title')}
        onCancel={() => setOpen(false)}
        footer={[
          <Button key="cancel" onClick={() => setOpen(false)}>
            {t('common.cancel')}
          </Button>,
          <Button
            key="create"
            type="primary"
            loading={busy}
            disabled={!key || !!keyProblem || (!zh && !en) || !chosenForm}
            data-testid="flow-new-create"
            onClick={() => void create()}
          >
            {t('flows.new.create')}
          </Button>,
        ]}
      >
        <Form layout="vertical">
          <Form.Item label={t('flows.new.key')} help={keyProblem ?? t('flows.new.keyHelp')} validateStatus={keyProblem ? 'error' : undefined}>
            <Input data-testid="flow-new-key" value={key} onChange={(e) => setKey(e.target.value.trim())} />
          </Form.Item>
          <Form.Item label={t('flows.label.zh')}>
            <Input data-testid="flow-new-label-zh" value={zh} onChange={(e) => setZh(e.target.value)} />
          </Form.Item>
          <Form.Item label={t('flows.label.en')}>
            <Input data-testid="flow-new-label-en" value={en} onChange={(e) => setEn(e.target.value)} />
          </Form.Item>
          <Form.Item label={t('flows.new.form')}>
            <Select
              data-testid="flow-new-form"
              showSearch
              optionFilterProp="label"
              value={chosenForm}
              options={forms.map((f) => ({ value: f.key, label: `${label(f.label, f.key)} (${f.key})` }))}
              onChange={(v: string) => setForm(v)}
            />
          </Form.Item>
          {createError && <Alert type="error" message={createError} data-testid="flow-new-error" />}
        </Form>
      </Modal>
    </Card>
  );
}
