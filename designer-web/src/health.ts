/** Body of `GET /api/v1/health`, e.g. `{"status":"ok","version":"0.1.0"}`. */
export interface Health {
  status: string;
  version?: string;
}

/** Narrow an unknown JSON value to `Health`, or return null if it does not fit. */
export function parseHealth(value: unknown): Health | null {
  if (typeof value !== 'object' || value === null) return null;
  const obj = value as Record<string, unknown>;
  if (typeof obj.status !== 'string') return null;
  if (typeof obj.version === 'string') {
    return { status: obj.status, version: obj.version };
  }
  return { status: obj.status };
}

/** Human-readable status line for the health JSON. */
export function describeHealth(value: unknown): string {
  const health = parseHealth(value);
  if (health === null) return 'Server: unexpected response';
  const version = health.version ? ` (v${health.version})` : '';
  return `Server: ${health.status}${version}`;
}
