// The palette and the canvas: dnd-kit drag and drop by mouse, touch and keyboard.
//
// Ids: palette items `palette:<type>` (`palette:group`, `palette:row` for layouts);
// canvas nodes their model id (`n12`); drop zones `drop:<container id>` (`drop:root`, a
// group, a row, or a sub-table's column strip).
import { createContext, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  pointerWithin,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type CollisionDetection,
  type DragEndEvent,
  type DragOverEvent,
  type DragStartEvent,
  type KeyboardCoordinateGetter,
} from '@dnd-kit/core';
import {
  SortableContext,
  horizontalListSortingStrategy,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { Tag, Tooltip, Typography } from 'antd';
import {
  AppstoreOutlined,
  BorderHorizontalOutlined,
  EyeInvisibleOutlined,
  HolderOutlined,
  TableOutlined,
} from '@ant-design/icons';
import { FIELD_TYPES, type FieldType } from '../forms/model.ts';
import { useI18n } from '../i18n/index.tsx';
import {
  ROOT,
  addContainer,
  addField,
  findNode,
  move,
  typeOf,
  type ContainerNode,
  type DesignerState,
  type FieldNode,
  type LayoutItem,
  type NodeId,
} from './model.ts';

export type Apply = (fn: (s: DesignerState) => DesignerState, opts?: { tag?: string; node?: NodeId }) => void;

export const PALETTE_LAYOUTS = ['group', 'row'] as const;
type PaletteItem = FieldType | (typeof PALETTE_LAYOUTS)[number];

const DROP = 'drop:';
const PALETTE = 'palette:';

function baseId(id: string): string {
  return id.startsWith(DROP) ? id.slice(DROP.length) : id;
}

/** Add a palette item to `target` at `index`. */
export function addFromPalette(s: DesignerState, item: PaletteItem, target: NodeId, index: number): DesignerState {
  if (item === 'group' || item === 'row') return addContainer(s, item, target, index);
  return addField(s, item, target, index);
}

/** Where "add" (click or Enter on a palette item) puts things: into the selected
 * container, or after the selected element, else at the end of the canvas. */
export function addTarget(s: DesignerState, selected: NodeId | null, item: PaletteItem): { target: NodeId; index: number } {
  const e = selected ? findNode(s, selected) : null;
  if (e) {
    const n = e.node;
    const isTable = n.kind === 'field' && typeOf(n.schema) === 'sub_table';
    const layoutItem = item === 'group' || item === 'row' || item === 'sub_table';
    if (n.kind !== 'field') return { target: n.id, index: n.children.length };
    if (isTable && !layoutItem) return { target: n.id, index: n.columns?.length ?? 0 };
    const parentIsTable = e.parent !== ROOT && findNode(s, e.parent)?.node.kind === 'field';
    if (!parentIsTable || !layoutItem) return { target: e.parent, index: e.index + 1 };
  }
  return { target: ROOT, index: s.root.length };
}

interface DndProps {
  state: DesignerState;
  apply: Apply;
  onSelect: (id: NodeId) => void;
  children: ReactNode;
}

/** The drag-and-drop context around the palette and the canvas. */
export function DesignerDnd({ state, apply, onSelect, children }: DndProps) {
  const { t, label } = useI18n();
  const [active, setActive] = useState<string | null>(null);
  const [overId, setOverId] = useState<string | null>(null);
  const excluded = useRef<Set<string>>(new Set());
  const stateRef = useRef(state);
  stateRef.current = state;

  const coordinateGetter: KeyboardCoordinateGetter = (event, args) => {
    if (!String(args.active).startsWith(PALETTE)) return sortableKeyboardCoordinates(event, args);
    // A palette item steps through the canvas' drop targets in reading order.
    const forward = event.code === 'ArrowDown' || event.code === 'ArrowRight';
    const back = event.code === 'ArrowUp' || event.code === 'ArrowLeft';
    if (!forward && !back) return undefined;
    event.preventDefault();
    const { droppableRects, droppableContainers, collisionRect, over } = args.context;
    if (!collisionRect) return undefined;
    const list = droppableContainers
      .getEnabled()
      .map((c) => ({ id: c.id, rect: droppableRects.get(c.id) }))
      .filter((x): x is { id: string; rect: NonNullable<typeof x.rect> } => !!x.rect)
      .sort((a, b) => a.rect.top - b.rect.top || a.rect.left - b.rect.left);
    if (list.length === 0) return undefined;
    const cur = over ? list.findIndex((x) => x.id === over.id) : -1;
    const next = list[cur < 0 ? 0 : Math.max(0, Math.min(list.length - 1, cur + (forward ? 1 : -1)))]!;
    return {
      x: next.rect.left + next.rect.width / 2 - collisionRect.width / 2,
      y: next.rect.top + Math.min(next.rect.height / 2, 20) - collisionRect.height / 2,
    };
  };

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, {
      coordinateGetter,
      keyboardCodes: { start: ['Space'], cancel: ['Escape'], end: ['Space', 'Enter'] },
    }),
  );

  const collision: CollisionDetection = (args) => {
    const containers = args.droppableContainers.filter((c) => !excluded.current.has(String(c.id)));
    const a = { ...args, droppableContainers: containers };
    if (args.pointerCoordinates) {
      const within = pointerWithin(a);
      if (within.length > 0) {
        // The innermost target under the pointer: the smallest rectangle.
        const area = (id: string | number) => {
          const r = args.droppableRects.get(id);
          return r ? r.width * r.height : Infinity;
        };
        return [...within].sort((x, y) => area(x.id) - area(y.id)).slice(0, 1);
      }
    }
    return closestCenter(a);
  };

  const onDragStart = (e: DragStartEvent) => {
    const id = String(e.active.id);
    setActive(id);
    const ex = new Set<string>();
    const found = findNode(stateRef.current, id);
    if (found) {
      // A node cannot be dropped into itself.
      const visit = (n: LayoutItem | FieldNode) => {
        ex.add(DROP + n.id);
        if (n.id !== id) ex.add(n.id);
        if (n.kind === 'field') n.columns?.forEach(visit);
        else n.children.forEach(visit);
      };
      visit(found.node);
    }
    excluded.current = ex;
  };

  const onDragOver = (e: DragOverEvent) => setOverId(e.over ? String(e.over.id) : null);

  const finish = () => {
    setActive(null);
    setOverId(null);
    excluded.current = new Set();
  };

  const onDragEnd = (e: DragEndEvent) => {
    finish();
    const over = e.over;
    if (!over) return;
    const s = stateRef.current;
    const activeId = String(e.active.id);
    const overKey = String(over.id);
    let target: NodeId;
    let index: number;
    const fromPalette = activeId.startsWith(PALETTE);
    const src = fromPalette ? null : findNode(s, activeId);
    if (overKey.startsWith(DROP)) {
      target = baseId(overKey);
      const t = target === ROOT ? null : findNode(s, target)?.node;
      index = target === ROOT ? s.root.length : t?.kind === 'field' ? (t.columns?.length ?? 0) : (t?.children.length ?? 0);
      if (src && src.parent === target) index -= 1;
    } else {
      const o = findNode(s, overKey);
      if (!o) return;
      target = o.parent;
      index = o.index;
      if (src && src.parent === o.parent) {
        // Within one list: the sortable preview's position (arrayMove).
        if (activeId === overKey) return;
      } else {
        // Into another list: before or after the element, by where the dragged box is.
        const r = e.active.rect.current.translated;
        const row = target !== ROOT && findNode(s, target)?.node.kind !== 'group' && findNode(s, target)?.node.kind !== 'vertical';
        if (r) {
          const c = row ? r.left + r.width / 2 : r.top + r.height / 2;
          const oc = row ? over.rect.left + over.rect.width / 2 : over.rect.top + over.rect.height / 2;
          if (c > oc) index += 1;
        }
      }
    }
    if (fromPalette) {
      const item = activeId.slice(PALETTE.length) as PaletteItem;
      apply((st) => addFromPalette(st, item, target, index));
      const next = addFromPalette(s, item, target, index);
      if (next !== s && next.lastAdded) onSelect(next.lastAdded);
    } else {
      apply((st) => move(st, activeId, target, index));
    }
  };

  const activeText = useMemo(() => {
    if (!active) return null;
    if (active.startsWith(PALETTE)) {
      const item = active.slice(PALETTE.length);
      return t(`designer.palette.${item}`);
    }
    const n = findNode(state, active)?.node;
    if (!n) return null;
    return n.kind === 'field' ? label(n.schema['x-label'], n.key) : n.kind === 'group' ? label(n.label) : t('designer.palette.row');
  }, [active, state, t, label]);

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={collision}
      onDragStart={onDragStart}
      onDragOver={onDragOver}
      onDragEnd={onDragEnd}
      onDragCancel={finish}
      accessibility={{
        screenReaderInstructions: { draggable: t('designer.dnd.instructions') },
      }}
    >
      <OverContext.Provider value={overId}>{children}</OverContext.Provider>
      <DragOverlay dropAnimation={null}>
        {activeText && active?.startsWith(PALETTE) ? (
          <div className="fw-designer-overlay" style={overlayStyle}>
            {activeText}
          </div>
        ) : null}
      </DragOverlay>
    </DndContext>
  );
}

