// Shapes of the flow API (docs/flows.md). Only what the UI reads is typed.
import type { Label } from '../api/types.ts';
import type { FlowDefinition, HistoryStep, Trigger } from './model.ts';

export interface FlowSummary {
  key: string;
  label: Label;
  published_version: number | null;
  trigger?: Trigger;
}

export interface FlowDetail {
  app: string;
  key: string;
  published_version: number | null;
  /** The draft (when there is one). Some servers may send `true`/`false` instead. */
  draft?: FlowDefinition | boolean | null;
  definition: FlowDefinition | null;
}

export type InstanceStatus = 'running' | 'completed' | 'cancelled' | 'failed';

export interface FlowInstance {
  id: number;
  app: string;
  flow: string;
  version: number;
  form: string;
  record: number;
  status: InstanceStatus | string;
  initiator: string | null;
  started_at: string;
  ended_at: string | null;
  error?: string | null;
}

export interface InstanceDetail {
  instance: FlowInstance;
  positions: string[];
  /** Delays and deadlines armed: where the instance moves on by itself, and when. */
  timers?: { node: string; due_at: string }[];
  history: HistoryStep[];
  /** The instance's version of the definition (sent by the server beyond docs/flows.md). */
  definition?: FlowDefinition | null;
}

export type TaskStatus = 'open' | 'approved' | 'rejected' | 'done' | 'cancelled';

export interface Task {
  id: number;
  instance: number;
  node: string;
  label: Label | string | null;
  kind: 'approval' | 'task';
  assignee: string;
  status: TaskStatus | string;
  comment: string | null;
  created_at: string;
  due_at: string | null;
  completed_at: string | null;
  completed_by: string | null;
  /** Extras the server adds in the task list. */
  flow?: { app: string; key: string; label: Label };
  form?: string | null;
  record?: number | null;
}

export interface TaskList {
  items: Task[];
  counts: { open: number; closed: number };
}

export interface TaskDetail {
  task: Task;
  instance: FlowInstance;
  node: { id?: string; type?: string; label?: Label | null } | null;
  record: unknown;
  editable: string[];
  flow?: { key: string; label: Label };
  /** Earlier task / approval steps this instance passed: where "return" may go. */
  return_to?: { id: string; label?: Label | null }[];
}

export interface InboxMessage {
  id: number;
  title: string;
  body: string;
  read?: boolean;
  read_at?: string | null;
  created_at: string;
  instance?: number | null;
  task?: number | null;
  [k: string]: unknown;
}

export interface InboxList {
  items: InboxMessage[];
  unread: number;
}
