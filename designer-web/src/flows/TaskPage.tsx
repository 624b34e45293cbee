// `/tasks/:id`: one task — the step's label, the instance, the record drawn by RecordForm
// with only the node's `editable` fields writable, a comment, and the buttons of its kind
// (approval: approve / reject; task: done). Completing sends only the changed editable
// fields; the server's errors land on the fields they name.
//
// data-testid beyond the brief: task-title, task-status, task-instance-link, task-problem,
// task-record, task-closed
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, App as AntApp, Button, Card, Descriptions, Input, Space, Tag, Typography } from 'antd';
import { CheckOutlined, CloseOutlined } from '@ant-design/icons';
import { ApiError, api, fieldErrors } from '../api/client.ts';
import { RecordForm } from '../forms/RecordForm.tsx';
import { useI18n } from '../i18n/index.tsx';
import { useFormDetail } from '../staff/useForm.ts';
import { TaskActions } from './TaskActions.tsx';
import { changedEditable, labelOf, outcomesOf, recordOf, statusColor } from './tasks.ts';
import type { TaskDetail } from './types.ts';

export default function TaskPage() {
  const { id = '' } = useParams();
  const { t } = useI18n();
  const [detail, setDetail] = useState<TaskDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const load = useCallback(() => {
    api<TaskDetail>(`/tasks/${id}`)
      .then(setDetail)
      .catch((e: unknown) => setLoadError(e instanceof ApiError && e.status === 404 ? t('common.notFound') : e instanceof Error ? e.message : String(e)));
  }, [id, t]);
  useEffect(load, [load]);
  if (loadError) return <Alert type="error" message={loadError} data-testid="task-error" />;
  if (!detail) return <Typography.Text>{t('common.loading')}</Typography.Text>;
  return <TaskView key={`${detail.task.id}-${detail.task.status}`} detail={detail} onDone={setDetail} />;
}

function fmt(at: string | null | undefined): string {
  if (!at) return '';
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString();
}

