import { useEffect, useState } from 'react';
import { api } from '../api/client.ts';
import type { FormDetail } from '../api/types.ts';

export interface LoadedForm extends FormDetail {
  writable?: string[];
}

/** The form as the caller may see it (masked definition, actions, writable fields). */
export function useFormDetail(app: string, form: string): { detail: LoadedForm | null; error: unknown } {
  const [detail, setDetail] = useState<LoadedForm | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setDetail(null);
    setError(null);
    api<LoadedForm>(`/apps/${app}/forms/${form}`).then(setDetail).catch(setError);
  }, [app, form]);
  return { detail, error };
}

/** Administrators get no `actions` list: they may do everything. */
export function may(detail: LoadedForm | null, action: string): boolean {
  if (!detail) return false;
  return detail.actions === undefined || detail.actions.includes(action as never);
}
