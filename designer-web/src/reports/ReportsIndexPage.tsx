// `/apps/:app/reports`: the reports the user may read and the app's dashboards; for
// administrators, "new report" and "new dashboard".
//
// data-testid: reports-list, report-link-<key>, report-design-<key>, dashboards-list,
// dashboard-link-<key>, dashboard-design-<key>, report-new, dashboard-new,
// new-key (the key input of the "new" dialog), new-create
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Alert, Button, Card, Col, Form, Input, List, Modal, Row, Space, Tag, Typography } from 'antd';
import { DashboardOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';
import { errorText, listDashboards, listReports } from './api.ts';
import { COLUMN_KEY_RE } from './draft.ts';
import type { DashboardSummary, ReportSummary } from './types.ts';

export default function ReportsIndexPage() {
  const { app = '' } = useParams();
  const { t, label } = useI18n();
  const { isAdmin } = useSession();
  const [reports, setReports] = useState<ReportSummary[] | null>(null);
  const [dashboards, setDashboards] = useState<DashboardSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState<'reports' | 'dashboards' | null>(null);

  useEffect(() => {
    listReports(app)
      .then(setReports)
      .catch((e: unknown) => setError(errorText(e)));
    listDashboards(app)
      .then(setDashboards)
      .catch(() => setDashboards([]));
  }, [app]);

  return (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Link to={`/apps/${app}`}>{t('common.back')}</Link>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('reports.index.title')}
        </Typography.Title>
      </Space>
      {error && <Alert type="error" message={error} style={{ marginBottom: 12 }} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} md={12}>
          <Card
            title={t('reports.index.reports')}
            extra={
              isAdmin && (
                <Button icon={<PlusOutlined />} data-testid="report-new" onClick={() => setCreating('reports')}>
                  {t('reports.index.newReport')}
                </Button>
              )
            }
          >
            <List
              data-testid="reports-list"
              loading={reports === null && !error}
              dataSource={reports ?? []}
              locale={{ emptyText: t('reports.index.noReports') }}
              renderItem={(r) => (
                <List.Item
                  actions={
                    isAdmin
                      ? [
                          <Link key="d" to={`/apps/${app}/reports/${r.key}/design`} data-testid={`report-design-${r.key}`} aria-label={t('reports.index.design')}>
                            <EditOutlined />
                          </Link>,
                        ]
                      : []
                  }
                >
                  <Link to={`/apps/${app}/reports/${r.key}`} data-testid={`report-link-${r.key}`}>
                    {label(r.label, r.key)}
                  </Link>
                  {r.chart?.kind && <Tag style={{ marginLeft: 8 }}>{t(`reports.kind.${r.chart.kind}`)}</Tag>}
                </List.Item>
              )}
            />
          </Card>
        </Col>
        <Col xs={24} md={12}>
          <Card
            title={t('reports.index.dashboards')}
            extra={
              isAdmin && (
                <Button icon={<PlusOutlined />} data-testid="dashboard-new" onClick={() => setCreating('dashboards')}>
                  {t('reports.index.newDashboard')}
                </Button>
              )
            }
          >
            <List
              data-testid="dashboards-list"
              loading={dashboards === null}
              dataSource={dashboards ?? []}
              locale={{ emptyText: t('reports.index.noDashboards') }}
              renderItem={(d) => (
                <List.Item
                  actions={
                    isAdmin
                      ? [
                          <Link key="d" to={`/apps/${app}/dashboards/${d.key}/design`} data-testid={`dashboard-design-${d.key}`} aria-label={t('dashboards.design')}>
                            <EditOutlined />
                          </Link>,
                        ]
                      : []
                  }
                >
                  <Link to={`/apps/${app}/dashboards/${d.key}`} data-testid={`dashboard-link-${d.key}`}>
                    <DashboardOutlined /> {label(d.label, d.key)}
                  </Link>
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
      {creating && (
        <NewKeyDialog
          app={app}
          kind={creating}
          taken={(creating === 'reports' ? reports : dashboards)?.map((x) => x.key) ?? []}
          onClose={() => setCreating(null)}
        />
      )}
    </>
  );
}

/** Ask for the key of a new report or dashboard, then open its designer. */
function NewKeyDialog({ app, kind, taken, onClose }: { app: string; kind: 'reports' | 'dashboards'; taken: string[]; onClose: () => void }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [key, setKey] = useState('');
  const problem = !key ? null : !COLUMN_KEY_RE.test(key) ? t('reports.index.keyInvalid') : taken.includes(key) ? t('reports.index.keyTaken') : null;
  const create = () => {
    if (!key || problem) return;
    navigate(`/apps/${app}/${kind}/${key}/design`);
  };
  return (
    <Modal
      open
      title={t(kind === 'reports' ? 'reports.index.newReport' : 'reports.index.newDashboard')}
      onCancel={onClose}
      onOk={create}
      okButtonProps={{ disabled: !key || problem !== null, 'data-testid': 'new-create' }}
    >
      <Form layout="vertical" onFinish={create}>
        <Form.Item label={t('reports.index.key')} validateStatus={problem ? 'error' : undefined} help={problem}>
          <Input data-testid="new-key" autoFocus value={key} onChange={(e) => setKey(e.target.value.trim())} onPressEnter={create} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
