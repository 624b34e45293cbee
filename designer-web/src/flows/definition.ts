// A flow definition as the designer's canvas state and back: nodes and edges in
// definition order, edge ids `e<index>`, positions from `layout` (or placed by layers).
// Keys the designer does not edit are carried through unchanged. Pure.
import { CANVAS_NODE_TYPE, type CanvasEdge, type FlowDefinition, type FlowEdgeDef, type FlowNode, type FlowState, type Point } from './model.ts';
import { edgeHandleOf } from './nodes.ts';

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** Positions for nodes without a stored one: layers by distance from the start. */
export function autoLayout(nodes: FlowNode[], edges: FlowEdgeDef[], known: Record<string, Point> = {}): Record<string, Point> {
  const out: Record<string, Point> = {};
  const depth = new Map<string, number>();
  const start = nodes.find((n) => n.type === 'start')?.id ?? nodes[0]?.id;
  if (start !== undefined) {
    depth.set(start, 0);
    const queue = [start];
    while (queue.length > 0) {
      const id = queue.shift()!;
      const d = depth.get(id)!;
      for (const e of edges) {
        if (e.from === id && !depth.has(e.to)) {
          depth.set(e.to, d + 1);
          queue.push(e.to);
        }
      }
    }
  }
  const maxDepth = Math.max(0, ...depth.values());
  const perLayer = new Map<number, number>();
  for (const n of nodes) {
    const k = known[n.id];
    if (k && Number.isFinite(k.x) && Number.isFinite(k.y)) {
      out[n.id] = { x: k.x, y: k.y };
      continue;
    }
    const d = depth.get(n.id) ?? maxDepth + 1;
    const i = perLayer.get(d) ?? 0;
    perLayer.set(d, i + 1);
    out[n.id] = { x: i * 240, y: d * 140 };
  }
  return out;
}

export function edgeId(i: number): string {
  return `e${i}`;
}

/** A fresh edge id not used by `edges`. */
export function nextEdgeId(edges: CanvasEdge[]): string {
  const used = new Set(edges.map((e) => e.id));
  let i = edges.length;
  while (used.has(edgeId(i))) i++;
  return edgeId(i);
}

/** Definition → canvas state. Edge ids are `e<index>`; nodes without a layout position
 * are placed by `autoLayout`. */
export function fromDefinition(def: FlowDefinition): FlowState {
  const { key, label, trigger, nodes, edges, layout, ...extra } = clone(def);
  const nodeList = Array.isArray(nodes) ? nodes : [];
  const edgeList = Array.isArray(edges) ? edges : [];
  const pos = autoLayout(nodeList, edgeList, layout ?? {});
  const sourceTypes = new Map<string, string>(nodeList.map((n) => [n.id, n.type]));
  return {
    key,
    label: label ?? {},
    trigger: trigger ?? { type: 'record_created', form: '' },
    extra,
    nodes: nodeList.map((n) => ({
      id: n.id,
      type: CANVAS_NODE_TYPE,
      position: pos[n.id] ?? { x: 0, y: 0 },
      data: { node: n },
    })),
    edges: edgeList.map((e, i) => {
      const { from, to, ...rest } = e;
      const handle = edgeHandleOf(sourceTypes.get(from), rest);
      return { id: edgeId(i), source: from, target: to, sourceHandle: handle, data: { edge: rest } };
    }),
  };
}

/** Canvas state → definition (nodes and edges in canvas order, positions in `layout`). */
export function toDefinition(s: FlowState): FlowDefinition {
  const layout: Record<string, Point> = {};
  for (const n of s.nodes) layout[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
  return {
    ...clone(s.extra),
    key: s.key,
    label: clone(s.label),
    trigger: clone(s.trigger),
    nodes: s.nodes.map((n) => ({ ...clone(n.data.node), id: n.id })),
    edges: s.edges.map((e) => ({ from: e.source, to: e.target, ...clone(e.data.edge) })),
    layout,
  };
}
