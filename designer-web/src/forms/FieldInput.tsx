// One input per platform field type. Values are exactly what the API stores.
import { useEffect, useRef, useState } from 'react';
import { Button, DatePicker, Input, InputNumber, Select, Space, Switch, Table, Upload } from 'antd';
import { DeleteOutlined, PaperClipOutlined, PlusOutlined, UploadOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import { api, API } from '../api/client.ts';
import type { JsonSchema } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { directoryDepartments, directoryUsers, referenceText, searchRecords } from './directory.ts';
import { fieldsOf, fieldType, optionsOf } from './model.ts';

export interface FieldInputProps {
  app: string;
  fieldKey: string;
  schema: JsonSchema;
  value: unknown;
  onChange: (v: unknown) => void;
  readOnly?: boolean;
  /** Shown to tests and screen readers: `field-<key>` (or `<table>.<row>.<col>`). */
  testId?: string;
}

interface StoredFile {
  sha256: string;
  name: string | null;
  size?: number;
  content_type?: string;
}

function asString(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

export function FieldInput(p: FieldInputProps) {
  const { t, label } = useI18n();
  const type = fieldType(p.schema);
  const ro = p.readOnly ?? false;
  const id = p.testId ?? `field-${p.fieldKey}`;
  const set = (v: unknown) => p.onChange(v === '' || v === undefined ? undefined : v);

  switch (type) {
    case 'serial':
    case 'computed':
      return (
        <Input
          data-testid={id}
          disabled
          value={asString(p.value)}
          placeholder={t(type === 'serial' ? 'field.serialAuto' : 'field.computedAuto')}
        />
      );
    case 'long_text':
      return (
        <Input.TextArea
          data-testid={id}
          disabled={ro}
          rows={3}
          maxLength={p.schema.maxLength}
          value={asString(p.value)}
          onChange={(e) => set(e.target.value)}
        />
      );
    case 'number':
    case 'integer':
    case 'money':
      return (
        <InputNumber
          data-testid={id}
          disabled={ro}
          style={{ width: '100%' }}
          min={p.schema.minimum}
          max={p.schema.maximum}
          precision={type === 'integer' ? 0 : undefined}
          prefix={type === 'money' ? (p.schema['x-currency'] === 'CNY' || !p.schema['x-currency'] ? '¥' : p.schema['x-currency']) : undefined}
          value={typeof p.value === 'number' ? p.value : null}
          onChange={(v) => set(v ?? undefined)}
        />
      );
    case 'date':
      return (
        <DatePicker
          data-testid={id}
          disabled={ro}
          style={{ width: '100%' }}
          value={typeof p.value === 'string' && p.value ? dayjs(p.value) : null}
          onChange={(d) => set(d ? d.format('YYYY-MM-DD') : undefined)}
        />
      );
    case 'datetime':
      return (
        <DatePicker
          data-testid={id}
          disabled={ro}
          showTime
          style={{ width: '100%' }}
          value={typeof p.value === 'string' && p.value ? dayjs(p.value) : null}
          onChange={(d) => set(d ? d.format('YYYY-MM-DDTHH:mm:ssZ') : undefined)}
        />
      );
    case 'select':
    case 'multi_select':
      return (
        <Select
          data-testid={id}
          disabled={ro}
          allowClear
          mode={type === 'multi_select' ? 'multiple' : undefined}
          placeholder={t('field.pick')}
          value={p.value ?? undefined}
          options={optionsOf(p.schema).map((o) => ({ value: o.value, label: label(o.label, o.value) }))}
          onChange={(v) => set(Array.isArray(v) && v.length === 0 ? undefined : v)}
        />
      );
    case 'boolean':
      return <Switch data-testid={id} disabled={ro} checked={p.value === true} onChange={(v) => p.onChange(v)} />;
    case 'region':
      return <RegionInput {...p} id={id} ro={ro} />;
    case 'member':
      return <MemberInput {...p} id={id} ro={ro} />;
    case 'department':
      return <DepartmentInput {...p} id={id} ro={ro} />;
    case 'reference':
      return <ReferenceInput {...p} id={id} ro={ro} />;
    case 'sub_table':
      return <SubTableInput {...p} id={id} ro={ro} />;
    case 'attachment':
      return <AttachmentInput {...p} id={id} ro={ro} />;
    case 'signature':
      return <SignatureInput {...p} id={id} ro={ro} />;
    default:
      return (
        <Input
          data-testid={id}
          disabled={ro}
          maxLength={p.schema.maxLength}
          value={asString(p.value)}
          onChange={(e) => set(e.target.value)}
        />
      );
  }
}

type Inner = FieldInputProps & { id: string; ro: boolean };

function RegionInput(p: Inner) {
  const v = (p.value ?? {}) as Record<string, string | undefined>;
  const part = (k: string, val: string) => {
    const next: Record<string, string> = {};
    for (const [kk, vv] of Object.entries({ ...v, [k]: val })) if (vv) next[kk] = vv;
    p.onChange(Object.keys(next).length ? next : undefined);
  };
  return (
    <Space.Compact data-testid={p.id} style={{ width: '100%' }}>
      {(['province', 'city', 'district'] as const).map((k) => (
        <Input key={k} disabled={p.ro} placeholder={k} value={v[k] ?? ''} onChange={(e) => part(k, e.target.value)} />
      ))}
    </Space.Compact>
  );
}

function MemberInput(p: Inner) {
  const { t } = useI18n();
  const [options, setOptions] = useState<{ value: string; label: string }[]>([]);
  useEffect(() => {
    directoryUsers()
      .then((us) => setOptions(us.map((u) => ({ value: u.username, label: u.display_name ? `${u.display_name} (${u.username})` : u.username }))))
      .catch(() => setOptions([]));
  }, []);
  const current = typeof p.value === 'string' ? p.value : undefined;
  const all = current && !options.some((o) => o.value === current) ? [...options, { value: current, label: current }] : options;
  return (
    <Select
      data-testid={p.id}
      disabled={p.ro}
      allowClear
      showSearch
      optionFilterProp="label"
      placeholder={t('field.pick')}
      value={current}
      options={all}
      onChange={(v) => p.onChange(v ?? undefined)}
    />
  );
}

function DepartmentInput(p: Inner) {
  const { t } = useI18n();
  const [options, setOptions] = useState<{ value: string; label: string }[]>([]);
  useEffect(() => {
    directoryDepartments()
      .then((ds) => setOptions(ds.map((d) => ({ value: d.id, label: d.name }))))
      .catch(() => setOptions([]));
  }, []);
  const current = typeof p.value === 'string' ? p.value : undefined;
  return (
    <Select
      data-testid={p.id}
      disabled={p.ro}
      allowClear
      showSearch
      optionFilterProp="label"
      placeholder={t('field.pick')}
      value={current}
      options={current && !options.some((o) => o.value === current) ? [...options, { value: current, label: current }] : options}
      onChange={(v) => p.onChange(v ?? undefined)}
    />
  );
}

function ReferenceInput(p: Inner) {
  const { t } = useI18n();
  const ref = (p.schema['x-ref'] ?? {}) as { form?: string; display?: string };
  // `hint`: the value of the field that matched when it is not the display field.
  const [options, setOptions] = useState<{ value: number; label: string; hint?: string }[]>([]);
  const [currentText, setCurrentText] = useState<string | null>(null);
  const seq = useRef(0);
  const current = typeof p.value === 'number' ? p.value : undefined;
  const search = (text: string) => {
    if (!ref.form) return;
    const mine = ++seq.current;
    searchRecords(p.app, ref.form, ref.display, text)
      .then((rs) => {
        if (mine === seq.current) setOptions(rs.map((r) => ({ value: r.id, label: r.text, hint: r.hint })));
      })
      .catch(() => setOptions([]));
  };
  useEffect(() => {
    if (current !== undefined && ref.form) {
      referenceText(p.app, ref.form, ref.display, current).then(setCurrentText).catch(() => setCurrentText(null));
    } else setCurrentText(null);
  }, [current, p.app, ref.form, ref.display]);
  const all =
    current !== undefined && !options.some((o) => o.value === current)
      ? [{ value: current, label: currentText ?? `#${current}` }, ...options]
      : options;
  return (
    <Select
      data-testid={p.id}
      disabled={p.ro}
      allowClear
      showSearch
      filterOption={false}
      placeholder={t('field.searchRef')}
      value={current}
      options={all}
      optionRender={(o) =>
        o.data.hint ? (
          <>
            {o.data.label} <span style={{ color: '#888' }}>· {o.data.hint}</span>
          </>
        ) : (
          o.data.label
        )
      }
      onFocus={() => options.length === 0 && search('')}
      onSearch={search}
      onChange={(v) => p.onChange(v ?? undefined)}
    />
  );
}

function SubTableInput(p: Inner) {
  const { t, label } = useI18n();
  const cols = fieldsOf(p.schema.items as JsonSchema);
  const rows = Array.isArray(p.value) ? (p.value as Record<string, unknown>[]) : [];
  const setRow = (i: number, k: string, v: unknown) => {
    const next = rows.map((r, j) => {
      if (j !== i) return r;
      const copy = { ...r };
      if (v === undefined) delete copy[k];
      else copy[k] = v;
      return copy;
    });
    p.onChange(next);
  };
  return (
    <div data-testid={p.id}>
      <Table
        size="small"
        pagination={false}
        scroll={{ x: true }}
        rowKey={(_, i) => String(i)}
        dataSource={rows.map((r, i) => ({ ...r, __i: i }))}
        columns={[
          ...cols.map((c) => ({
            key: c.key,
            title: label(c.schema['x-label'], c.key),
            render: (_: unknown, r: Record<string, unknown>) => {
              const i = r.__i as number;
              return (
                <FieldInput
                  app={p.app}
                  fieldKey={c.key}
                  schema={c.schema}
                  value={rows[i]?.[c.key]}
                  readOnly={p.ro}
                  testId={`${p.id}.${i}.${c.key}`}
                  onChange={(v) => setRow(i, c.key, v)}
                />
              );
            },
          })),
          ...(p.ro
            ? []
            : [
                {
                  key: '__remove',
                  title: '',
                  width: 48,
                  render: (_: unknown, r: Record<string, unknown>) => (
                    <Button
                      aria-label={t('common.remove')}
                      icon={<DeleteOutlined />}
                      onClick={() => {
                        const next = rows.filter((_, j) => j !== r.__i);
                        p.onChange(next.length ? next : undefined);
                      }}
                    />
                  ),
                },
              ]),
        ]}
      />
      {!p.ro && (
        <Button data-testid={`${p.id}-add`} icon={<PlusOutlined />} onClick={() => p.onChange([...rows, {}])} style={{ marginTop: 8 }}>
          {t('field.addRow')}
        </Button>
      )}
    </div>
  );
}

async function upload(file: File): Promise<StoredFile> {
  const stored = await api<StoredFile>(`/files?name=${encodeURIComponent(file.name)}`, {
    raw: file,
    contentType: file.type || 'application/octet-stream',
  });
  return { ...stored, name: stored.name ?? file.name };
}

function fileLink(f: StoredFile) {
  return (
    <a href={`${API}/files/${f.sha256}`} target="_blank" rel="noreferrer">
      <PaperClipOutlined /> {f.name ?? f.sha256.slice(0, 12)}
    </a>
  );
}

function AttachmentInput(p: Inner) {
  const { t } = useI18n();
  const files = Array.isArray(p.value) ? (p.value as StoredFile[]) : [];
  // Uploads finish later: add to the list as it is then, not as it was when they began.
  const latest = useRef(files);
  latest.current = files;
  const [error, setError] = useState<string | null>(null);
  return (
    <div data-testid={p.id}>
      {files.map((f, i) => (
        <div key={f.sha256 + i}>
          {fileLink(f)}{' '}
          {!p.ro && (
            <Button
              size="small"
              type="text"
              aria-label={t('common.remove')}
              icon={<DeleteOutlined />}
              onClick={() => {
                const next = files.filter((_, j) => j !== i);
                p.onChange(next.length ? next : undefined);
              }}
            />
          )}
        </div>
      ))}
      {!p.ro && (
        <Upload
          showUploadList={false}
          accept={Array.isArray(p.schema['x-accept']) ? (p.schema['x-accept'] as string[]).join(',') : undefined}
          beforeUpload={(file) => {
            setError(null);
            upload(file)
              .then((f) => p.onChange([...latest.current, f]))
              .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
            return false;
          }}
        >
          <Button icon={<UploadOutlined />}>{t('common.upload')}</Button>
        </Upload>
      )}
      {error && <div style={{ color: '#cf1322' }}>{error}</div>}
    </div>
  );
}

function SignatureInput(p: Inner) {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const current = p.value as StoredFile | undefined;
  const pos = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    return [((e.clientX - r.left) * e.currentTarget.width) / r.width, ((e.clientY - r.top) * e.currentTarget.height) / r.height] as const;
  };
  const save = () => {
    canvas.current?.toBlob((blob) => {
      if (!blob) return;
      upload(new File([blob], 'signature.png', { type: 'image/png' }))
        .then((f) => {
          p.onChange(f);
          setDirty(false);
        })
        .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    }, 'image/png');
  };
  const clear = () => {
    const c = canvas.current;
    c?.getContext('2d')?.clearRect(0, 0, c.width, c.height);
    setDirty(false);
    p.onChange(undefined);
  };
  return (
    <div data-testid={p.id}>
      {current && <div>{fileLink(current)}</div>}
      {!p.ro && (
        <>
          <canvas
            ref={canvas}
            width={400}
            height={140}
            aria-label={t('field.signHere')}
            style={{ border: '1px dashed #bbb', width: '100%', maxWidth: 400, touchAction: 'none', background: '#fff' }}
            onPointerDown={(e) => {
              drawing.current = true;
              const ctx = e.currentTarget.getContext('2d');
              const [x, y] = pos(e);
              ctx?.beginPath();
              ctx?.moveTo(x, y);
            }}
            onPointerMove={(e) => {
              if (!drawing.current) return;
              const ctx = e.currentTarget.getContext('2d');
              const [x, y] = pos(e);
              if (ctx) {
                ctx.lineWidth = 2;
                ctx.lineTo(x, y);
                ctx.stroke();
              }
              setDirty(true);
            }}
            onPointerUp={() => (drawing.current = false)}
          />
          <Space>
            <Button disabled={!dirty} onClick={save}>
              {t('common.save')}
            </Button>
            <Button onClick={clear}>{t('common.clear')}</Button>
          </Space>
        </>
      )}
      {error && <div style={{ color: '#cf1322' }}>{error}</div>}
    </div>
  );
}
