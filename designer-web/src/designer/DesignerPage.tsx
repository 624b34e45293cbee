// The form designer: `/apps/:app/design` lists the app's forms and creates new ones
// (FormList.tsx), `/apps/:app/design/:form` edits one: palette → canvas (drag and drop,
// also by keyboard) → property panel, live preview, save draft, publish, versions with
// differences, undo/redo; fields whose type differs from the published version are marked
// (publishedTypes.ts). The model (src/designer/model.ts and the modules it names) does
// all the work on the definition.
//
// data-testid beyond the ones of the brief:
//   palette-group, palette-row            layout items of the palette (Group, columns)
//   canvas-field-<table>.<col>            a sub-table column on the canvas
//   canvas-container-<id>, canvas-handle-<id>, canvas-drop-<id>   group/columns node,
//                                          its drag handle and its drop zone
//   canvas-drop-<table key>               a sub-table's column drop strip
//   field-errors-<key>                    messages shown under a canvas field
//   prop-help-zh, prop-help-en, prop-default, prop-minLength, prop-maxLength,
//   prop-minimum, prop-maximum, prop-maxItems, prop-currency, prop-options,
//   prop-option-value-<i>, prop-option-zh-<i>, prop-option-en-<i>, prop-option-remove-<i>,
//   prop-option-add, prop-ref-form, prop-ref-display, prop-serial, prop-formula,
//   prop-computed-type, prop-accept, prop-x-max-size, prop-indexed, prop-unique,
//   prop-confidential, prop-wrap-group, prop-wrap-row, prop-unwrap, prop-delete,
//   prop-errors (server errors of the selected element)
//   prop-type (a field's type), prop-type-notice, prop-type-dropped (what a type change
//   dropped; each item has data-setting=<setting>)
//   rule-editor, rule-current, rule-remove-<i>, rule-clear
//   reqwhen-field, reqwhen-value, reqwhen-add, reqwhen-remove-<id>
//   form-label-zh, form-label-en, form-key   form settings (nothing selected)
//   designer-tab-props, designer-tab-preview, designer-tab-versions   right-hand tabs
//   designer-preview-reset, designer-dirty, designer-back, designer-title
//   designer-versions, versions-list, version-row-<n>, version-diff-prev-<n>,
//   version-diff-draft-<n>, diff-a, diff-b, designer-diff, diff-added, diff-removed,
//   diff-changed, diff-layout, diff-form
//   designer-form-list, designer-form-<key>   the form list (FormList.tsx)
//   designer-type-warnings, type-warning-<path>, canvas-type-changed-<path>,
//   prop-type-published   fields whose type differs from the published version
//                                          (PublishedTypeWarnings.tsx)
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, App as AntApp, Button, Card, Space, Spin, Tabs, Tag, Tooltip, Typography } from 'antd';
import { CloudUploadOutlined, RedoOutlined, SaveOutlined, UndoOutlined } from '@ant-design/icons';
import { api, ApiError, fieldErrors, type ErrorDetail } from '../api/client.ts';
import type { FormDefinition, FormDetail, FormSummary } from '../api/types.ts';
import { RecordForm } from '../forms/RecordForm.tsx';
import { defaults } from '../forms/model.ts';
import { validateRecord } from '../forms/validate.ts';
import { useI18n } from '../i18n/index.tsx';
import { Canvas } from './Canvas.tsx';
import { DesignerDnd, addFromPalette, addTarget } from './DesignerDnd.tsx';
import { Palette } from './Palette.tsx';
import { PropertyPanel } from './PropertyPanel.tsx';
import { VersionsPanel } from './VersionsPanel.tsx';
import { FormList } from './FormList.tsx';
import type { NodeId } from './model.ts';
import { fromDefinition, toDefinition } from './definition.ts';
import { commit, history, redo, undo, type Apply, type History } from './history.ts';
import { lint, nodeOfPointer } from './checks.ts';
import { changesByNode, publishedTypeChanges } from './publishedTypes.ts';
import { TypeChangeSummary } from './PublishedTypeWarnings.tsx';

