// Drawing a flow with React Flow: the one node component every node type uses, edges
// with their outcome / default / condition as label, and a read-only graph for the
// instance page.
import { memo, useMemo } from 'react';
import { Background, Controls, Handle, MarkerType, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { Tag } from 'antd';
import { useI18n } from '../i18n/index.tsx';
import type { JsonSchema } from '../api/types.ts';
import { hasOkFailedEdges, httpOutcomeOf, isTerminating, loopVar, notifyChannel, relDateOf, reportResultName, subflowOutcomeOf, subflowWaits } from './nodes.ts';
import { parseGroup, valueVar, type Cond } from './conditions.ts';
import { fromDefinition } from './definition.ts';
import {
  TERMINAL_NODE_TYPES,
  isKnownNodeType,
  type CanvasEdge,
  type CanvasNode,
  type FlowDefinition,
  type FlowNode,
  type NodeType,
} from './model.ts';

export interface NodeViewData {
  node: FlowNode;
  /** Number of server errors on this node. */
  errors?: number;
  /** The instance has a live token here. */
  current?: boolean;
  /** The instance has passed here. */
  visited?: boolean;
  /** Not allowed with the trigger (a before_write guard takes only a few node types). */
  guardWarning?: boolean;
  readOnly?: boolean;
  [k: string]: unknown;
}

export type RFNode = Node<NodeViewData>;
export type RFEdge = Edge<CanvasEdge['data']>;

export const TYPE_COLORS: Record<NodeType, string> = {
  start: '#52c41a',
  end: '#8c8c8c',
  branch: '#faad14',
  parallel: '#13c2c2',
  join: '#13c2c2',
  loop: '#13a8a8',
  approval: '#1677ff',
  task: '#2f54eb',
  update_record: '#722ed1',
  create_record: '#722ed1',
  notify: '#eb2f96',
  cc: '#c41d7f',
  http: '#d4380d',
  report: '#ad6800',
  subflow: '#5b8c00',
  delay: '#fa8c16',
  set_var: '#597ef7',
  query: '#08979c',
  users: '#08979c',
  reject: '#cf1322',
};

/** The node type's name (an unknown type: its own name, kept as is). */
export function nodeTypeText(type: string, t: Translate): string {
  return isKnownNodeType(type) ? t(`flows.node.${type}`) : t('flows.node.unknown', { type });
}

const short = (s: string, n = 36) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** One line under the title: what the node does, where it is short to say. */
function nodeSummary(n: FlowNode, id: string, t: Translate): string | null {
  if (n.type === 'http') return short(`${typeof n.method === 'string' ? n.method : 'POST'} ${typeof n.url === 'string' ? n.url : ''}`);
  if (n.type === 'report') {
    const report = typeof n.report === 'string' && n.report ? n.report : '…';
    return short(`${report} → vars.${reportResultName(n, id)}`, 44);
  }
  if (n.type === 'subflow') {
    const flow = typeof n.flow === 'string' && n.flow ? n.flow : '…';
    return short(subflowWaits(n) ? `→ ${flow}` : `→ ${flow} (${t('flows.node.subflowNoWait')})`);
  }
  if (isTerminating(n)) return t('flows.node.terminates');
  if (n.type === 'loop') {
    const over = isObjVar(n.over);
    return `${over ?? '…'} → vars.${loopVar(n)}`;
  }
  if (n.type === 'notify' && notifyChannel(n) !== 'inbox') {
    const ch = notifyChannel(n);
    const text = ch === 'email' || ch === 'webhook' ? t(`flows.prop.channel.${ch}`) : ch;
    return ch === 'webhook' && typeof n.url === 'string' && n.url ? `${text}: ${short(n.url, 28)}` : text;
  }
  if (n.type === 'query' && typeof n.form === 'string' && n.form) return `${n.form} → vars.${typeof n.name === 'string' ? n.name : ''}`;
  if (n.type === 'users' && typeof n.name === 'string' && n.name) return `→ vars.${n.name}`;
  if (n.type === 'reject' && typeof n.message === 'string' && n.message) return n.message.length > 36 ? `${n.message.slice(0, 36)}…` : n.message;
  if (n.type === 'update_record' && typeof n.form === 'string' && n.form) return `→ ${n.form}`;
  return null;
}

const HANDLE = { width: 12, height: 12, background: '#fff', border: '2px solid #555' };

function FlowNodeViewImpl({ id, data, selected }: NodeProps<RFNode>) {
  const { t, label } = useI18n();
  const n = data.node;
  const color = TYPE_COLORS[n.type] ?? '#999';
  const title = label(n.label as Record<string, string> | undefined, '');
  const summary = nodeSummary(n, id, t);
  const hasErrors = (data.errors ?? 0) > 0;
  const terminal = TERMINAL_NODE_TYPES.includes(n.type);
  const border = hasErrors || data.guardWarning ? '#ff4d4f' : data.current ? '#fa541c' : selected ? '#1677ff' : color;
  return (
    <div
      data-testid={`flow-node-${id}`}
      data-type={n.type}
      data-current={data.current ? 'true' : undefined}
      data-errors={hasErrors ? String(data.errors) : undefined}
      data-guard-warning={data.guardWarning ? 'true' : undefined}
      style={{
        minWidth: 150,
        maxWidth: 220,
        padding: '6px 10px',
        borderRadius: n.type === 'start' || terminal ? 18 : 6,
        border: `2px solid ${border}`,
        boxShadow: data.current ? '0 0 0 4px rgba(250,84,28,0.25)' : selected ? '0 0 0 3px rgba(22,119,255,0.2)' : undefined,
        background: data.visited || data.current ? '#fff7e6' : '#fff',
        fontSize: 12,
        textAlign: 'center',
      }}
    >
      {n.type !== 'start' && (
        <Handle type="target" position={Position.Top} style={HANDLE} data-testid={`flow-handle-${id}-in`} isConnectable={!data.readOnly} />
      )}
      <Tag color={color} style={{ marginInlineEnd: 0 }}>
        {nodeTypeText(n.type, t)}
      </Tag>
      {title && <div style={{ fontWeight: 500, marginTop: 2 }}>{title}</div>}
      {summary && <div style={{ color: '#595959', fontSize: 11, wordBreak: 'break-all' }}>{summary}</div>}
      <div style={{ color: '#999', fontSize: 11 }}>{id}</div>
      {data.guardWarning && (
        <div style={{ color: '#ff4d4f', fontSize: 11 }} data-testid={`flow-node-${id}-guard`}>
          ⚠ {t('flows.guard.notAllowedShort')}
        </div>
      )}
      {data.current && <Tag color="volcano">{t('flows.instance.current')}</Tag>}
      {hasErrors && <div style={{ color: '#ff4d4f', fontSize: 11 }}>⚠ {data.errors}</div>}
      {n.type === 'loop' || hasOkFailedEdges(n.type) ? (
        <TwoHandles id={id} type={n.type === 'loop' ? 'loop' : 'http'} readOnly={data.readOnly} />
      ) : n.type === 'subflow' ? (
        <TwoHandles id={id} type="subflow" readOnly={data.readOnly} oneWay={!subflowWaits(n)} />
      ) : n.type === 'approval' ? (
        <>
          <Handle
            type="source"
            id="approved"
            position={Position.Bottom}
            style={{ ...HANDLE, left: '28%', borderColor: '#52c41a' }}
            data-testid={`flow-handle-${id}-approved`}
            title={t('flows.edge.outcome.approved')}
            isConnectable={!data.readOnly}
          />
          <Handle
            type="source"
            id="rejected"
            position={Position.Bottom}
            style={{ ...HANDLE, left: '72%', borderColor: '#ff4d4f' }}
            data-testid={`flow-handle-${id}-rejected`}
            title={t('flows.edge.outcome.rejected')}
            isConnectable={!data.readOnly}
          />
          <div style={{ display: 'flex', justifyContent: 'space-around', fontSize: 10, marginTop: 2 }}>
            <span style={{ color: '#52c41a' }}>{t('flows.edge.outcome.approved')}</span>
            <span style={{ color: '#ff4d4f' }}>{t('flows.edge.outcome.rejected')}</span>
          </div>
        </>
      ) : (
        !terminal && (
          <Handle type="source" position={Position.Bottom} style={HANDLE} data-testid={`flow-handle-${id}-out`} isConnectable={!data.readOnly} />
        )
      )}
    </div>
  );
}

/** The two source handles of a loop (each: into the body; done), an http or a report node
 * (ok; failed) and a subflow (completed; failed), with their names under them. `oneWay` (a
 * subflow that is not waited for): one plain handle in the middle; the failed handle stays
 * (invisible, not connectable) so that a failed edge left over is still drawn. */
function TwoHandles({ id, type, readOnly, oneWay }: { id: string; type: 'loop' | 'http' | 'subflow'; readOnly?: boolean; oneWay?: boolean }) {
  const { t } = useI18n();
  const [a, b] = type === 'loop' ? (['each', 'done'] as const) : type === 'http' ? (['ok', 'failed'] as const) : (['completed', 'failed'] as const);
  const colors: Record<string, string> = { each: '#1677ff', done: '#8c8c8c', ok: '#52c41a', completed: '#52c41a', failed: '#ff4d4f' };
  const text = (h: string) => (type === 'loop' ? t(`flows.edge.${h}`) : t(`flows.edge.outcome.${h}`));
  if (oneWay) {
    return (
      <>
        <Handle
          type="source"
          id={a}
          position={Position.Bottom}
          style={HANDLE}
          data-testid={`flow-handle-${id}-${a}`}
          title={t('flows.node.subflowNoWait')}
          isConnectable={!readOnly}
        />
        <Handle type="source" id={b} position={Position.Bottom} style={{ ...HANDLE, left: '72%', opacity: 0 }} isConnectable={false} />
      </>
    );
  }
  return (
    <>
      {[a, b].map((h, i) => (
        <Handle
          key={h}
          type="source"
          id={h}
          position={Position.Bottom}
          style={{ ...HANDLE, left: i === 0 ? '28%' : '72%', borderColor: colors[h] }}
          data-testid={`flow-handle-${id}-${h}`}
          title={text(h)}
          isConnectable={!readOnly}
        />
      ))}
      <div style={{ display: 'flex', justifyContent: 'space-around', fontSize: 10, marginTop: 2 }}>
        <span style={{ color: colors[a] }}>{text(a)}</span>
        <span style={{ color: colors[b] }}>{text(b)}</span>
      </div>
    </>
  );
}

/** `{var: x}` → x (a loop's list), else null. */
function isObjVar(v: unknown): string | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { var?: unknown }).var === 'string'
    ? (v as { var: string }).var
    : null;
}

