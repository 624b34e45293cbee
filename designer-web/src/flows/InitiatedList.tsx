// The inbox's "initiated by me" and "CC'd to me" tabs: the flow instances the user started
// (`GET /flow-instances?initiator=me`) or was sent a copy of by a `cc` node (`?cc=me`),
// newest first, each linking to its instance page. The copies show who started them.
//
// data-testid: inbox-initiated, initiated-row-<id> (data-status), initiated-link-<id>;
// for copies inbox-cc, cc-row-<id>, cc-link-<id>
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Empty, Table, Tag } from 'antd';
import { api } from '../api/client.ts';
import type { FormSummary, Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { appsOf, flowLabels, initiatedRows, type InitiatedRow } from './tasks.ts';
import type { FlowInstance, FlowSummary } from './types.ts';

const STATUS_COLOR: Record<string, string> = { running: 'processing', completed: 'success', cancelled: 'default', failed: 'error' };

function fmt(at: string | null | undefined): string {
  if (!at) return '';
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString();
}

/** Flow and form labels of the apps the instances belong to (what the user may list). */
function useLabels(apps: string[]) {
  const [flows, setFlows] = useState<Record<string, FlowSummary[]>>({});
  const [forms, setForms] = useState<Map<string, Label>>(new Map());
  const key = apps.join(',');
  useEffect(() => {
    let live = true;
    for (const app of key ? key.split(',') : []) {
      api<{ items: FlowSummary[] }>(`/apps/${app}/flows`)
        .then((r) => live && setFlows((m) => ({ ...m, [app]: r.items })))
        .catch(() => undefined);
      api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
        .then((r) => live && setForms((m) => new Map([...m, ...r.items.map((f) => [`${app}/${f.key}`, f.label as Label] as const)])))
        .catch(() => undefined);
    }
    return () => {
      live = false;
    };
  }, [key]);
  return { flows: useMemo(() => flowLabels(flows), [flows]), forms };
}

export function InitiatedList({ items, kind = 'initiated' }: { items: FlowInstance[] | null; kind?: 'initiated' | 'cc' }) {
  const { t, label } = useI18n();
  const navigate = useNavigate();
  const apps = useMemo(() => appsOf(items ?? []), [items]);
  const labels = useLabels(apps);
  const rows = useMemo(() => initiatedRows(items ?? [], labels.flows), [items, labels.flows]);
  return (
    <Table<InitiatedRow>
      data-testid={`inbox-${kind}`}
      size="small"
      loading={!items}
      rowKey="id"
      dataSource={rows}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      scroll={{ x: true }}
      locale={{ emptyText: <Empty description={t(kind === 'cc' ? 'flows.inbox.noCc' : 'flows.inbox.noInitiated')} /> }}
      onRow={(r) =>
        ({
          'data-testid': `${kind}-row-${r.id}`,
          'data-status': r.status,
          style: { cursor: 'pointer' },
          onClick: () => navigate(`/flow-instances/${r.id}`),
        }) as React.HTMLAttributes<HTMLElement>
      }
      columns={[
        {
          key: 'flow',
          title: t('flows.instance.flow'),
          render: (_: unknown, r) => (
            <Link to={`/flow-instances/${r.id}`} data-testid={`${kind}-link-${r.id}`} onClick={(e) => e.stopPropagation()}>
              {label(r.flowLabel, r.flow)}
            </Link>
          ),
        },
        {
          key: 'record',
          title: t('flows.instance.record'),
          render: (_: unknown, r) =>
            r.record !== null && r.form ? (
              <Link to={`/apps/${r.app}/forms/${r.form}/records/${r.record}`} onClick={(e) => e.stopPropagation()}>
                {label(labels.forms.get(`${r.app}/${r.form}`), r.form)} #{r.record}
              </Link>
            ) : (
              ''
            ),
        },
        ...(kind === 'cc' ? [{ key: 'initiator', title: t('flows.inbox.initiator'), render: (_: unknown, r: InitiatedRow) => r.initiator }] : []),
        {
          key: 'status',
          title: t('flows.inbox.status'),
          render: (_: unknown, r) => <Tag color={STATUS_COLOR[r.status] ?? 'default'}>{t(`flows.instance.status.${r.status}`)}</Tag>,
        },
        { key: 'started', title: t('flows.instance.started'), render: (_: unknown, r) => fmt(r.started_at) },
        { key: 'ended', title: t('flows.instance.ended'), render: (_: unknown, r) => fmt(r.ended_at) },
        {
          key: 'instance',
          title: t('flows.inbox.instance'),
          render: (_: unknown, r) => (
            <Link to={`/flow-instances/${r.id}`} onClick={(e) => e.stopPropagation()}>
              #{r.id}
            </Link>
          ),
        },
      ]}
    />
  );
}
