// `/flow-instances/:id`: an instance's status, the graph of its version (read-only, live
// positions highlighted), its history, and cancel (administrators) / withdraw (initiator).
//
// data-testid beyond the brief: instance-graph, instance-cancel, instance-withdraw,
// instance-stop-reason (the reason asked with either, kept in the history),
// instance-step-<i>, instance-error, instance-record-link, instance-timer-<node> (an armed
// delay or deadline: the node and when it falls due)
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, App as AntApp, Button, Card, Descriptions, Empty, Input, Popconfirm, Space, Tag, Timeline, Typography } from 'antd';
import { ApiError, api } from '../api/client.ts';
import type { FormDetail, JsonSchema } from '../api/types.ts';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';
import { InstanceGraph, useInstanceDefinition } from './InstanceGraph.tsx';
import { isObj } from './model.ts';
import { labelOf, stopActions } from './tasks.ts';
import type { InstanceDetail } from './types.ts';

const STATUS_COLOR: Record<string, string> = { running: 'processing', completed: 'success', cancelled: 'default', failed: 'error' };

function fmt(at: string | null | undefined): string {
  if (!at) return '';
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString();
}

export default function InstancePage() {
  const { id = '' } = useParams();
  const { t, label } = useI18n();
  const { message } = AntApp.useApp();
  const { me } = useSession();
  const [detail, setDetail] = useState<InstanceDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The reason given when cancelling or withdrawing (kept in the history).
  const [reason, setReason] = useState('');

  const load = useCallback(() => {
    api<InstanceDetail>(`/flow-instances/${id}`)
      .then(setDetail)
      .catch((e: unknown) => setError(e instanceof ApiError && e.status === 404 ? t('common.notFound') : e instanceof Error ? e.message : String(e)));
  }, [id, t]);
  useEffect(load, [load]);

  const inst = detail?.instance;
  const { definition } = useInstanceDefinition(detail);

  const [formDetail, setFormDetail] = useState<FormDetail | null>(null);
  useEffect(() => {
    if (!inst?.app || !inst.form) return;
    api<FormDetail>(`/apps/${inst.app}/forms/${inst.form}`)
      .then(setFormDetail)
      .catch(() => setFormDetail(null));
  }, [inst?.app, inst?.form]);
  const fields = useMemo(() => new Map(Object.entries((formDetail?.definition?.schema?.properties ?? {}) as Record<string, JsonSchema>)), [formDetail]);
  const nodeLabel = useCallback(
    (node: string | null) => {
      if (!node) return '';
      const n = definition?.nodes.find((x) => x.id === node);
      return n ? `${label(labelOf(n.label), node)}` : node;
    },
    [definition, label],
  );

  if (error) return <Alert type="error" message={error} data-testid="instance-error" />;
  if (!detail || !inst || !me) return <Typography.Text>{t('common.loading')}</Typography.Text>;

  const actions = stopActions(inst.status, me, inst.initiator);
  const stop = async (kind: 'cancel' | 'withdraw') => {
    setBusy(true);
    try {
      const why = reason.trim();
      const r = await api<InstanceDetail>(`/flow-instances/${inst.id}/${kind}`, why ? { body: { reason: why } } : { method: 'POST' });
      if (r && isObj(r) && 'instance' in r) setDetail(r);
      else load();
      message.success(t('common.saved'));
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const stepAction = (a: string): string => {
    const key = `flows.step.${a}`;
    const text = t(key);
    return text === key ? a : text;
  };

  const stepDetail = (d: unknown): string => {
    if (d === null || d === undefined) return '';
    if (isObj(d)) {
      const parts: string[] = [];
      for (const [k, v] of Object.entries(d)) {
        if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
        parts.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      }
      return parts.join(' · ');
    }
    return typeof d === 'string' ? d : JSON.stringify(d);
  };

  const reasonInput = (
    <Input size="small" placeholder={t('flows.instance.reason')} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="instance-stop-reason" style={{ width: 240 }} />
  );

  return (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Link to="/tasks">{t('common.back')}</Link>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('flows.instance.title', { id: inst.id })}
        </Typography.Title>
        <Tag color={STATUS_COLOR[inst.status] ?? 'default'} data-testid="instance-status" data-status={inst.status}>
          {t(`flows.instance.status.${inst.status}`)}
        </Tag>
        {actions.includes('cancel') && (
          <Popconfirm title={t('flows.instance.confirmCancel')} description={reasonInput} onConfirm={() => void stop('cancel')}>
            <Button danger size="small" loading={busy} data-testid="instance-cancel">
              {t('flows.instance.cancel')}
            </Button>
          </Popconfirm>
        )}
        {actions.includes('withdraw') && (
          <Popconfirm title={t('flows.instance.confirmWithdraw')} description={reasonInput} onConfirm={() => void stop('withdraw')}>
            <Button size="small" loading={busy} data-testid="instance-withdraw">
              {t('flows.instance.withdraw')}
            </Button>
          </Popconfirm>
        )}
      </Space>
      <Descriptions size="small" column={{ xs: 1, md: 3 }} style={{ marginBottom: 12 }}>
        <Descriptions.Item label={t('flows.instance.flow')}>{definition ? label(definition.label, inst.flow) : inst.flow}</Descriptions.Item>
        <Descriptions.Item label={t('flows.instance.version')}>{inst.version}</Descriptions.Item>
        <Descriptions.Item label={t('flows.instance.record')}>
          {inst.record ? (
            <Link to={`/apps/${inst.app}/forms/${inst.form}/records/${inst.record}`} data-testid="instance-record-link">
              {label(formDetail?.definition?.label, inst.form)} #{inst.record}
            </Link>
          ) : (
            '—'
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t('flows.instance.initiator')}>{inst.initiator ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('flows.instance.started')}>{fmt(inst.started_at)}</Descriptions.Item>
        <Descriptions.Item label={t('flows.instance.ended')}>{fmt(inst.ended_at) || '—'}</Descriptions.Item>
        {(detail.timers ?? []).length > 0 && (
          <Descriptions.Item label={t('flows.instance.timers')}>
            <Space direction="vertical" size={0}>
              {(detail.timers ?? []).map((timer) => (
                <span key={`${timer.node}-${timer.due_at}`} data-testid={`instance-timer-${timer.node}`} data-due={timer.due_at}>
                  {nodeLabel(timer.node)}: {fmt(timer.due_at)}
                </span>
              ))}
            </Space>
          </Descriptions.Item>
        )}
      </Descriptions>
      {inst.error && <Alert type="error" style={{ marginBottom: 12 }} message={`${t('flows.instance.error')}: ${inst.error}`} />}
      <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap', alignItems: 'flex-start' }}>
        <Card size="small" style={{ flex: '2 1 480px', minWidth: 300 }}>
          <InstanceGraph detail={detail} fields={fields} />
        </Card>
        <Card size="small" title={t('flows.instance.history')} style={{ flex: '1 1 300px', minWidth: 280 }}>
          {detail.history.length === 0 ? (
            <Empty description={t('flows.instance.noHistory')} />
          ) : (
            <Timeline
              data-testid="instance-history"
              items={detail.history.map((h, i) => ({
                key: i,
                children: (
                  <div data-testid={`instance-step-${i}`} data-action={h.action} data-node={h.node ?? ''}>
                    <Typography.Text strong>{nodeLabel(h.node) || '—'}</Typography.Text> <Tag>{stepAction(h.action)}</Tag>
                    {h.actor && <span>{h.actor}</span>}
                    <div>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {fmt(h.at)}
                      </Typography.Text>
                    </div>
                    {stepDetail(h.detail) && <div style={{ fontSize: 12, whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>{stepDetail(h.detail)}</div>}
                  </div>
                ),
              }))}
            />
          )}
        </Card>
      </div>
    </>
  );
}
