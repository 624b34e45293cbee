// Server errors (422 details) shown next to the part of the permission editor they concern.
import { Typography } from 'antd';
import { ApiError, type ErrorDetail } from '../api/client.ts';
import type { ErrorPlace } from './permissions.ts';

/** A detail of a refused save, with where it belongs in the editor. */
export interface PlacedError {
  detail: ErrorDetail;
  place: ErrorPlace;
}

export function ErrorList({ errors, testid }: { errors: PlacedError[]; testid?: string }) {
  if (errors.length === 0) return null;
  return (
    <div data-testid={testid}>
      {errors.map((e, i) => (
        <Typography.Text type="danger" key={i} style={{ display: 'block', fontSize: 12 }}>
          <Typography.Text code>{e.detail.pointer}</Typography.Text> {e.detail.message}
        </Typography.Text>
      ))}
    </div>
  );
}

/** A failed request in one line: the status and the server's message. */
export function errorMessage(e: unknown): string {
  return e instanceof ApiError ? `${e.status} ${e.message}` : String(e);
}
