// The dashboards of an app's home page: those whose `roles` include one of the user's
// roles in the app; the first is shown inline (its chunk, with ECharts, loads only then),
// the others are links.
//
// data-testid: home-dashboards, home-dashboard-<key> (the inline one), home-dashboard-link-<key>
import { lazy, Suspense, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { Space, Spin, Typography } from 'antd';
import { DashboardOutlined } from '@ant-design/icons';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';
import { getDashboard, listDashboards } from './api.ts';
import { dashboardsForRoles } from './dashboard.ts';
import type { DashboardDefinition, DashboardSummary } from './types.ts';

const DashboardView = lazy(() => import('./DashboardView.tsx').then((m) => ({ default: m.DashboardView })));

/** The user's dashboards in list order; lists without `roles` are completed from the
 * definitions. */
async function myDashboards(app: string, roles: string[]): Promise<(DashboardSummary & { def?: DashboardDefinition })[]> {
  const list = await listDashboards(app);
  const full = await Promise.all(
    list.map(async (d) => {
      if (d.roles) return d;
      const def = await getDashboard(app, d.key).catch(() => null);
      return def ? { ...d, roles: def.roles ?? [], label: d.label ?? def.label, def } : d;
    }),
  );
  return dashboardsForRoles(full, roles);
}

export function HomeDashboards({ app }: { app: string }) {
  const { t, label } = useI18n();
  const { me } = useSession();
  const roles = me?.roles?.[app] ?? [];
  const rolesKey = roles.join(',');
  const [mine, setMine] = useState<(DashboardSummary & { def?: DashboardDefinition })[]>([]);
  const [first, setFirst] = useState<DashboardDefinition | null>(null);

  useEffect(() => {
    let live = true;
    setMine([]);
    setFirst(null);
    if (!rolesKey) return;
    myDashboards(app, rolesKey.split(','))
      .then(async (ds) => {
        if (!live) return;
        setMine(ds);
        const head = ds[0];
        if (!head) return;
        const def = head.def ?? (await getDashboard(app, head.key));
        if (live) setFirst(def);
      })
      // No dashboards API (or none readable): the home page simply has none.
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [app, rolesKey]);

  if (mine.length === 0) return null;
  const head = mine[0]!;
  return (
    <div data-testid="home-dashboards" style={{ marginBottom: 16 }}>
      <Space wrap style={{ width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={5} style={{ margin: '8px 0' }}>
          <Link to={`/apps/${app}/dashboards/${head.key}`} data-testid={`home-dashboard-link-${head.key}`}>
            <DashboardOutlined /> {label(head.label ?? first?.label, head.key)}
          </Link>
        </Typography.Title>
        {mine.length > 1 && (
          <Space wrap>
            <Typography.Text type="secondary">{t('dashboards.others')}:</Typography.Text>
            {mine.slice(1).map((d) => (
              <Link key={d.key} to={`/apps/${app}/dashboards/${d.key}`} data-testid={`home-dashboard-link-${d.key}`}>
                {label(d.label, d.key)}
              </Link>
            ))}
          </Space>
        )}
      </Space>
      <div data-testid={`home-dashboard-${head.key}`}>
        {first ? (
          <Suspense fallback={<Spin />}>
            <DashboardView app={app} def={first} />
          </Suspense>
        ) : (
          <Spin />
        )}
      </div>
    </div>
  );
}
