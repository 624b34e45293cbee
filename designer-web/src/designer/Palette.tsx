// The palette: layouts and field types, dragged onto the canvas or added at the
// selection with a click or Enter (data-testid palette-<item>).
import { useDraggable } from '@dnd-kit/core';
import { Typography } from 'antd';
import { FIELD_TYPES } from '../forms/model.ts';
import { useI18n } from '../i18n/index.tsx';
import { PALETTE, PALETTE_LAYOUTS, type PaletteItem } from './DesignerDnd.tsx';

function PaletteEntry({ item, onAdd }: { item: PaletteItem; onAdd: (item: PaletteItem) => void }) {
  const { t } = useI18n();
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({ id: PALETTE + item });
  return (
    <div
      ref={setNodeRef}
      {...attributes}
      {...listeners}
      data-testid={`palette-${item}`}
      aria-label={t('designer.palette.aria', { name: t(`designer.palette.${item}`) })}
      title={t('designer.palette.hint')}
      onClick={() => onAdd(item)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          onAdd(item);
          return;
        }
        listeners?.onKeyDown?.(e);
      }}
      style={{
        padding: '4px 8px',
        border: '1px solid #d9d9d9',
        borderRadius: 4,
        background: isDragging ? '#e6f4ff' : '#fff',
        cursor: 'grab',
        fontSize: 13,
        userSelect: 'none',
        whiteSpace: 'nowrap',
        overflow: 'hidden',
        textOverflow: 'ellipsis',
      }}
    >
      {t(`designer.palette.${item}`)}
    </div>
  );
}

export function Palette({ onAdd }: { onAdd: (item: PaletteItem) => void }) {
  const { t } = useI18n();
  return (
    <div data-testid="designer-palette">
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('designer.palette.layouts')}
      </Typography.Text>
      <div style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 6, margin: '4px 0 12px' }}>
        {PALETTE_LAYOUTS.map((i) => (
          <PaletteEntry key={i} item={i} onAdd={onAdd} />
        ))}
      </div>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('designer.palette.fields')}
      </Typography.Text>
      <div style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 6, marginTop: 4 }}>
        {FIELD_TYPES.map((i) => (
          <PaletteEntry key={i} item={i} onAdd={onAdd} />
        ))}
      </div>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginTop: 8 }}>
        {t('designer.palette.hint')}
      </Typography.Paragraph>
    </div>
  );
}
