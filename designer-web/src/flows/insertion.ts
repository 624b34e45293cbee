// Inserting a node on an edge (the "+" in the middle of each edge, as in DingTalk / Feishu
// approval designers): A → B becomes A → new → B. Pure, on the canvas state of model.ts.
import { NODE_TYPES, TERMINAL_NODE_TYPES, edgeById, nodeAllowed, nodeById, type FlowState, type NodeType, type Trigger } from './model.ts';
import { addNode, connect } from './operations.ts';

/** The palette's node types that fit between two nodes: not a start (nothing leads into
 * it), not an end or a reject (nothing leads out), and allowed with the trigger. */
export function insertableTypes(trigger: Pick<Trigger, 'type'> | null | undefined): NodeType[] {
  return NODE_TYPES.filter((t) => t !== 'start' && !TERMINAL_NODE_TYPES.includes(t) && nodeAllowed(t, trigger));
}

/** Insert a node of `type` on the edge `edgeId` (A → B): the edge keeps its id, its
 * properties (outcome, condition, default, each) and its source handle and now ends at the
 * new node; a new edge leads on from the new node to B as a new edge drawn from the node's
 * main way on would be (out of an approval the `approved` outcome, out of a branch the
 * default, out of a loop `done`, out of an http or subflow node the ok / completed one).
 * The new node sits halfway between A and B and is the only one selected. Null when the
 * edge is not there or the type does not fit between two nodes. */
export function insertOnEdge(s: FlowState, edgeId: string, type: NodeType): { state: FlowState; id: string } | null {
  const e = edgeById(s, edgeId);
  const a = e && nodeById(s, e.source);
  const b = e && nodeById(s, e.target);
  if (!e || !a || !b || type === 'start' || TERMINAL_NODE_TYPES.includes(type)) return null;
  const at = { x: Math.round((a.position.x + b.position.x) / 2), y: Math.round((a.position.y + b.position.y) / 2) };
  const added = addNode({ ...s, nodes: s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)) }, type, at);
  const id = added.id;
  const rewired: FlowState = {
    ...added.state,
    nodes: added.state.nodes.map((n) => (n.id === id ? { ...n, selected: true } : n)),
    edges: added.state.edges.map((x) => (x.id === edgeId ? { ...x, target: id, targetHandle: null, selected: false } : x)),
  };
  const next = connect(rewired, { source: id, target: b.id, sourceHandle: type === 'loop' ? 'done' : null });
  return { state: next, id };
}
