// The flows of one record: manual flows the user may start on it, and the instances
// they can see (started by them or with a task of theirs; all for administrators). A row
// opens to the instance's graph with where it stands; running instances open at once.
//
// data-testid: record-flows, start-flow-<flow>, record-instance-<id> (link to the instance
// page), record-instance-graph-<id> (the graph; its nodes are flow-node-<node>, the live
// ones data-current="true")
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { Alert, App, Button, Space, Table, Tag } from 'antd';
import { PlayCircleOutlined } from '@ant-design/icons';
import { ApiError, api, qs } from '../api/client.ts';
import type { Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { InstanceGraph } from '../flows/InstanceGraph.tsx';

interface FlowSummary {
  key: string;
  label: Label;
  published_version: number | null;
  trigger: { type?: string; form?: string };
}

interface InstanceSummary {
  id: number;
  flow: string;
  status: string;
  started_at: string;
  initiator: string;
}

const STATUS_COLOR: Record<string, string> = { running: 'processing', completed: 'success', cancelled: 'default', failed: 'error' };

export function RecordFlows({ app, form, id }: { app: string; form: string; id: number }) {
  const { t, label, locale } = useI18n();
  const { message } = App.useApp();
  const [manual, setManual] = useState<FlowSummary[]>([]);
  const [labels, setLabels] = useState<Record<string, Label>>({});
  const [instances, setInstances] = useState<InstanceSummary[] | null>(null);
  const [open, setOpen] = useState<number[]>([]);
  // Instances listed before (opened once on their first listing only).
  const seen = useRef(new Set<number>());
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    api<{ items: FlowSummary[] }>(`/apps/${app}/flows`)
      .then((r) => {
        setLabels(Object.fromEntries(r.items.map((f) => [f.key, f.label])));
        setManual(r.items.filter((f) => f.published_version !== null && f.trigger?.type === 'manual' && f.trigger?.form === form));
      })
      .catch(() => setManual([]));
    api<{ items: InstanceSummary[] }>(`/flow-instances${qs({ app, form, record: id })}`)
      .then((r) => {
        setInstances(r.items);
        // Running instances open when first listed; rows the user opened or closed stay
        // as they were. (The new ones are worked out here: React runs the updater later.)
        const fresh = r.items.filter((i) => i.status === 'running' && !seen.current.has(i.id)).map((i) => i.id);
        r.items.forEach((i) => seen.current.add(i.id));
        setOpen((was) => [...new Set([...was, ...fresh])]);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [app, form, id]);
  useEffect(load, [load]);

  const start = async (flow: string) => {
    try {
      await api(`/apps/${app}/flows/${flow}/start`, { body: { record: id } });
      message.success(t('record.flowStarted'));
      load();
    } catch (e) {
      message.error(e instanceof ApiError ? e.message : String(e));
    }
  };

  return (
    <div data-testid="record-flows">
      {manual.length > 0 && (
        <Space wrap style={{ marginBottom: 12 }}>
          {manual.map((f) => (
            <Button key={f.key} icon={<PlayCircleOutlined />} data-testid={`start-flow-${f.key}`} onClick={() => void start(f.key)}>
              {t('record.startFlow', { flow: label(f.label, f.key) })}
            </Button>
          ))}
        </Space>
      )}
      {error && <Alert type="error" message={error} />}
      <Table<InstanceSummary>
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={instances ?? []}
        loading={instances === null && !error}
        locale={{ emptyText: t('record.noFlows') }}
        expandable={{
          expandedRowKeys: open,
          onExpandedRowsChange: (keys) => setOpen(keys.map(Number)),
          expandedRowRender: (r) => <InstanceGraph id={r.id} height={320} testId={`record-instance-graph-${r.id}`} />,
        }}
        columns={[
          { key: 'id', title: '#', render: (_: unknown, r) => <Link to={`/flow-instances/${r.id}`} data-testid={`record-instance-${r.id}`}>{r.id}</Link> },
          { key: 'flow', title: t('record.flows'), render: (_: unknown, r) => label(labels[r.flow], r.flow) },
          { key: 'status', title: t('record.flowStatus'), render: (_: unknown, r) => <Tag color={STATUS_COLOR[r.status]}>{r.status}</Tag> },
          { key: 'started', title: t('record.flowStarted_at'), render: (_: unknown, r) => new Date(r.started_at).toLocaleString(locale) },
        ]}
      />
    </div>
  );
}
