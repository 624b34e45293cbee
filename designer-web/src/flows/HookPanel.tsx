// The address and secret of a flow started by an inbound webhook (docs/flows.md "Inbound
// webhooks"), under the trigger panel: `GET …/flows/{flow}/hook` once the flow is
// published, and `POST …/hook/rotate` (after a confirmation) for a new secret.
//
// data-testid: flow-hook, flow-hook-unpublished, flow-hook-error, flow-hook-url,
// flow-hook-secret, flow-hook-rotate
import { useEffect, useState } from 'react';
import { Alert, App as AntApp, Button, Divider, Form, Input, Popconfirm, Spin, Typography } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';

export interface HookInfo {
  url: string;
  secret: string;
  created_at: string;
}

/** The hook's address as a caller uses it: the server answers a path. */
export function absoluteHookUrl(url: string, origin: string): string {
  return url.startsWith('/') ? `${origin}${url}` : url;
}

function errorText(e: unknown): string {
  return e instanceof ApiError ? [e.message, ...e.details.map((d) => d.message)].join('; ') : e instanceof Error ? e.message : String(e);
}

export function HookPanel(p: { app: string; flow: string; publishedVersion: number | null }) {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
  const [hook, setHook] = useState<HookInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const base = `/apps/${p.app}/flows/${p.flow}/hook`;

  useEffect(() => {
    if (!p.publishedVersion) return;
    let live = true;
    setError(null);
    api<HookInfo>(base)
      .then((h) => live && setHook(h))
      .catch((e: unknown) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [base, p.publishedVersion]);

  const rotate = async () => {
    setBusy(true);
    try {
      setHook(await api<HookInfo>(`${base}/rotate`, { method: 'POST' }));
      setError(null);
      message.success(t('flows.hook.rotated'));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid="flow-hook">
      <Divider style={{ margin: '8px 0' }}>{t('flows.hook.title')}</Divider>
      {!p.publishedVersion ? (
        <Alert type="info" showIcon data-testid="flow-hook-unpublished" message={t('flows.hook.unpublished')} />
      ) : error ? (
        <Alert type="error" data-testid="flow-hook-error" message={error} description={t('flows.hook.errorHelp')} />
      ) : !hook ? (
        <Spin />
      ) : (
        <Form layout="vertical" size="small">
          <Form.Item label={t('flows.hook.url')}>
            <Typography.Text code copyable data-testid="flow-hook-url" style={{ wordBreak: 'break-all' }}>
              {absoluteHookUrl(hook.url, window.location.origin)}
            </Typography.Text>
          </Form.Item>
          <Form.Item label={t('flows.hook.secret')} help={t('flows.hook.created', { at: hook.created_at })}>
            <Input.Password readOnly data-testid="flow-hook-secret" value={hook.secret} />
            <Typography.Text copyable={{ text: hook.secret }} />
          </Form.Item>
          <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
            {t('flows.hook.signHelp')}
          </Typography.Paragraph>
          <Popconfirm title={t('flows.hook.rotateConfirm')} onConfirm={() => void rotate()}>
            <Button danger icon={<ReloadOutlined />} loading={busy} data-testid="flow-hook-rotate">
              {t('flows.hook.rotate')}
            </Button>
          </Popconfirm>
        </Form>
      )}
    </div>
  );
}
