// The flow designer's versions panel: the published versions (number, author, time), one
// opened read-only on a graph, and a readable difference between any two of them or a
// version and the draft being edited (versions.ts).
//
// data-testid: flow-versions, flow-versions-list, flow-version-row-<n>, flow-version-view-<n>,
// flow-version-diff-prev-<n>, flow-version-diff-draft-<n>, flow-diff-a, flow-diff-b,
// flow-diff (data-empty), flow-diff-nodes-added / -nodes-removed / -nodes-changed /
// -edges-added / -edges-removed / -edges-changed / -trigger / -label / -moved / -other,
// flow-diff-node-<id> (one changed node), flow-version-meta-<n> (author · time),
// flow-version-viewer (data-version), flow-version-trigger, flow-version-graph
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Alert, Button, Empty, List, Modal, Select, Space, Spin, Tag, Typography } from 'antd';
import { ReactFlowProvider } from '@xyflow/react';
import { api } from '../api/client.ts';
import type { JsonSchema } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { ReadOnlyGraph, nodeTypeText, type PickLabel, type Translate } from './FlowGraph.tsx';
import { OUTCOMES, TRIGGER_TYPES, type FlowDefinition } from './model.ts';
import { HTTP_OUTCOMES, SUBFLOW_OUTCOMES } from './nodes.ts';
import { diffFlows, flowDiffIsEmpty, newestFirst, type EdgeRef, type FlowDiff, type FlowVersionItem, type NodeRef } from './versions.ts';

export const DRAFT = 'draft';

function fmt(at: string): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString();
}

