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
//   loop, http, subflow, notify channels: see EffectPanels.tsx; flow-handle-<id>-each / -done
//   (loop), -ok / -failed (http), -completed / -failed (subflow; only -completed when it is
//   not waited for); flow-prop-each (edge out of a loop: body or done)
//   end: flow-prop-terminate; approval / task: flow-prop-mode (any / all / sequential),
//   flow-prop-mode-help
//   webhook trigger: flow-trigger-webhook-help, the hook panel (HookPanel.tsx)
//   record_deleted trigger: flow-trigger-deleted-help
//   flow-versions-open (toolbar) opens the versions drawer: see FlowVersionsPanel.tsx
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Alert, App as AntApp, Button, Card, Drawer, Empty, Form, Input, List, Modal, Select, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import { CloudUploadOutlined, HistoryOutlined, PlusOutlined, SaveOutlined, SettingOutlined } from '@ant-design/icons';
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
import type { FormDetail, FormSummary, JsonSchema, Label, User } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { edgeView, nodeTypes, type RFEdge, type RFNode } from './FlowGraph.tsx';
import { EdgePanel, NodePanel, TriggerPanel, varOptions, type Lookups, type Option } from './Panels.tsx';
import { HookPanel } from './HookPanel.tsx';
import { FlowVersionsPanel } from './FlowVersionsPanel.tsx';
import {
  KEY_RE,
  NODE_TYPES,
  addNode,
  canConnect,
  connect,
  contextVars,
  disallowedNodes,
  emptyDefinition,
  formsOfInterest,
  nodeAllowed,
  referenceTargets,
  fromDefinition,
  lint,
  locateErrors,
  removeEdge,
  removeNode,
  renameNode,
  toDefinition,
  type CanvasEdge,
  type CanvasNode,
  type ErrorLike,
  type FlowState,
  type LocatedErrors,
  type NodeType,
  type Point,
} from './model.ts';
import type { FlowDetail, FlowSummary } from './types.ts';

export default function FlowDesignerPage() {
  const { app = '', flow } = useParams();
  if (!flow) return <FlowList app={app} />;
  return (
    <ReactFlowProvider key={`${app}/${flow}`}>
      <Editor app={app} flow={flow} />
    </ReactFlowProvider>
  );
}

