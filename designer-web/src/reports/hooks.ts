// Small React hooks of the report pages.
import { useEffect, useMemo, useState } from 'react';
import type { JsonSchema } from '../api/types.ts';
import { definitionPaths, lookupIn, schemasFor } from './api.ts';
import type { FieldLookup } from './format.ts';
import type { ReportDefinition } from './types.ts';

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