const OverContext = createContext<string | null>(null);

const overlayStyle: React.CSSProperties = {
  padding: '6px 12px',
  background: '#fff',
  border: '1px solid #1677ff',
  borderRadius: 6,
  boxShadow: '0 4px 12px rgba(0,0,0,.15)',
  cursor: 'grabbing',
  width: 160,
};

// ---------------------------------------------------------------------------------------
// Palette

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

// ---------------------------------------------------------------------------------------
// Canvas

export interface CanvasProps {
  state: DesignerState;
  selected: NodeId | null;
  onSelect: (id: NodeId | null) => void;
  /** Messages per node: server errors (red) and local warnings (orange). */
  errors: Map<NodeId, string[]>;
  warnings: Map<NodeId, string[]>;
}

export function Canvas(p: CanvasProps) {
  const { t } = useI18n();
  const { setNodeRef, isOver } = useDroppable({ id: DROP + ROOT });
  return (
    <div
      ref={setNodeRef}
      data-testid="canvas-root"
      onClick={(e) => {
        if (e.target === e.currentTarget) p.onSelect(null);
      }}
      style={{
        minHeight: 420,
        padding: 12,
        paddingBottom: 48,
        background: isOver ? '#f0f7ff' : '#fafafa',
        border: `2px dashed ${isOver ? '#1677ff' : '#d9d9d9'}`,
        borderRadius: 8,
      }}
    >
      {p.state.root.length === 0 && (
        <Typography.Paragraph type="secondary" style={{ textAlign: 'center', marginTop: 140 }}>
          {t('designer.canvas.empty')}
        </Typography.Paragraph>
      )}
      <ItemList {...p} items={p.state.root} container={ROOT} direction="vertical" />
    </div>
  );
}

