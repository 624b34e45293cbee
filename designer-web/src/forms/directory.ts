// Cached lookups for pickers: the staff directory, departments, the display text of
// referenced records and the fields a reference search looks in.
import { api, qs } from '../api/client.ts';
import type { Department, FormDetail, JsonSchema, RecordPage } from '../api/types.ts';
import { fieldsToRead, matchHint, searchFields, searchFilter } from './referenceSearch.ts';

export interface DirectoryUser {
  username: string;
  display_name: string | null;
  department: string | null;
}

let users: Promise<DirectoryUser[]> | null = null;
let departments: Promise<Department[]> | null = null;

export function directoryUsers(): Promise<DirectoryUser[]> {
  users ??= api<{ items: DirectoryUser[] }>('/directory/users')
    .then((r) => r.items)
    .catch((e: unknown) => {
      users = null;
      throw e;
    });
  return users;
}

export function directoryDepartments(): Promise<Department[]> {
  departments ??= api<{ items: Department[] }>('/admin/departments')
    .then((r) => r.items)
    .catch((e: unknown) => {
      departments = null;
      throw e;
    });
  return departments;
}

export function resetDirectory(): void {
  users = null;
  departments = null;
  searchCache.clear();
  refCache.clear();
}

interface SearchPlan {
  /** The fields the text is looked for in. */
  search: string[];
  /** The list's `fields` parameter. */
  read: string[];
}

function plan(schema: JsonSchema | null | undefined, display: string | undefined): SearchPlan {
  const search = searchFields(schema, display);
  return { search, read: fieldsToRead(schema, display, search) };
}

/** How a search of `app/form` goes, from the form's definition as the caller sees it (only
 * fields they may read); by the display field alone when the definition cannot be read. */
const searchCache = new Map<string, Promise<SearchPlan>>();

function searchPlan(app: string, form: string, display: string | undefined): Promise<SearchPlan> {
  const key = `${app}/${form}/${display ?? ''}`;
  let p = searchCache.get(key);
  if (!p) {
    p = api<FormDetail>(`/apps/${app}/forms/${form}`)
      .then((d) => plan(d.definition?.schema, display))
      .catch(() => {
        searchCache.delete(key);
        return plan(null, display);
      });
    searchCache.set(key, p);
  }
  return p;
}

/** Records of a form whose display field or another one-line text field contains `text`
 * (or all, newest first); `hint` is the other field's value when only it matched. */
export async function searchRecords(
  app: string,
  form: string,
  display: string | undefined,
  text: string,
): Promise<{ id: number; text: string; hint?: string }[]> {
  const { search, read } = await searchPlan(app, form, display);
  const filter = searchFilter(text, search);
  const page = await api<RecordPage>(
    `/apps/${app}/forms/${form}/records${qs({
      filter: filter === undefined ? undefined : JSON.stringify(filter),
      limit: 20,
      fields: read.join(','),
    })}`,
  );
  return page.items.map((r) => {
    const hint = matchHint(r.data, display, search, text);
    return { id: r.id, text: displayOf(r.data, display, r.id), ...(hint !== undefined ? { hint } : {}) };
  });
}

const refCache = new Map<string, Promise<string>>();

/** The display text of one referenced record (`#id` when it cannot be read). */
export function referenceText(app: string, form: string, display: string | undefined, id: number): Promise<string> {
  const key = `${app}/${form}/${id}`;
  let p = refCache.get(key);
  if (!p) {
    p = api<{ data: Record<string, unknown> }>(`/apps/${app}/forms/${form}/records/${id}`)
      .then((r) => displayOf(r.data, display, id))
      .catch(() => `#${id}`);
    refCache.set(key, p);
  }
  return p;
}

export function displayOf(data: Record<string, unknown>, display: string | undefined, id: number): string {
  const v = display ? data[display] : undefined;
  return v === undefined || v === null || v === '' ? `#${id}` : String(v);
}