function TaskView({ detail, onDone }: { detail: TaskDetail; onDone: (d: TaskDetail) => void }) {
  const { t, label } = useI18n();
  const { message } = AntApp.useApp();
  const { task, instance } = detail;
  const app = instance.app;
  const form = instance.form;
  const { detail: formDetail, error: formError } = useFormDetail(app, form);
  const record = useMemo(() => recordOf(detail.record), [detail.record]);
  const [data, setData] = useState<Record<string, unknown>>(record?.data ?? {});
  const [comment, setComment] = useState('');
  const [errors, setErrors] = useState<Map<string, string[]>>(new Map());
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const editable = useMemo(() => (Array.isArray(detail.editable) ? detail.editable : []), [detail.editable]);
  const writable = useMemo(() => new Set(editable), [editable]);
  const isOpen = task.status === 'open';
  const title = label(labelOf(detail.node?.label) ?? labelOf(task.label), task.node);
  const def = formDetail?.definition ?? null;

  const complete = async (outcome: string) => {
    setBusy(outcome);
    setErrors(new Map());
    setProblem(null);
    try {
      const patch = record ? changedEditable(record.data, data, editable) : undefined;
      const body: Record<string, unknown> = { outcome };
      if (comment.trim()) body.comment = comment.trim();
      if (patch) body.data = patch;
      const next = await api<TaskDetail>(`/tasks/${task.id}/complete`, { body });
      message.success(t('flows.task.completed'));
      if (next && typeof next === 'object' && 'task' in next) onDone(next);
      else onDone({ ...detail, task: { ...task, status: outcome === 'done' ? 'done' : outcome } });
    } catch (e) {
      if (e instanceof ApiError) {
        const { byField, other } = fieldErrors(e.details);
        setErrors(byField);
        setProblem(byField.size > 0 && other.length === 0 ? t('flows.task.invalid') : [e.message, ...other.map((d) => `${d.pointer || '/'}: ${d.message}`)].join('\n'));
      } else setProblem(String(e));
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Link to="/tasks">{t('common.back')}</Link>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="task-title">
          {title}
        </Typography.Title>
        <Tag>{t(`flows.kind.${task.kind}`)}</Tag>
        <Tag color={statusColor(task.status)} data-testid="task-status">
          {t(`flows.taskStatus.${task.status}`)}
        </Tag>
      </Space>
      <Descriptions size="small" column={{ xs: 1, md: 3 }} style={{ marginBottom: 12 }}>
        <Descriptions.Item label={t('flows.task.flow')}>{detail.flow ? label(detail.flow.label, detail.flow.key) : instance.flow}</Descriptions.Item>
        <Descriptions.Item label={t('flows.inbox.instance')}>
          <Link to={`/flow-instances/${instance.id}`} data-testid="task-instance-link">
            {t('flows.task.instance', { id: instance.id })}
          </Link>{' '}
          <Tag>{t(`flows.instance.status.${instance.status}`)}</Tag>
        </Descriptions.Item>
        <Descriptions.Item label={t('flows.instance.record')}>
          {record?.id ?? instance.record ? (
            <Link to={`/apps/${app}/forms/${form}/records/${record?.id ?? instance.record}`}>{t('flows.task.record', { id: record?.id ?? instance.record })}</Link>
          ) : (
            '—'
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t('flows.instance.initiator')}>{instance.initiator ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('flows.inbox.created')}>{fmt(task.created_at)}</Descriptions.Item>
        {task.due_at && <Descriptions.Item label={t('flows.inbox.due')}>{fmt(task.due_at)}</Descriptions.Item>}
      </Descriptions>

      {!isOpen && (
        <Alert
          type="info"
          style={{ marginBottom: 12 }}
          data-testid="task-closed"
          message={t('flows.task.closed', { status: t(`flows.taskStatus.${task.status}`) })}
          description={
            <>
              {task.completed_by && <div>{t('flows.task.completedBy', { by: task.completed_by, at: fmt(task.completed_at) })}</div>}
              {task.comment && <div style={{ whiteSpace: 'pre-wrap' }}>{task.comment}</div>}
            </>
          }
        />
      )}

      <Card size="small" style={{ marginBottom: 12 }} data-testid="task-record">
        {formError ? (
          <Alert type="warning" message={formError instanceof Error ? formError.message : String(formError)} />
        ) : !record ? (
          <Alert type="warning" message={t('flows.task.noRecord')} />
        ) : !def ? (
          <Typography.Text>{t('common.loading')}</Typography.Text>
        ) : (
          <>
            {isOpen && editable.length > 0 && (
              <Typography.Paragraph type="secondary">
                {t('flows.task.editableHint', {
                  fields: editable.map((f) => label(def.schema.properties?.[f]?.['x-label'] as Record<string, string> | undefined, f)).join(', '),
                })}
              </Typography.Paragraph>
            )}
            <RecordForm app={app} definition={def} data={data} onChange={setData} errors={errors} writable={writable} readOnly={!isOpen} />
          </>
        )}
      </Card>

      {problem && <Alert type="error" style={{ marginBottom: 12 }} data-testid="task-problem" message={<span style={{ whiteSpace: 'pre-wrap' }}>{problem}</span>} />}

      {isOpen && (
        <Card size="small" style={{ position: 'sticky', bottom: 0, zIndex: 10, boxShadow: '0 -2px 8px rgba(0,0,0,0.08)' }}>
          <Typography.Text strong>{t('flows.task.comment')}</Typography.Text>
          <Input.TextArea data-testid="task-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} style={{ margin: '6px 0 12px' }} />
          <Space wrap>
            {outcomesOf(task.kind).map((o) =>
              o === 'approved' ? (
                <Button key={o} type="primary" icon={<CheckOutlined />} loading={busy === o} disabled={busy !== null} data-testid="task-approve" onClick={() => void complete(o)}>
                  {t('flows.task.approve')}
                </Button>
              ) : o === 'rejected' ? (
                <Button key={o} danger icon={<CloseOutlined />} loading={busy === o} disabled={busy !== null} data-testid="task-reject" onClick={() => void complete(o)}>
                  {t('flows.task.reject')}
                </Button>
              ) : (
                <Button key={o} type="primary" icon={<CheckOutlined />} loading={busy === o} disabled={busy !== null} data-testid="task-done" onClick={() => void complete(o)}>
                  {t('flows.task.done')}
                </Button>
              ),
            )}
          </Space>
          <div style={{ marginTop: 8 }}>
            <TaskActions detail={detail} comment={comment} disabled={busy !== null} onDone={onDone} />
          </div>
        </Card>
      )}
    </>
  );
}
