// `/apps/:app/dashboards/:key`: one dashboard, full page.
//
// data-testid: dashboard-title, dashboard-design, dashboard-error (+ DashboardView's)
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, Button, Space, Spin, Typography } from 'antd';
import { EditOutlined } from '@ant-design/icons';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';
import { errorText, getDashboard } from './api.ts';
import { DashboardView } from './DashboardView.tsx';
import type { DashboardDefinition } from './types.ts';

export default function DashboardPage() {
  const { app = '', key = '' } = useParams();
  const { t, label } = useI18n();
  const { isAdmin } = useSession();
  const [def, setDef] = useState<DashboardDefinition | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setDef(null);
    setError(null);
    getDashboard(app, key)
      .then((d) => (d ? setDef(d) : setError(t('common.notFound'))))
      .catch((e: unknown) => setError(errorText(e)));
  }, [app, key, t]);

  return (
    <>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between', marginBottom: 12 }}>
        <Space wrap>
          <Link to={`/apps/${app}`}>{t('common.back')}</Link>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="dashboard-title">
            {label(def?.label, key)}
          </Typography.Title>
        </Space>
        {isAdmin && (
          <Link to={`/apps/${app}/dashboards/${key}/design`}>
            <Button icon={<EditOutlined />} data-testid="dashboard-design">
              {t('dashboards.design')}
            </Button>
          </Link>
        )}
      </Space>
      {error && <Alert type="error" message={error} data-testid="dashboard-error" />}
      {!def && !error && <Spin />}
      {def && <DashboardView app={app} def={def} />}
    </>
  );
}
