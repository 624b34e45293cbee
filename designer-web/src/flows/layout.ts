// Top-down auto-layout, the way DingTalk / Feishu approval designers draw a flow: the
// start at the top, each node one row below the lowest of the nodes leading to it (the
// longest path from the start; edges that close a loop do not count), the nodes of a row
// side by side, the nodes a branch fans out to side by side under it (a default, rejected
// or failed way rightmost), the node paths join at centred under them, the end at the
// bottom, and nodes not reached
// from the start in rows below. Pure: definition shapes in, the definition's `layout` map
// out.
import type { FlowEdgeDef, FlowNode, FlowState, Point } from './model.ts';

export interface TopDownOptions {
  /** The width every node is given (positions are top-left corners). */
  nodeWidth?: number;
  /** Horizontal space between two nodes side by side. */
  columnGap?: number;
  /** Vertical space between a row's tallest node and the next row. */
  rankGap?: number;
  /** The height of a node whose height is not in `heights`. */
  nodeHeight?: number;
  /** Drawn heights (React Flow's measured ones), by node id. */
  heights?: Record<string, number>;
}

export const TOP_DOWN_DEFAULTS: Required<Omit<TopDownOptions, 'heights'>> = { nodeWidth: 180, columnGap: 60, rankGap: 90, nodeHeight: 90 };

type NodeRef = Pick<FlowNode, 'id' | 'type'>;
type EdgeRef = Pick<FlowEdgeDef, 'from' | 'to'> & { default?: unknown; outcome?: unknown };

/** Edges of a fan-out drawn last (rightmost): a branch's default, a rejected or failed
 * outcome. */
function drawnLast(e: EdgeRef): boolean {
  return e.default === true || e.outcome === 'rejected' || e.outcome === 'failed';
}

/** The layout map (`{[nodeId]: {x, y}}`) of the graph drawn top-down. */
export function topDownLayout(nodes: NodeRef[], edges: EdgeRef[], opts: TopDownOptions = {}): Record<string, Point> {
  const o = { ...TOP_DOWN_DEFAULTS, ...opts };
  const step = o.nodeWidth + o.columnGap;
  const ids = [...new Set(nodes.map((n) => n.id))];
  const known = new Set(ids);
  const typeOf = new Map(nodes.map((n) => [n.id, n.type]));

  // Children in edge order (fan-out order), each once
  const children = new Map<string, string[]>(ids.map((id) => [id, []]));
  const hasIncoming = new Set<string>();
  const mainWay = new Set<string>();
  for (const e of [...edges.filter((e) => !drawnLast(e)), ...edges.filter(drawnLast)]) {
    if (!known.has(e.from) || !known.has(e.to) || e.from === e.to) continue;
    if (!drawnLast(e)) mainWay.add(`${e.from}\n${e.to}`);
    const list = children.get(e.from)!;
    if (!list.includes(e.to)) list.push(e.to);
    hasIncoming.add(e.to);
  }

  // Depth-first from the start (group 0), then from the other roots (group 1): an edge to
  // a node still on the path is a back edge (it closes a loop) and is left out below.
  const group = new Map<string, number>();
  const preorder = new Map<string, number>();
  const back = new Set<string>();
  const onPath = new Set<string>();
  const visit = (root: string, g: number) => {
    if (group.has(root)) return;
    const stack: { id: string; next: number }[] = [{ id: root, next: 0 }];
    group.set(root, g);
    preorder.set(root, preorder.size);
    onPath.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const kids = children.get(top.id)!;
      if (top.next >= kids.length) {
        onPath.delete(top.id);
        stack.pop();
        continue;
      }
      const c = kids[top.next++]!;
      if (onPath.has(c)) back.add(`${top.id}\n${c}`);
      else if (!group.has(c)) {
        group.set(c, g);
        preorder.set(c, preorder.size);
        onPath.add(c);
        stack.push({ id: c, next: 0 });
      }
    }
  };
  const start = nodes.find((n) => n.type === 'start')?.id;
  if (start !== undefined) visit(start, 0);
  for (const id of ids) if (!hasIncoming.has(id)) visit(id, 1);
  for (const id of ids) visit(id, 1);

  // Forward edges within a group: a graph without cycles
  const forward = new Map<string, string[]>();
  const preds = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const id of ids) {
    const f = children.get(id)!.filter((c) => !back.has(`${id}\n${c}`) && group.get(c) === group.get(id));
    forward.set(id, f);
    for (const c of f) preds.get(c)!.push(id);
  }
  const byPreorder = [...ids].sort((a, b) => preorder.get(a)! - preorder.get(b)!);

  // Rows: the longest path from a root (ends of the main graph on its last row)
  const longest = (floor: Map<string, number>): Map<string, number> => {
    const rank = new Map<string, number>();
    const waiting = new Map(ids.map((id) => [id, preds.get(id)!.length]));
    const ready = byPreorder.filter((id) => waiting.get(id) === 0);
    while (ready.length > 0) {
      const id = ready.shift()!;
      const r = Math.max(rank.get(id) ?? 0, floor.get(id) ?? 0);
      rank.set(id, r);
      for (const c of forward.get(id)!) {
        rank.set(c, Math.max(rank.get(c) ?? 0, r + 1));
        const w = waiting.get(c)! - 1;
        waiting.set(c, w);
        if (w === 0) ready.push(c);
      }
    }
    return rank;
  };
  let rank = longest(new Map());
  const mainIds = ids.filter((id) => group.get(id) === 0);
  const lastMain = Math.max(-1, ...mainIds.map((id) => rank.get(id)!));
  const ends = mainIds.filter((id) => typeOf.get(id) === 'end');
  if (ends.length > 0) rank = longest(new Map(ends.map((id) => [id, lastMain])));
  const belowMain = Math.max(-1, ...mainIds.map((id) => rank.get(id)!)) + 1;
  for (const id of ids) if (group.get(id) === 1) rank.set(id, rank.get(id)! + belowMain);

  // How many columns each node's own subtree takes: a node with one node leading to it
  // belongs to that node's fan-out; a node several paths lead to (a join) to none
  const owner = new Map<string, string>();
  for (const id of ids) if (preds.get(id)!.length === 1) owner.set(id, preds.get(id)![0]!);
  const owned = (id: string) => forward.get(id)!.filter((c) => owner.get(c) === id);
  const width = new Map<string, number>();
  for (const id of [...ids].sort((a, b) => rank.get(b)! - rank.get(a)!)) {
    width.set(id, Math.max(1, owned(id).reduce((sum, c) => sum + width.get(c)!, 0)));
  }

  // Columns, row by row: under the owner at the child's place in its fan-out, a join
  // under the middle of the nodes leading to it, a root at 0; then pushed apart where
  // they would overlap (each cluster stays centred where its nodes wanted to be)
  const rows = [...new Set(ids.map((id) => rank.get(id)!))].sort((a, b) => a - b);
  const x = new Map<string, number>();
  const wanted = new Map<string, number>();
  for (const r of rows) {
    const row = byPreorder.filter((id) => rank.get(id) === r);
    for (const id of row) {
      const ps = preds.get(id)!;
      const own = owner.get(id);
      if (own !== undefined) {
        const fan = owned(own);
        const total = fan.reduce((sum, c) => sum + width.get(c)!, 0);
        let before = 0;
        for (const c of fan) {
          if (c === id) break;
          before += width.get(c)!;
        }
        wanted.set(id, x.get(own)! + (before + width.get(id)! / 2 - total / 2) * step);
      } else if (ps.length > 0) {
        // the middle of the paths that go on here (a rejection jumping to the end does not
        // pull the end aside)
        const main = ps.filter((p) => mainWay.has(`${p}\n${id}`));
        const from = main.length > 0 ? main : ps;
        wanted.set(id, from.reduce((sum, p) => sum + x.get(p)!, 0) / from.length);
      } else wanted.set(id, 0);
    }
    row.sort((a, b) => wanted.get(a)! - wanted.get(b)! || preorder.get(a)! - preorder.get(b)!);
    for (const [id, v] of spread(row.map((id) => wanted.get(id)!), step).map((v, i) => [row[i]!, v] as const)) x.set(id, v);
  }

  // Rows' heights
  const out: Record<string, Point> = {};
  let y = 0;
  for (const r of rows) {
    const row = ids.filter((id) => rank.get(id) === r);
    for (const id of row) out[id] = { x: Math.round(x.get(id)!), y: Math.round(y) };
    y += Math.max(...row.map((id) => o.heights?.[id] ?? o.nodeHeight)) + o.rankGap;
  }
  return out;
}

