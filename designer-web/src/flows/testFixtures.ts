// Helpers the node tests share (nodes*.test.ts): a blank flow on a form, a node or the
// edges out of a node as written, and the lint hints as "pointer rule" lines.
import { lint } from './checks.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { emptyDefinition, type FlowState } from './model.ts';

export const blank = () => fromDefinition(emptyDefinition('f', { en: 'F' }, 'service_order'));
export const nodeOf = (s: FlowState, id: string) => toDefinition(s).nodes.find((n) => n.id === id);
export const edgesOf = (s: FlowState, from: string) => toDefinition(s).edges.filter((e) => e.from === from);
export const rules = (s: FlowState) => lint(s).map((p) => `${p.pointer} ${p.rule}`);
