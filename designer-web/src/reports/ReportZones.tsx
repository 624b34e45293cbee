// Drag and drop of the report designer: palette fields into Dimensions, Measures and
// Filters, and items between and within them. Mouse, touch and keyboard (Space to pick
// up, arrow keys to step through the drop targets, Space to drop).
//
// Ids: palette fields `p:<path>`, zones `z:<zone>`, items `i:<zone>:<index>`.
// data-testid: drop-dimensions, drop-measures, drop-filters, <zone item>-<i> (dimension-0,
// measure-1, filter-2), <zone item>-handle-<i>, <zone item>-remove-<i>
import { useRef, useState, type ReactNode } from 'react';
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  pointerWithin,
  useDroppable,
  useSensor,
  useSensors,
  type CollisionDetection,
  type DragEndEvent,
  type KeyboardCoordinateGetter,
} from '@dnd-kit/core';
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { Button, Typography } from 'antd';
import { CloseOutlined, HolderOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n/index.tsx';
import { PALETTE_ID } from './FieldPalette.tsx';
import type { Zone } from './draft.ts';

const ZONE_ID = 'z:';
const ITEM_ID = 'i:';

/** Singular names used in test ids: `dimension-0`, `measure-1`, `filter-2`. */
export const ITEM_NAME: Record<Zone, string> = { dimensions: 'dimension', measures: 'measure', filters: 'filter' };

function parseItem(id: string): { zone: Zone; index: number } | null {
  if (!id.startsWith(ITEM_ID)) return null;
  const [zone, index] = id.slice(ITEM_ID.length).split(':');
  return { zone: zone as Zone, index: Number(index) };
}

export interface ReportDndProps {
  /** Number of items per zone (where "drop on the zone" appends). */
  sizes: Record<Zone, number>;
  onAdd: (path: string, zone: Zone, index: number) => void;
  onMove: (from: { zone: Zone; index: number }, to: { zone: Zone; index: number }) => void;
  /** The text shown while a palette field is dragged. */
  nameOf: (path: string) => string;
  children: ReactNode;
}

export function ReportDnd(p: ReportDndProps) {
  const { t } = useI18n();
  const [active, setActive] = useState<string | null>(null);
  const props = useRef(p);
  props.current = p;

  // A palette field steps through the drop targets in reading order. The zone it is at
  // is kept here, not read back from `over`: `over` follows a render later, and keys
  // pressed before that render would step from a stale zone.
  const keyboardZone = useRef(-1);
  const coordinateGetter: KeyboardCoordinateGetter = (event, args) => {
    if (!String(args.active).startsWith(PALETTE_ID)) return sortableKeyboardCoordinates(event, args);
    const forward = event.code === 'ArrowDown' || event.code === 'ArrowRight';
    const back = event.code === 'ArrowUp' || event.code === 'ArrowLeft';
    if (!forward && !back) return undefined;
    event.preventDefault();
    const { droppableRects, droppableContainers, collisionRect } = args.context;
    if (!collisionRect) return undefined;
    const list = droppableContainers
      .getEnabled()
      .filter((c) => String(c.id).startsWith(ZONE_ID))
      .map((c) => ({ id: c.id, rect: droppableRects.get(c.id) }))
      .filter((x): x is { id: string; rect: NonNullable<typeof x.rect> } => !!x.rect)
      .sort((a, b) => a.rect.top - b.rect.top || a.rect.left - b.rect.left);
    if (list.length === 0) return undefined;
    const cur = keyboardZone.current;
    const at = cur < 0 ? 0 : Math.max(0, Math.min(list.length - 1, cur + (forward ? 1 : -1)));
    keyboardZone.current = at;
    const next = list[at]!;
    return {
      x: next.rect.left + 12,
      y: next.rect.top + Math.min(next.rect.height / 2, 16) - collisionRect.height / 2,
    };
  };

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, { coordinateGetter, keyboardCodes: { start: ['Space'], cancel: ['Escape'], end: ['Space', 'Enter'] } }),
  );

  // The innermost target under the pointer (an item inside a zone), else the nearest.
  const collision: CollisionDetection = (args) => {
    if (args.pointerCoordinates) {
      const within = pointerWithin(args);
      if (within.length > 0) {
        const area = (id: string | number) => {
          const r = args.droppableRects.get(id);
          return r ? r.width * r.height : Infinity;
        };
        return [...within].sort((x, y) => area(x.id) - area(y.id)).slice(0, 1);
      }
    }
    if (!String(args.active.id).startsWith(PALETTE_ID)) return closestCenter(args);
    // Keyboard: the zone under the left edge of the moved field (the coordinate getter
    // puts it just inside a zone's top-left corner), so tall zones do not mislead.
    const zones = args.droppableContainers.filter((c) => String(c.id).startsWith(ZONE_ID));
    const x = args.collisionRect.left + 1;
    const y = args.collisionRect.top + args.collisionRect.height / 2;
    const hit = zones.find((c) => {
      const r = args.droppableRects.get(c.id);
      return r && x >= r.left && x <= r.left + r.width && y >= r.top && y <= r.top + r.height;
    });
    // Over nothing until the first arrow key (so the first step lands on the first zone).
    return hit ? [{ id: hit.id, data: { droppableContainer: hit, value: 0 } }] : [];
  };

  const onDragEnd = (e: DragEndEvent) => {
    setActive(null);
    if (!e.over) return;
    const a = String(e.active.id);
    const o = String(e.over.id);
    const { sizes, onAdd, onMove } = props.current;
    const overItem = parseItem(o);
    const target = overItem ?? { zone: o.slice(ZONE_ID.length) as Zone, index: sizes[o.slice(ZONE_ID.length) as Zone] ?? 0 };
    const from = parseItem(a);
    // Into another list over an item: before or after it, by where the dragged box is.
    if (overItem && from?.zone !== overItem.zone) {
      const r = e.active.rect.current.translated;
      if (r && r.top + r.height / 2 > e.over.rect.top + e.over.rect.height / 2) target.index += 1;
    }
    if (a.startsWith(PALETTE_ID)) {
      onAdd(a.slice(PALETTE_ID.length), target.zone, target.index);
      return;
    }
    if (!from) return;
    // Dropped on its own zone's empty space: to the end.
    const to = !overItem && from.zone === target.zone ? { ...target, index: target.index - 1 } : target;
    onMove(from, to);
  };

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={collision}
      onDragStart={(e) => {
        keyboardZone.current = -1;
        setActive(String(e.active.id));
      }}
      onDragEnd={onDragEnd}
      onDragCancel={() => setActive(null)}
      accessibility={{ screenReaderInstructions: { draggable: t('reports.design.paletteHint') } }}
    >
      {p.children}
      <DragOverlay dropAnimation={null}>
        {active?.startsWith(PALETTE_ID) ? <div style={overlayStyle}>{p.nameOf(active.slice(PALETTE_ID.length))}</div> : null}
      </DragOverlay>
    </DndContext>
  );
}

