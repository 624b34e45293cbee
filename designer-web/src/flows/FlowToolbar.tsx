// The flow designer's toolbar above the canvas: back to the list, the flow's title and key,
// its published version and unsaved mark, and the layout / versions / settings / save /
// publish buttons (shown by FlowDesignerPage).
//
// data-testid: flow-back, flow-title, flow-version, flow-dirty, flow-layout-topdown,
// flow-versions-open, flow-settings, flow-save, flow-publish
import { Link } from 'react-router';
import { Button, Space, Tag, Tooltip, Typography } from 'antd';
import { ApartmentOutlined, CloudUploadOutlined, HistoryOutlined, SaveOutlined, SettingOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n/index.tsx';
import type { Label } from '../api/types.ts';

export function FlowToolbar(p: {
  app: string;
  flow: string;
  label: Label;
  publishedVersion: number | null;
  dirty: boolean;
  busy: 'save' | 'publish' | null;
  onLayoutTopDown: () => void;
  onOpenVersions: () => void;
  onShowSettings: () => void;
  onSave: () => void;
  onPublish: () => void;
}) {
  const { t, label } = useI18n();
  return (
    <Space wrap style={{ marginBottom: 8, width: '100%', justifyContent: 'space-between' }}>
      <Space wrap>
        <Link to={`/apps/${p.app}/flows`} data-testid="flow-back">
          {t('common.back')}
        </Link>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="flow-title">
          {label(p.label, p.flow)}
        </Typography.Title>
        <Typography.Text code>{p.flow}</Typography.Text>
        {p.publishedVersion ? (
          <Tag color="green" data-testid="flow-version">
            {t('flows.list.version', { n: p.publishedVersion })}
          </Tag>
        ) : (
          <Tag data-testid="flow-version">{t('flows.list.unpublished')}</Tag>
        )}
        {p.dirty && (
          <Tag color="orange" data-testid="flow-dirty">
            {t('flows.editor.dirty')}
          </Tag>
        )}
      </Space>
      <Space wrap>
        <Tooltip title={t('flows.layout.topDownHelp')}>
          <Button icon={<ApartmentOutlined />} data-testid="flow-layout-topdown" onClick={p.onLayoutTopDown}>
            {t('flows.layout.topDown')}
          </Button>
        </Tooltip>
        <Button icon={<HistoryOutlined />} data-testid="flow-versions-open" onClick={p.onOpenVersions}>
          {t('flows.versions.open')}
        </Button>
        <Tooltip title={t('flows.editor.showTrigger')}>
          <Button icon={<SettingOutlined />} data-testid="flow-settings" onClick={p.onShowSettings}>
            {t('flows.editor.trigger')}
          </Button>
        </Tooltip>
        <Button icon={<SaveOutlined />} loading={p.busy === 'save'} onClick={p.onSave} data-testid="flow-save">
          {t('flows.editor.save')}
        </Button>
        <Button type="primary" icon={<CloudUploadOutlined />} loading={p.busy === 'publish'} onClick={p.onPublish} data-testid="flow-publish">
          {t('flows.editor.publish')}
        </Button>
      </Space>
    </Space>
  );
}