/** Positions for values wanted in ascending order, at least `gap` apart, each run of
 * values that had to be pushed apart centred on where its values wanted to be. */
export function spread(wanted: number[], gap: number): number[] {
  // blocks of consecutive values placed `gap` apart; a block's first value is at the
  // mean of (wanted − offset in block)
  const blocks: { from: number; count: number; sum: number }[] = [];
  const first = (b: { count: number; sum: number }) => b.sum / b.count;
  wanted.forEach((w, i) => {
    blocks.push({ from: i, count: 1, sum: w });
    for (;;) {
      const b = blocks[blocks.length - 1]!;
      const a = blocks[blocks.length - 2];
      if (!a || first(a) + a.count * gap <= first(b) + 1e-9) break;
      blocks.pop();
      blocks.pop();
      blocks.push({ from: a.from, count: a.count + b.count, sum: a.sum + b.sum - b.count * a.count * gap });
    }
  });
  const out: number[] = [];
  for (const b of blocks) for (let k = 0; k < b.count; k++) out.push(first(b) + k * gap);
  return out;
}

/** The canvas graph's top-down layout (`heights`: drawn heights by node id). */
export function stateTopDownLayout(s: FlowState, opts: TopDownOptions = {}): Record<string, Point> {
  return topDownLayout(
    s.nodes.map((n) => ({ id: n.id, type: n.data.node.type })),
    s.edges.map((e) => ({ from: e.source, to: e.target, default: e.data.edge.default, outcome: e.data.edge.outcome })),
    opts,
  );
}

/** The state with its nodes moved to `layout` (nodes not in it stay where they are). */
export function withLayout(s: FlowState, layout: Record<string, Point>): FlowState {
  return { ...s, nodes: s.nodes.map((n) => (layout[n.id] ? { ...n, position: { ...layout[n.id]! } } : n)) };
}

/** Are the nodes arranged as `layout` arranges them: the same columns, and the same rows
 * in the same order (row heights may differ: a node's drawn height changes when its label
 * does)? */
export function arrangedLike(positions: Record<string, Point>, layout: Record<string, Point>): boolean {
  const ids = Object.keys(layout);
  if (ids.length === 0 || ids.some((id) => !positions[id] || Math.abs(positions[id].x - layout[id]!.x) > 1)) return false;
  const sorted = ids.sort((a, b) => layout[a]!.y - layout[b]!.y);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    const sameRow = layout[a]!.y === layout[b]!.y;
    const dy = positions[b]!.y - positions[a]!.y;
    if (sameRow ? Math.abs(dy) > 1 : dy <= 1) return false;
  }
  return true;
}
