// Published versions of the form and a readable difference between any two of them (or
// the draft being edited).
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Empty, List, Select, Space, Spin, Tag, Typography } from 'antd';
import { api } from '../api/client.ts';
import type { FormDefinition, Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { diffDefinitions, diffIsEmpty, type DefinitionDiff, type LayoutChange } from './diff.ts';

interface VersionItem {
  version: number;
  author: string;
  published_at: string;
}

export const DRAFT = 'draft';

export function VersionsPanel(p: { app: string; form: string; draft: FormDefinition; refreshKey: number }) {
  const { t } = useI18n();
  const [items, setItems] = useState<VersionItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [a, setA] = useState<string | undefined>();
  const [b, setB] = useState<string>(DRAFT);
  const [defs, setDefs] = useState<Record<string, FormDefinition>>({});

  useEffect(() => {
    let live = true;
    api<{ items: VersionItem[] }>(`/apps/${p.app}/forms/${p.form}/versions`)
      .then((r) => {
        if (!live) return;
        const list = [...r.items].sort((x, y) => y.version - x.version);
        setItems(list);
        setA((cur) => cur ?? (list[0] ? String(list[0].version) : undefined));
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [p.app, p.form, p.refreshKey]);

  const load = useCallback(
    async (v: string) => {
      if (v === DRAFT || defs[v]) return;
      const r = await api<{ version: number; definition: FormDefinition }>(`/apps/${p.app}/forms/${p.form}/versions/${v}`);
      setDefs((d) => ({ ...d, [v]: r.definition }));
    },
    [p.app, p.form, defs],
  );
  useEffect(() => {
    if (a) void load(a).catch((e: Error) => setError(e.message));
    if (b) void load(b).catch((e: Error) => setError(e.message));
  }, [a, b, load]);

  const defOf = (v: string | undefined) => (v === DRAFT ? p.draft : v ? defs[v] : undefined);
  const da = defOf(a);
  const db = defOf(b);
  const diff = useMemo(() => (da && db ? diffDefinitions(da, db) : null), [da, db]);

  if (error) return <Alert type="error" message={error} />;
  if (!items) return <Spin />;
  const choices = [
    { value: DRAFT, label: t('designer.versions.draft') },
    ...items.map((v) => ({ value: String(v.version), label: t('designer.versions.version', { n: v.version }) })),
  ];
  return (
    <div data-testid="designer-versions">
      {items.length === 0 ? (
        <Empty description={t('designer.versions.none')} />
      ) : (
        <List
          size="small"
          data-testid="versions-list"
          dataSource={items}
          renderItem={(v) => (
            <List.Item
              data-testid={`version-row-${v.version}`}
              actions={[
                <Button
                  key="prev"
                  size="small"
                  type="link"
                  disabled={v.version <= 1}
                  data-testid={`version-diff-prev-${v.version}`}
                  onClick={() => {
                    setA(String(v.version - 1));
                    setB(String(v.version));
                  }}
                >
                  {t('designer.versions.vsPrevious')}
                </Button>,
                <Button
                  key="draft"
                  size="small"
                  type="link"
                  data-testid={`version-diff-draft-${v.version}`}
                  onClick={() => {
                    setA(String(v.version));
                    setB(DRAFT);
                  }}
                >
                  {t('designer.versions.vsDraft')}
                </Button>,
              ]}
            >
              <Space direction="vertical" size={0}>
                <Typography.Text strong>{t('designer.versions.version', { n: v.version })}</Typography.Text>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {v.author} · {new Date(v.published_at).toLocaleString()}
                </Typography.Text>
              </Space>
            </List.Item>
          )}
        />
      )}
      <Space style={{ margin: '12px 0' }} wrap>
        <Select data-testid="diff-a" style={{ width: 130 }} value={a} options={choices} onChange={setA} />
        →
        <Select data-testid="diff-b" style={{ width: 130 }} value={b} options={choices} onChange={setB} />
      </Space>
      {diff ? <DiffView diff={diff} /> : a && <Spin />}
    </div>
  );
}

export function DiffView({ diff }: { diff: DefinitionDiff }) {
  const { t, label } = useI18n();
  if (diffIsEmpty(diff)) return <Typography.Paragraph data-testid="designer-diff">{t('designer.diff.none')}</Typography.Paragraph>;
  const path = (p: Label[]) => (p.length === 0 ? t('designer.diff.top') : p.map((l) => label(l)).join(' › '));
  const layoutText = (c: LayoutChange): string => {
    switch (c.kind) {
      case 'groupAdded':
      case 'groupRemoved':
        return t(`designer.diff.${c.kind}`, { name: label(c.label) });
      case 'groupRenamed':
        return t('designer.diff.groupRenamed', { from: label(c.from), to: label(c.to) });
      case 'moved':
        return t('designer.diff.moved', { key: c.key, from: path(c.from), to: path(c.to) });
      case 'reordered':
        return t('designer.diff.reordered', { where: path(c.container) });
      default:
        return t(`designer.diff.${c.kind}`, { target: c.target.replace(/^group:/, '') });
    }
  };
  return (
    <div data-testid="designer-diff" style={{ fontSize: 13 }}>
      {diff.added.length > 0 && (
        <p data-testid="diff-added">
          <Tag color="green">{t('designer.diff.added')}</Tag>
          {diff.added.join(', ')}
        </p>
      )}
      {diff.removed.length > 0 && (
        <p data-testid="diff-removed">
          <Tag color="red">{t('designer.diff.removed')}</Tag>
          {diff.removed.join(', ')}
        </p>
      )}
      {diff.changed.length > 0 && (
        <div data-testid="diff-changed">
          <Tag color="blue">{t('designer.diff.changed')}</Tag>
          <ul style={{ paddingLeft: 18, margin: '4px 0' }}>
            {diff.changed.map((c) => (
              <li key={c.key}>
                <Typography.Text code>{c.key}</Typography.Text>: {c.attributes.map((x) => attrName(x, t)).join(', ')}
              </li>
            ))}
          </ul>
        </div>
      )}
      {diff.layout.length > 0 && (
        <div data-testid="diff-layout">
          <Tag color="purple">{t('designer.diff.layout')}</Tag>
          <ul style={{ paddingLeft: 18, margin: '4px 0' }}>
            {diff.layout.map((c, i) => (
              <li key={i}>{layoutText(c)}</li>
            ))}
          </ul>
        </div>
      )}
      {diff.form.length > 0 && (
        <p data-testid="diff-form">
          <Tag>{t('designer.diff.form')}</Tag>
          {diff.form.map((x) => attrName(x, t)).join(', ')}
        </p>
      )}
    </div>
  );
}

const KNOWN_ATTRS = [
  'x-label', 'x-help', 'required', 'default', 'enum', 'x-options', 'minLength', 'maxLength', 'minimum', 'maximum',
  'maxItems', 'x-ref', 'x-serial', 'x-formula', 'x-indexed', 'x-unique', 'x-confidential', 'x-type', 'type',
  'label', 'requiredWhen', 'indexes', 'print', 'x-currency', 'x-accept', 'x-max-size',
];

/** A readable attribute name: `x-label` → "label", `qty.minimum` → "qty: minimum". */
function attrName(a: string, t: (k: string) => string): string {
  const m = /^(.*\.)?([^.]+)$/.exec(a);
  const last = m?.[2] ?? a;
  const prefix = m?.[1] ? `${m[1].slice(0, -1)}: ` : '';
  if (last.startsWith('column ')) return t(last.startsWith('column +') ? 'designer.diff.columnAdded' : 'designer.diff.columnRemoved') + ' ' + last.slice(8);
  return prefix + (KNOWN_ATTRS.includes(last) ? t(`designer.attr.${last}`) : last);
}
