// The action matrix of a role: one row per form (the "*" rule first), one checkbox per
// action. A form's name selects it for the field grid and row scope below.
import { Button, Card, Checkbox, Table, Tag, Typography } from 'antd';
import { useI18n } from '../i18n/index.tsx';
import { ACTIONS, ALL_FORMS, type RoleDoc } from './permissions.ts';
import { ErrorList, type PlacedError } from './ErrorList.tsx';

export function ActionMatrix({
  doc,
  forms,
  appForms,
  formLabel,
  changed,
  selected,
  errors,
  onToggle,
  onSelect,
}: {
  doc: RoleDoc;
  forms: string[];
  appForms: string[];
  formLabel: (key: string) => string;
  changed: Set<string>;
  selected: string | undefined;
  errors: PlacedError[];
  onToggle: (form: string, action: string, on: boolean) => void;
  onSelect: (form: string) => void;
}) {
  const { t } = useI18n();
  return (
    <Card size="small" title={t('admin.perm.actions')}>
      <Table
        size="small"
        pagination={false}
        rowKey={(f) => f}
        dataSource={forms}
        scroll={{ x: 'max-content' }}
        rowClassName={(f) => (f === selected ? 'ant-table-row-selected' : '')}
        columns={[
          {
            title: t('admin.perm.form'),
            key: 'form',
            fixed: 'left',
            render: (_: unknown, f: string) => (
              <div data-testid={`perm-form-${f}`}>
                <Button type="link" size="small" style={{ padding: 0 }} onClick={() => onSelect(f)}>
                  {formLabel(f)}
                </Button>{' '}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {f}
                </Typography.Text>
                {f !== ALL_FORMS && !appForms.includes(f) && (
                  <Tag color="red" style={{ marginLeft: 4 }}>
                    {t('admin.perm.unknownForm')}
                  </Tag>
                )}
                {changed.has(f) && (
                  <Tag color="orange" style={{ marginLeft: 4 }}>
                    {t('admin.perm.modified')}
                  </Tag>
                )}
                <ErrorList errors={errors.filter((e) => e.place.form === f)} testid={`perm-form-errors-${f}`} />
              </div>
            ),
          },
          ...ACTIONS.map((a) => ({
            title: t(`admin.action.${a}`),
            key: a,
            align: 'center' as const,
            render: (_: unknown, f: string) => {
              const on = (doc.permissions?.[f]?.actions ?? []).includes(a);
              return (
                <Checkbox
                  data-testid={`perm-action-${f}-${a}`}
                  aria-label={`${f} ${a}`}
                  checked={on}
                  onChange={(e) => onToggle(f, a, e.target.checked)}
                />
              );
            },
          })),
        ]}
      />
    </Card>
  );
}
