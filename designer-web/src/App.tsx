import { useEffect, useState } from 'react';
import { describeHealth } from './health.ts';

export const HEALTH_URL = '/api/v1/health';
export const API_DOCS_URL = '/api/docs';

export default function App() {
  const [status, setStatus] = useState('Server: checking…');

  useEffect(() => {
    const controller = new AbortController();
    fetch(HEALTH_URL, { signal: controller.signal, headers: { Accept: 'application/json' } })
      .then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        setStatus(describeHealth(await res.json()));
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        const message = err instanceof Error ? err.message : String(err);
        setStatus(`Server: unreachable (${message})`);
      });
    return () => controller.abort();
  }, []);

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '3rem auto', padding: '0 1rem' }}>
      <h1>Formwork</h1>
      <p data-testid="health-status" role="status">
        {status}
      </p>
      <p>
        <a href={API_DOCS_URL}>API docs</a>
      </p>
    </main>
  );
}
