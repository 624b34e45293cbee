// The report designer's field palette: the source form's fields, and for each reference
// field an expandable list of the fields of the form it points at (dotted paths such as
// `device.product.model`). Entries are dnd-kit draggables (mouse, touch, keyboard).
//
// data-testid: field-palette, palette-field-<path>, palette-expand-<path>
import { useDraggable } from '@dnd-kit/core';
import { Button, Spin, Tag, Typography } from 'antd';
import { MinusSquareOutlined, PlusSquareOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n/index.tsx';
import type { PaletteField } from './draft.ts';

export const PALETTE_ID = 'p:';

export interface FieldPaletteProps {
  fields: PaletteField[];
  /** Loaded fields of referenced forms by reference path; null while loading. */
  expanded: Record<string, PaletteField[] | null>;
  onToggle: (path: string) => void;
}

export function FieldPalette(p: FieldPaletteProps) {
  const { t } = useI18n();
  return (
    <div data-testid="field-palette">
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t('reports.design.fields')}
      </Typography.Text>
      <FieldList {...p} depth={0} />
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginTop: 8 }}>
        {t('reports.design.paletteHint')}
      </Typography.Paragraph>
    </div>
  );
}

function FieldList(p: FieldPaletteProps & { depth: number }) {
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap: 4, marginTop: 4, marginLeft: p.depth ? 16 : 0 }}>
      {p.fields.map((f) => {
        const sub = p.expanded[f.path];
        const open = f.path in p.expanded;
        return (
          <div key={f.path}>
            <div style={{ display: 'flex', alignItems: 'center', gap: 4 }}>
              {f.ref && p.depth < 3 ? (
                <Button
                  size="small"
                  type="text"
                  data-testid={`palette-expand-${f.path}`}
                  aria-expanded={open}
                  icon={open ? <MinusSquareOutlined /> : <PlusSquareOutlined />}
                  onClick={() => p.onToggle(f.path)}
                />
              ) : (
                <span style={{ width: 24, display: 'inline-block' }} />
              )}
              <PaletteEntry field={f} />
            </div>
            {open && (sub ? <FieldList {...p} fields={sub} depth={p.depth + 1} /> : <Spin size="small" style={{ marginLeft: 40 }} />)}
          </div>
        );
      })}
    </div>
  );
}

function PaletteEntry({ field }: { field: PaletteField }) {
  const { t, label } = useI18n();
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({ id: PALETTE_ID + field.path });
  const name = label(field.label, field.path.split('.').pop());
  return (
    <div
      ref={setNodeRef}
      {...attributes}
      {...listeners}
      data-testid={`palette-field-${field.path}`}
      aria-label={t('reports.design.paletteAria', { name })}
      title={field.path}
      style={{
        flex: 1,
        minWidth: 0,
        padding: '3px 8px',
        border: '1px solid #d9d9d9',
        borderRadius: 4,
        background: isDragging ? '#e6f4ff' : '#fff',
        cursor: 'grab',
        fontSize: 13,
        userSelect: 'none',
        display: 'flex',
        justifyContent: 'space-between',
        gap: 4,
        touchAction: 'none',
      }}
    >
      <span style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>{name}</span>
      <Tag style={{ margin: 0, fontSize: 11 }}>{t(`designer.palette.${field.type}`)}</Tag>
    </div>
  );
}
