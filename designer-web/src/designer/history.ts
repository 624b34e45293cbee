// Undo / redo of designer states. Pure.
import type { DesignerState, NodeId } from './model.ts';

/** How the designer applies an edit: one undo step, merged with the previous one when
 * both carry the same `tag` (typing in one input); `node` names the element edited (its
 * server errors are cleared). */
export type Apply = (fn: (s: DesignerState) => DesignerState, opts?: { tag?: string; node?: NodeId }) => void;

export interface History {
  past: DesignerState[];
  present: DesignerState;
  future: DesignerState[];
  /** Tag of the last commit: commits with the same tag (typing in one input) merge. */
  tag?: string;
}

const HISTORY_LIMIT = 200;

export function history(present: DesignerState): History {
  return { past: [], present, future: [] };
}

/** Record a new state. Consecutive commits with the same non-empty `tag` become one step. */
export function commit(h: History, next: DesignerState, tag?: string): History {
  if (next === h.present) return h;
  if (tag && h.tag === tag && h.past.length > 0) return { past: h.past, present: next, future: [], tag };
  return { past: [...h.past, h.present].slice(-HISTORY_LIMIT), present: next, future: [], tag };
}

export function undo(h: History): History {
  const prev = h.past[h.past.length - 1];
  if (!prev) return h;
  return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
}

export function redo(h: History): History {
  const next = h.future[0];
  if (!next) return h;
  return { past: [...h.past, h.present], present: next, future: h.future.slice(1) };
}
