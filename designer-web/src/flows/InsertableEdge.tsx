// An edge of the flow designer's canvas: the line and its label (outcome, default,
// condition) as React Flow's default edge draws them, and a "+" in its middle that opens
// the node kinds to insert there (as in DingTalk / Feishu approval designers). The editor
// says what the "+" offers and does through `EdgeInsertContext`; without it the edge has
// no "+".
//
// data-testid: flow-edge-insert-<from>-<to> (the "+"; data-edge: the edge id),
// flow-insert-kind-<type> (an entry of its menu)
import { createContext, memo, useContext, useMemo, type SyntheticEvent } from 'react';
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from '@xyflow/react';
import { Button, Dropdown, type MenuProps } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n/index.tsx';
import { TYPE_COLORS, type RFEdge } from './FlowGraph.tsx';
import type { NodeType } from './model.ts';

export interface EdgeInsert {
  /** The node kinds the menu offers. */
  kinds: NodeType[];
  insert: (edgeId: string, type: NodeType) => void;
}

export const EdgeInsertContext = createContext<EdgeInsert | null>(null);

const stop = (e: SyntheticEvent) => e.stopPropagation();

/** How far above the "+" an edge's label is drawn. */
const LABEL_LIFT = 18;

function InsertableEdgeView(p: EdgeProps<RFEdge>) {
  const { t } = useI18n();
  const ctx = useContext(EdgeInsertContext);
  const [path, x, y] = getBezierPath({
    sourceX: p.sourceX,
    sourceY: p.sourceY,
    sourcePosition: p.sourcePosition,
    targetX: p.targetX,
    targetY: p.targetY,
    targetPosition: p.targetPosition,
  });
  const items: MenuProps['items'] = useMemo(
    () =>
      ctx?.kinds.map((type) => ({
        key: type,
        label: (
          <span data-testid={`flow-insert-kind-${type}`}>
            <span style={{ display: 'inline-block', width: 8, height: 8, borderRadius: 4, marginInlineEnd: 8, background: TYPE_COLORS[type] ?? '#999' }} />
            {t(`flows.node.${type}`)}
          </span>
        ),
      })),
    [ctx, t],
  );
  return (
    <>
      <BaseEdge
        path={path}
        labelX={x}
        labelY={ctx ? y - LABEL_LIFT : y}
        label={p.label}
        labelStyle={p.labelStyle}
        labelShowBg={p.labelShowBg}
        labelBgStyle={p.labelBgStyle}
        labelBgPadding={p.labelBgPadding}
        labelBgBorderRadius={p.labelBgBorderRadius}
        style={p.style}
        markerStart={p.markerStart}
        markerEnd={p.markerEnd}
        interactionWidth={p.interactionWidth}
      />
      {ctx && (
        <EdgeLabelRenderer>
          {/* React events bubble from the portals up to the edge, which would select it */}
          <div
            className="nodrag nopan"
            style={{ position: 'absolute', transform: `translate(-50%, -50%) translate(${x}px, ${y}px)`, pointerEvents: 'all' }}
            onClick={stop}
            onDoubleClick={stop}
            onContextMenu={stop}
            onKeyDown={stop}
          >
            <Dropdown trigger={['click']} menu={{ items, style: { maxHeight: 360, overflow: 'auto' }, onClick: ({ key }) => ctx.insert(p.id, key as NodeType) }}>
              <Button
                size="small"
                shape="circle"
                icon={<PlusOutlined />}
                title={t('flows.insert.here')}
                aria-label={t('flows.insert.here')}
                data-testid={`flow-edge-insert-${p.source}-${p.target}`}
                data-edge={p.id}
              />
            </Dropdown>
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const InsertableEdge = memo(InsertableEdgeView);
export const edgeTypes = { insertable: InsertableEdge };
