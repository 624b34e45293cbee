// `/tasks`: my open and closed tasks (counts on the tabs), the flow instances I started
// and those copied to me (InitiatedList.tsx), and my in-app messages.
//
// data-testid beyond the brief: inbox-tab-messages, inbox-tasks-open, inbox-tasks-closed,
// inbox-messages, message-row-<id>, message-read-<id>, task-link-<id>, inbox-tab-initiated, inbox-tab-cc
import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Alert, Badge, Button, Card, Empty, List, Table, Tabs, Tag, Typography } from 'antd';
import { api } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import { InitiatedList } from './InitiatedList.tsx';
import { labelOf, overdue, statusColor } from './tasks.ts';
import type { FlowInstance, InboxList, Task, TaskList } from './types.ts';

export default function InboxPage() {
  const { t } = useI18n();
  const [tab, setTab] = useState('open');
  const [open, setOpen] = useState<TaskList | null>(null);
  const [closed, setClosed] = useState<TaskList | null>(null);
  const [inbox, setInbox] = useState<InboxList | null>(null);
  const [initiated, setInitiated] = useState<FlowInstance[] | null>(null);
  const [copies, setCopies] = useState<FlowInstance[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
    api<TaskList>('/tasks?status=open').then(setOpen).catch(fail);
    api<TaskList>('/tasks?status=closed').then(setClosed).catch(fail);
    api<InboxList>('/inbox').then(setInbox).catch(fail);
    api<{ items: FlowInstance[] }>('/flow-instances?initiator=me')
      .then((r) => setInitiated(r.items))
      .catch(fail);
    api<{ items: FlowInstance[] }>('/flow-instances?cc=me')
      .then((r) => setCopies(r.items))
      .catch(fail);
  }, []);
  useEffect(load, [load]);

  const counts = open?.counts ?? closed?.counts;
  const markRead = async (id: number) => {
    try {
      await api(`/inbox/${id}/read`, { method: 'POST' });
      api<InboxList>('/inbox').then(setInbox).catch(() => undefined);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Card title={t('flows.inbox.title')}>
      {error && <Alert type="error" message={error} style={{ marginBottom: 8 }} />}
      <Tabs
        activeKey={tab}
        onChange={setTab}
        items={[
          {
            key: 'open',
            label: <span data-testid="inbox-tab-open">{t('flows.inbox.open', { n: counts?.open ?? '…' })}</span>,
            children: <TaskTable list={open} testId="inbox-tasks-open" />,
          },
          {
            key: 'closed',
            label: <span data-testid="inbox-tab-closed">{t('flows.inbox.closed', { n: counts?.closed ?? '…' })}</span>,
            children: <TaskTable list={closed} testId="inbox-tasks-closed" closed />,
          },
          {
            key: 'initiated',
            label: <span data-testid="inbox-tab-initiated">{t('flows.inbox.initiated', { n: initiated?.length ?? '…' })}</span>,
            children: <InitiatedList items={initiated} />,
          },
          {
            key: 'cc',
            label: <span data-testid="inbox-tab-cc">{t('flows.inbox.cc', { n: copies?.length ?? '…' })}</span>,
            children: <InitiatedList items={copies} kind="cc" />,
          },
          {
            key: 'messages',
            label: (
              <span data-testid="inbox-tab-messages">
                <Badge count={inbox?.unread ?? 0} size="small" offset={[8, -2]}>
                  {t('flows.inbox.messages', { n: inbox?.items.length ?? '…' })}
                </Badge>
              </span>
            ),
            children: (
              <List
                data-testid="inbox-messages"
                loading={!inbox}
                dataSource={inbox?.items ?? []}
                locale={{ emptyText: <Empty description={t('flows.inbox.noMessages')} /> }}
                renderItem={(m) => {
                  const unread = !m.read_at && !m.read;
                  return (
                    <List.Item
                      data-testid={`message-row-${m.id}`}
                      data-unread={unread ? 'true' : 'false'}
                      actions={[
                        unread ? (
                          <Button key="read" size="small" data-testid={`message-read-${m.id}`} onClick={() => void markRead(m.id)}>
                            {t('flows.inbox.markRead')}
                          </Button>
                        ) : null,
                        m.task ? (
                          <Link key="task" to={`/tasks/${m.task}`}>
                            {t('flows.inbox.task')} #{m.task}
                          </Link>
                        ) : m.instance ? (
                          <Link key="inst" to={`/flow-instances/${m.instance}`}>
                            {t('flows.inbox.instance')} #{m.instance}
                          </Link>
                        ) : null,
                      ].filter((x) => x !== null)}
                    >
                      <List.Item.Meta
                        title={
                          <span style={{ fontWeight: unread ? 600 : 400 }}>
                            {unread && <Tag color="blue">{t('flows.inbox.unread')}</Tag>}
                            {m.title}
                          </span>
                        }
                        description={
                          <>
                            <div style={{ whiteSpace: 'pre-wrap' }}>{m.body}</div>
                            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                              {fmt(m.created_at)}
                            </Typography.Text>
                          </>
                        }
                      />
                    </List.Item>
                  );
                }}
              />
            ),
          },
        ]}
      />
    </Card>
  );
}

