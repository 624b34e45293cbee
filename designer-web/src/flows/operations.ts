// Editing the canvas state: adding, removing, updating and renaming nodes, drawing and
// updating edges, a branch's default edge and a loop's body edge. Each takes a state and
// returns a new one; a refused edit returns the state unchanged. Pure.
import { nextEdgeId } from './definition.ts';
import {
  CANVAS_NODE_TYPE,
  NODE_ID_RE,
  TERMINAL_NODE_TYPES,
  edgeById,
  nodeById,
  type CanvasEdge,
  type CanvasNode,
  type FlowEdgeDef,
  type FlowNode,
  type FlowState,
  type NodeType,
  type Point,
} from './model.ts';
import { nodeTemplate } from './nodeTemplates.ts';
import { DERIVED_HANDLE_TYPES, edgeHandleOf, handleConnectable, newEdgeOf } from './nodes.ts';

/** `<type>_<n>` not yet used (the first start is `start`). */
export function newNodeId(s: FlowState, type: NodeType): string {
  const used = new Set(s.nodes.map((n) => n.id));
  if ((type === 'start' || type === 'end') && !used.has(type)) return type;
  let i = 1;
  while (used.has(`${type}_${i}`)) i++;
  return `${type}_${i}`;
}

export function addNode(s: FlowState, type: NodeType, position: Point): { state: FlowState; id: string } {
  const id = newNodeId(s, type);
  const node: CanvasNode = { id, type: CANVAS_NODE_TYPE, position: { ...position }, data: { node: nodeTemplate(id, type) } };
  return { state: { ...s, nodes: [...s.nodes, node] }, id };
}

export function removeNode(s: FlowState, id: string): FlowState {
  return {
    ...s,
    nodes: s.nodes.filter((n) => n.id !== id),
    edges: s.edges.filter((e) => e.source !== id && e.target !== id),
  };
}

export function removeEdge(s: FlowState, id: string): FlowState {
  return { ...s, edges: s.edges.filter((e) => e.id !== id) };
}

/** Replace a definition node's fields (`undefined` values are removed). */
export function updateNode(s: FlowState, id: string, patch: Partial<FlowNode>): FlowState {
  return {
    ...s,
    nodes: s.nodes.map((n) => {
      if (n.id !== id) return n;
      const node: FlowNode = { ...n.data.node, ...patch, id };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete node[k];
      return { ...n, data: { ...n.data, node } };
    }),
  };
}

/** Replace a definition edge's fields (`undefined` values are removed). */
export function updateEdge(s: FlowState, id: string, patch: Partial<Omit<FlowEdgeDef, 'from' | 'to'>>): FlowState {
  return {
    ...s,
    edges: s.edges.map((e) => {
      if (e.id !== id) return e;
      const edge = { ...e.data.edge, ...patch };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete edge[k];
      const type = nodeById(s, e.source)?.data.node.type;
      const handle =
        type !== undefined && DERIVED_HANDLE_TYPES.includes(type)
          ? edgeHandleOf(type, edge)
          : typeof edge.outcome === 'string' && e.sourceHandle
            ? edge.outcome
            : e.sourceHandle;
      return { ...e, sourceHandle: handle ?? null, data: { ...e.data, edge } };
    }),
  };
}

/** Rename a node, following its edges. Refused (state unchanged) when taken or invalid. */
export function renameNode(s: FlowState, from: string, to: string): FlowState {
  if (from === to || !NODE_ID_RE.test(to) || s.nodes.some((n) => n.id === to)) return s;
  return {
    ...s,
    nodes: s.nodes.map((n) => (n.id === from ? { ...n, id: to, data: { ...n.data, node: { ...n.data.node, id: to } } } : n)),
    edges: s.edges.map((e) => ({
      ...e,
      source: e.source === from ? to : e.source,
      target: e.target === from ? to : e.target,
    })),
  };
}

export interface Connection {
  source: string | null;
  target: string | null;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

/** Can the user draw this edge? No self-loops, nothing into a start or out of an end,
 * not from the failed handle of a subflow that is not waited for, no duplicate of an
 * existing edge with the same source handle. */
export function canConnect(s: FlowState, c: Connection): boolean {
  if (!c.source || !c.target || c.source === c.target) return false;
  const src = nodeById(s, c.source);
  const dst = nodeById(s, c.target);
  if (!src || !dst) return false;
  if (TERMINAL_NODE_TYPES.includes(src.data.node.type) || dst.data.node.type === 'start') return false;
  if (!handleConnectable(src.data.node, c.sourceHandle)) return false;
  return !s.edges.some((e) => e.source === c.source && e.target === c.target && (e.sourceHandle ?? null) === (c.sourceHandle ?? null));
}

/** Add an edge for a connection: out of an approval the handle is the outcome; out of a
 * branch the first edge becomes the default; out of a loop the each handle (or, without a
 * handle, the first edge) is the body; out of an http, a report or a subflow node the
 * failed handle gives the failed edge. */
export function connect(s: FlowState, c: Connection): FlowState {
  if (!canConnect(s, c)) return s;
  const src = nodeById(s, c.source!)!;
  const type = src.data.node.type;
  const edge: Omit<FlowEdgeDef, 'from' | 'to'> = {};
  let handle: string | null = null;
  if (type === 'approval') {
    const outcome = c.sourceHandle === 'approved' || c.sourceHandle === 'rejected' ? c.sourceHandle : 'approved';
    edge.outcome = outcome;
    handle = outcome;
  } else if (type === 'branch' && !s.edges.some((e) => e.source === src.id)) {
    edge.default = true;
  }
  const special = newEdgeOf(
    type,
    c.sourceHandle,
    s.edges.filter((e) => e.source === src.id).map((e) => e.data.edge),
  );
  const e: CanvasEdge = {
    id: nextEdgeId(s.edges),
    source: c.source!,
    target: c.target!,
    sourceHandle: special ? special.handle : handle,
    data: { edge: special ? special.edge : edge },
  };
  return { ...s, edges: [...s.edges, e] };
}

/** Make one edge out of a branch the default (the others lose the flag). */
export function setDefaultEdge(s: FlowState, id: string): FlowState {
  const e = edgeById(s, id);
  if (!e) return s;
  let next = s;
  for (const o of s.edges) {
    if (o.source === e.source && o.id !== id && o.data.edge.default) next = updateEdge(next, o.id, { default: undefined });
  }
  return updateEdge(next, id, { default: true, when: undefined });
}

/** Make one edge out of a loop its body (`each: true`; the others lose the flag). */
export function setEachEdge(s: FlowState, id: string): FlowState {
  const e = edgeById(s, id);
  if (!e) return s;
  let next = s;
  for (const o of s.edges) {
    if (o.source === e.source && o.id !== id && o.data.edge.each !== undefined) next = updateEdge(next, o.id, { each: undefined });
  }
  return updateEdge(next, id, { each: true });
}
