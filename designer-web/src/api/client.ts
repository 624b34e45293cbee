// The one HTTP client of the web UI: JSON in and out, the session cookie, the CSRF header
// on writes, and the server's error body turned into an `ApiError`.

export interface ErrorDetail {
  pointer: string;
  rule: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, code: string, message: string, details: ErrorDetail[]) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const API = '/api/v1';

let csrfToken: string | null = null;

/** Remember the CSRF token that login and /auth/me return (sent on every write). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

// The one role the user acts with in an app (X-Formwork-Role), when they hold several
// whose rows differ: remembered per app in localStorage, sent on every request of that app.
const ROLE_KEY = 'formwork.actingRole.';

function storage(): Storage | null {
  return typeof localStorage === 'undefined' ? null : localStorage;
}

/** The role the user acts with in `app`, or null for all their roles. */
export function actingRole(app: string): string | null {
  return storage()?.getItem(ROLE_KEY + app) ?? null;
}

export function setActingRole(app: string, role: string | null): void {
  if (role) storage()?.setItem(ROLE_KEY + app, role);
  else storage()?.removeItem(ROLE_KEY + app);
}

/** Forget acting roles the user no longer holds (`roles`: app → their roles). */
export function pruneActingRoles(roles: Record<string, string[]>): void {
  const s = storage();
  if (!s) return;
  for (let i = s.length - 1; i >= 0; i--) {
    const k = s.key(i);
    if (!k?.startsWith(ROLE_KEY)) continue;
    const app = k.slice(ROLE_KEY.length);
    const role = s.getItem(k);
    if (!role || !(roles[app] ?? []).includes(role)) s.removeItem(k);
  }
}

/** The header for a request to `path` (an app's path carries the app's acting role). */
export function roleHeader(path: string): Record<string, string> {
  const m = /^\/apps\/([^/?#]+)/.exec(path);
  const role = m ? actingRole(decodeURIComponent(m[1]!)) : null;
  return role ? { 'X-Formwork-Role': role } : {};
}

/** Called when any request answers 401, so the app can go back to the login page. */
let onUnauthenticated: (() => void) | null = null;
export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Raw body (file upload, import); sent as is with `contentType`. */
  raw?: Blob | ArrayBuffer;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const method = opts.method ?? (opts.body !== undefined || opts.raw !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = { Accept: 'application/json', ...roleHeader(path), ...opts.headers };
  let body: BodyInit | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['Content-Type'] = opts.contentType ?? 'application/octet-stream';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(API + path, {
    method,
    headers,
    body: body ?? null,
    credentials: 'same-origin',
    signal: opts.signal ?? null,
  });
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    let details: ErrorDetail[] = [];
    try {
      const err = (await res.json()) as { code?: string; message?: string; details?: ErrorDetail[] };
      code = err.code ?? code;
      message = err.message ?? message;
      details = Array.isArray(err.details) ? err.details : [];
    } catch {
      // not a JSON error body
    }
    if (res.status === 401 && !path.startsWith('/auth/login')) onUnauthenticated?.();
    throw new ApiError(res.status, code, message, details);
  }
  return res;
}

/** A JSON request; resolves to the parsed body (null for an empty body). */
export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** A request whose answer is a file (export, download). */
export async function apiBlob(path: string, opts: RequestOptions = {}): Promise<Blob> {
  return (await send(path, opts)).blob();
}

/** Query string from defined values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Split server error details into field errors (`/data/<field>/…` → field) and the rest. */
export function fieldErrors(details: ErrorDetail[], prefix = '/data/'): {
  byField: Map<string, string[]>;
  other: ErrorDetail[];
} {
  const byField = new Map<string, string[]>();
  const other: ErrorDetail[] = [];
  for (const d of details) {
    if (d.pointer.startsWith(prefix)) {
      const field = decodePointerToken(d.pointer.slice(prefix.length).split('/')[0] ?? '');
      const list = byField.get(field) ?? [];
      list.push(d.message);
      byField.set(field, list);
    } else {
      other.push(d);
    }
  }
  return { byField, other };
}

export function decodePointerToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}
