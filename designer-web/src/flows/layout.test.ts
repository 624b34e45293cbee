import { describe, expect, test } from 'vitest';
import { fromDefinition } from './definition.ts';
import type { FlowDefinition, FlowEdgeDef, FlowNode, Point } from './model.ts';
import { arrangedLike, spread, stateTopDownLayout, topDownLayout, withLayout } from './layout.ts';

const n = (id: string, type: FlowNode['type']): FlowNode => ({ id, type });
const e = (from: string, to: string, more: Partial<FlowEdgeDef> = {}): FlowEdgeDef => ({ from, to, ...more });

/** Node ids by row, top to bottom, each row left to right. */
function rows(layout: Record<string, Point>): string[][] {
  const ys = [...new Set(Object.values(layout).map((p) => p.y))].sort((a, b) => a - b);
  return ys.map((y) =>
    Object.entries(layout)
      .filter(([, p]) => p.y === y)
      .sort(([, a], [, b]) => a.x - b.x)
      .map(([id]) => id),
  );
}

describe('top-down layout', () => {
  test('a straight approval chain is one column, top to bottom', () => {
    const nodes = [n('start', 'start'), n('manager', 'approval'), n('director', 'approval'), n('end', 'end')];
    const edges = [
      e('start', 'manager'),
      e('manager', 'director', { outcome: 'approved' }),
      e('manager', 'end', { outcome: 'rejected' }),
      e('director', 'end', { outcome: 'approved' }),
      e('director', 'end', { outcome: 'rejected' }),
    ];
    const l = topDownLayout(nodes, edges);
    expect(rows(l)).toEqual([['start'], ['manager'], ['director'], ['end']]);
    expect(new Set(Object.values(l).map((p) => p.x))).toEqual(new Set([0]));
    expect(l.start!.y).toBe(0);
    // the default row height (90) and gap (90)
    expect([l.manager!.y, l.director!.y, l.end!.y]).toEqual([180, 360, 540]);
  });

  test('drawn heights set the rows: each row starts a gap below the tallest node above', () => {
    const l = topDownLayout([n('start', 'start'), n('a', 'approval'), n('end', 'end')], [e('start', 'a'), e('a', 'end', { outcome: 'approved' })], {
      heights: { start: 40, a: 120 },
      rankGap: 50,
    });
    expect([l.start!.y, l.a!.y, l.end!.y]).toEqual([0, 90, 260]);
  });

  test('an exclusive branch fans out below the branch and its two paths join centred below it', () => {
    const nodes = [n('start', 'start'), n('route', 'branch'), n('big', 'approval'), n('big2', 'approval'), n('small', 'task'), n('tell', 'notify'), n('end', 'end')];
    const edges = [
      e('start', 'route'),
      // the default is drawn last (rightmost) even when it came first
      e('route', 'small', { default: true }),
      e('route', 'big', { when: { '>': [{ var: 'record.amount' }, 1000] } }),
      e('big', 'big2', { outcome: 'approved' }),
      e('big', 'end', { outcome: 'rejected' }),
      e('big2', 'tell', { outcome: 'approved' }),
      e('big2', 'end', { outcome: 'rejected' }),
      e('small', 'tell'),
      e('tell', 'end'),
    ];
    const l = topDownLayout(nodes, edges);
    // longest path: tell below big2, though small leads to it one row earlier
    expect(rows(l)).toEqual([['start'], ['route'], ['big', 'small'], ['big2'], ['tell'], ['end']]);
    expect(l.route!.x).toBe(l.start!.x);
    // side by side, one column (node 180 + gap 60) apart, centred under the branch
    expect(l.small!.x - l.big!.x).toBe(240);
    expect((l.big!.x + l.small!.x) / 2).toBe(l.route!.x);
    // a path stays in its column; the join is centred under the paths leading to it
    expect(l.big2!.x).toBe(l.big!.x);
    expect(l.tell!.x).toBe((l.big2!.x + l.small!.x) / 2);
    expect(l.end!.x).toBe(l.route!.x);
    const ys = rows(l).map((r) => l[r[0]!]!.y);
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
  });

  test('wider fan-outs get the room of their subtrees', () => {
    // route → (a → (a1, a2), b): a's two children must not collide with b
    const nodes = [n('start', 'start'), n('route', 'branch'), n('a', 'branch'), n('a1', 'task'), n('a2', 'task'), n('b', 'task'), n('end', 'end')];
    const edges = [e('start', 'route'), e('route', 'a'), e('route', 'b', { default: true }), e('a', 'a1'), e('a', 'a2', { default: true }), e('a1', 'end'), e('a2', 'end'), e('b', 'end')];
    const l = topDownLayout(nodes, edges);
    expect(rows(l)).toEqual([['start'], ['route'], ['a', 'b'], ['a1', 'a2'], ['end']]);
    expect((l.a1!.x + l.a2!.x) / 2).toBe(l.a!.x);
    // three columns under route: a1, a2 (a over their middle) and b
    expect([l.a1!.x, l.a2!.x, l.b!.x].map((x) => x - l.route!.x)).toEqual([-240, 0, 240]);
    for (const row of rows(l)) for (let i = 1; i < row.length; i++) expect(l[row[i]!]!.x - l[row[i - 1]!]!.x).toBeGreaterThanOrEqual(240);
  });

  test('a loop back edge does not count for the rows (and does not loop forever)', () => {
    const nodes = [n('start', 'start'), n('each', 'loop'), n('visit', 'task'), n('check', 'approval'), n('end', 'end')];
    const edges = [
      e('start', 'each'),
      e('each', 'visit', { each: true }),
      e('visit', 'check'),
      e('check', 'each', { outcome: 'approved' }),
      // a rework cycle that is not a loop node
      e('check', 'visit', { outcome: 'rejected' }),
      e('each', 'end'),
    ];
    const l = topDownLayout(nodes, edges);
    // the loop's body and its way out fan out below it; the end on the last row
    expect(rows(l)).toEqual([['start'], ['each'], ['visit'], ['check', 'end']]);
    expect(l.check!.x).toBe(l.visit!.x);
    // a cycle with no start at all
    const c = topDownLayout([n('a', 'task'), n('b', 'task')], [e('a', 'b'), e('b', 'a')]);
    expect(rows(c)).toEqual([['a'], ['b']]);
  });

  test('unconnected nodes are placed below the graph, none lost', () => {
    const nodes = [n('start', 'start'), n('lonely', 'notify'), n('a', 'approval'), n('end', 'end'), n('half', 'task'), n('half2', 'delay')];
    const edges = [e('start', 'a'), e('a', 'end', { outcome: 'approved' }), e('half', 'half2'), e('half2', 'end')];
    const l = topDownLayout(nodes, edges);
    expect(Object.keys(l).sort()).toEqual(nodes.map((x) => x.id).sort());
    expect(rows(l)).toEqual([['start'], ['a'], ['end'], ['lonely', 'half'], ['half2']]);
    expect(l.lonely!.y).toBeGreaterThan(l.end!.y);
    // side by side, centred
    expect(l.lonely!.x + l.half!.x).toBe(0);
    expect(l.half2!.x).toBe(l.half!.x);
  });

  test('the end is drawn on the last row even when a short path reaches it', () => {
    const nodes = [n('start', 'start'), n('route', 'branch'), n('a', 'task'), n('b', 'task'), n('end', 'end')];
    const edges = [e('start', 'route'), e('route', 'a'), e('a', 'b'), e('route', 'end', { default: true }), e('b', 'end')];
    const l = topDownLayout(nodes, edges);
    expect(rows(l)).toEqual([['start'], ['route'], ['a'], ['b'], ['end']]);
    // a second end that only the branch leads to
    const l2 = topDownLayout([...nodes, n('end2', 'end')], [...edges, e('route', 'end2')]);
    expect(l2.end2!.y).toBe(l2.end!.y);
  });

  test('empty graphs, stray edges and duplicate edges', () => {
    expect(topDownLayout([], [])).toEqual({});
    const l = topDownLayout([n('start', 'start'), n('end', 'end')], [e('start', 'end'), e('start', 'end'), e('start', 'nowhere'), e('end', 'end')]);
    expect(l).toEqual({ start: { x: 0, y: 0 }, end: { x: 0, y: 180 } });
  });
});

