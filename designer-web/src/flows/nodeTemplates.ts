// The definition node each palette item adds, and the default labels of the nodes
// people act on (approval, task).
import type { FlowNode, Label, NodeType } from './model.ts';

export const DEFAULT_LABELS: Partial<Record<NodeType, Label>> = {
  approval: { 'zh-CN': '审批', en: 'Approval' },
  task: { 'zh-CN': '任务', en: 'Task' },
};

/** The definition node a palette item adds. */
export function nodeTemplate(id: string, type: NodeType): FlowNode {
  switch (type) {
    case 'approval':
    case 'task':
      return { id, type, label: { ...DEFAULT_LABELS[type] }, assignee: { initiator: true }, mode: 'any' };
    case 'update_record':
      return { id, type, set: {} };
    case 'create_record':
      return { id, type, form: '', data: {} };
    case 'notify':
      return { id, type, to: { initiator: true }, title: '', body: '' };
    case 'cc':
      return { id, type, to: { initiator: true } };
    case 'delay':
      return { id, type, hours: 1 };
    case 'set_var':
      return { id, type, name: '', value: null };
    case 'query':
      return { id, type, form: '', name: '' };
    case 'users':
      return { id, type, of: { initiator: true }, name: '' };
    case 'reject':
      return { id, type, message: '' };
    case 'loop':
      return { id, type, as: 'item' };
    case 'http':
      return { id, type, method: 'POST', url: '' };
    case 'report':
      return { id, type, report: '', as_role: '' };
    case 'subflow':
      return { id, type, flow: '' };
    default:
      return { id, type };
  }
}
