// Shapes of the public API (docs/api.md). Only what the UI reads is typed.

export type Label = Record<string, string>;

export interface User {
  username: string;
  display_name: string | null;
  email: string | null;
  department: string | null;
  platform_role: 'admin' | 'auditor' | null;
  attributes: Record<string, unknown>;
  disabled: boolean;
}

export interface Me extends User {
  roles: Record<string, string[]>;
  csrf_token?: string;
}

export interface AppDef {
  key: string;
  label: Label;
  default_locale?: string;
  time_zone?: string;
}

export type Action = 'create' | 'read' | 'update' | 'delete' | 'import' | 'export' | 'print' | 'approve';

export interface FormSummary {
  key: string;
  label: Label;
  published_version: number | null;
  actions?: Action[];
}

export interface LayoutNode {
  type: 'VerticalLayout' | 'HorizontalLayout' | 'Group' | 'Control';
  label?: Label;
  scope?: string;
  elements?: LayoutNode[];
  rule?: LayoutRule;
}

/** Show or hide an element while a JSON Logic condition over the record holds. */
export interface LayoutRule {
  effect: 'SHOW' | 'HIDE';
  condition: unknown;
}

export interface FormDefinition {
  key: string;
  label: Label;
  description?: Label;
  schema: JsonSchema;
  layout?: LayoutNode;
  indexes?: string[][];
  /** Print templates per locale (Handlebars; docs/api.md#printing). */
  print?: Record<string, string>;
}

export interface FormDetail {
  app: string;
  key: string;
  published_version: number | null;
  definition: FormDefinition | null;
  draft?: FormDefinition | null;
  draft_updated_at?: string | null;
  actions?: Action[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonSchema = Record<string, any>;

export interface RecordItem {
  id: number;
  form_version: number;
  row_version: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
  owner: string;
  data: Record<string, unknown>;
  expand?: Record<string, RecordItem | null>;
  deleted_at?: string;
}

export interface RecordPage {
  items: RecordItem[];
  next_cursor: string | null;
  total?: number;
}

export interface HistoryEntry {
  seq: number;
  at: string;
  actor: string;
  address: string | null;
  client: string | null;
  action: string;
  reason: string | null;
  changes: { field: string; before: unknown; after: unknown }[];
}

export interface Department {
  id: string;
  name: string;
  parent: string | null;
  head: string | null;
}
