// The flow designer's calls to the server besides the draft itself: what its panels choose
// from (users, roles, forms, the app's flows and reports, form schemas and the context
// variables they give, labelled for condition builders), a report's columns, and how a
// failed call reads.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError } from '../api/client.ts';
import type { FormDetail, FormSummary, JsonSchema, Label, User } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { varLabel } from './FlowGraph.tsx';
import type { Lookups, Option, VarOption } from './Panels.tsx';
import { contextVars } from './conditions.ts';
import { formsOfInterest, referenceTargets } from './flowForms.ts';
import type { FlowState } from './model.ts';
import { reportColumnKeys, type ReportChoice } from './nodes.ts';
import type { FlowSummary } from './types.ts';

/** A failed call as one line: the message and each detail's pointer and message. */
export function errorText(e: unknown): string {
  return e instanceof ApiError ? [e.message, ...e.details.map((d) => `${d.pointer}: ${d.message}`)].join('; ') : e instanceof Error ? e.message : String(e);
}

const formSchemas = new Map<string, Promise<JsonSchema | null>>();

/** A form's schema (published, else draft), asked for once per app and form; null when
 * it cannot be read. */
function loadFormSchema(app: string, form: string): Promise<JsonSchema | null> {
  const k = `${app}/${form}`;
  let p = formSchemas.get(k);
  if (!p) {
    p = api<FormDetail>(`/apps/${app}/forms/${form}`)
      .then((d) => (d.definition ?? d.draft ?? null)?.schema ?? null)
      .catch(() => {
        formSchemas.delete(k);
        return null;
      });
    formSchemas.set(k, p);
  }
  return p;
}

/** Variables for the condition builder, with labels and field schemas. */
export function varOptions(names: string[], fields: Map<string, JsonSchema>, t: (k: string, v?: Record<string, string | number>) => string, label: (l: Label | undefined | null, f?: string) => string): VarOption[] {
  return names.map((v) => {
    const schema = v.startsWith('record.') ? fields.get(v.slice(7)) : undefined;
    const text = varLabel(v, fields, t, label);
    return { value: v, label: text === v ? v : `${text} (${v})`, schema };
  });
}

function propsOf(schema: JsonSchema | null | undefined): Map<string, JsonSchema> {
  return new Map(Object.entries((schema?.properties ?? {}) as Record<string, JsonSchema>));
}

/** What the panels choose from while `state` is edited: users, roles, forms, the app's
 * flows and reports, the trigger form's fields and the context variables conditions may use. */
export function useLookups(app: string, state: FlowState | null): Lookups {
  const { t, label } = useI18n();
  const [users, setUsers] = useState<Option[]>([]);
  const [roles, setRoles] = useState<Option[]>([]);
  const [forms, setForms] = useState<Option[]>([]);
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [reports, setReports] = useState<ReportChoice[] | null>(null);
  const [schemas, setSchemas] = useState<Map<string, JsonSchema | null>>(new Map());
  useEffect(() => {
    api<{ items: User[] }>('/admin/users')
      .then((r) => setUsers(r.items.filter((u) => !u.disabled).map((u) => ({ value: u.username, label: u.display_name ? `${u.display_name} (${u.username})` : u.username }))))
      .catch(() => setUsers([]));
    api<{ items: { key: string; label?: Label }[] }>(`/apps/${app}/roles`)
      .then((r) => setRoles(r.items.map((x) => ({ value: x.key, label: `${label(x.label, x.key)} (${x.key})` }))))
      .catch(() => setRoles([]));
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items.map((f) => ({ value: f.key, label: `${label(f.label, f.key)} (${f.key})` }))))
      .catch(() => setForms([]));
    // label changes with the locale; the lists are re-labelled then
  }, [app, label]);
  useEffect(() => {
    // the flows a subflow node may start (published ones; the panel leaves out this flow)
    api<{ items: FlowSummary[] }>(`/apps/${app}/flows`)
      .then((r) => setFlows(r.items))
      .catch(() => setFlows([]));
    // the reports a report node may run (every listed report is published)
    api<{ items: ReportChoice[] }>(`/apps/${app}/reports`)
      .then((r) => setReports(r.items))
      .catch(() => setReports([]));
  }, [app]);

  // Schemas of the trigger form, the forms its references point at (`customer.owner`
  // assignees), and the forms of create_record / query / update_record nodes.
  const triggerSchema = state?.trigger.form ? schemas.get(state.trigger.form) : undefined;
  const wanted = useMemo(
    () => formsOfInterest(state, referenceTargets(propsOf(triggerSchema))).join(','),
    [state, triggerSchema],
  );
  useEffect(() => {
    for (const f of wanted ? wanted.split(',') : []) {
      if (schemas.has(f)) continue;
      void loadFormSchema(app, f).then((sc) => setSchemas((m) => new Map(m).set(f, sc)));
    }
  }, [app, wanted, schemas]);

  const triggerForm = state?.trigger.form ?? '';
  const fields = useMemo(() => propsOf(schemas.get(triggerForm)), [schemas, triggerForm]);
  const fieldKeys = useMemo(() => [...fields.keys()], [fields]);
  const varNames = useMemo(() => contextVars(fieldKeys, state), [fieldKeys, state]);
  const vars = useMemo(() => varOptions(varNames, fields, t, label), [varNames, fields, t, label]);
  const formFields = useCallback((f: string) => (schemas.has(f) ? propsOf(schemas.get(f)) : undefined), [schemas]);
  return { app, users, roles, forms, fields, vars, formFields, flows, reports };
}

/** The cell keys of a report's rows (its dimensions, then its measures); [] until loaded,
 * when `key` is empty or the report cannot be read. */
export function useReportColumns(app: string, key: string): string[] {
  const [columns, setColumns] = useState<{ key: string; columns: string[] }>({ key: '', columns: [] });
  useEffect(() => {
    if (!key) return;
    let live = true;
    api<{ definition?: unknown }>(`/apps/${app}/reports/${key}`)
      .then((r) => live && setColumns({ key, columns: reportColumnKeys(r.definition) }))
      .catch(() => live && setColumns({ key, columns: [] }));
    return () => {
      live = false;
    };
  }, [app, key]);
  return columns.key === key ? columns.columns : [];
}