function errorText(e: unknown): string {
  return e instanceof ApiError ? [e.message, ...e.details.map((d) => `${d.pointer}: ${d.message}`)].join('; ') : e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------
// Flow list and "new flow"

function FlowList({ app }: { app: string }) {
  const { t, label } = useI18n();
  const navigate = useNavigate();
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [forms, setForms] = useState<FormSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState('');
  const [zh, setZh] = useState('');
  const [en, setEn] = useState('');
  const [form, setForm] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<string | null>(null);

  useEffect(() => {
    api<{ items: FlowSummary[] }>(`/apps/${app}/flows`)
      .then((r) => setFlows(r.items))
      .catch((e: unknown) => setError(errorText(e)));
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items))
      .catch(() => setForms([]));
  }, [app]);

  const keyProblem = !key ? null : !KEY_RE.test(key) ? t('flows.new.keyInvalid') : flows?.some((f) => f.key === key) ? t('flows.new.keyTaken') : null;
  const chosenForm = form ?? forms[0]?.key;

  const create = async () => {
    setBusy(true);
    setCreateError(null);
    try {
      const def = emptyDefinition(key, { 'zh-CN': zh || en, en: en || zh }, chosenForm ?? '');
      await api(`/apps/${app}/flows/${key}/draft`, { method: 'PUT', body: def });
      navigate(`/apps/${app}/flows/${key}`);
    } catch (e) {
      setCreateError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      title={
        <Space>
          <Link to={`/apps/${app}`}>{t('common.back')}</Link>
          <span>{t('flows.list.title')}</span>
        </Space>
      }
      extra={
        <Button type="primary" icon={<PlusOutlined />} data-testid="flow-new" onClick={() => setOpen(true)}>
          {t('flows.list.new')}
        </Button>
      }
    >
      {error && <Alert type="error" message={error} />}
      {!flows && !error && <Spin />}
      {flows && (
        <List
          data-testid="flow-list"
          dataSource={flows}
          locale={{ emptyText: <Empty description={t('flows.list.empty')} /> }}
          renderItem={(f) => (
            <List.Item data-testid={`flow-row-${f.key}`}>
              <Link to={`/apps/${app}/flows/${f.key}`}>{label(f.label, f.key)}</Link>
              <Space>
                {f.trigger && (
                  <Tag>
                    {t(`flows.trigger.type.${f.trigger.type}`)}
                    {f.trigger.form ? ` · ${label(forms.find((x) => x.key === f.trigger?.form)?.label, f.trigger.form)}` : ''}
                  </Tag>
                )}
                <Typography.Text code>{f.key}</Typography.Text>
                {f.published_version ? <Tag color="green">{t('flows.list.version', { n: f.published_version })}</Tag> : <Tag>{t('flows.list.unpublished')}</Tag>}
              </Space>
            </List.Item>
          )}
        />
      )}
      <Modal
        open={open}
        title={t('flows.new.title')}
        onCancel={() => setOpen(false)}
        footer={[
          <Button key="cancel" onClick={() => setOpen(false)}>
            {t('common.cancel')}
          </Button>,
          <Button
            key="create"
            type="primary"
            loading={busy}
            disabled={!key || !!keyProblem || (!zh && !en) || !chosenForm}
            data-testid="flow-new-create"
            onClick={() => void create()}
          >
            {t('flows.new.create')}
          </Button>,
        ]}
      >
        <Form layout="vertical">
          <Form.Item label={t('flows.new.key')} help={keyProblem ?? t('flows.new.keyHelp')} validateStatus={keyProblem ? 'error' : undefined}>
            <Input data-testid="flow-new-key" value={key} onChange={(e) => setKey(e.target.value.trim())} />
          </Form.Item>
          <Form.Item label={t('flows.label.zh')}>
            <Input data-testid="flow-new-label-zh" value={zh} onChange={(e) => setZh(e.target.value)} />
          </Form.Item>
          <Form.Item label={t('flows.label.en')}>
            <Input data-testid="flow-new-label-en" value={en} onChange={(e) => setEn(e.target.value)} />
          </Form.Item>
          <Form.Item label={t('flows.new.form')}>
            <Select
              data-testid="flow-new-form"
              showSearch
              optionFilterProp="label"
              value={chosenForm}
              options={forms.map((f) => ({ value: f.key, label: `${label(f.label, f.key)} (${f.key})` }))}
              onChange={(v: string) => setForm(v)}
            />
          </Form.Item>
          {createError && <Alert type="error" message={createError} data-testid="flow-new-error" />}
        </Form>
      </Modal>
    </Card>
  );
}

// ---------------------------------------------------------------------------------------
// Lookups (forms, users, roles, form fields)

const formSchemas = new Map<string, Promise<JsonSchema | null>>();

function loadFormSchema(app: string, form: string): Promise<JsonSchema | null> {
  const k = `${app}/${form}`;
  let p = formSchemas.get(k);
  if (!p) {
    p = api<FormDetail>(`/apps/${app}/forms/${form}`)
      .then((d) => (d.definition ?? d.draft ?? null)?.schema ?? null)
      .catch(() => {
        formSchemas.delete(k);
        return null;
      });
    formSchemas.set(k, p);
  }
  return p;
}

function propsOf(schema: JsonSchema | null | undefined): Map<string, JsonSchema> {
  return new Map(Object.entries((schema?.properties ?? {}) as Record<string, JsonSchema>));
}