export default function DesignerPage() {
  const { app = '', form } = useParams();
  return form ? <Editor key={`${app}/${form}`} app={app} form={form} /> : <FormList app={app} />;
}

// ---------------------------------------------------------------------------------------
// Editor

function isEditable(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

function Editor({ app, form }: { app: string; form: string }) {
  const { t, label } = useI18n();
  const { message } = AntApp.useApp();
  const [h, setH] = useState<History | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [publishedVersion, setPublishedVersion] = useState<number | null>(null);
  /** The published definition (the draft's fields are compared with it). */
  const [published, setPublished] = useState<FormDefinition | null>(null);
  const [savedJson, setSavedJson] = useState<string>('');
  const [selected, setSelected] = useState<NodeId | null>(null);
  const [serverErrors, setServerErrors] = useState<ErrorDetail[]>([]);
  const [forms, setForms] = useState<FormSummary[]>([]);
  const [busy, setBusy] = useState<'save' | 'publish' | null>(null);
  const [tab, setTab] = useState('props');
  const [previewData, setPreviewData] = useState<Record<string, unknown> | null>(null);
  const [versionsKey, setVersionsKey] = useState(0);

  useEffect(() => {
    api<FormDetail>(`/apps/${app}/forms/${form}`)
      .then((d) => {
        const def = d.draft ?? d.definition;
        if (!def) throw new Error(t('common.notFound'));
        const s = fromDefinition(def);
        setH(history(s));
        setSavedJson(JSON.stringify(toDefinition(s)));
        setPublishedVersion(d.published_version);
        setPublished(d.definition);
      })
      .catch((e: Error) => setLoadError(e.message));
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items))
      .catch(() => setForms([]));
  }, [app, form, t]);

  const presentRef = useRef<History | null>(null);
  presentRef.current = h;
  const apply: Apply = useCallback((fn, opts) => {
    // Editing an element clears the server's complaints about it (the next save re-checks).
    const before = presentRef.current?.present;
    if (opts?.node && before) {
      const node = opts.node;
      setServerErrors((errs) => errs.filter((e) => nodeOfPointer(before, e.pointer) !== node));
    }
    setH((cur) => (cur ? commit(cur, fn(cur.present), opts?.tag) : cur));
  }, []);

  const state = h?.present ?? null;
  const definition = useMemo(() => (state ? toDefinition(state) : null), [state]);
  const dirty = definition ? JSON.stringify(definition) !== savedJson : false;
  const typeChanges = useMemo(() => (state ? publishedTypeChanges(state, published) : []), [state, published]);
  const typeChangeOf = useMemo(() => changesByNode(typeChanges), [typeChanges]);

  // Undo / redo from the keyboard (not while typing in an input: that is the input's own undo).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || isEditable(e.target)) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        setH((cur) => (cur ? undo(cur) : cur));
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        setH((cur) => (cur ? redo(cur) : cur));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Errors per canvas node: the server's (by pointer) and the local checks.
  const { errorsByNode, otherErrors } = useMemo(() => {
    const byNode = new Map<NodeId, string[]>();
    const other: ErrorDetail[] = [];
    if (state)
      for (const e of serverErrors) {
        const id = nodeOfPointer(state, e.pointer);
        if (id) byNode.set(id, [...(byNode.get(id) ?? []), e.message]);
        else other.push(e);
      }
    return { errorsByNode: byNode, otherErrors: other };
  }, [state, serverErrors]);
  const warningsByNode = useMemo(() => {
    const m = new Map<NodeId, string[]>();
    if (!state) return m;
    for (const p of lint(state)) {
      const id = nodeOfPointer(state, p.pointer);
      if (id) m.set(id, [...(m.get(id) ?? []), t(`designer.lint.${p.rule}`)]);
    }
    return m;
  }, [state, t]);

  const handleError = (e: unknown) => {
    if (e instanceof ApiError && e.details.length > 0) {
      setServerErrors(e.details);
      const first = state ? e.details.map((d) => nodeOfPointer(state, d.pointer)).find((x) => x) : null;
      if (first) {
        setSelected(first);
        setTab('props');
      }
      message.error(t('designer.save.invalid', { n: e.details.length }));
    } else {
      setServerErrors([{ pointer: '', rule: 'error', message: e instanceof Error ? e.message : String(e) }]);
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  const save = async () => {
    if (!definition) return;
    setBusy('save');
    try {
      await api(`/apps/${app}/forms/${form}/draft`, { method: 'PUT', body: definition });
      setServerErrors([]);
      setSavedJson(JSON.stringify(definition));
      message.success(t('designer.save.saved'));
    } catch (e) {
      handleError(e);
    } finally {
      setBusy(null);
    }
  };

  const publish = async () => {
    if (!definition) return;
    setBusy('publish');
    try {
      const r = await api<{ version: number; published: boolean }>(`/apps/${app}/forms/${form}/publish`, {
        method: 'POST',
        body: definition,
      });
      setServerErrors([]);
      setSavedJson(JSON.stringify(definition));
      setPublishedVersion(r.version);
      setPublished(definition);
      setVersionsKey((k) => k + 1);
      message.success(t(r.published ? 'designer.publish.done' : 'designer.publish.same', { n: r.version }));
    } catch (e) {
      handleError(e);
    } finally {
      setBusy(null);
    }
  };

  const data = previewData ?? (definition ? defaults(definition.schema) : {});
  const previewErrors = useMemo(() => {
    if (!definition) return new Map<string, string[]>();
    return fieldErrors(validateRecord(definition.schema, data)).byField;
  }, [definition, data]);

  if (loadError) return <Alert type="error" message={loadError} action={<Link to={`/apps/${app}/design`}>{t('common.back')}</Link>} />;
  if (!h || !state || !definition) return <Spin />;

  const onAdd = (item: Parameters<typeof addFromPalette>[1]) => {
    const { target, index } = addTarget(state, selected, item);
    const next = addFromPalette(state, item, target, index);
    if (next === state) return;
    apply(() => next);
    if (next.lastAdded) setSelected(next.lastAdded);
  };

  const selErrors = selected ? (errorsByNode.get(selected) ?? []) : [];

  return (
    <div data-testid="designer">
      <div style={{ display: 'flex', alignItems: 'center', gap: 8, marginBottom: 12, flexWrap: 'wrap' }}>
        <Link to={`/apps/${app}/design`} data-testid="designer-back">
          {t('designer.list.title')}
        </Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="designer-title">
          {label(state.label, state.key)}
        </Typography.Title>
        <Typography.Text code>{state.key}</Typography.Text>
        {publishedVersion ? (
          <Tag color="green">{t('designer.versions.published', { n: publishedVersion })}</Tag>
        ) : (
          <Tag>{t('designer.list.unpublished')}</Tag>
        )}
        {dirty && (
          <Tag color="orange" data-testid="designer-dirty">
            {t('designer.save.unsaved')}
          </Tag>
        )}
        <Space style={{ marginLeft: 'auto' }}>
          <Tooltip title="Ctrl+Z">
            <Button
              icon={<UndoOutlined />}
              data-testid="designer-undo"
              disabled={h.past.length === 0}
              onClick={() => setH((cur) => (cur ? undo(cur) : cur))}
            >
              {t('designer.undo')}
            </Button>
          </Tooltip>
          <Tooltip title="Ctrl+Shift+Z">
            <Button
              icon={<RedoOutlined />}
              data-testid="designer-redo"
              disabled={h.future.length === 0}
              onClick={() => setH((cur) => (cur ? redo(cur) : cur))}
            >
              {t('designer.redo')}
            </Button>
          </Tooltip>
          <Button icon={<SaveOutlined />} data-testid="designer-save" loading={busy === 'save'} onClick={() => void save()}>
            {t('designer.save')}
          </Button>
          <Button
            type="primary"
            icon={<CloudUploadOutlined />}
            data-testid="designer-publish"
            loading={busy === 'publish'}
            onClick={() => void publish()}
          >
            {t('designer.publish')}
          </Button>
        </Space>
      </div>
      <TypeChangeSummary
        changes={typeChanges}
        version={publishedVersion}
        state={state}
        onSelect={(id) => {
          setSelected(id);
          setTab('props');
        }}
      />
      {serverErrors.length > 0 && (
        <Alert
          type="error"
          showIcon
          closable
          onClose={() => setServerErrors([])}
          data-testid="designer-errors"
          style={{ marginBottom: 12 }}
          message={t('designer.errors.title', { n: serverErrors.length })}
          description={
            <ul style={{ margin: 0, paddingLeft: 16 }}>
              {serverErrors
                .filter((e) => !otherErrors.includes(e))
                .map((e, i) => {
                  const id = nodeOfPointer(state, e.pointer);
                  return (
                    <li key={`f${i}`}>
                      <Button type="link" size="small" style={{ padding: 0 }} onClick={() => id && (setSelected(id), setTab('props'))}>
                        {e.pointer}
                      </Button>
                      : {e.message}
                    </li>
                  );
                })}
              {otherErrors.map((e, i) => (
                <li key={`o${i}`} data-testid="designer-error-other">
                  {e.pointer && <Typography.Text code>{e.pointer}</Typography.Text>} {e.message}
                </li>
              ))}
            </ul>
          }
        />
      )}
      <DesignerDnd state={state} apply={apply} onSelect={setSelected}>
        <div style={{ display: 'grid', gridTemplateColumns: '200px minmax(0, 1fr) 400px', gap: 12, alignItems: 'start' }}>
          <Card size="small" style={{ position: 'sticky', top: 8 }} styles={{ body: { padding: 8 } }}>
            <Palette onAdd={onAdd} />
          </Card>
          <Canvas
            state={state}
            selected={selected}
            onSelect={setSelected}
            errors={errorsByNode}
            warnings={warningsByNode}
            typeChanges={typeChangeOf}
            publishedVersion={publishedVersion}
          />
          <Card size="small" style={{ position: 'sticky', top: 8, maxHeight: 'calc(100vh - 16px)', overflow: 'auto' }}>
            <Tabs
              activeKey={tab}
              onChange={setTab}
              size="small"
              items={[
                {
                  key: 'props',
                  label: <span data-testid="designer-tab-props">{t('designer.tab.props')}</span>,
                  children: (
                    <PropertyPanel
                      app={app}
                      state={state}
                      selected={selected}
                      apply={apply}
                      onSelect={setSelected}
                      forms={forms}
                      errors={selErrors}
                      typeChanges={typeChangeOf}
                      publishedVersion={publishedVersion}
                    />
                  ),
                },
                {
                  key: 'preview',
                  label: <span data-testid="designer-tab-preview">{t('designer.tab.preview')}</span>,
                  children: (
                    <div data-testid="designer-preview">
                      <div style={{ display: 'flex', justifyContent: 'space-between', marginBottom: 8 }}>
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {t('designer.preview.hint')}
                        </Typography.Text>
                        <Button size="small" data-testid="designer-preview-reset" onClick={() => setPreviewData(null)}>
                          {t('designer.preview.reset')}
                        </Button>
                      </div>
                      <RecordForm app={app} definition={definition} data={data} onChange={(update) => setPreviewData((prev) => update(prev ?? data))} errors={previewErrors} />
                    </div>
                  ),
                },
                {
                  key: 'versions',
                  label: <span data-testid="designer-tab-versions">{t('designer.tab.versions')}</span>,
                  children: <VersionsPanel app={app} form={form} draft={definition} refreshKey={versionsKey} />,
                },
              ]}
            />
          </Card>
        </div>
      </DesignerDnd>
    </div>
  );
}