function ItemList(p: CanvasProps & { items: LayoutItem[]; container: NodeId; direction: 'vertical' | 'horizontal' }) {
  return (
    <SortableContext
      id={p.container}
      items={p.items.map((i) => i.id)}
      strategy={p.direction === 'horizontal' ? horizontalListSortingStrategy : verticalListSortingStrategy}
    >
      <div
        style={
          p.direction === 'horizontal'
            ? { display: 'flex', gap: 8, alignItems: 'stretch' }
            : { display: 'flex', flexDirection: 'column', gap: 8 }
        }
      >
        {p.items.map((n) =>
          n.kind === 'field' ? (
            <FieldCard {...p} key={n.id} node={n} />
          ) : (
            <ContainerCard {...p} key={n.id} node={n} />
          ),
        )}
      </div>
    </SortableContext>
  );
}

function useSortableStyle(id: NodeId) {
  const s = useSortable({ id });
  const overId = useContext(OverContext);
  const style: React.CSSProperties = {
    transform: CSS.Translate.toString(s.transform),
    transition: s.transition,
    opacity: s.isDragging ? 0.4 : 1,
    boxShadow: overId === id && !s.isDragging ? '0 -3px 0 #1677ff' : undefined,
  };
  return { ...s, style };
}

function RuleMark({ rule }: { rule?: { effect: string } }) {
  const { t } = useI18n();
  if (!rule) return null;
  return (
    <Tooltip title={t(rule.effect === 'SHOW' ? 'designer.canvas.ruleShow' : 'designer.canvas.ruleHide')}>
      <EyeInvisibleOutlined style={{ color: '#722ed1' }} data-testid="canvas-rule-mark" />
    </Tooltip>
  );
}

