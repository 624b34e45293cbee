import { useState } from 'react';
import { Alert, Button, Card, Form, Input } from 'antd';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';

export function LoginPage() {
  const { login } = useSession();
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Card title={t('login.title')} style={{ maxWidth: 380, margin: '10vh auto' }}>
      <Form
        layout="vertical"
        onFinish={(v: { username: string; password: string }) => {
          setBusy(true);
          setError(null);
          login(v.username, v.password)
            .catch((e: unknown) => setError(t('login.failed', { message: e instanceof Error ? e.message : String(e) })))
            .finally(() => setBusy(false));
        }}
      >
        <Form.Item name="username" label={t('login.username')} rules={[{ required: true }]}>
          <Input data-testid="login-username" autoComplete="username" autoFocus />
        </Form.Item>
        <Form.Item name="password" label={t('login.password')} rules={[{ required: true }]}>
          <Input.Password data-testid="login-password" autoComplete="current-password" />
        </Form.Item>
        {error && <Alert type="error" message={error} style={{ marginBottom: 16 }} data-testid="login-error" />}
        <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
          {t('login.submit')}
        </Button>
      </Form>
    </Card>
  );
}
