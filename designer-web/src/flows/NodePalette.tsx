// The flow designer's node palette: one button per node type (click adds the node, drag
// drops it on the canvas); types the trigger does not allow are dashed and red.
//
// data-testid: flow-palette-<type>
import { Button, Card, Space, Typography } from 'antd';
import { useI18n } from '../i18n/index.tsx';
import { NODE_TYPES, nodeAllowed, type NodeType, type Trigger } from './model.ts';

/** The drag data type a palette item carries (its value: the node type). */
export const NODE_DRAG_TYPE = 'application/x-formwork-node';

export function NodePalette({ trigger, onAdd }: { trigger: Trigger; onAdd: (type: NodeType) => void }) {
  const { t } = useI18n();
  return (
    <Card size="small" title={t('flows.editor.palette')} style={{ width: 150, flex: '0 0 150px' }} styles={{ body: { padding: 8 } }}>
      <Space direction="vertical" style={{ width: '100%' }} size={4}>
        {NODE_TYPES.map((type) => (
          <Button
            key={type}
            block
            size="small"
            type={nodeAllowed(type, trigger) ? 'default' : 'dashed'}
            danger={!nodeAllowed(type, trigger)}
            title={nodeAllowed(type, trigger) ? undefined : t('flows.guard.notAllowedShort')}
            draggable
            data-testid={`flow-palette-${type}`}
            onDragStart={(e) => {
              e.dataTransfer.setData(NODE_DRAG_TYPE, type);
              e.dataTransfer.effectAllowed = 'move';
            }}
            onClick={() => onAdd(type)}
          >
            {t(`flows.node.${type}`)}
          </Button>
        ))}
      </Space>
      <Typography.Paragraph type="secondary" style={{ fontSize: 11, marginTop: 8, marginBottom: 0 }}>
        {t('flows.editor.paletteHelp')}
      </Typography.Paragraph>
      <Typography.Paragraph type="secondary" style={{ fontSize: 11, marginTop: 4, marginBottom: 0 }}>
        {t('flows.insert.help')}
      </Typography.Paragraph>
    </Card>
  );
}
