// The flow designer's canvas: React Flow's node / edge changes and connections applied to
// the flow state, adding a node (palette click or drop), the top-down layout, the "+" on an
// edge, and the nodes and edges as drawn (error counts, guard warnings, edge labels).
// Used by FlowDesignerPage.
import { useCallback, useMemo, useRef, type Dispatch, type SetStateAction } from 'react';
import {
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection as RFConnection,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import type { JsonSchema } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { edgeView, type RFEdge, type RFNode } from './FlowGraph.tsx';
import type { EdgeInsert } from './InsertableEdge.tsx';
import { NODE_DRAG_TYPE } from './NodePalette.tsx';
import { insertOnEdge, insertableTypes } from './insertion.ts';
import { arrangedLike, stateTopDownLayout, withLayout } from './layout.ts';
import type { LocatedErrors } from './checks.ts';
import { NODE_TYPES, type CanvasEdge, type CanvasNode, type FlowState, type NodeType, type Point } from './model.ts';
import { addNode, canConnect, connect } from './operations.ts';

/** What the side panel shows: a node, an edge, or (null) the flow settings. */
export type Selection = { kind: 'node' | 'edge'; id: string } | null;

const NODE_W = 180;
const NODE_H = 90;

/** A free spot near `p` (nodes are about NODE_W × NODE_H). */
function freeSpot(nodes: CanvasNode[], p: Point): Point {
  const at = { x: Math.round(p.x), y: Math.round(p.y) };
  const hit = (q: Point) => nodes.some((n) => Math.abs(n.position.x - q.x) < NODE_W && Math.abs(n.position.y - q.y) < NODE_H);
  for (let i = 0; i < 40 && hit(at); i++) at.x += NODE_W + 40;
  return at;
}

export function useFlowCanvas(p: {
  state: FlowState | null;
  setState: Dispatch<SetStateAction<FlowState | null>>;
  setSelection: Dispatch<SetStateAction<Selection>>;
  apply: (f: (s: FlowState) => FlowState) => void;
  located: LocatedErrors | null;
  disallowed: Set<string>;
  fields: Map<string, JsonSchema>;
}) {
  const { state, setState, setSelection, apply, located, disallowed, fields } = p;
  const { t, label } = useI18n();
  const rf = useReactFlow<RFNode, RFEdge>();
  const canvasRef = useRef<HTMLDivElement>(null);

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
        fields,
        t,
        label,
        sourceType: byId.get(e.source)?.type,
        sourceNode: byId.get(e.source),
      }),
      type: 'insertable',
    }));
  }, [state, located, fields, t, label]);

  return { canvasRef, onNodesChange, onEdgesChange, onConnect, isValidConnection, add, onDrop, layoutTopDown, edgeInsert, viewNodes, viewEdges };
}