const overlayStyle: React.CSSProperties = {
  padding: '4px 10px',
  background: '#fff',
  border: '1px solid #1677ff',
  borderRadius: 4,
  boxShadow: '0 4px 12px rgba(0,0,0,.15)',
  cursor: 'grabbing',
  width: 180,
  fontSize: 13,
};

export interface DropZoneProps {
  zone: Zone;
  title: string;
  count: number;
  extra?: ReactNode;
  /** Messages about the zone as a whole. */
  issues?: string[];
  children: ReactNode;
}

/** A drop target holding a sortable list of items. */
export function DropZone(p: DropZoneProps) {
  const { t } = useI18n();
  const { setNodeRef, isOver } = useDroppable({ id: ZONE_ID + p.zone });
  const ids = Array.from({ length: p.count }, (_, i) => `${ITEM_ID}${p.zone}:${i}`);
  return (
    <div
      ref={setNodeRef}
      data-testid={`drop-${p.zone}`}
      style={{
        padding: 8,
        marginBottom: 12,
        minHeight: 64,
        borderRadius: 6,
        border: `2px dashed ${isOver ? '#1677ff' : '#d9d9d9'}`,
        background: isOver ? '#f0f7ff' : '#fafafa',
      }}
    >
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 6 }}>
        <Typography.Text strong>{p.title}</Typography.Text>
        {p.extra}
      </div>
      {p.issues?.map((m, i) => (
        <Typography.Text key={i} type="danger" style={{ display: 'block', fontSize: 12 }} data-testid={`issues-${p.zone}`}>
          {m}
        </Typography.Text>
      ))}
      <SortableContext id={p.zone} items={ids} strategy={verticalListSortingStrategy}>
        <div style={{ display: 'flex', flexDirection: 'column', gap: 6 }}>{p.children}</div>
      </SortableContext>
      {p.count === 0 && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('reports.design.dropHere')}
        </Typography.Text>
      )}
    </div>
  );
}

export interface ZoneItemProps {
  zone: Zone;
  index: number;
  name: string;
  onRemove: () => void;
  /** Messages about this item (red). */
  issues?: string[];
  children?: ReactNode;
}

/** One item of a zone: drag handle, its editor, remove button and its messages. */
export function ZoneItem(p: ZoneItemProps) {
  const { t } = useI18n();
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: `${ITEM_ID}${p.zone}:${p.index}`,
  });
  const name = ITEM_NAME[p.zone];
  const bad = (p.issues?.length ?? 0) > 0;
  return (
    <div
      ref={setNodeRef}
      data-testid={`${name}-${p.index}`}
      style={{
        transform: CSS.Translate.toString(transform),
        transition,
        opacity: isDragging ? 0.5 : 1,
        background: '#fff',
        border: `1px solid ${bad ? '#ff4d4f' : '#d9d9d9'}`,
        borderRadius: 4,
        padding: '4px 6px',
      }}
    >
      <div style={{ display: 'flex', alignItems: 'center', gap: 6, flexWrap: 'wrap' }}>
        <span
          ref={setActivatorNodeRef}
          {...attributes}
          {...listeners}
          data-testid={`${name}-handle-${p.index}`}
          aria-label={t('reports.design.itemAria', { zone: t(`reports.design.${p.zone}`), name: p.name })}
          style={{ cursor: 'grab', color: '#999', touchAction: 'none' }}
        >
          <HolderOutlined />
        </span>
        <Typography.Text strong style={{ fontSize: 13 }}>
          {p.name}
        </Typography.Text>
        <div style={{ flex: 1 }} />
        <Button
          size="small"
          type="text"
          icon={<CloseOutlined />}
          data-testid={`${name}-remove-${p.index}`}
          aria-label={t('reports.design.remove', { name: p.name })}
          onClick={p.onRemove}
        />
      </div>
      {p.children && <div style={{ display: 'flex', flexWrap: 'wrap', gap: 6, marginTop: 4 }}>{p.children}</div>}
      {p.issues?.map((m, i) => (
        <Typography.Text key={i} type="danger" style={{ display: 'block', fontSize: 12 }} data-testid={`${name}-issues-${p.index}`}>
          {m}
        </Typography.Text>
      ))}
    </div>
  );
}