function useLookups(app: string, state: FlowState | null): Lookups {
  const { t, label } = useI18n();
  const [users, setUsers] = useState<Option[]>([]);
  const [roles, setRoles] = useState<Option[]>([]);
  const [forms, setForms] = useState<Option[]>([]);
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [schemas, setSchemas] = useState<Map<string, JsonSchema | null>>(new Map());
  useEffect(() => {
    api<{ items: User[] }>('/admin/users')
      .then((r) => setUsers(r.items.filter((u) => !u.disabled).map((u) => ({ value: u.username, label: u.display_name ? `${u.display_name} (${u.username})` : u.username }))))
      .catch(() => setUsers([]));
    api<{ items: { key: string; label?: Label }[] }>(`/apps/${app}/roles`)
      .then((r) => setRoles(r.items.map((x) => ({ value: x.key, label: `${label(x.label, x.key)} (${x.key})` }))))
      .catch(() => setRoles([]));
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items.map((f) => ({ value: f.key, label: `${label(f.label, f.key)} (${f.key})` }))))
      .catch(() => setForms([]));
    // label changes with the locale; the lists are re-labelled then
  }, [app, label]);
  useEffect(() => {
    // the flows a subflow node may start (published ones; the panel leaves out this flow)
    api<{ items: FlowSummary[] }>(`/apps/${app}/flows`)
      .then((r) => setFlows(r.items))
      .catch(() => setFlows([]));
  }, [app]);

  // Schemas of the trigger form, the forms its references point at (`customer.owner`
  // assignees), and the forms of create_record / query / update_record nodes.
  const triggerSchema = state?.trigger.form ? schemas.get(state.trigger.form) : undefined;
  const wanted = useMemo(
    () => formsOfInterest(state, referenceTargets(propsOf(triggerSchema))).join(','),
    [state, triggerSchema],
  );
  useEffect(() => {
    for (const f of wanted ? wanted.split(',') : []) {
      if (schemas.has(f)) continue;
      void loadFormSchema(app, f).then((sc) => setSchemas((m) => new Map(m).set(f, sc)));
    }
  }, [app, wanted, schemas]);

  const triggerForm = state?.trigger.form ?? '';
  const fields = useMemo(() => propsOf(schemas.get(triggerForm)), [schemas, triggerForm]);
  const fieldKeys = useMemo(() => [...fields.keys()], [fields]);
  const varNames = useMemo(() => contextVars(fieldKeys, state), [fieldKeys, state]);
  const vars = useMemo(() => varOptions(varNames, fields, t, label), [varNames, fields, t, label]);
  const formFields = useCallback((f: string) => (schemas.has(f) ? propsOf(schemas.get(f)) : undefined), [schemas]);
  return { app, users, roles, forms, fields, vars, formFields, flows };
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
      const type = ev.dataTransfer.getData('application/x-formwork-node') as NodeType;
      if (!(NODE_TYPES as readonly string[]).includes(type)) return;
      ev.preventDefault();
      add(type, rf.screenToFlowPosition({ x: ev.clientX - NODE_W / 2, y: ev.clientY - 20 }));
    },
    [add, rf],
  );

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
      const r = await api<{ version: number }>(`/apps/${app}/flows/${flow}/publish`, { body: def });
      setSavedJson(JSON.stringify(def));
      setPublishedVersion(r?.version ?? null);
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
    return (state?.edges ?? []).map((e) =>
      edgeView(e, {
        errors: located?.edges.get(e.id)?.length ?? 0,
        fields: lookups.fields,
        t,
        label,
        sourceType: byId.get(e.source)?.type,
        sourceNode: byId.get(e.source),
      }),
    );
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
        <Card size="small" title={t('flows.editor.palette')} style={{ width: 150, flex: '0 0 150px' }} styles={{ body: { padding: 8 } }}>
          <Space direction="vertical" style={{ width: '100%' }} size={4}>
            {NODE_TYPES.map((type) => (
              <Button
                key={type}
                block
                size="small"
                type={nodeAllowed(type, state.trigger) ? 'default' : 'dashed'}
                danger={!nodeAllowed(type, state.trigger)}
                title={nodeAllowed(type, state.trigger) ? undefined : t('flows.guard.notAllowedShort')}
                draggable
                data-testid={`flow-palette-${type}`}
                onDragStart={(e) => {
                  e.dataTransfer.setData('application/x-formwork-node', type);
                  e.dataTransfer.effectAllowed = 'move';
                }}
                onClick={() => add(type)}
              >
                {t(`flows.node.${type}`)}
              </Button>
            ))}
          </Space>
          <Typography.Paragraph type="secondary" style={{ fontSize: 11, marginTop: 8, marginBottom: 0 }}>
            {t('flows.editor.paletteHelp')}
          </Typography.Paragraph>
        </Card>
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
          <ReactFlow<RFNode, RFEdge>
            nodes={viewNodes}
            edges={viewEdges}
            nodeTypes={nodeTypes}
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
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls />
            <MiniMap pannable zoomable style={{ width: 120, height: 80 }} />
          </ReactFlow>
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
