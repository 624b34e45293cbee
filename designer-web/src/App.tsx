import { lazy, Suspense, useEffect, useState } from 'react';
import { BrowserRouter, Link, Navigate, Route, Routes, useParams } from 'react-router';
import { Alert, App as AntApp, Button, ConfigProvider, Dropdown, Layout, Spin } from 'antd';
import { GlobalOutlined, LogoutOutlined } from '@ant-design/icons';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import 'dayjs/locale/zh-cn';
import dayjs from 'dayjs';
import { I18nProvider, useI18n } from './i18n/index.tsx';
import { SessionProvider, useSession } from './auth.tsx';
import { LoginPage } from './staff/LoginPage.tsx';
import { HomePage, AppHome } from './staff/HomePage.tsx';
import { api } from './api/client.ts';
import type { AppDef } from './api/types.ts';

// Pages load as their own chunks: the login page and the app home come up first, the
// designer and the admin pages (few users) never load for staff.
const ListPage = lazy(() => import('./staff/ListPage.tsx').then((m) => ({ default: m.ListPage })));
const RecordPage = lazy(() => import('./staff/RecordPage.tsx').then((m) => ({ default: m.RecordPage })));
const DesignerPage = lazy(() => import('./designer/DesignerPage.tsx'));
const PermissionsPage = lazy(() => import('./admin/PermissionsPage.tsx'));
const FlowDesignerPage = lazy(() => import('./flows/FlowDesignerPage.tsx'));
const InboxPage = lazy(() => import('./flows/InboxPage.tsx'));
const TaskPage = lazy(() => import('./flows/TaskPage.tsx'));
const InstancePage = lazy(() => import('./flows/InstancePage.tsx'));
const ReportsIndexPage = lazy(() => import('./reports/ReportsIndexPage.tsx'));
const ReportPage = lazy(() => import('./reports/ReportPage.tsx'));
const ReportDesignerPage = lazy(() => import('./reports/ReportDesignerPage.tsx'));
const DashboardPage = lazy(() => import('./reports/DashboardPage.tsx'));
const DashboardBuilderPage = lazy(() => import('./reports/DashboardBuilderPage.tsx'));

export default function App() {
  return (
    <I18nProvider>
      <Themed>
        <SessionProvider>
          <BrowserRouter>
            <Shell />
          </BrowserRouter>
        </SessionProvider>
      </Themed>
    </I18nProvider>
  );
}

function Themed({ children }: { children: React.ReactNode }) {
  const { locale } = useI18n();
  useEffect(() => {
    dayjs.locale(locale === 'en' ? 'en' : 'zh-cn');
    document.documentElement.lang = locale;
  }, [locale]);
  return (
    <ConfigProvider locale={locale === 'en' ? enUS : zhCN}>
      <AntApp>{children}</AntApp>
    </ConfigProvider>
  );
}

function LocaleSwitch() {
  const { locale, setLocale, t } = useI18n();
  return (
    <Dropdown
      menu={{
        selectedKeys: [locale],
        items: [
          { key: 'zh-CN', label: '中文' },
          { key: 'en', label: 'English' },
        ],
        onClick: ({ key }) => setLocale(key as 'zh-CN' | 'en'),
      }}
    >
      <Button type="text" data-testid="locale-switch" aria-label={t('nav.language')} icon={<GlobalOutlined />} style={{ color: '#fff' }}>
        {locale === 'en' ? 'EN' : '中文'}
      </Button>
    </Dropdown>
  );
}

function Shell() {
  const { me, loading, logout } = useSession();
  const { t } = useI18n();
  if (loading) return <Spin style={{ margin: '20vh auto', display: 'block' }} />;
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: 12, padding: '0 16px' }}>
        <Link to="/" style={{ color: '#fff', fontWeight: 600, fontSize: 18, marginRight: 'auto' }}>
          {t('app.name')}
        </Link>
        <LocaleSwitch />
        {me && (
          <Link to="/tasks" data-testid="nav-tasks" style={{ color: '#fff' }}>
            {t('flows.inbox.title')}
          </Link>
        )}
        {me && (
          <>
            <span data-testid="current-user" style={{ color: '#fff' }}>
              {me.display_name ?? me.username}
            </span>
            <Button type="text" aria-label={t('nav.logout')} icon={<LogoutOutlined />} style={{ color: '#fff' }} onClick={() => void logout()} />
          </>
        )}
      </Layout.Header>
      <Layout.Content style={{ padding: 16, maxWidth: 1400, width: '100%', margin: '0 auto' }}>
        {me ? (
          <Suspense fallback={<Spin />}>
            <Routes>
              <Route path="/" element={<HomePage />} />
              <Route path="/login" element={<Navigate to="/" replace />} />
              <Route path="/apps/:app" element={<AppRoute />} />
              <Route path="/apps/:app/forms/:form" element={<ListPage />} />
              <Route path="/apps/:app/forms/:form/new" element={<RecordPage />} />
              <Route path="/apps/:app/forms/:form/records/:id" element={<RecordPage />} />
              <Route path="/apps/:app/design" element={<DesignerPage />} />
              <Route path="/apps/:app/design/:form" element={<DesignerPage />} />
              <Route path="/apps/:app/permissions" element={<PermissionsPage />} />
              <Route path="/apps/:app/flows" element={<FlowDesignerPage />} />
              <Route path="/apps/:app/flows/:flow" element={<FlowDesignerPage />} />
              <Route path="/apps/:app/reports" element={<ReportsIndexPage />} />
              <Route path="/apps/:app/reports/:key" element={<ReportPage />} />
              <Route path="/apps/:app/reports/:key/design" element={<ReportDesignerPage />} />
              <Route path="/apps/:app/dashboards/:key" element={<DashboardPage />} />
              <Route path="/apps/:app/dashboards/:key/design" element={<DashboardBuilderPage />} />
              <Route path="/tasks" element={<InboxPage />} />
              <Route path="/tasks/:id" element={<TaskPage />} />
              <Route path="/flow-instances/:id" element={<InstancePage />} />
              <Route path="*" element={<Alert type="warning" message={t('common.notFound')} />} />
            </Routes>
          </Suspense>
        ) : (
          <LoginPage />
        )}
      </Layout.Content>
    </Layout>
  );
}

/** The app home. (The UI starts in zh-CN, the CRM's default, until the user switches.) */
function AppRoute() {
  const { app = '' } = useParams();
  const [def, setDef] = useState<AppDef | null>(null);
  useEffect(() => {
    api<AppDef>(`/apps/${app}`).then(setDef).catch(() => setDef(null));
  }, [app]);
  return <AppHome app={app} def={def} />;
}
