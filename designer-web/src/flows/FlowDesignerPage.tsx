// The flow designer: `/apps/:app/flows` lists the app's flows (and creates new ones),
// `/apps/:app/flows/:flow` edits one on a React Flow canvas: palette → canvas → side panel
// (node properties, edge condition / outcome, flow and trigger settings), save draft,
// publish, server errors on the node / edge / trigger they concern and in a list.
//
// data-testid beyond the ones of the brief:
//   flow-list, flow-row-<key>, flow-new-form        the list and the "new flow" dialog
//   flow-back, flow-title, flow-dirty, flow-version, flow-settings (show the trigger panel)
//   flow-lint                                      client-side hints
//   flow-error-<i>                                 one entry of the error list (click selects)
//   flow-handle-<id>-in / -out / -approved / -rejected   node handles
//   flow-node-panel, flow-edge-panel, flow-trigger-panel, flow-node-errors,
//   flow-edge-errors, flow-trigger-errors, flow-flow-errors
//   flow-prop-id, flow-prop-label-zh/-en, flow-prop-assignee-kind, flow-prop-assignee,
//   flow-prop-mode, flow-prop-editable, flow-prop-deadline, flow-prop-deadline-amount/-unit/
//   -action, flow-prop-deadline-to(-kind), flow-prop-set(-field/-value/-expr/-add/-remove-<f>),
//   flow-prop-form, flow-prop-data(-…), flow-prop-to(-kind), flow-prop-title, flow-prop-body,
//   flow-prop-delay-amount/-unit, flow-prop-name, flow-prop-value, flow-prop-join-mode,
//   flow-prop-join-n, flow-prop-delete, flow-prop-outcome, flow-prop-edge-kind,
//   flow-prop-when(-var/-op/-value/-add/-remove-<i>/-json-toggle/-json), flow-edge-delete
//   flow-label-zh, flow-label-en, flow-trigger-fields,
//   flow-trigger-cond(-var/-op/-value/-add/-remove-<i>/-current/-json-toggle/-json)
//   flow-trigger-type, flow-trigger-form, flow-trigger-field (date_field), flow-trigger-offset,
//   flow-trigger-cron (schedule), flow-trigger-guard-help (before_write)
//   flow-node-guard-warning (panel) / data-guard-warning on flow-node-<id>: a node type a
//   before_write guard may not use (or reject outside a guard); flow-node-unknown
//   query: flow-prop-form, flow-prop-name, flow-prop-limit,
//   flow-prop-filter(-var/-op/-value/-value-var/-from-context/-add/-current/-json…)
//   reject: flow-prop-message
//   update_record: flow-prop-update-target, flow-prop-update-form, flow-prop-record-ref,
//   flow-prop-record (JSON Logic)
//   loop, http, notify channels: see EffectPanels.tsx, subflow: SubflowEditor.tsx;
//   flow-handle-<id>-each / -done (loop), -ok / -failed (http), -completed / -failed
//   (subflow; only -completed when it is not waited for); flow-prop-each (edge out of a
//   loop: body or done)
//   end: flow-prop-terminate; approval / task: flow-prop-mode (any / all / sequential),
//   flow-prop-mode-help
//   webhook trigger: flow-trigger-webhook-help, the hook panel (HookPanel.tsx)
//   record_deleted trigger: flow-trigger-deleted-help
//   flow-versions-open (toolbar) opens the versions drawer: see FlowVersionsPanel.tsx
//   flow-layout-topdown (toolbar) lays the graph out top-down (layout.ts); the "+" on each
//   edge and its menu: see InsertableEdge.tsx (insertion.ts does the insert)
// The list and the "new flow" dialog are in FlowList.tsx, the palette in NodePalette.tsx,
// the lookups the panels choose from in designerApi.ts.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, App as AntApp, Button, Card, Drawer, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import { ApartmentOutlined, CloudUploadOutlined, HistoryOutlined, SaveOutlined, SettingOutlined } from '@ant-design/icons';
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection as RFConnection,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import { api, ApiError } from '../api/client.ts';
import type { Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { edgeView, nodeTypes, type RFEdge, type RFNode } from './FlowGraph.tsx';
import { EdgeInsertContext, edgeTypes, type EdgeInsert } from './InsertableEdge.tsx';
import { NodePanel } from './Panels.tsx';
import { EdgePanel } from './EdgePanel.tsx';
import { TriggerPanel } from './TriggerPanel.tsx';
import { HookPanel } from './HookPanel.tsx';
import { FlowVersionsPanel } from './FlowVersionsPanel.tsx';
import { FlowList } from './FlowList.tsx';
import { NODE_DRAG_TYPE, NodePalette } from './NodePalette.tsx';
import { errorText, useLookups } from './designerApi.ts';
import { insertOnEdge, insertableTypes } from './insertion.ts';
import { arrangedLike, stateTopDownLayout, withLayout } from './layout.ts';
import { disallowedNodes, lint, locateErrors, type ErrorLike, type LocatedErrors } from './checks.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import {
  NODE_TYPES,
  emptyDefinition,
  type CanvasEdge,
  type CanvasNode,
  type FlowState,
  type NodeType,
  type Point,
} from './model.ts';
import { addNode, canConnect, connect, removeEdge, removeNode, renameNode } from './operations.ts';
import type { FlowDetail } from './types.ts';