export const FlowNodeView = memo(FlowNodeViewImpl);
export const nodeTypes = { flow: FlowNodeView };

export type Translate = (key: string, vars?: Record<string, string | number>) => string;
export type PickLabel = (l: Record<string, string> | undefined | null, fallback?: string) => string;

/** `record.priority` → the field's label; other variables by name. */
export function varLabel(v: string, fields: Map<string, JsonSchema>, t: Translate, label: PickLabel): string {
  if (v.startsWith('record.')) {
    const k = v.slice('record.'.length);
    const f = fields.get(k);
    if (f) return label(f['x-label'] as Record<string, string> | undefined, k);
  }
  if (v.startsWith('vars.')) return t('flows.cond.var.vars', { name: v.slice(5) });
  const key = `flows.cond.var.${v}`;
  const s = t(key);
  return s === key ? v : s;
}

export function valueText(v: unknown, schema: JsonSchema | undefined, t: Translate, label: PickLabel): string {
  if (Array.isArray(v)) return v.map((x) => valueText(x, schema, t, label)).join(', ');
  const opts = schema?.['x-options'] as Record<string, Record<string, string>> | undefined;
  if (typeof v === 'string' && opts?.[v]) return label(opts[v], v);
  if (v === true) return t('common.yes');
  if (v === false) return t('common.no');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A condition as a sentence. `fields` label `record.*` variables; with `queried`, the
 * bare variables are fields of a queried form (query filters) and `fields` label the
 * context values on the value side. */
export function describeCond(c: Cond, fields: Map<string, JsonSchema>, t: Translate, label: PickLabel, queried?: Map<string, JsonSchema>): string {
  let schema: JsonSchema | undefined;
  let left: string;
  if (queried && !isContextVar(c.var)) {
    schema = queried.get(c.var);
    left = schema ? label(schema['x-label'] as Record<string, string> | undefined, c.var) : c.var;
  } else {
    schema = c.var.startsWith('record.') ? fields.get(c.var.slice(7)) : undefined;
    left = varLabel(c.var, fields, t, label);
  }
  const op = t(`flows.cond.op.${c.op}`);
  const base = `${left} ${op}`;
  if (c.op === 'empty' || c.op === 'not_empty') return base;
  const rv = valueVar(c.value);
  if (rv !== null) return `${base} ${varLabel(rv, fields, t, label)}`;
  const rd = relDateOf(c.value);
  if (rd) return `${base} ${relDateText(rd.var, rd.days, fields, t, label)}`;
  return `${base} ${valueText(c.value, schema, t, label)}`;
}

/** `today - 91 days` in words. */
export function relDateText(v: string, days: number, fields: Map<string, JsonSchema>, t: Translate, label: PickLabel): string {
  const base = varLabel(v, fields, t, label);
  if (days === 0) return base;
  return t(days > 0 ? 'flows.cond.relDate.after' : 'flows.cond.relDate.before', { base, n: Math.abs(days) });
}

/** A context variable of conditions (`record.*`, `vars.*`, `task.*`, `initiator`, `today`, `now`),
 * as opposed to a field of a queried form. */
export function isContextVar(v: string): boolean {
  return v === 'initiator' || v === 'today' || v === 'now' || v === 'record' || v === 'vars' || ['record.', 'vars.', 'task.'].some((p) => v.startsWith(p));
}

/** The text of a JSON Logic condition: the builder's sentence, or the JSON. */
export function describeLogic(logic: unknown, fields: Map<string, JsonSchema>, t: Translate, label: PickLabel): string {
  const group = parseGroup(logic);
  if (group === null) return JSON.stringify(logic);
  const word = t(group.join === 'or' ? 'flows.cond.or' : 'flows.cond.and');
  return group.conds.map((c) => describeCond(c, fields, t, label)).join(` ${word} `);
}

/** A canvas edge as React Flow draws it: label and colour from its properties (and, with
 * `sourceType`, each / done out of a loop, ok / failed out of an http or report node, completed /
 * failed out of a subflow — with `sourceNode`, a subflow that is not waited for has a
 * plain edge). */
export function edgeView(
  e: CanvasEdge,
  opts: { errors?: number; fields: Map<string, JsonSchema>; t: Translate; label: PickLabel; active?: boolean; sourceType?: string; sourceNode?: FlowNode },
): RFEdge {
  const d = e.data.edge;
  let text: string | undefined;
  let color = '#888';
  if (d.outcome === 'approved' || d.outcome === 'rejected') {
    text = opts.t(`flows.edge.outcome.${d.outcome}`);
    color = d.outcome === 'approved' ? '#52c41a' : '#ff4d4f';
  } else if (hasOkFailedEdges(opts.sourceType)) {
    const o = httpOutcomeOf(d);
    text = opts.t(`flows.edge.outcome.${o}`);
    color = o === 'ok' ? '#52c41a' : '#ff4d4f';
  } else if (opts.sourceType === 'subflow') {
    const o = subflowOutcomeOf(d);
    if (o === 'failed' || !opts.sourceNode || subflowWaits(opts.sourceNode)) {
      text = opts.t(`flows.edge.outcome.${o}`);
      color = o === 'completed' ? '#52c41a' : '#ff4d4f';
    }
  } else if (typeof d.outcome === 'string') text = d.outcome;
  if (d.each === true) {
    text = opts.t('flows.edge.each');
    color = '#1677ff';
  } else if (opts.sourceType === 'loop') text = opts.t('flows.edge.done');
  if (d.default === true) text = opts.t('flows.edge.default');
  else if (d.when !== undefined) {
    const s = describeLogic(d.when, opts.fields, opts.t, opts.label);
    text = s.length > 40 ? `${s.slice(0, 40)}…` : s;
    color = '#faad14';
  }
  const bad = (opts.errors ?? 0) > 0;
  if (bad) color = '#ff4d4f';
  return {
    ...e,
    label: text,
    labelStyle: { fontSize: 11, fill: bad ? '#ff4d4f' : '#333' },
    labelBgStyle: { fill: '#fff' },
    style: { stroke: color, strokeWidth: bad || e.selected ? 3 : opts.active ? 2.5 : 1.5, strokeDasharray: bad ? '6 3' : undefined },
    markerEnd: { type: MarkerType.ArrowClosed, color },
    interactionWidth: 16,
  } as RFEdge;
}

/** A read-only drawing of a definition with the live positions highlighted. */
export function ReadOnlyGraph(p: { definition: FlowDefinition; positions: string[]; visited: Set<string>; fields?: Map<string, JsonSchema>; height?: number; testId?: string }) {
  const { t, label } = useI18n();
  const state = useMemo(() => fromDefinition(p.definition), [p.definition]);
  const byId = useMemo(() => new Map(state.nodes.map((n) => [n.id, n.data.node])), [state]);
  const nodes: RFNode[] = useMemo(
    () =>
      state.nodes.map((n: CanvasNode) => ({
        ...n,
        type: 'flow',
        draggable: false,
        connectable: false,
        data: { ...n.data, current: p.positions.includes(n.id), visited: p.visited.has(n.id), readOnly: true },
      })),
    [state, p.positions, p.visited],
  );
  const fields = useMemo(() => p.fields ?? new Map<string, JsonSchema>(), [p.fields]);
  const edges = useMemo(
    () =>
      state.edges.map((e) =>
        edgeView(e, { fields, t, label, sourceType: byId.get(e.source)?.type, sourceNode: byId.get(e.source), active: p.visited.has(e.source) && (p.visited.has(e.target) || p.positions.includes(e.target)) }),
      ),
    [state, byId, fields, t, label, p.visited, p.positions],
  );
  return (
    <div style={{ height: p.height ?? 420, border: '1px solid #f0f0f0', borderRadius: 6 }} data-testid={p.testId ?? 'instance-graph'}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        fitView
        minZoom={0.2}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
