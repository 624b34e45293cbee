import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { Alert, Button, Card, Col, List, Row, Space, Spin, Typography } from 'antd';
import { ApartmentOutlined, ApiOutlined, BarChartOutlined, FormOutlined, SafetyOutlined } from '@ant-design/icons';
import { api } from '../api/client.ts';
import type { AppDef, FormSummary } from '../api/types.ts';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';
import { HomeDashboards } from '../reports/HomeDashboards.tsx';
import { RoleSwitch } from './RoleSwitch.tsx';

/** The apps the user has a role in (all of them for an administrator). */
export function HomePage() {
  const { t, label } = useI18n();
  const [apps, setApps] = useState<AppDef[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ items: AppDef[] }>('/apps')
      .then((r) => setApps(r.items))
      .catch((e: unknown) => setError(String(e)));
  }, []);
  if (error) return <Alert type="error" message={error} />;
  if (!apps) return <Spin />;
  return (
    <>
      <Typography.Title level={3}>{t('home.apps')}</Typography.Title>
      {apps.length === 0 && <Alert type="info" message={t('home.noApps')} />}
      <Row gutter={[16, 16]}>
        {apps.map((a) => (
          <Col key={a.key} xs={24} sm={12} md={8}>
            <Link to={`/apps/${a.key}`} data-testid={`app-${a.key}`}>
              <Card hoverable title={label(a.label, a.key)}>
                {a.key}
              </Card>
            </Link>
          </Col>
        ))}
      </Row>
    </>
  );
}

/** An app's home: the user's dashboards, the forms the user may use, reports, and admin
 * tools for administrators. */
export function AppHome({ app, def }: { app: string; def: AppDef | null }) {
  const { t, label } = useI18n();
  const { isAdmin } = useSession();
  const [forms, setForms] = useState<FormSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ items: FormSummary[] }>(`/apps/${app}/forms`)
      .then((r) => setForms(r.items.filter((f) => f.published_version !== null)))
      .catch((e: unknown) => setError(String(e)));
  }, [app]);
  if (error) return <Alert type="error" message={error} />;
  if (!forms) return <Spin />;
  return (
    <>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {label(def?.label, app)}
        </Typography.Title>
        <Space wrap>
          <RoleSwitch app={app} />
          <Link to={`/apps/${app}/reports`}>
            <Button icon={<BarChartOutlined />} data-testid="nav-reports">
              {t('reports.nav')}
            </Button>
          </Link>
          {isAdmin && (
            <>
              <Link to={`/apps/${app}/design`}>
                <Button icon={<FormOutlined />} data-testid="nav-design">
                  {t('nav.design')}
                </Button>
              </Link>
              <Link to={`/apps/${app}/flows`}>
                <Button icon={<ApartmentOutlined />} data-testid="nav-flows">
                  {t('nav.flows')}
                </Button>
              </Link>
              <Link to={`/apps/${app}/permissions`}>
                <Button icon={<SafetyOutlined />} data-testid="nav-permissions">
                  {t('nav.permissions')}
                </Button>
              </Link>
              <a href="/api-docs/">
                <Button icon={<ApiOutlined />}>{t('nav.apiDocs')}</Button>
              </a>
            </>
          )}
        </Space>
      </Space>
      <HomeDashboards app={app} />
      <Typography.Title level={5}>{t('home.forms')}</Typography.Title>
      <List
        bordered
        dataSource={forms}
        locale={{ emptyText: t('home.noForms') }}
        renderItem={(f) => (
          <List.Item>
            <Link to={`/apps/${app}/forms/${f.key}`} data-testid={`form-${f.key}`}>
              {label(f.label, f.key)}
            </Link>
          </List.Item>
        )}
      />
    </>
  );
}
