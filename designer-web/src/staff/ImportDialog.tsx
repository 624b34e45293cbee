// CSV/XLSX import: check first (dry run), show per-row errors, then import all or nothing.
import { useState } from 'react';
import { Alert, Button, Modal, Space, Table, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { ApiError, api, qs, type ErrorDetail } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';

interface DryRun {
  rows: number;
  error_count: number;
  errors: ErrorDetail[];
}

/** `/rows/3/data/name` → {row: 3, field: "name"}. */
export function rowOf(pointer: string): { row: number | null; field: string } {
  const m = /^\/rows\/(\d+)(?:\/data\/([^/]+))?/.exec(pointer);
  if (m) return { row: Number(m[1]), field: m[2] ?? '' };
  const c = /^\/columns\/(\d+)/.exec(pointer);
  return { row: null, field: c ? `column ${Number(c[1]) + 1}` : pointer };
}

export function ImportDialog(p: { app: string; form: string; onClose: (imported: boolean) => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<ErrorDetail[] | null>(null);
  const [errorCount, setErrorCount] = useState(0);
  const [message, setMessage] = useState<{ type: 'success' | 'error'; text: string } | null>(null);
  const [done, setDone] = useState(false);

  const format = (f: File) => (f.name.toLowerCase().endsWith('.xlsx') ? 'xlsx' : 'csv');
  const send = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setMessage(null);
    try {
      const path = `/apps/${p.app}/forms/${p.form}/records/import${qs({ format: format(file), dry_run: dryRun || undefined, file_name: file.name })}`;
      if (dryRun) {
        const r = await api<DryRun>(path, { raw: file, contentType: 'application/octet-stream' });
        setErrors(r.errors);
        setErrorCount(r.error_count);
        setMessage(r.error_count === 0 ? { type: 'success', text: t('import.ok', { n: r.rows }) } : { type: 'error', text: t('import.errors', { n: r.error_count }) });
      } else {
        const r = await api<{ imported: number }>(path, { raw: file, contentType: 'application/octet-stream' });
        setErrors([]);
        setDone(true);
        setMessage({ type: 'success', text: t('import.done', { n: r.imported }) });
      }
    } catch (e) {
      if (e instanceof ApiError) {
        setErrors(e.details);
        setErrorCount(e.details.length);
        setMessage({ type: 'error', text: e.message });
      } else setMessage({ type: 'error', text: String(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal open title={t('import.title')} onCancel={() => p.onClose(done)} footer={null} width={720}>
      <Space direction="vertical" style={{ width: '100%' }}>
        <Upload
          accept=".csv,.xlsx"
          maxCount={1}
          beforeUpload={(f) => {
            setFile(f);
            setErrors(null);
            setMessage(null);
            setDone(false);
            return false;
          }}
          showUploadList={false}
        >
          <Button icon={<UploadOutlined />} data-testid="import-file">
            {file ? file.name : 'CSV / XLSX'}
          </Button>
        </Upload>
        <Space>
          <Button disabled={!file || busy} onClick={() => void send(true)} data-testid="import-check">
            {t('import.check')}
          </Button>
          <Button type="primary" disabled={!file || busy || done} onClick={() => void send(false)} data-testid="import-run">
            {t('import.run')}
          </Button>
        </Space>
        {message && <Alert type={message.type} message={message.text} data-testid="import-message" />}
        {errors && errors.length > 0 && (
          <Table
            data-testid="import-errors"
            size="small"
            rowKey={(_, i) => String(i)}
            pagination={{ pageSize: 10 }}
            dataSource={errors.map((d) => ({ ...rowOf(d.pointer), ...d }))}
            columns={[
              { key: 'row', title: t('import.row'), dataIndex: 'row', width: 60 },
              { key: 'field', title: t('history.field'), dataIndex: 'field', width: 140 },
              { key: 'message', title: '', dataIndex: 'message' },
            ]}
            footer={() => (errorCount > errors.length ? `${errors.length} / ${errorCount}` : null)}
          />
        )}
      </Space>
    </Modal>
  );
}