function Messages({ errors, warnings, testId }: { errors?: string[]; warnings?: string[]; testId: string }) {
  if (!errors?.length && !warnings?.length) return null;
  return (
    <div data-testid={testId} style={{ fontSize: 12, marginTop: 4 }}>
      {errors?.map((m, i) => (
        <div key={`e${i}`} style={{ color: '#cf1322' }}>
          {m}
        </div>
      ))}
      {warnings?.map((m, i) => (
        <div key={`w${i}`} style={{ color: '#d48806' }}>
          {m}
        </div>
      ))}
    </div>
  );
}

function FieldCard(p: CanvasProps & { node: FieldNode }) {
  const { t, label } = useI18n();
  const n = p.node;
  const { attributes, listeners, setNodeRef, style } = useSortableStyle(n.id);
  const type = typeOf(n.schema);
  const required = p.state.required.includes(n.key);
  const sel = p.selected === n.id;
  const errs = p.errors.get(n.id);
  const warns = p.warnings.get(n.id);
  return (
    <div
      ref={setNodeRef}
      {...attributes}
      {...listeners}
      data-testid={`canvas-field-${n.key}`}
      data-node={n.id}
      aria-label={t('designer.canvas.fieldAria', { name: label(n.schema['x-label'], n.key), key: n.key })}
      onClick={(e) => {
        e.stopPropagation();
        p.onSelect(n.id);
      }}
      style={{
        ...style,
        flex: 1,
        minWidth: 0,
        padding: '8px 10px',
        background: '#fff',
        border: `1px solid ${errs ? '#ff4d4f' : sel ? '#1677ff' : '#d9d9d9'}`,
        outline: sel ? '2px solid #91caff' : undefined,
        borderRadius: 6,
        cursor: 'grab',
      }}
    >
      <div style={{ display: 'flex', alignItems: 'center', gap: 6 }}>
        <HolderOutlined style={{ color: '#999' }} />
        <span style={{ fontWeight: 500, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
          {required && <span style={{ color: '#ff4d4f' }}>* </span>}
          {label(n.schema['x-label'], n.key)}
        </span>
        <Typography.Text type="secondary" style={{ fontSize: 12 }} code>
          {n.key}
        </Typography.Text>
        <span style={{ marginLeft: 'auto', display: 'flex', gap: 4, alignItems: 'center' }}>
          <RuleMark rule={n.rule} />
          <Tag style={{ marginInlineEnd: 0 }}>{t(`designer.palette.${type}`)}</Tag>
        </span>
      </div>
      <Messages errors={errs} warnings={warns} testId={`field-errors-${n.key}`} />
      {type === 'sub_table' && <ColumnStrip {...p} table={n} />}
    </div>
  );
}

function ColumnStrip(p: CanvasProps & { table: FieldNode }) {
  const { t } = useI18n();
  const { setNodeRef, isOver } = useDroppable({ id: DROP + p.table.id });
  const cols = p.table.columns ?? [];
  return (
    <div
      ref={setNodeRef}
      data-testid={`canvas-drop-${p.table.key}`}
      onClick={(e) => e.stopPropagation()}
      style={{
        marginTop: 8,
        padding: 6,
        minHeight: 40,
        border: `1px dashed ${isOver ? '#1677ff' : '#bfbfbf'}`,
        background: isOver ? '#f0f7ff' : '#f5f5f5',
        borderRadius: 4,
        cursor: 'default',
      }}
    >
      <div style={{ fontSize: 12, color: '#888', marginBottom: 4 }}>
        <TableOutlined /> {t('designer.canvas.columns')}
      </div>
      <SortableContext id={p.table.id} items={cols.map((c) => c.id)} strategy={horizontalListSortingStrategy}>
        <div style={{ display: 'flex', gap: 6, flexWrap: 'wrap' }}>
          {cols.map((c) => (
            <ColumnChip {...p} key={c.id} col={c} />
          ))}
          {cols.length === 0 && <span style={{ fontSize: 12, color: '#999' }}>{t('designer.canvas.dropColumns')}</span>}
        </div>
      </SortableContext>
    </div>
  );
}

function ColumnChip(p: CanvasProps & { col: FieldNode; table: FieldNode }) {
  const { t, label } = useI18n();
  const c = p.col;
  const { attributes, listeners, setNodeRef, style } = useSortableStyle(c.id);
  const req = ((p.table.schema.items?.required as string[] | undefined) ?? []).includes(c.key);
  const sel = p.selected === c.id;
  const errs = p.errors.get(c.id);
  return (
    <div
      ref={setNodeRef}
      {...attributes}
      {...listeners}
      data-testid={`canvas-field-${p.table.key}.${c.key}`}
      data-node={c.id}
      aria-label={t('designer.canvas.fieldAria', { name: label(c.schema['x-label'], c.key), key: c.key })}
      onClick={(e) => {
        e.stopPropagation();
        p.onSelect(c.id);
      }}
      style={{
        ...style,
        padding: '2px 8px',
        background: '#fff',
        border: `1px solid ${errs ? '#ff4d4f' : sel ? '#1677ff' : '#d9d9d9'}`,
        borderRadius: 4,
        fontSize: 12,
        cursor: 'grab',
      }}
    >
      {req && <span style={{ color: '#ff4d4f' }}>* </span>}
      {label(c.schema['x-label'], c.key)} <span style={{ color: '#999' }}>({t(`designer.palette.${typeOf(c.schema)}`)})</span>
      <Messages errors={errs} testId={`field-errors-${p.table.key}.${c.key}`} />
    </div>
  );
}

function ContainerCard(p: CanvasProps & { node: ContainerNode }) {
  const { t, label } = useI18n();
  const n = p.node;
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, style } = useSortableStyle(n.id);
  const drop = useDroppable({ id: DROP + n.id });
  const sel = p.selected === n.id;
  const errs = p.errors.get(n.id);
  const title =
    n.kind === 'group' ? label(n.label, t('designer.palette.group')) : n.kind === 'row' ? t('designer.palette.row') : t('designer.canvas.vertical');
  return (
    <div
      ref={setNodeRef}
      data-testid={`canvas-container-${n.id}`}
      data-kind={n.kind}
      onClick={(e) => {
        e.stopPropagation();
        p.onSelect(n.id);
      }}
      style={{
        ...style,
        flex: 1,
        minWidth: 0,
        background: n.kind === 'group' ? '#fff' : 'transparent',
        border: `1px ${n.kind === 'group' ? 'solid' : 'dashed'} ${errs ? '#ff4d4f' : sel ? '#1677ff' : '#bfbfbf'}`,
        outline: sel ? '2px solid #91caff' : undefined,
        borderRadius: 6,
      }}
    >
      <div
        ref={setActivatorNodeRef}
        {...attributes}
        {...listeners}
        aria-label={t('designer.canvas.containerAria', { name: title })}
        data-testid={`canvas-handle-${n.id}`}
        style={{
          display: 'flex',
          alignItems: 'center',
          gap: 6,
          padding: '4px 8px',
          cursor: 'grab',
          borderBottom: '1px solid #f0f0f0',
          fontSize: n.kind === 'group' ? 14 : 12,
          fontWeight: n.kind === 'group' ? 600 : 400,
          color: n.kind === 'group' ? undefined : '#888',
        }}
      >
        <HolderOutlined style={{ color: '#999' }} />
        {n.kind === 'group' ? <AppstoreOutlined /> : <BorderHorizontalOutlined />}
        <span>{title}</span>
        <span style={{ marginLeft: 'auto' }}>
          <RuleMark rule={n.rule} />
        </span>
      </div>
      <Messages errors={errs} testId={`container-errors-${n.id}`} />
      <div
        ref={drop.setNodeRef}
        data-testid={`canvas-drop-${n.id}`}
        style={{
          padding: 8,
          minHeight: 48,
          background: drop.isOver ? '#f0f7ff' : undefined,
          borderRadius: 6,
        }}
      >
        {n.children.length === 0 && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('designer.canvas.dropHere')}
          </Typography.Text>
        )}
        <ItemList {...p} items={n.children} container={n.id} direction={n.kind === 'row' ? 'horizontal' : 'vertical'} />
      </div>
    </div>
  );
}
