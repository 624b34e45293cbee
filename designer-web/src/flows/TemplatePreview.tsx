// A message template's preview on a real record (POST /apps/{app}/flows/{flow}/preview):
// pick a record of the trigger form and, optionally, the recipient to preview as; the
// server renders the title and body the way a step would, through that recipient's field
// mask (a field they may not read shows as an error, as it would in the message).
//
// data-testid: flow-preview, flow-preview-record, flow-preview-as, flow-preview-run,
// flow-preview-result-<name> (rendered text), flow-preview-error-<name>
import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Form, Select, Space, Typography } from 'antd';
import { EyeOutlined } from '@ant-design/icons';
import { api, ApiError } from '../api/client.ts';
import type { JsonSchema } from '../api/types.ts';
import { searchRecords } from '../forms/directory.ts';
import { useI18n } from '../i18n/index.tsx';
import type { Option } from './inputs.tsx';

export type PreviewResults = Record<string, { text?: string; error?: string }>;

/** The field a record is best named by in a picker: a serial number, else the first text. */
export function displayField(fields: Map<string, JsonSchema>): string | undefined {
  const entries = [...fields.entries()];
  return (
    entries.find(([, s]) => s['x-type'] === 'serial')?.[0] ?? entries.find(([, s]) => s['x-type'] === 'text' || (s.type === 'string' && !s['x-type']))?.[0]
  );
}

/** The templates worth rendering: the non-empty ones. */
export function previewTemplates(t: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t)) if (typeof v === 'string' && v.trim() !== '') out[k] = v;
  return out;
}

export function TemplatePreview(p: {
  app: string;
  flow: string;
  form: string | undefined;
  fields: Map<string, JsonSchema>;
  users: Option[];
  templates: Record<string, unknown>;
}) {
  const { t } = useI18n();
  const [record, setRecord] = useState<number | undefined>();
  const [asUser, setAsUser] = useState<string | undefined>();
  const [options, setOptions] = useState<{ value: number; label: string }[]>([]);
  const [results, setResults] = useState<PreviewResults | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  const display = displayField(p.fields);
  const templates = previewTemplates(p.templates);

  useEffect(() => {
    setRecord(undefined);
    setOptions([]);
    setResults(null);
  }, [p.form]);

  if (!p.form) {
    return (
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }} data-testid="flow-preview">
        {t('flows.preview.noForm')}
      </Typography.Paragraph>
    );
  }
  const form = p.form;
  const search = (text: string) => {
    const mine = ++seq.current;
    searchRecords(p.app, form, display, text)
      .then((rs) => {
        if (mine === seq.current) setOptions(rs.map((r) => ({ value: r.id, label: `${r.text} (#${r.id})` })));
      })
      .catch(() => setOptions([]));
  };
  const run = async () => {
    if (record === undefined) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ results: PreviewResults }>(`/apps/${p.app}/flows/${p.flow}/preview`, {
        method: 'POST',
        body: { form, record, templates, ...(asUser ? { as_user: asUser } : {}) },
      });
      setResults(r.results);
    } catch (e) {
      setResults(null);
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid="flow-preview" style={{ borderTop: '1px dashed #d9d9d9', paddingTop: 8 }}>
      <Typography.Text strong>{t('flows.preview.title')}</Typography.Text>
      <Form.Item label={t('flows.preview.record')} style={{ marginBottom: 8 }}>
        <Select
          data-testid="flow-preview-record"
          showSearch
          allowClear
          filterOption={false}
          placeholder={t('field.searchRef')}
          value={record}
          options={options}
          onFocus={() => options.length === 0 && search('')}
          onSearch={search}
          onChange={(v: number | undefined) => setRecord(v ?? undefined)}
        />
      </Form.Item>
      <Form.Item label={t('flows.preview.as')} help={t('flows.preview.asHelp')} style={{ marginBottom: 8 }}>
        <Select
          data-testid="flow-preview-as"
          showSearch
          allowClear
          optionFilterProp="label"
          placeholder={t('flows.preview.asMe')}
          value={asUser}
          options={p.users}
          onChange={(v: string | undefined) => setAsUser(v ?? undefined)}
        />
      </Form.Item>
      <Space direction="vertical" style={{ width: '100%' }}>
        <Button
          data-testid="flow-preview-run"
          icon={<EyeOutlined />}
          loading={busy}
          disabled={record === undefined || Object.keys(templates).length === 0}
          onClick={() => void run()}
        >
          {t('flows.preview.run')}
        </Button>
        {error && <Alert type="error" message={error} />}
        {results &&
          Object.entries(results).map(([name, r]) =>
            r.error !== undefined ? (
              <Alert key={name} type="warning" data-testid={`flow-preview-error-${name}`} message={`${t(`flows.prop.${name}`)}: ${r.error}`} />
            ) : (
              <div key={name}>
                <Typography.Text type="secondary">{t(`flows.prop.${name}`)}</Typography.Text>
                <pre data-testid={`flow-preview-result-${name}`} style={{ whiteSpace: 'pre-wrap', margin: 0, background: '#fafafa', padding: 6 }}>
                  {r.text}
                </pre>
              </div>
            ),
          )}
      </Space>
    </div>
  );
}
