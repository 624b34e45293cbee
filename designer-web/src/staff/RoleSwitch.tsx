import { Select, Space, Typography } from 'antd';
import { actingRole, setActingRole } from '../api/client.ts';
import { useSession } from '../auth.tsx';
import { useI18n } from '../i18n/index.tsx';

/** For a user holding several roles in an app: act with one of them (its rows with its
 * fields) or with all (every row any of them reaches, only fields all of them allow there).
 * Every request of the app then carries the choice; the page reloads under it. */
export function RoleSwitch({ app }: { app: string }) {
  const { me, isAdmin } = useSession();
  const { t } = useI18n();
  const roles = me?.roles?.[app] ?? [];
  if (isAdmin || roles.length < 2) return null;
  return (
    <Space>
      <Typography.Text type="secondary">{t('home.actingAs')}</Typography.Text>
      <Select
        data-testid="role-switch"
        style={{ minWidth: 160 }}
        value={actingRole(app) ?? ''}
        options={[{ value: '', label: t('home.allRoles') }, ...roles.map((r) => ({ value: r, label: r }))]}
        onChange={(role: string) => {
          setActingRole(app, role || null);
          window.location.reload();
        }}
      />
    </Space>
  );
}
