// Cached lookups for pickers: the staff directory, departments, and the display text of
// referenced records.
import { api, qs } from '../api/client.ts';
import type { Department, RecordPage } from '../api/types.ts';

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
}

/** Records of a form whose display field contains `text` (or all, newest first). */
export async function searchRecords(
  app: string,
  form: string,
  display: string | undefined,
  text: string,
): Promise<{ id: number; text: string }[]> {
  const filter = text && display ? JSON.stringify({ in: [text, { var: display }] }) : undefined;
  const page = await api<RecordPage>(
    `/apps/${app}/forms/${form}/records${qs({ filter, limit: 20, fields: display })}`,
  );
  return page.items.map((r) => ({ id: r.id, text: displayOf(r.data, display, r.id) }));
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