function fmt(at: string | null | undefined): string {
  if (!at) return '';
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString();
}

function TaskTable({ list, testId, closed }: { list: TaskList | null; testId: string; closed?: boolean }) {
  const { t, label } = useI18n();
  const navigate = useNavigate();
  return (
    <Table<Task>
      data-testid={testId}
      size="small"
      loading={!list}
      rowKey="id"
      dataSource={list?.items ?? []}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      scroll={{ x: true }}
      locale={{ emptyText: <Empty description={t('flows.inbox.noTasks')} /> }}
      onRow={(r) => ({ 'data-testid': `task-row-${r.id}`, style: { cursor: 'pointer' }, onClick: () => navigate(`/tasks/${r.id}`) }) as React.HTMLAttributes<HTMLElement>}
      columns={[
        {
          key: 'task',
          title: t('flows.inbox.task'),
          render: (_: unknown, r) => (
            <Link to={`/tasks/${r.id}`} data-testid={`task-link-${r.id}`} onClick={(e) => e.stopPropagation()}>
              {label(labelOf(r.label), r.node)}
            </Link>
          ),
        },
        { key: 'flow', title: t('flows.task.flow'), render: (_: unknown, r) => (r.flow ? label(r.flow.label, r.flow.key) : '') },
        {
          key: 'record',
          title: t('flows.instance.record'),
          render: (_: unknown, r) => (r.record && r.form && r.flow ? <Link to={`/apps/${r.flow.app}/forms/${r.form}/records/${r.record}`} onClick={(e) => e.stopPropagation()}>#{r.record}</Link> : ''),
        },
        { key: 'kind', title: t('flows.inbox.kind'), render: (_: unknown, r) => <Tag>{t(`flows.kind.${r.kind}`)}</Tag> },
        {
          key: 'status',
          title: t('flows.inbox.status'),
          render: (_: unknown, r) => (
            <>
              <Tag color={statusColor(r.status)}>{t(`flows.taskStatus.${r.status}`)}</Tag>
              {r.status === 'open' && overdue(r.due_at) && <Tag color="red">{t('flows.inbox.overdue')}</Tag>}
            </>
          ),
        },
        { key: 'created', title: t('flows.inbox.created'), render: (_: unknown, r) => fmt(r.created_at) },
        closed
          ? { key: 'completed', title: t('flows.inbox.completed'), render: (_: unknown, r) => fmt(r.completed_at) }
          : { key: 'due', title: t('flows.inbox.due'), render: (_: unknown, r) => fmt(r.due_at) },
        {
          key: 'instance',
          title: t('flows.inbox.instance'),
          render: (_: unknown, r) => (
            <Link to={`/flow-instances/${r.instance}`} onClick={(e) => e.stopPropagation()}>
              #{r.instance}
            </Link>
          ),
        },
      ]}
    />
  );
}
