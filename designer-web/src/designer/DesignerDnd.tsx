// Drag and drop in the designer (dnd-kit, by mouse, touch and keyboard): the context
// around the palette (Palette.tsx) and the canvas (Canvas.tsx), where a drop lands, and
// what "add" from the palette does.
//
// Ids: palette items `palette:<type>` (`palette:group`, `palette:row` for layouts);
// canvas nodes their model id (`n12`); drop zones `drop:<container id>` (`drop:root`, a
// group, a row, or a sub-table's column strip).
import { createContext, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  pointerWithin,
  useSensor,
  useSensors,
  type CollisionDetection,
  type DragEndEvent,
  type DragOverEvent,
  type DragStartEvent,
  type KeyboardCoordinateGetter,
} from '@dnd-kit/core';
import { sortableKeyboardCoordinates } from '@dnd-kit/sortable';
import type { FieldType } from '../forms/model.ts';
import { useI18n } from '../i18n/index.tsx';
import { ROOT, findNode, type DesignerState, type FieldNode, type LayoutItem, type NodeId } from './model.ts';
import { typeOf } from './fieldTypes.ts';
import type { Apply } from './history.ts';
import { addContainer, addField, move } from './operations.ts';

export const PALETTE_LAYOUTS = ['group', 'row'] as const;
export type PaletteItem = FieldType | (typeof PALETTE_LAYOUTS)[number];

export const DROP = 'drop:';
export const PALETTE = 'palette:';

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

/** The id of the drop target under the dragged element (for the canvas' insert marks). */
export const OverContext = createContext<string | null>(null);

const overlayStyle: React.CSSProperties = {
  padding: '6px 12px',
  background: '#fff',
  border: '1px solid #1677ff',
  borderRadius: 6,
  boxShadow: '0 4px 12px rgba(0,0,0,.15)',
  cursor: 'grabbing',
  width: 160,
};