export default function FlowDesignerPage() {
  const { app = '', flow } = useParams();
  if (!flow) return <FlowList app={app} />;
  return (
    <ReactFlowProvider key={`${app}/${flow}`}>
      <Editor app={app} flow={flow} />
    </ReactFlowProvider>
  );
}

// ---------------------------------------------------------------------------------------
// Editor

type Selection = { kind: 'node' | 'edge'; id: string } | null;

const NODE_W = 180;
const NODE_H = 90;

/** A free spot near `p` (nodes are about NODE_W × NODE_H). */
function freeSpot(nodes: CanvasNode[], p: Point): Point {
  const at = { x: Math.round(p.x), y: Math.round(p.y) };
  const hit = (q: Point) => nodes.some((n) => Math.abs(n.position.x - q.x) < NODE_W && Math.abs(n.position.y - q.y) < NODE_H);
  for (let i = 0; i < 40 && hit(at); i++) at.x += NODE_W + 40;
  return at;
}

function Editor({ app, flow }: { app: string; flow: string }) {
  const { t, label } = useI18n();
  const { message } = AntApp.useApp();
  const rf = useReactFlow<RFNode, RFEdge>();
  const [state, setState] = useState<FlowState | null>(null);
  const [savedJson, setSavedJson] = useState('');
  const [publishedVersion, setPublishedVersion] = useState<number | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [selection, setSelection] = useState<Selection>(null);
  const [serverErrors, setServerErrors] = useState<ErrorLike[]>([]);
  // What the last publish allowed but pointed out (e.g. a role nobody holds yet).
  const [warnings, setWarnings] = useState<ErrorLike[]>([]);
  const [located, setLocated] = useState<LocatedErrors | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState<'save' | 'publish' | null>(null);
  const [versionsOpen, setVersionsOpen] = useState(false);
  const [versionsKey, setVersionsKey] = useState(0);
  const canvasRef = useRef<HTMLDivElement>(null);
  const lookups = useLookups(app, state);

  useEffect(() => {
    api<FlowDetail>(`/apps/${app}/flows/${flow}`)
      .then((d) => {
        const def = (typeof d.draft === 'object' && d.draft !== null ? d.draft : d.definition) ?? emptyDefinition(flow, { en: flow }, '');
        const s = fromDefinition(def);
        setState(s);
        setSavedJson(JSON.stringify(toDefinition(s)));
        setPublishedVersion(d.published_version);
      })
      .catch((e: unknown) => setLoadError(e instanceof ApiError && e.status === 404 ? t('flows.editor.notFound') : errorText(e)));
    // (not again on a locale switch)
  }, [app, flow]);

  const apply = useCallback((f: (s: FlowState) => FlowState) => setState((s) => (s ? f(s) : s)), []);
  const definition = useMemo(() => (state ? toDefinition(state) : null), [state]);
  const dirty = definition !== null && JSON.stringify(definition) !== savedJson;
  const hints = useMemo(() => (state ? lint(state) : []), [state]);
  const disallowed = useMemo(() => (state ? disallowedNodes(state) : new Set<string>()), [state]);

  const onNodesChange = useCallback(
    (changes: NodeChange<RFNode>[]) => {
      setState((s) => (s ? { ...s, nodes: applyNodeChanges(changes, s.nodes as RFNode[]) as CanvasNode[] } : s));
      if (changes.some((c) => c.type === 'remove')) setSelection((sel) => (sel?.kind === 'node' && changes.some((c) => c.type === 'remove' && c.id === sel.id) ? null : sel));
    },
    [],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange<RFEdge>[]) => {
      setState((s) => (s ? { ...s, edges: applyEdgeChanges(changes, s.edges as RFEdge[]) as CanvasEdge[] } : s));
      if (changes.some((c) => c.type === 'remove')) setSelection((sel) => (sel?.kind === 'edge' && changes.some((c) => c.type === 'remove' && c.id === sel.id) ? null : sel));
    },
    [],
  );
  const onConnect = useCallback((c: RFConnection) => apply((s) => connect(s, c)), [apply]);
  const isValidConnection = useCallback(
    (c: RFConnection | RFEdge) => (state ? canConnect(state, { source: c.source, target: c.target, sourceHandle: c.sourceHandle ?? null }) : false),
    [state],
  );

  const stateRef = useRef(state);
  stateRef.current = state;

  const add = useCallback(
    (type: NodeType, at?: Point) => {
      const s = stateRef.current;
      if (!s) return;
      let pos = at;
      // below the selected node (building top-down), else in the middle of the view
      const sel = s.nodes.find((n) => n.selected);
      if (!pos && sel) pos = { x: sel.position.x, y: sel.position.y + NODE_H + 50 };
      if (!pos) {
        const box = canvasRef.current?.getBoundingClientRect();
        pos = box ? rf.screenToFlowPosition({ x: box.left + box.width / 2 - NODE_W / 2, y: box.top + box.height / 2 - NODE_H / 2 }) : { x: 0, y: 0 };
      }
      const r = addNode({ ...s, nodes: s.nodes.map((n) => ({ ...n, selected: false })) }, type, freeSpot(s.nodes, pos));
      const next = { ...r.state, nodes: r.state.nodes.map((n) => (n.id === r.id ? { ...n, selected: true } : n)) };
      stateRef.current = next;
      setState(next);
      setSelection({ kind: 'node', id: r.id });
      // keep every node in view when adding by click
      if (!at) setTimeout(() => void rf.fitView({ padding: 0.25, maxZoom: 1, duration: 0 }), 50);
    },
    [rf],
  );

  const onDrop = useCallback(
    (ev: React.DragEvent) => {
      const type = ev.dataTransfer.getData(NODE_DRAG_TYPE) as NodeType;
      if (!(NODE_TYPES as readonly string[]).includes(type)) return;
      ev.preventDefault();
      add(type, rf.screenToFlowPosition({ x: ev.clientX - NODE_W / 2, y: ev.clientY - 20 }));
    },
    [add, rf],
  );

  /** The nodes' drawn heights (React Flow measures them), for the top-down layout. */
  const drawnHeights = useCallback(
    () => Object.fromEntries(rf.getNodes().flatMap((n) => (n.measured?.height ? [[n.id, n.measured.height]] : []))) as Record<string, number>,
    [rf],
  );

  const layoutTopDown = () => {
    const s = stateRef.current;
    if (!s) return;
    const next = withLayout(s, stateTopDownLayout(s, { heights: drawnHeights() }));
    stateRef.current = next;
    setState(next);
    setTimeout(() => void rf.fitView({ padding: 0.25, maxZoom: 1, duration: 0 }), 50);
  };

  // The "+" on an edge: the new node goes between its ends and is selected; a graph that
  // was laid out top-down is laid out again
  const insertOn = useCallback(
    (edgeId: string, type: NodeType) => {
      const s = stateRef.current;
      const r = s && insertOnEdge(s, edgeId, type);
      if (!s || !r) return;
      const heights = drawnHeights();
      const topDown = arrangedLike(Object.fromEntries(s.nodes.map((n) => [n.id, n.position])), stateTopDownLayout(s, { heights }));
      const next = topDown ? withLayout(r.state, stateTopDownLayout(r.state, { heights })) : r.state;
      stateRef.current = next;
      setState(next);
      setSelection({ kind: 'node', id: r.id });
    },
    [drawnHeights],
  );
  const triggerType = state?.trigger.type;
  const edgeInsert: EdgeInsert = useMemo(() => ({ kinds: insertableTypes({ type: triggerType ?? '' }), insert: insertOn }), [triggerType, insertOn]);

  const showErrors = (e: unknown, sent: FlowState) => {
    if (e instanceof ApiError && e.details.length > 0) {
      setServerErrors(e.details);
      setLocated(locateErrors(sent, e.details));
      setProblem(e.status === 422 ? t('flows.editor.invalid', { n: e.details.length }) : e.message);
    } else {
      setServerErrors([]);
      setLocated(null);
      setProblem(errorText(e));
    }
  };

  const save = async () => {
    if (!state) return;
    const sent = state;
    const def = toDefinition(sent);
    setBusy('save');
    try {
      await api(`/apps/${app}/flows/${flow}/draft`, { method: 'PUT', body: def });
      setSavedJson(JSON.stringify(def));
      setServerErrors([]);
      setLocated(null);
      setProblem(null);
      message.success(t('flows.editor.saved'));
    } catch (e) {
      showErrors(e, sent);
    } finally {
      setBusy(null);
    }
  };

  const publish = async () => {
    if (!state) return;
    const sent = state;
    const def = toDefinition(sent);
    setBusy('publish');
    try {
      const r = await api<{ version: number; warnings?: ErrorLike[] }>(`/apps/${app}/flows/${flow}/publish`, { body: def });
      setSavedJson(JSON.stringify(def));
      setPublishedVersion(r?.version ?? null);
      setWarnings(r?.warnings ?? []);
      setVersionsKey((k) => k + 1);
      setServerErrors([]);
      setLocated(null);
      setProblem(null);
      message.success(t('flows.editor.published', { n: r?.version ?? '' }));
    } catch (e) {
      showErrors(e, sent);
    } finally {
      setBusy(null);
    }
  };

  // Unsaved changes: the browser asks before the page goes away
  useEffect(() => {
    if (!dirty) return;
    const h = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = t('flows.editor.leave');
    };
    window.addEventListener('beforeunload', h);
    return () => window.removeEventListener('beforeunload', h);
  }, [dirty, t]);

  // Ctrl/Cmd+S saves
  useEffect(() => {
    const h = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') {
        e.preventDefault();
        void save();
      }
    };
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  });

  const viewNodes: RFNode[] = useMemo(
    () =>
      (state?.nodes ?? []).map((n) => ({
        ...n,
        type: 'flow',
        data: { ...n.data, errors: located?.nodes.get(n.id)?.length ?? 0, guardWarning: disallowed.has(n.id) },
      })),
    [state, located, disallowed],
  );
  const viewEdges: RFEdge[] = useMemo(() => {
    const byId = new Map((state?.nodes ?? []).map((n) => [n.id, n.data.node]));
    return (state?.edges ?? []).map((e) => ({
      ...edgeView(e, {
        errors: located?.edges.get(e.id)?.length ?? 0,
        fields: lookups.fields,
        t,
        label,
        sourceType: byId.get(e.source)?.type,
        sourceNode: byId.get(e.source),
      }),
      type: 'insertable',
    }));
  }, [state, located, lookups.fields, t, label]);

  if (loadError) return <Alert type="error" message={loadError} data-testid="flow-load-error" />;
  if (!state) return <Spin />;

  const where = (e: ErrorLike): { text: string; sel: Selection } => {
    for (const [id, list] of located?.nodes ?? []) if (list.includes(e)) {
      const n = state.nodes.find((x) => x.id === id);
      return { text: t('flows.editor.where.node', { id: n ? label(n.data.node.label as Label | undefined, id) : id }), sel: n ? { kind: 'node', id } : null };
    }
    for (const [id, list] of located?.edges ?? []) if (list.includes(e)) {
      const ed = state.edges.find((x) => x.id === id);
      return { text: ed ? t('flows.editor.where.edge', { from: ed.source, to: ed.target }) : id, sel: ed ? { kind: 'edge', id } : null };
    }
    if (located?.trigger.includes(e)) return { text: t('flows.editor.where.trigger'), sel: null };
    return { text: t('flows.editor.where.flow'), sel: null };
  };

  const select = (sel: Selection) => {
    setSelection(sel);
    setState((s) =>
      s
        ? {
            ...s,
            nodes: s.nodes.map((n) => ({ ...n, selected: sel?.kind === 'node' && sel.id === n.id })),
            edges: s.edges.map((e) => ({ ...e, selected: sel?.kind === 'edge' && sel.id === e.id })),
          }
        : s,
    );
  };

  const rename = (from: string, to: string): boolean => {
    const next = renameNode(state, from, to);
    if (next === state) return false;
    setState(next);
    setSelection({ kind: 'node', id: to });
    return true;
  };

  const panel =
    selection?.kind === 'node' && state.nodes.some((n) => n.id === selection.id) ? (
      <NodePanel
        key={`n-${selection.id}`}
        state={state}
        id={selection.id}
        apply={apply}
        rename={rename}
        remove={() => {
          apply((s) => removeNode(s, selection.id));
          setSelection(null);
        }}
        lookups={lookups}
        errors={located?.nodes.get(selection.id)}
      />
    ) : selection?.kind === 'edge' && state.edges.some((e) => e.id === selection.id) ? (
      <EdgePanel
        key={`e-${selection.id}`}
        state={state}
        id={selection.id}
        apply={apply}
        remove={() => {
          apply((s) => removeEdge(s, selection.id));
          setSelection(null);
        }}
        lookups={lookups}
        errors={located?.edges.get(selection.id)}
      />
    ) : (
      <>
        <TriggerPanel state={state} apply={apply} lookups={lookups} errors={located?.trigger ?? []} flowErrors={located?.flow ?? []} />
        {state.trigger.type === 'webhook' && <HookPanel app={app} flow={flow} publishedVersion={publishedVersion} />}
      </>
    );

  return (
    <div>
      <Space wrap style={{ marginBottom: 8, width: '100%', justifyContent: 'space-between' }}>
        <Space wrap>
          <Link to={`/apps/${app}/flows`} data-testid="flow-back">
            {t('common.back')}
          </Link>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="flow-title">
            {label(state.label, flow)}
          </Typography.Title>
          <Typography.Text code>{flow}</Typography.Text>
          {publishedVersion ? (
            <Tag color="green" data-testid="flow-version">
              {t('flows.list.version', { n: publishedVersion })}
            </Tag>
          ) : (
            <Tag data-testid="flow-version">{t('flows.list.unpublished')}</Tag>
          )}
          {dirty && (
            <Tag color="orange" data-testid="flow-dirty">
              {t('flows.editor.dirty')}
            </Tag>
          )}
        </Space>
        <Space wrap>
          <Tooltip title={t('flows.layout.topDownHelp')}>
            <Button icon={<ApartmentOutlined />} data-testid="flow-layout-topdown" onClick={layoutTopDown}>
              {t('flows.layout.topDown')}
            </Button>
          </Tooltip>
          <Button icon={<HistoryOutlined />} data-testid="flow-versions-open" onClick={() => setVersionsOpen(true)}>
            {t('flows.versions.open')}
          </Button>
          <Tooltip title={t('flows.editor.showTrigger')}>
            <Button icon={<SettingOutlined />} data-testid="flow-settings" onClick={() => select(null)}>
              {t('flows.editor.trigger')}
            </Button>
          </Tooltip>
          <Button icon={<SaveOutlined />} loading={busy === 'save'} onClick={() => void save()} data-testid="flow-save">
            {t('flows.editor.save')}
          </Button>
          <Button type="primary" icon={<CloudUploadOutlined />} loading={busy === 'publish'} onClick={() => void publish()} data-testid="flow-publish">
            {t('flows.editor.publish')}
          </Button>
        </Space>
      </Space>

      {problem && (
        <Alert
          type="error"
          style={{ marginBottom: 8 }}
          data-testid="flow-errors"
          message={problem}
          description={
            serverErrors.length > 0 && (
              <ul style={{ margin: 0, paddingInlineStart: 16 }}>
                {serverErrors.map((e, i) => {
                  const w = where(e);
                  return (
                    <li key={i} data-testid={`flow-error-${i}`} data-pointer={e.pointer}>
                      {w.sel ? (
                        <Typography.Link onClick={() => select(w.sel)}>{w.text}</Typography.Link>
                      ) : (
                        <Typography.Link onClick={() => select(null)}>{w.text}</Typography.Link>
                      )}{' '}
                      <Typography.Text code>{e.pointer || '/'}</Typography.Text> {e.message}
                    </li>
                  );
                })}
              </ul>
            )
          }
        />
      )}
      {warnings.length > 0 && !problem && (
        <Alert
          type="warning"
          showIcon
          closable
          onClose={() => setWarnings([])}
          style={{ marginBottom: 8 }}
          data-testid="flow-publish-warnings"
          message={t('flows.editor.publishWarnings', { n: warnings.length })}
          description={
            <ul style={{ margin: 0, paddingInlineStart: 16 }}>
              {warnings.map((e, i) => {
                const w = where(e);
                return (
                  <li key={i} data-pointer={e.pointer}>
                    <Typography.Link onClick={() => select(w.sel ?? null)}>{w.text}</Typography.Link>{' '}
                    <Typography.Text code>{e.pointer}</Typography.Text> {e.message}
                  </li>
                );
              })}
            </ul>
          }
        />
      )}
      {hints.length > 0 && !problem && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 8 }}
          data-testid="flow-lint"
          message={[...new Set(hints.map((h) => t(`flows.editor.lint.${h.rule}`)))].join(' · ')}
        />
      )}

      <div style={{ display: 'flex', gap: 8, alignItems: 'stretch', flexWrap: 'wrap' }}>
        <NodePalette trigger={state.trigger} onAdd={add} />
        <div
          ref={canvasRef}
          data-testid="flow-canvas"
          style={{ flex: '1 1 480px', minWidth: 320, height: '72vh', minHeight: 480, border: '1px solid #f0f0f0', borderRadius: 6, background: '#fff' }}
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'move';
          }}
          onDrop={onDrop}
        >
          <EdgeInsertContext value={edgeInsert}>
            <ReactFlow<RFNode, RFEdge>
              nodes={viewNodes}
              edges={viewEdges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              isValidConnection={isValidConnection}
              onNodeClick={(_, n) => setSelection({ kind: 'node', id: n.id })}
              onEdgeClick={(_, e) => setSelection({ kind: 'edge', id: e.id })}
              onPaneClick={() => setSelection(null)}
              deleteKeyCode={['Delete', 'Backspace']}
              fitView
              fitViewOptions={{ padding: 0.25, maxZoom: 1 }}
              minZoom={0.2}
              proOptions={{ hideAttribution: true }}
            >
              <Background />
              <Controls />
              <MiniMap pannable zoomable style={{ width: 120, height: 80 }} />
            </ReactFlow>
          </EdgeInsertContext>
        </div>
        <Card size="small" style={{ flex: '0 1 340px', width: 340, maxHeight: '72vh', minHeight: 480, overflow: 'auto' }} data-testid="flow-panel">
          {panel}
        </Card>
      </div>
      <Drawer open={versionsOpen} title={t('flows.versions.title')} size={560} destroyOnHidden onClose={() => setVersionsOpen(false)}>
        {definition && <FlowVersionsPanel app={app} flow={flow} draft={definition} refreshKey={versionsKey} fields={lookups.fields} />}
      </Drawer>
    </div>
  );
}
