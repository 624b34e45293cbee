// An instance's graph: its version's definition drawn read-only with the live positions
// and visited nodes highlighted. Used by the instance page and by a record's flows tab
// (so staff see where the record's flow stands without leaving the record).
import { useEffect, useMemo, useState } from 'react';
import { Alert, Typography } from 'antd';
import { ReactFlowProvider } from '@xyflow/react';
import { api } from '../api/client.ts';
import type { JsonSchema } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { ReadOnlyGraph } from './FlowGraph.tsx';
import { isObj, visitedNodes, type FlowDefinition } from './model.ts';
import type { InstanceDetail } from './types.ts';

/** The definition an instance runs: sent with the instance (its outline for
 * non-administrators), else from the versions API (administrators). */
export function useInstanceDefinition(detail: InstanceDetail | null): { definition: FlowDefinition | null; failed: boolean } {
  const [definition, setDefinition] = useState<FlowDefinition | null>(null);
  const [failed, setFailed] = useState(false);
  const inst = detail?.instance;
  // Read once per version (an instance read again keeps its version).
  const version = inst ? `/apps/${inst.app}/flows/${inst.flow}/versions/${inst.version}` : null;
  const sent = detail?.definition && isObj(detail.definition) ? (detail.definition as FlowDefinition) : null;
  useEffect(() => {
    if (!version) return;
    if (sent) {
      setDefinition(sent);
      return;
    }
    api<{ definition?: FlowDefinition } & Partial<FlowDefinition>>(version)
      .then((r) => {
        const def = r.definition ?? (Array.isArray(r.nodes) ? (r as FlowDefinition) : null);
        if (def) setDefinition(def);
        else setFailed(true);
      })
      .catch(() => setFailed(true));
  }, [version, sent !== null]);
  return { definition, failed };
}

/** The graph of one instance `detail` (already loaded), or of instance `id`. */
export function InstanceGraph(p: { detail?: InstanceDetail | null; id?: number; fields?: Map<string, JsonSchema>; height?: number; testId?: string }) {
  const { t } = useI18n();
  const [loaded, setLoaded] = useState<InstanceDetail | null>(null);
  const [loadFailed, setLoadFailed] = useState(false);
  // Loaded by id: read again every few seconds while the instance runs, so the drawing
  // follows it; not after a failed read, not two reads at once, nothing after unmount.
  const running = loaded?.instance?.status === 'running';
  useEffect(() => {
    if (p.detail !== undefined || p.id === undefined || loadFailed) return;
    let live = true;
    let reading = false;
    const load = () => {
      if (reading) return;
      reading = true;
      api<InstanceDetail>(`/flow-instances/${p.id}`)
        .then((d) => live && setLoaded(d))
        .catch(() => live && setLoadFailed(true))
        .finally(() => {
          reading = false;
        });
    };
    if (loaded === null) load();
    if (loaded !== null && !running) {
      return () => {
        live = false;
      };
    }
    const timer = window.setInterval(load, 3000);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [p.detail, p.id, loaded === null, running, loadFailed]);
  const detail = p.detail ?? loaded;
  const { definition, failed } = useInstanceDefinition(detail);
  const visited = useMemo(() => visitedNodes(detail?.history ?? []), [detail]);
  if (failed || loadFailed) return <Alert type="info" message={t('flows.instance.graphUnavailable')} />;
  if (!definition || !detail) return <Typography.Text>{t('common.loading')}</Typography.Text>;
  return (
    <ReactFlowProvider>
      <ReadOnlyGraph definition={definition} positions={detail.positions ?? []} visited={visited} fields={p.fields} height={p.height} testId={p.testId} />
    </ReactFlowProvider>
  );
}