export function FlowVersionsPanel(p: { app: string; flow: string; draft: FlowDefinition; refreshKey: number; fields?: Map<string, JsonSchema> }) {
  const { t } = useI18n();
  const [items, setItems] = useState<FlowVersionItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [a, setA] = useState<string | undefined>();
  const [b, setB] = useState<string>(DRAFT);
  const [defs, setDefs] = useState<Record<string, FlowDefinition>>({});
  const [viewing, setViewing] = useState<number | null>(null);

  useEffect(() => {
    let live = true;
    api<{ items: FlowVersionItem[] }>(`/apps/${p.app}/flows/${p.flow}/versions`)
      .then((r) => {
        if (!live) return;
        const list = newestFirst(r.items);
        setItems(list);
        setA((cur) => cur ?? (list[0] ? String(list[0].version) : undefined));
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [p.app, p.flow, p.refreshKey]);

  const load = useCallback(
    async (v: string) => {
      if (v === DRAFT || defs[v]) return;
      const r = await api<{ version: number; definition: FlowDefinition }>(`/apps/${p.app}/flows/${p.flow}/versions/${v}`);
      setDefs((d) => ({ ...d, [v]: r.definition }));
    },
    [p.app, p.flow, defs],
  );
  useEffect(() => {
    for (const v of [a, b, viewing === null ? undefined : String(viewing)]) if (v) void load(v).catch((e: Error) => setError(e.message));
  }, [a, b, viewing, load]);

  const defOf = (v: string | undefined) => (v === DRAFT ? p.draft : v ? defs[v] : undefined);
  const da = defOf(a);
  const db = defOf(b);
  const diff = useMemo(() => (da && db ? diffFlows(da, db) : null), [da, db]);

  if (error) return <Alert type="error" message={error} />;
  if (!items) return <Spin />;
  const choices = [
    { value: DRAFT, label: t('flows.versions.draft') },
    ...items.map((v) => ({ value: String(v.version), label: t('flows.list.version', { n: v.version }) })),
  ];
  const viewed = viewing === null ? undefined : defs[String(viewing)];
  const viewedItem = items.find((v) => v.version === viewing);
  return (
    <div data-testid="flow-versions">
      {items.length === 0 ? (
        <Empty description={t('flows.versions.none')} />
      ) : (
        <List
          size="small"
          data-testid="flow-versions-list"
          dataSource={items}
          renderItem={(v) => (
            <List.Item
              data-testid={`flow-version-row-${v.version}`}
              actions={[
                <Button key="view" size="small" type="link" data-testid={`flow-version-view-${v.version}`} onClick={() => setViewing(v.version)}>
                  {t('flows.versions.view')}
                </Button>,
                <Button
                  key="prev"
                  size="small"
                  type="link"
                  disabled={v.version <= 1}
                  data-testid={`flow-version-diff-prev-${v.version}`}
                  onClick={() => {
                    setA(String(v.version - 1));
                    setB(String(v.version));
                  }}
                >
                  {t('flows.versions.vsPrevious')}
                </Button>,
                <Button
                  key="draft"
                  size="small"
                  type="link"
                  data-testid={`flow-version-diff-draft-${v.version}`}
                  onClick={() => {
                    setA(String(v.version));
                    setB(DRAFT);
                  }}
                >
                  {t('flows.versions.vsDraft')}
                </Button>,
              ]}
            >
              <Space direction="vertical" size={0}>
                <Typography.Text strong>{t('flows.list.version', { n: v.version })}</Typography.Text>
                <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid={`flow-version-meta-${v.version}`}>
                  {v.author} · {fmt(v.published_at)}
                </Typography.Text>
              </Space>
            </List.Item>
          )}
        />
      )}
      {items.length > 0 && (
        <>
          <Typography.Title level={5} style={{ marginTop: 12 }}>
            {t('flows.versions.compare')}
          </Typography.Title>
          <Space style={{ marginBottom: 12 }} wrap>
            <Select data-testid="flow-diff-a" style={{ width: 130 }} value={a} options={choices} onChange={setA} />
            →
            <Select data-testid="flow-diff-b" style={{ width: 130 }} value={b} options={choices} onChange={setB} />
          </Space>
          {diff ? <FlowDiffView diff={diff} /> : a && <Spin />}
        </>
      )}
      <Modal
        open={viewing !== null}
        title={viewing !== null ? t('flows.versions.viewTitle', { n: viewing }) : ''}
        width={960}
        footer={null}
        destroyOnHidden
        onCancel={() => setViewing(null)}
      >
        <div data-testid="flow-version-viewer" data-version={viewing ?? undefined}>
          {viewedItem && (
            <Typography.Paragraph type="secondary">
              {t('flows.versions.readOnly', { author: viewedItem.author, at: fmt(viewedItem.published_at) })}
            </Typography.Paragraph>
          )}
          {viewed && (
            <Typography.Paragraph data-testid="flow-version-trigger">
              {t('flows.editor.trigger')}: {triggerText(viewed.trigger?.type, t)}
              {viewed.trigger?.form ? ` · ${viewed.trigger.form}` : ''}
            </Typography.Paragraph>
          )}
          {viewed ? (
            <ReactFlowProvider>
              <ReadOnlyGraph definition={viewed} positions={[]} visited={new Set()} fields={p.fields} height={520} testId="flow-version-graph" />
            </ReactFlowProvider>
          ) : (
            <Spin />
          )}
        </div>
      </Modal>
    </div>
  );
}

/** Names for the keys of nodes, edges and the trigger; other keys are shown as they are. */
const ATTR_MESSAGES: Record<string, string> = {
  label: 'flows.diff.attr.label',
  type: 'flows.diff.attr.type',
  condition: 'flows.diff.attr.condition',
  when: 'flows.diff.attr.condition',
  default: 'flows.diff.attr.default',
  fields: 'flows.diff.attr.fields',
  field: 'flows.diff.attr.field',
  offset_days: 'flows.diff.attr.offset_days',
  cron: 'flows.diff.attr.cron',
  form: 'flows.prop.form',
  assignee: 'flows.prop.assignee',
  mode: 'flows.prop.mode',
  editable: 'flows.prop.editable',
  deadline: 'flows.prop.deadline',
  set: 'flows.prop.set',
  data: 'flows.prop.data',
  to: 'flows.prop.to',
  title: 'flows.prop.title',
  body: 'flows.prop.body',
  channel: 'flows.prop.channel',
  filter: 'flows.prop.filter',
  name: 'flows.prop.name',
  message: 'flows.prop.message',
};

/** A trigger type's name (an unknown one: as it is). */
function triggerText(type: unknown, t: Translate): string {
  if (typeof type !== 'string' || !type) return '—';
  return (TRIGGER_TYPES as string[]).includes(type) ? t(`flows.trigger.type.${type}`) : type;
}

function attrText(key: string, t: Translate): string {
  const m = ATTR_MESSAGES[key];
  const name = m ? t(m) : key;
  return name.toLowerCase() === key.replace(/_/g, ' ') ? key : `${name} (${key})`;
}

function nodeText(n: NodeRef, label: PickLabel): ReactNode {
  const name = label(n.label, n.id);
  return (
    <>
      {name !== n.id && `${name} `}
      <Typography.Text code>{n.id}</Typography.Text>
    </>
  );
}

const KNOWN_OUTCOMES: string[] = [...OUTCOMES, ...HTTP_OUTCOMES, ...SUBFLOW_OUTCOMES];

function edgeText(e: EdgeRef, t: Translate): string {
  const kind =
    e.kind === undefined
      ? ''
      : e.kind === 'each'
        ? t('flows.edge.each')
        : e.kind === 'default'
          ? t('flows.edge.default')
          : e.kind === 'when'
            ? t('flows.diff.attr.condition')
            : KNOWN_OUTCOMES.includes(e.kind)
              ? t(`flows.edge.outcome.${e.kind}`)
              : e.kind;
  return `${e.from} → ${e.to}${kind ? ` (${kind})` : ''}`;
}

function Section(p: { testId: string; color: string; title: string; children: ReactNode }) {
  return (
    <div data-testid={p.testId} style={{ marginBottom: 8 }}>
      <Tag color={p.color}>{p.title}</Tag>
      {p.children}
    </div>
  );
}

const listStyle = { paddingLeft: 18, margin: '4px 0' };

/** The difference, section by section (only the sections with something in them). */
export function FlowDiffView({ diff }: { diff: FlowDiff }) {
  const { t, label } = useI18n();
  if (flowDiffIsEmpty(diff))
    return (
      <Typography.Paragraph data-testid="flow-diff" data-empty="true">
        {t('flows.diff.none')}
      </Typography.Paragraph>
    );
  const nodes = (testId: string, color: string, title: string, list: NodeRef[]) =>
    list.length > 0 && (
      <Section testId={testId} color={color} title={title}>
        <ul style={listStyle}>
          {list.map((n) => (
            <li key={n.id}>
              {nodeText(n, label)} · {nodeTypeText(n.type, t)}
            </li>
          ))}
        </ul>
      </Section>
    );
  const edges = (testId: string, color: string, title: string, list: EdgeRef[]) =>
    list.length > 0 && (
      <Section testId={testId} color={color} title={title}>
        <ul style={listStyle}>
          {list.map((e, i) => (
            <li key={i}>{edgeText(e, t)}</li>
          ))}
        </ul>
      </Section>
    );
  return (
    <div data-testid="flow-diff" data-empty="false" style={{ fontSize: 13 }}>
      {diff.label && (
        <Section testId="flow-diff-label" color="default" title={t('flows.diff.label')}>
          {null}
        </Section>
      )}
      {diff.trigger && (
        <Section testId="flow-diff-trigger" color="orange" title={t('flows.diff.trigger')}>
          {diff.trigger.keys.map((k) => attrText(k, t)).join(', ')}
          {diff.trigger.from.type !== diff.trigger.to.type && (
            <div>
              {triggerText(diff.trigger.from.type, t)} → {triggerText(diff.trigger.to.type, t)}
            </div>
          )}
          {diff.trigger.from.form !== diff.trigger.to.form && (
            <div>
              {diff.trigger.from.form ?? '—'} → {diff.trigger.to.form ?? '—'}
            </div>
          )}
        </Section>
      )}
      {nodes('flow-diff-nodes-added', 'green', t('flows.diff.nodesAdded'), diff.nodesAdded)}
      {nodes('flow-diff-nodes-removed', 'red', t('flows.diff.nodesRemoved'), diff.nodesRemoved)}
      {diff.nodesChanged.length > 0 && (
        <Section testId="flow-diff-nodes-changed" color="blue" title={t('flows.diff.nodesChanged')}>
          <ul style={listStyle}>
            {diff.nodesChanged.map((n) => (
              <li key={n.id} data-testid={`flow-diff-node-${n.id}`}>
                {nodeText(n, label)}: {n.attributes.map((x) => attrText(x, t)).join(', ')}
              </li>
            ))}
          </ul>
        </Section>
      )}
      {edges('flow-diff-edges-added', 'green', t('flows.diff.edgesAdded'), diff.edgesAdded)}
      {edges('flow-diff-edges-removed', 'red', t('flows.diff.edgesRemoved'), diff.edgesRemoved)}
      {diff.edgesChanged.length > 0 && (
        <Section testId="flow-diff-edges-changed" color="blue" title={t('flows.diff.edgesChanged')}>
          <ul style={listStyle}>
            {diff.edgesChanged.map((e, i) => (
              <li key={i}>
                {edgeText(e, t)}: {e.attributes.map((x) => attrText(x, t)).join(', ')}
              </li>
            ))}
          </ul>
        </Section>
      )}
      {diff.moved.length > 0 && (
        <Section testId="flow-diff-moved" color="purple" title={t('flows.diff.moved')}>
          {diff.moved.join(', ')}
        </Section>
      )}
      {diff.other.length > 0 && (
        <Section testId="flow-diff-other" color="default" title={t('flows.diff.other')}>
          {diff.other.join(', ')}
        </Section>
      )}
    </div>
  );
}
