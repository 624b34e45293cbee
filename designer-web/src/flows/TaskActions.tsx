// The other things an assignee may do with an open task (docs/flows.md, "Task actions"):
// transfer it to someone else, add a signer to this step, or return the instance to an
// earlier step it passed. Each asks for its target, sends the comment along, and shows the
// server's refusal (unknown user, already assigned, not an earlier step) in place.
//
// data-testid: task-transfer, task-add-signer, task-return, task-action-target,
// task-action-confirm
import { useEffect, useState } from 'react';
import { Button, Modal, Select, Space, Typography } from 'antd';
import { RollbackOutlined, SwapOutlined, UserAddOutlined } from '@ant-design/icons';
import { ApiError, api } from '../api/client.ts';
import { directoryUsers, type DirectoryUser } from '../forms/directory.ts';
import { useI18n } from '../i18n/index.tsx';
import { labelOf } from './tasks.ts';
import type { TaskDetail } from './types.ts';

export type TaskAction = 'transfer' | 'add-signer' | 'return';

export function TaskActions({ detail, comment, disabled, onDone }: { detail: TaskDetail; comment: string; disabled: boolean; onDone: (d: TaskDetail) => void }) {
  const { t, label } = useI18n();
  const [action, setAction] = useState<TaskAction | null>(null);
  const [target, setTarget] = useState<string | undefined>(undefined);
  const [users, setUsers] = useState<DirectoryUser[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const returnTo = Array.isArray(detail.return_to) ? detail.return_to : [];
  useEffect(() => {
    if (action && action !== 'return' && users.length === 0) directoryUsers().then(setUsers).catch(() => setUsers([]));
  }, [action, users.length]);

  const open = (a: TaskAction) => {
    setAction(a);
    setTarget(undefined);
    setError(null);
  };
  const submit = async () => {
    if (!action || !target) return;
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { to: target };
      if (comment.trim()) body.comment = comment.trim();
      const next = await api<TaskDetail>(`/tasks/${detail.task.id}/${action}`, { body });
      setAction(null);
      onDone(next);
    } catch (e) {
      setError(e instanceof ApiError ? [e.message, ...(e.details ?? []).map((d) => d.message)].filter((m, i, a) => a.indexOf(m) === i).join(' — ') : String(e));
    } finally {
      setBusy(false);
    }
  };
  const me = detail.task.assignee;
  const options =
    action === 'return'
      ? returnTo.map((n) => ({ value: n.id, label: label(labelOf(n.label), n.id) }))
      : users.filter((u) => u.username !== me).map((u) => ({ value: u.username, label: u.display_name ? `${u.display_name} (${u.username})` : u.username }));
  return (
    <>
      <Space wrap>
        <Button icon={<SwapOutlined />} disabled={disabled} data-testid="task-transfer" onClick={() => open('transfer')}>
          {t('flows.task.transfer')}
        </Button>
        <Button icon={<UserAddOutlined />} disabled={disabled} data-testid="task-add-signer" onClick={() => open('add-signer')}>
          {t('flows.task.addSigner')}
        </Button>
        {returnTo.length > 0 && (
          <Button icon={<RollbackOutlined />} disabled={disabled} data-testid="task-return" onClick={() => open('return')}>
            {t('flows.task.return')}
          </Button>
        )}
      </Space>
      <Modal
        open={action !== null}
        title={action ? t(`flows.task.${action === 'add-signer' ? 'addSigner' : action}`) : ''}
        okText={t('common.confirm')}
        okButtonProps={{ disabled: !target, loading: busy, ...({ 'data-testid': 'task-action-confirm' } as Record<string, string>) }}
        onOk={() => void submit()}
        onCancel={() => setAction(null)}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">{action ? t(`flows.task.${action === 'add-signer' ? 'addSigner' : action}Hint`) : ''}</Typography.Paragraph>
        <Select
          showSearch
          optionFilterProp="label"
          style={{ width: '100%' }}
          value={target}
          onChange={setTarget}
          options={options}
          data-testid="task-action-target"
          placeholder={action === 'return' ? t('flows.task.pickStep') : t('flows.task.pickUser')}
        />
        {error && <Typography.Paragraph type="danger" style={{ marginTop: 8 }} data-testid="task-action-error">{error}</Typography.Paragraph>}
      </Modal>
    </>
  );
}