describe('spread', () => {
  test('keeps values that are far enough apart, centres the ones pushed apart', () => {
    expect(spread([0, 500], 100)).toEqual([0, 500]);
    expect(spread([0, 0], 100)).toEqual([-50, 50]);
    expect(spread([0, 0, 0, 1000], 100)).toEqual([-100, 0, 100, 1000]);
    // a cluster growing into the one before it merges with it
    expect(spread([0, 150, 150], 100)).toEqual([0, 100, 200]);
  });
});

describe('on the canvas state', () => {
  const def: FlowDefinition = {
    key: 'chain',
    label: { en: 'Chain' },
    trigger: { type: 'manual', form: 'order' },
    nodes: [n('start', 'start'), n('a', 'approval'), n('end', 'end')],
    edges: [e('start', 'a'), e('a', 'end', { outcome: 'approved' }), e('a', 'end', { outcome: 'rejected' })],
    layout: { start: { x: 300, y: 10 }, a: { x: 20, y: 20 }, end: { x: 400, y: 30 } },
  };

  test('moves the nodes and tells whether they are arranged top-down', () => {
    const s = fromDefinition(def);
    const l = stateTopDownLayout(s);
    const pos = (st: typeof s) => Object.fromEntries(st.nodes.map((x) => [x.id, x.position]));
    expect(arrangedLike(pos(s), l)).toBe(false);
    const laid = withLayout(s, l);
    expect(pos(laid)).toEqual(l);
    expect(arrangedLike(pos(laid), l)).toBe(true);
    // taller rows (a label grew) keep the arrangement; a node dragged aside does not
    expect(arrangedLike({ ...pos(laid), end: { x: 0, y: 700 } }, l)).toBe(true);
    expect(arrangedLike({ ...pos(laid), a: { x: 40, y: 180 } }, l)).toBe(false);
    expect(arrangedLike({ ...pos(laid), end: { x: 0, y: 180 } }, l)).toBe(false);
    // the rest of the state is untouched
    expect(laid.edges).toBe(s.edges);
  });
});
