// Warnings for draft fields whose type differs from the published version
// (publishedTypes.ts): the canvas element's type tag turns into a warning, the property
// panel explains, and a summary under the toolbar, next to Publish, lists them all.
//
// data-testid: designer-type-warnings (the summary), type-warning-<path> (its items, a
// button selecting the field), canvas-type-changed-<path> (the canvas type tag),
// prop-type-published (the property panel's explanation).
import { Alert, Button, Tag, Tooltip, Typography } from 'antd';
import { WarningOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n/index.tsx';
import { findNode, type DesignerState, type NodeId } from './model.ts';
import type { PublishedTypeChange, StoredType } from './publishedTypes.ts';

type T = (key: string, vars?: Record<string, string | number>) => string;

/** `Number`, or `Computed (Text)` for a computed field's result type. */
function typeName(s: StoredType, t: T): string {
  const type = t(`designer.palette.${s.type}`);
  return s.result ? t('designer.published.computed', { type, result: t(`designer.prop.jsonType.${s.result}`) }) : type;
}

function explanation(c: PublishedTypeChange, version: number, t: T): string {
  return t('designer.published.field', { n: version, from: typeName(c.from, t), to: typeName(c.to, t) });
}

/** A canvas field's or column's type tag, as a warning when the type differs from the
 * published version (the tooltip says what that means for stored records). */
export function TypeTag(p: { type: string; change?: PublishedTypeChange; version: number | null }) {
  const { t } = useI18n();
  const name = t(`designer.palette.${p.type}`);
  if (!p.change || p.version === null) return <Tag style={{ marginInlineEnd: 0 }}>{name}</Tag>;
  return (
    <Tooltip title={`${explanation(p.change, p.version, t)} ${t('designer.published.records')}`}>
      <Tag
        color="warning"
        icon={<WarningOutlined />}
        style={{ marginInlineEnd: 0 }}
        data-testid={`canvas-type-changed-${p.change.path}`}
        aria-label={`${name}: ${t('designer.published.tag')}`}
      >
        {name}
      </Tag>
    </Tooltip>
  );
}

/** The property panel's explanation for the selected field. */
export function TypeChangeAlert({ change, version }: { change?: PublishedTypeChange; version: number | null }) {
  const { t } = useI18n();
  if (!change || version === null) return null;
  return (
    <Alert
      type="warning"
      showIcon
      data-testid="prop-type-published"
      style={{ marginBottom: 12 }}
      title={explanation(change, version, t)}
      description={t('designer.published.records')}
    />
  );
}

/** Every changed field, next to Publish; a field's name selects it. */
export function TypeChangeSummary(p: {
  changes: PublishedTypeChange[];
  version: number | null;
  state: DesignerState;
  onSelect: (id: NodeId) => void;
}) {
  const { t, label } = useI18n();
  if (p.changes.length === 0 || p.version === null) return null;
  const name = (c: PublishedTypeChange) => {
    const e = findNode(p.state, c.id);
    return e?.node.kind === 'field' ? label(e.node.schema['x-label'], e.node.key) : c.path;
  };
  return (
    <Alert
      type="warning"
      showIcon
      data-testid="designer-type-warnings"
      style={{ marginBottom: 12 }}
      title={t('designer.published.summary', { n: p.changes.length, v: p.version })}
      description={
        <>
          <ul style={{ margin: 0, paddingLeft: 16 }}>
            {p.changes.map((c) => (
              <li key={c.id} data-testid={`type-warning-${c.path}`}>
                <Button type="link" size="small" style={{ padding: 0, height: 'auto' }} onClick={() => p.onSelect(c.id)}>
                  {name(c)}
                </Button>{' '}
                <Typography.Text code>{c.path}</Typography.Text>{' '}
                {t('designer.published.change', { from: typeName(c.from, t), to: typeName(c.to, t) })}
              </li>
            ))}
          </ul>
          <div style={{ marginTop: 4 }}>{t('designer.published.records')}</div>
        </>
      }
    />
  );
}
