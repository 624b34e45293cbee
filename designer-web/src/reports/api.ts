// Report and dashboard calls (docs/reports.md), and the form schemas their labels and the
// designer's palette come from (cached per page load).
import { API, ApiError, api, qs } from '../api/client.ts';
import type { FormDetail, JsonSchema } from '../api/types.ts';
import type { Locale } from '../i18n/core.ts';
import { logicVars } from './conditions.ts';
import type { FieldInfo, FieldLookup } from './format.ts';
import { fieldName, tr } from './format.ts';
import {
  itemsOf,
  unwrapDefinition,
  type DashboardDefinition,
  type DashboardSummary,
  type ReportDefinition,
  type ReportSummary,
  type RunResult,
} from './types.ts';

export function runReport(app: string, key: string, filter?: unknown, signal?: AbortSignal): Promise<RunResult> {
  return api<RunResult>(`/apps/${app}/reports/${key}/run`, { body: filter === undefined ? {} : { filter }, ...(signal ? { signal } : {}) });
}

export function previewReport(app: string, definition: ReportDefinition, signal?: AbortSignal): Promise<RunResult> {
  return api<RunResult>(`/apps/${app}/report-preview`, { body: { definition }, ...(signal ? { signal } : {}) });
}

/** The download link of a report's table (the session cookie authorises it), its headers
 * in `lang`. */
export function downloadHref(app: string, key: string, format: 'csv' | 'xlsx', filter?: unknown, lang?: string): string {
  return `${API}/apps/${app}/reports/${key}/run${qs({ format, filter: filter === undefined ? undefined : JSON.stringify(filter), lang })}`;
}

/** The records list of the source form, filtered to a result row's records. */
export function drillPath(app: string, form: string, drill: unknown): string {
  return `/apps/${app}/forms/${form}?filter=${encodeURIComponent(JSON.stringify(drill))}`;
}

export async function listReports(app: string): Promise<ReportSummary[]> {
  return itemsOf<ReportSummary>(await api(`/apps/${app}/reports`));
}

export async function listDashboards(app: string): Promise<DashboardSummary[]> {
  return itemsOf<DashboardSummary>(await api(`/apps/${app}/dashboards`));
}

/** A saved definition, or null when there is none yet (404). */
async function getDefinition<T>(path: string): Promise<T | null> {
  try {
    return unwrapDefinition<T>(await api(path));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

const reportCache = new Map<string, Promise<ReportDefinition | null>>();

export function getReport(app: string, key: string, fresh = false): Promise<ReportDefinition | null> {
  const k = `${app}/${key}`;
  let p = fresh ? undefined : reportCache.get(k);
  if (!p) {
    p = getDefinition<ReportDefinition>(`/apps/${app}/reports/${key}`);
    p.catch(() => reportCache.delete(k));
    reportCache.set(k, p);
  }
  return p;
}

export function getDashboard(app: string, key: string): Promise<DashboardDefinition | null> {
  return getDefinition<DashboardDefinition>(`/apps/${app}/dashboards/${key}`);
}

export async function putReport(app: string, key: string, def: ReportDefinition): Promise<unknown> {
  const r = await api(`/apps/${app}/reports/${key}`, { method: 'PUT', body: def });
  reportCache.set(`${app}/${key}`, Promise.resolve(def));
  return r;
}

export function putDashboard(app: string, key: string, def: DashboardDefinition): Promise<unknown> {
  return api(`/apps/${app}/dashboards/${key}`, { method: 'PUT', body: def });
}

/** An error as one line: the message and each detail's pointer and message. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return [e.message, ...e.details.map((d) => `${d.pointer}: ${d.message}`)].join('; ');
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------
// Form schemas

const formCache = new Map<string, Promise<JsonSchema | null>>();

/** A form's (masked) schema, or null when it cannot be read. */
export function formSchema(app: string, form: string): Promise<JsonSchema | null> {
  const k = `${app}/${form}`;
  let p = formCache.get(k);
  if (!p) {
    p = api<FormDetail>(`/apps/${app}/forms/${form}`)
      .then((d) => d.definition?.schema ?? d.draft?.schema ?? null)
      .catch(() => null);
    formCache.set(k, p);
  }
  return p;
}

/** Schemas by form key: the source form and the forms the dotted `paths` reach. */
export async function schemasFor(app: string, root: string, paths: string[]): Promise<Record<string, JsonSchema | null>> {
  const out: Record<string, JsonSchema | null> = {};
  const load = async (form: string) => (out[form] ??= await formSchema(app, form));
  await load(root);
  for (const path of paths) {
    const segs = path.split('.');
    let form = root;
    for (const seg of segs.slice(0, -1)) {
      const schema = await load(form);
      const next = schema?.properties?.[seg]?.['x-ref']?.form as string | undefined;
      if (!next) break;
      form = next;
      await load(form);
    }
  }
  return out;
}

/** A field lookup over loaded schemas: dotted paths follow reference fields. */
export function lookupIn(root: string, schemas: Record<string, JsonSchema | null>): FieldLookup {
  return (path: string): FieldInfo | undefined => {
    let schema = schemas[root];
    const segs = path.split('.');
    for (let i = 0; i < segs.length; i++) {
      const prop = schema?.properties?.[segs[i]!] as JsonSchema | undefined;
      if (!prop) return undefined;
      if (i === segs.length - 1) {
        return {
          ...(prop['x-label'] ? { label: prop['x-label'] } : {}),
          ...(prop['x-type'] ? { type: prop['x-type'] } : {}),
          ...(prop['x-options'] ? { options: prop['x-options'] } : {}),
        };
      }
      const next = prop['x-ref']?.form as string | undefined;
      schema = next ? schemas[next] : undefined;
    }
    return undefined;
  };
}

/** The field paths a definition names (dimensions, measures, their durations and
 * conditions, the filter; a formula names measures, not fields). */
export function definitionPaths(def: ReportDefinition | null | undefined): string[] {
  if (!def) return [];
  const out = new Set<string>();
  for (const d of def.dimensions ?? []) {
    if (d.field) out.add(d.field);
    if (d.duration) {
      out.add(d.duration.from);
      out.add(d.duration.to);
    }
  }
  for (const m of def.measures ?? []) {
    if (m.field) out.add(m.field);
    if (m.duration) {
      out.add(m.duration.from);
      out.add(m.duration.to);
    }
    logicVars(m.where, out);
  }
  logicVars(def.filter, out);
  return [...out];
}

/** "hidden: you may not read …" for withheld measures. */
export function withheldText(result: RunResult, locale: Locale, lookup?: FieldLookup): string | null {
  const w = result.withheld ?? [];
  if (w.length === 0) return null;
  const names = [...new Set(w.map((x) => (x.field ? fieldName(x.field, locale, lookup) : x.key)))];
  return tr(locale, 'reports.view.withheld', { fields: names.join(locale === 'en' ? ', ' : '、') });
}
