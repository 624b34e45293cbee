// The canvas: the layout tree as nested drop zones of sortable fields, groups, rows and
// sub-table column strips, with each element's rule mark, type (a warning when it differs
// from the published version) and messages.
import { useContext } from 'react';
import { useDroppable } from '@dnd-kit/core';
import { SortableContext, horizontalListSortingStrategy, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { Tooltip, Typography } from 'antd';
import { AppstoreOutlined, BorderHorizontalOutlined, EyeInvisibleOutlined, HolderOutlined, TableOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n/index.tsx';
import { ROOT, type ContainerNode, type DesignerState, type FieldNode, type LayoutItem, type NodeId } from './model.ts';
import { typeOf } from './fieldTypes.ts';
import { DROP, OverContext } from './DesignerDnd.tsx';
import type { PublishedTypeChange } from './publishedTypes.ts';
import { TypeTag } from './PublishedTypeWarnings.tsx';

export interface CanvasProps {
  state: DesignerState;
  selected: NodeId | null;
  onSelect: (id: NodeId | null) => void;
  /** Messages per node: server errors (red) and local warnings (orange). */
  errors: Map<NodeId, string[]>;
  warnings: Map<NodeId, string[]>;
  /** Fields whose type differs from the published version (`publishedVersion`). */
  typeChanges: Map<NodeId, PublishedTypeChange>;
  publishedVersion: number | null;
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
          <TypeTag type={type} change={p.typeChanges.get(n.id)} version={p.publishedVersion} />
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
      {label(c.schema['x-label'], c.key)}{' '}
      {p.typeChanges.has(c.id) ? (
        <TypeTag type={typeOf(c.schema)} change={p.typeChanges.get(c.id)} version={p.publishedVersion} />
      ) : (
        <span style={{ color: '#999' }}>({t(`designer.palette.${typeOf(c.schema)}`)})</span>
      )}
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
