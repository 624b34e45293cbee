// Small React hooks of the report pages.
import { useEffect, useMemo, useState } from 'react';
import type { JsonSchema } from '../api/types.ts';
import { definitionPaths, formSchema, getReport, lookupIn, schemasFor } from './api.ts';
import { choiceFields, referencedForms, type ChoiceField, type Schemas } from './dashboardFilters.ts';
import { isTemporal, paletteFields, type PaletteField } from './draft.ts';
import type { FieldLookup } from './format.ts';
import type { ReportDefinition, Widget } from './types.ts';

/** Field labels and options for a report's columns, from the forms it reads. */
export function useLookup(app: string, form: string | undefined, def: ReportDefinition | null | undefined): FieldLookup | undefined {
  const [schemas, setSchemas] = useState<Record<string, JsonSchema | null> | null>(null);
  const paths = definitionPaths(def).join('|');
  useEffect(() => {
    if (!form) return;
    let live = true;
    void schemasFor(app, form, paths.split('|').filter(Boolean)).then((s) => live && setSchemas(s));
    return () => {
      live = false;
    };
  }, [app, form, paths]);
  return useMemo(() => (schemas && form ? lookupIn(form, schemas) : undefined), [schemas, form]);
}

/** A widget report's form and the schemas its shared filters can map into. */
export interface ReportForm {
  form: string;
  schemas: Schemas;
  /** Date and date-time fields (what a date range can map to). */
  dateFields: PaletteField[];
  /** Text-valued fields, also through references (what a choice filter can map to). */
  choiceFields: ChoiceField[];
}

/** Per report of the widgets: its form's schema, those of the forms its reference fields
 * point at and of the forms the widgets' mapped paths reach. */
export function useReportForms(app: string, widgets: Widget[]): Record<string, ReportForm> {
  const [out, setOut] = useState<Record<string, ReportForm>>({});
  const paths = new Map<string, Set<string>>();
  for (const w of widgets) {
    if (!w.report) continue;
    const set = paths.get(w.report) ?? new Set<string>();
    for (const p of Object.values(w.filters ?? {})) set.add(p);
    paths.set(w.report, set);
  }
  const wanted = JSON.stringify([...paths].map(([r, set]) => [r, [...set].sort()]).sort());
  useEffect(() => {
    let live = true;
    for (const [r, ps] of JSON.parse(wanted) as [string, string[]][]) {
      void getReport(app, r)
        .then(async (d) => {
          if (!d?.form) return;
          const schemas: Schemas = await schemasFor(app, d.form, ps);
          for (const f of referencedForms(schemas[d.form])) schemas[f] ??= await formSchema(app, f);
          const entry: ReportForm = {
            form: d.form,
            schemas,
            dateFields: paletteFields(schemas[d.form] ?? undefined).filter((f) => isTemporal(f.type)),
            choiceFields: choiceFields(schemas, d.form),
          };
          if (live) setOut((o) => ({ ...o, [r]: entry }));
        })
        .catch(() => undefined);
    }
    return () => {
      live = false;
    };
  }, [app, wanted]);
  return out;
}

/** Does the viewport match a media query (e.g. phone width)? */
export function useMedia(query: string): boolean {
  const get = () => typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia(query).matches;
  const [matches, setMatches] = useState(get);
  useEffect(() => {
    if (typeof window.matchMedia !== 'function') return;
    const m = window.matchMedia(query);
    const on = () => setMatches(m.matches);
    on();
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, [query]);
  return matches;
}

export const PHONE = '(max-width: 600px)';
