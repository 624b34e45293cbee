// `/apps/:app/reports/:key`: a report run, its chart, its rows with drill-down into the
// source form's records, and CSV/XLSX downloads of the same table.
//
// data-testid: report-title, report-total, report-refresh, report-download,
// report-download-csv, report-download-xlsx, report-design, report-error (+ ReportView's)
import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Alert, Button, Dropdown, Space, Spin, Typography } from 'antd';
import { DownloadOutlined, EditOutlined, ReloadOutlined } from '@ant-design/icons';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';
import { downloadHref, drillPath, errorText, getReport, runReport } from './api.ts';
import { useLookup } from './hooks.ts';
import { ReportView } from './ReportView.tsx';
import type { ReportDefinition, RunResult } from './types.ts';

export default function ReportPage() {
  const { app = '', key = '' } = useParams();
  const { t, label, locale } = useI18n();
  const { isAdmin } = useSession();
  const navigate = useNavigate();
  const [def, setDef] = useState<ReportDefinition | null>(null);
  const [result, setResult] = useState<RunResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const run = useCallback(
    async (signal?: AbortSignal) => {
      setLoading(true);
      setError(null);
      try {
        const [d, r] = await Promise.all([getReport(app, key, true).catch(() => null), runReport(app, key, undefined, signal)]);
        setDef(d);
        setResult(r);
      } catch (e) {
        if (!signal?.aborted) setError(errorText(e));
      } finally {
        if (!signal?.aborted) setLoading(false);
      }
    },
    [app, key],
  );

  useEffect(() => {
    const ctl = new AbortController();
    void run(ctl.signal);
    return () => ctl.abort();
  }, [run]);

  const form = result?.form ?? def?.form;
  const lookup = useLookup(app, form, def);
  const title = label(def?.label, key);

  return (
    <>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }}>
        <Space wrap>
          <Link to={`/apps/${app}/reports`}>{t('common.back')}</Link>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="report-title">
            {title}
          </Typography.Title>
          {result?.total_rows !== undefined && (
            <Typography.Text type="secondary" data-testid="report-total">
              {t('reports.view.totalRows', { n: result.total_rows.toLocaleString(locale) })}
            </Typography.Text>
          )}
        </Space>
        <Space wrap>
          <Button icon={<ReloadOutlined />} data-testid="report-refresh" loading={loading} onClick={() => void run()}>
            {t('reports.view.refresh')}
          </Button>
          <Dropdown
            menu={{
              items: [
                { key: 'csv', label: <a href={downloadHref(app, key, 'csv', undefined, locale)} data-testid="report-download-csv">CSV</a> },
                { key: 'xlsx', label: <a href={downloadHref(app, key, 'xlsx', undefined, locale)} data-testid="report-download-xlsx">XLSX</a> },
              ],
            }}
          >
            <Button icon={<DownloadOutlined />} data-testid="report-download">
              {t('reports.view.download')}
            </Button>
          </Dropdown>
          {isAdmin && (
            <Link to={`/apps/${app}/reports/${key}/design`}>
              <Button icon={<EditOutlined />} data-testid="report-design">
                {t('reports.index.design')}
              </Button>
            </Link>
          )}
        </Space>
      </Space>
      {error && <Alert type="error" message={error} data-testid="report-error" style={{ marginBottom: 12 }} />}
      {!result && !error && <Spin />}
      {result && form && (
        <ReportView
          result={result}
          definition={def}
          lookup={lookup}
          title={title}
          rows
          drillHref={(d) => drillPath(app, form, d)}
          onDrill={(d) => navigate(drillPath(app, form, d))}
        />
      )}
    </>
  );
}
