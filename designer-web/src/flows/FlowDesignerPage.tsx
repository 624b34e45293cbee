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
// the lookups the panels choose from in designerApi.ts, the toolbar in FlowToolbar.tsx, the
// error / warning / hint messages in FlowProblems.tsx, the canvas handlers in
// useFlowCanvas.ts and the leave / Ctrl+S keys in useEditorKeys.ts.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useParams } from 'react-router';
import { Alert, App as AntApp, Card, Drawer, Spin } from 'antd';
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider } from '@xyflow/react';
import { api, ApiError } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';
import { nodeTypes, type RFEdge, type RFNode } from './FlowGraph.tsx';
import { EdgeInsertContext, edgeTypes } from './InsertableEdge.tsx';
import { NodePanel } from './Panels.tsx';
import { EdgePanel } from './EdgePanel.tsx';
import { TriggerPanel } from './TriggerPanel.tsx';
import { HookPanel } from './HookPanel.tsx';
import { FlowVersionsPanel } from './FlowVersionsPanel.tsx';
import { FlowList } from './FlowList.tsx';
import { NodePalette } from './NodePalette.tsx';
import { FlowToolbar } from './FlowToolbar.tsx';
import { FlowProblems } from './FlowProblems.tsx';
import { useFlowCanvas, type Selection } from './useFlowCanvas.ts';
import { useEditorKeys } from './useEditorKeys.ts';
import { errorText, useLookups } from './designerApi.ts';
import { disallowedNodes, lint, locateErrors, type ErrorLike, type LocatedErrors } from './checks.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { emptyDefinition, type FlowState } from './model.ts';
import { removeEdge, removeNode, renameNode } from './operations.ts';
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

function Editor({ app, flow }: { app: string; flow: string }) {
  const { t } = useI18n();
  const { message } = AntApp.useApp();
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

  const canvas = useFlowCanvas({ state, setState, setSelection, apply, located, disallowed, fields: lookups.fields });

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

  /** Publish; `anyway`: although an assignee resolves to nobody yet (the server then
   * answers with warnings). */
  const publish = async (anyway = false) => {
    if (!state) return;
    const sent = state;
    const def = toDefinition(sent);
    setBusy('publish');
    try {
      const r = await api<{ version: number; warnings?: ErrorLike[] }>(`/apps/${app}/flows/${flow}/publish${anyway ? '?allow_unstaffed=true' : ''}`, { body: def });
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

  useEditorKeys(dirty, save);

  if (loadError) return <Alert type="error" message={loadError} data-testid="flow-load-error" />;
  if (!state) return <Spin />;

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
      <FlowToolbar
        app={app}
        flow={flow}
        label={state.label}
        publishedVersion={publishedVersion}
        dirty={dirty}
        busy={busy}
        onLayoutTopDown={canvas.layoutTopDown}
        onOpenVersions={() => setVersionsOpen(true)}
        onShowSettings={() => select(null)}
        onSave={() => void save()}
        onPublish={() => void publish()}
      />
      <FlowProblems
        state={state}
        located={located}
        problem={problem}
        serverErrors={serverErrors}
        warnings={warnings}
        onCloseWarnings={() => setWarnings([])}
        onPublishAnyway={() => void publish(true)}
        hints={hints}
        select={select}
      />

      <div style={{ display: 'flex', gap: 8, alignItems: 'stretch', flexWrap: 'wrap' }}>
        <NodePalette trigger={state.trigger} onAdd={canvas.add} />
        <div
          ref={canvas.canvasRef}
          data-testid="flow-canvas"
          style={{ flex: '1 1 480px', minWidth: 320, height: '72vh', minHeight: 480, border: '1px solid #f0f0f0', borderRadius: 6, background: '#fff' }}
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'move';
          }}
          onDrop={canvas.onDrop}
        >
          <EdgeInsertContext value={canvas.edgeInsert}>
            <ReactFlow<RFNode, RFEdge>
              nodes={canvas.viewNodes}
              edges={canvas.viewEdges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={canvas.onNodesChange}
              onEdgesChange={canvas.onEdgesChange}
              onConnect={canvas.onConnect}
              isValidConnection={canvas.isValidConnection}
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
