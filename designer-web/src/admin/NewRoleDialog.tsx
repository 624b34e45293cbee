// Creating a role: its key and labels; the permissions are edited afterwards.
import { useState } from 'react';
import { Alert, Form, Input, Modal } from 'antd';
import type { ButtonProps } from 'antd';
import { ApiError, api } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import { ROLE_KEY, newRole, type RoleDoc } from './permissions.ts';
import { errorMessage } from './ErrorList.tsx';

export function NewRoleDialog({
  app,
  open,
  existing,
  onCancel,
  onCreated,
}: {
  app: string;
  open: boolean;
  existing: string[];
  onCancel: () => void;
  onCreated: (role: RoleDoc) => void;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<{ key: string; zh: string; en: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    const v = await form.validateFields();
    const role = newRole(v.key.trim(), v.zh ?? '', v.en ?? '');
    setBusy(true);
    setError(null);
    try {
      const saved = await api<RoleDoc>(`/apps/${app}/roles/${encodeURIComponent(role.key)}`, { method: 'PUT', body: role });
      form.resetFields();
      onCreated(saved ?? role);
    } catch (e) {
      setError(
        e instanceof ApiError && e.details.length > 0
          ? e.details.map((d) => `${d.pointer} ${d.message}`).join('; ')
          : errorMessage(e),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('admin.perm.newRole')}
      okText={t('admin.perm.create')}
      okButtonProps={{ loading: busy, 'data-testid': 'perm-new-submit' } as ButtonProps}
      onOk={() => void submit().catch(() => undefined)}
      onCancel={onCancel}
      destroyOnHidden
    >
      <Form form={form} layout="vertical">
        <Form.Item
          name="key"
          label={t('admin.perm.key')}
          extra={t('admin.perm.keyHelp')}
          rules={[
            { required: true, pattern: ROLE_KEY, message: t('admin.perm.keyHelp') },
            {
              validator: (_, v: string | undefined) =>
                v && existing.includes(v.trim()) ? Promise.reject(new Error(t('admin.perm.keyTaken'))) : Promise.resolve(),
            },
          ]}
        >
          <Input data-testid="perm-new-key" autoComplete="off" />
        </Form.Item>
        <Form.Item
          name="zh"
          label={t('admin.perm.labelZh')}
          dependencies={['en']}
          rules={[
            ({ getFieldValue }) => ({
              validator: (_, v: string | undefined) =>
                (v ?? '').trim() || String(getFieldValue('en') ?? '').trim()
                  ? Promise.resolve()
                  : Promise.reject(new Error(t('admin.perm.labelRequired'))),
            }),
          ]}
        >
          <Input data-testid="perm-new-label-zh" />
        </Form.Item>
        <Form.Item name="en" label={t('admin.perm.labelEn')}>
          <Input data-testid="perm-new-label-en" />
        </Form.Item>
      </Form>
      {error && <Alert type="error" message={error} data-testid="perm-new-error" />}
    </Modal>
  );
}
