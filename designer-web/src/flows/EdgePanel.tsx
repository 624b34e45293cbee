// The flow designer's edge panel: the selected edge's outcome (approval, http / report,
// subflow), its loop kind (each / done) or branch condition, shown by FlowDesignerPage.
//
// data-testid: flow-edge-panel, flow-edge-errors, flow-prop-outcome, flow-edge-subflow-nowait,
// flow-prop-each, flow-prop-edge-kind, flow-prop-when, flow-edge-delete
import { Alert, Button, Divider, Form, Radio, Select, Typography } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import type { Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { describeLogic } from './FlowGraph.tsx';
import { ConditionBuilder, Errors, type Lookups } from './inputs.tsx';
import type { ErrorLike } from './checks.ts';
import { edgeById, nodeById, type FlowState } from './model.ts';
import { setDefaultEdge, setEachEdge, updateEdge } from './operations.ts';
import {
  HTTP_OUTCOMES,
  SUBFLOW_OUTCOMES,
  hasOkFailedEdges,
  httpOutcomeOf,
  httpOutcomePatch,
  subflowOutcomeOf,
  subflowOutcomePatch,
  subflowWaits,
  type HttpOutcome,
  type SubflowOutcome,
} from './nodes.ts';
import type { Apply } from './Panels.tsx';

export function EdgePanel(p: { state: FlowState; id: string; apply: Apply; remove: () => void; lookups: Lookups; errors?: ErrorLike[] }) {
  const { t, label } = useI18n();
  const e = edgeById(p.state, p.id);
  if (!e) return null;
  const src = nodeById(p.state, e.source);
  const dst = nodeById(p.state, e.target);
  const name = (id: string, n: typeof src) => label(n?.data.node.label as Label | undefined, id);
  const d = e.data.edge;
  const type = src?.data.node.type;
  return (
    <Form layout="vertical" size="small" data-testid="flow-edge-panel">
      <Typography.Title level={5} style={{ marginTop: 0 }}>
        {t('flows.edge.title', { from: name(e.source, src), to: name(e.target, dst) })}
      </Typography.Title>
      <Errors errors={p.errors} testId="flow-edge-errors" />
      {type === 'approval' && (
        <Form.Item label={t('flows.edge.outcome')}>
          <Select
            data-testid="flow-prop-outcome"
            value={typeof d.outcome === 'string' ? d.outcome : undefined}
            options={(['approved', 'rejected'] as const).map((o) => ({ value: o, label: t(`flows.edge.outcome.${o}`) }))}
            onChange={(o: string) => p.apply((s) => updateEdge(s, p.id, { outcome: o }))}
          />
        </Form.Item>
      )}
      {hasOkFailedEdges(type) && (
        <Form.Item
          label={t(type === 'report' ? 'flows.edge.reportOutcome' : 'flows.edge.httpOutcome')}
          help={t(type === 'report' ? 'flows.edge.reportHelp' : 'flows.edge.httpHelp')}
        >
          <Select
            data-testid="flow-prop-outcome"
            value={httpOutcomeOf(d)}
            options={HTTP_OUTCOMES.map((o) => ({ value: o, label: t(`flows.edge.outcome.${o}`) }))}
            onChange={(o: HttpOutcome) => p.apply((s) => updateEdge(s, p.id, httpOutcomePatch(d, o)))}
          />
        </Form.Item>
      )}
      {type === 'subflow' && (
        <>
          <Form.Item label={t('flows.edge.subflowOutcome')} help={t('flows.edge.subflowHelp')}>
            <Select
              data-testid="flow-prop-outcome"
              value={subflowOutcomeOf(d)}
              options={SUBFLOW_OUTCOMES.map((o) => ({
                value: o,
                label: t(`flows.edge.outcome.${o}`),
                disabled: o === 'failed' && !!src && !subflowWaits(src.data.node) && subflowOutcomeOf(d) !== 'failed',
              }))}
              onChange={(o: SubflowOutcome) => p.apply((s) => updateEdge(s, p.id, subflowOutcomePatch(d, o)))}
            />
          </Form.Item>
          {src && !subflowWaits(src.data.node) && (
            <Alert
              type={subflowOutcomeOf(d) === 'failed' ? 'warning' : 'info'}
              showIcon
              style={{ marginBottom: 8 }}
              data-testid="flow-edge-subflow-nowait"
              message={t(subflowOutcomeOf(d) === 'failed' ? 'flows.editor.lint.subflowNoWait' : 'flows.edge.subflowNoWait')}
            />
          )}
        </>
      )}
      {type === 'loop' && (
        <Form.Item label={t('flows.edge.loopKind')} help={t('flows.edge.loopHelp')}>
          <Radio.Group
            data-testid="flow-prop-each"
            value={d.each === true ? 'each' : 'done'}
            onChange={(ev) => p.apply((s) => (ev.target.value === 'each' ? setEachEdge(s, p.id) : updateEdge(s, p.id, { each: undefined })))}
            options={[
              { value: 'each', label: t('flows.edge.eachLong') },
              { value: 'done', label: t('flows.edge.doneLong') },
            ]}
          />
        </Form.Item>
      )}
      {type === 'branch' && (
        <>
          <Form.Item label={t('flows.edge.kind')}>
            <Radio.Group
              data-testid="flow-prop-edge-kind"
              value={d.default === true ? 'default' : 'when'}
              onChange={(ev) =>
                p.apply((s) => (ev.target.value === 'default' ? setDefaultEdge(s, p.id) : updateEdge(s, p.id, { default: undefined })))
              }
              options={[
                { value: 'when', label: t('flows.edge.kind.when') },
                { value: 'default', label: t('flows.edge.kind.default') },
              ]}
            />
          </Form.Item>
          {d.default !== true && (
            <Form.Item label={t('flows.edge.condition')}>
              <ConditionBuilder
                key={p.id}
                value={d.when}
                onChange={(logic) => p.apply((s) => updateEdge(s, p.id, { when: logic }))}
                vars={p.lookups.vars}
                fields={p.lookups.fields}
                testId="flow-prop-when"
              />
            </Form.Item>
          )}
        </>
      )}
      {type !== 'approval' && type !== 'branch' && !hasOkFailedEdges(type) && type !== 'subflow' && type !== 'loop' && (
        <>
          <Typography.Paragraph type="secondary">{t('flows.edge.plain')}</Typography.Paragraph>
          {d.when !== undefined && <Typography.Text code>{describeLogic(d.when, p.lookups.fields, t, label)}</Typography.Text>}
        </>
      )}
      <Divider style={{ margin: '8px 0' }} />
      <Button danger icon={<DeleteOutlined />} data-testid="flow-edge-delete" onClick={p.remove}>
        {t('flows.edge.delete')}
      </Button>
    </Form>
  );
}
