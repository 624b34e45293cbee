// Side-panel editors of the loop and http nodes and of the notify channels (inbox, email,
// webhook; docs/flows.md "Nodes" and "Outbox"), shown by NodePanel, and the key → value
// editor of headers, http bodies, webhook payloads and subflow inputs (the subflow node's
// editor is in SubflowEditor.tsx).
//
// data-testid:
//   loop: flow-prop-over-pick (a list: query results, sub-tables), flow-prop-over (JSON
//   Logic), flow-prop-as
//   http: flow-prop-method, flow-prop-url, flow-prop-headers(-…), flow-prop-http-body(-…),
//   flow-prop-name, flow-prop-as-role
//   notify: flow-prop-channel, flow-prop-to(-kind), flow-prop-title, flow-prop-body,
//   flow-prop-address-field, flow-prop-address, flow-prop-as-role, flow-prop-url,
//   flow-prop-headers(-…), flow-prop-payload(-…); the preview's in TemplatePreview.tsx
//   cc: flow-prop-to(-kind), flow-prop-title, flow-prop-body
//   key → value editors <id>: <id>-row-<key>, <id>-remove-<key>, <id>-key, <id>-value,
//   <id>-value-var, <id>-add
import { useState } from 'react';
import { Button, Form, Input, Select, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import type { JsonSchema, Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { AssigneeInput, JsonInput, fieldOptions, type Lookups, type Option } from './inputs.tsx';
import { TemplatePreview } from './TemplatePreview.tsx';
import type { FlowNode, FlowState } from './model.ts';
import {
  DEFAULT_HTTP_METHOD,
  HTTP_METHODS,
  NOTIFY_CHANNELS,
  httpResultName,
  isVarKey,
  looseJson,
  loopVar,
  notifyChannel,
  optionalValue,
  switchNotifyChannel,
  withEntry,
  type NotifyChannel,
} from './nodes.ts';

type SetNode = (patch: Partial<FlowNode>) => void;

export interface EditorProps {
  node: FlowNode;
  id: string;
  state: FlowState;
  set: SetNode;
  lookups: Lookups;
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');
const isEmail = (s: JsonSchema) => s['x-type'] === 'email';
const isSubTable = (s: JsonSchema) => s['x-type'] === 'sub_table';

// ---------------------------------------------------------------------------------------
// Key → value

/** `{key: template}` (headers) or `{key: JSON Logic or literal}` (body, payload). A logic
 * value is typed as JSON (a text that is not JSON is taken as a string), or picked from
 * the context variables (`{"var": …}`). */
export function KeyValueEditor(p: {
  value: unknown;
  onChange: (v: Record<string, unknown> | undefined) => void;
  testId: string;
  kind: 'template' | 'logic';
  vars?: Option[];
  keyPlaceholder?: string;
}) {
  const { t } = useI18n();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [picked, setPicked] = useState<string | undefined>();
  const entries = typeof p.value === 'object' && p.value !== null && !Array.isArray(p.value) ? Object.entries(p.value) : [];
  const k = key.trim();
  return (
    <div data-testid={p.testId}>
      {entries.length === 0 && <Typography.Text type="secondary">{t('flows.prop.kv.none')}</Typography.Text>}
      {entries.map(([name, v]) => (
        <div key={name} style={{ display: 'flex', alignItems: 'center', gap: 4, fontSize: 13 }} data-testid={`${p.testId}-row-${name}`}>
          <span style={{ flex: 1, wordBreak: 'break-all' }}>
            <Typography.Text strong>{name}</Typography.Text>
            {p.kind === 'template' ? ': ' : ' = '}
            <Typography.Text code>{p.kind === 'template' && typeof v === 'string' ? v : JSON.stringify(v)}</Typography.Text>
          </span>
          <Button type="link" size="small" danger data-testid={`${p.testId}-remove-${name}`} onClick={() => p.onChange(withEntry(p.value, name, undefined))}>
            {t('common.remove')}
          </Button>
        </div>
      ))}
      <div style={{ display: 'grid', gridTemplateColumns: '1fr', gap: 6, marginTop: 6 }}>
        <Input data-testid={`${p.testId}-key`} placeholder={p.keyPlaceholder ?? t('flows.prop.kv.key')} value={key} onChange={(e) => setKey(e.target.value)} />
        {p.kind === 'logic' && p.vars && p.vars.length > 0 && (
          <Select
            data-testid={`${p.testId}-value-var`}
            showSearch
            allowClear
            optionFilterProp="label"
            placeholder={t('flows.prop.kv.fromContext')}
            value={picked}
            options={p.vars}
            onChange={(v: string | undefined) => {
              setPicked(v);
              setValue(v ? JSON.stringify({ var: v }) : '');
            }}
          />
        )}
        <Input
          data-testid={`${p.testId}-value`}
          placeholder={p.kind === 'template' ? t('flows.prop.kv.template') : t('flows.prop.kv.logic')}
          style={p.kind === 'logic' ? { fontFamily: 'monospace', fontSize: 12 } : undefined}
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setPicked(undefined);
          }}
        />
        <Button
          size="small"
          type="primary"
          ghost
          icon={<PlusOutlined />}
          disabled={!k || (p.kind === 'logic' && value.trim() === '')}
          data-testid={`${p.testId}-add`}
          onClick={() => {
            p.onChange(withEntry(p.value, k, p.kind === 'template' ? value : looseJson(value)));
            setKey('');
            setValue('');
            setPicked(undefined);
          }}
        >
          {t('common.add')}
        </Button>
      </div>
    </div>
  );
}

/** The node's `as_role`, picked from the app's roles (a role that is not there stays shown).
 * `label` / `requiredHelp` replace the notify wording (the report node runs as the role). */
export function RoleInput(p: { node: FlowNode; set: SetNode; lookups: Lookups; required?: boolean; help: string; label?: string; requiredHelp?: string }) {
  const { t } = useI18n();
  const missing = p.required && !p.node.as_role;
  const current = text(p.node.as_role);
  const roles = current && !p.lookups.roles.some((r) => r.value === current) ? [...p.lookups.roles, { value: current, label: current }] : p.lookups.roles;
  return (
    <Form.Item
      label={p.label ?? (p.required ? t('flows.prop.asRole') : t('flows.prop.asRoleOptional'))}
      help={missing ? (p.requiredHelp ?? t('flows.prop.asRoleRequired')) : p.help}
      validateStatus={missing ? 'warning' : undefined}
    >
      <Select
        data-testid="flow-prop-as-role"
        showSearch
        allowClear
        optionFilterProp="label"
        placeholder={t('flows.prop.assignee.pick')}
        value={current || undefined}
        options={roles}
        onChange={(r: string | undefined) => p.set({ as_role: optionalValue(r) })}
      />
    </Form.Item>
  );
}

function UrlInput(p: { node: FlowNode; set: SetNode }) {
  const { t } = useI18n();
  const url = text(p.node.url);
  const bad = url.trim() !== '' && !/^(https?:\/\/|\{\{)/.test(url.trim());
  return (
    <Form.Item label={t('flows.prop.url')} help={bad ? t('flows.prop.urlBad') : t('flows.prop.urlHelp')} validateStatus={bad || !url.trim() ? 'warning' : undefined}>
      <Input data-testid="flow-prop-url" placeholder="https://" value={url} onChange={(e) => p.set({ url: e.target.value })} />
    </Form.Item>
  );
}

// ---------------------------------------------------------------------------------------
// loop

export function LoopEditor(p: EditorProps) {
  const { t, label } = useI18n();
  const n = p.node;
  const [overKey, setOverKey] = useState(0);
  const as = loopVar(n);
  const asBad = n.as !== undefined && !isVarKey(n.as);
  // lists the flow has: query results and sub-tables of the trigger record
  const lists: Option[] = [
    ...p.state.nodes
      .filter((x) => x.data.node.type === 'query' && typeof x.data.node.name === 'string' && x.data.node.name)
      .map((x) => ({ value: `vars.${String(x.data.node.name)}`, label: `${label(x.data.node.label as Label | undefined, x.id)} (vars.${String(x.data.node.name)})` })),
    ...[...p.lookups.fields.entries()]
      .filter(([, sc]) => isSubTable(sc))
      .map(([k, sc]) => ({ value: `record.${k}`, label: `${label(sc['x-label'] as Label | undefined, k)} (record.${k})` })),
  ];
  const overVar = typeof n.over === 'object' && n.over !== null && 'var' in n.over && typeof (n.over as { var: unknown }).var === 'string' ? (n.over as { var: string }).var : undefined;
  return (
    <>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('flows.prop.loopHelp')}
      </Typography.Paragraph>
      <Form.Item label={t('flows.prop.over')} help={t('flows.prop.overHelp')} validateStatus={n.over === undefined ? 'warning' : undefined}>
        {lists.length > 0 && (
          <Select
            data-testid="flow-prop-over-pick"
            style={{ width: '100%', marginBottom: 4 }}
            placeholder={t('flows.prop.overPick')}
            value={overVar && lists.some((l) => l.value === overVar) ? overVar : undefined}
            options={lists}
            onChange={(v: string) => {
              p.set({ over: { var: v } });
              setOverKey((k) => k + 1);
            }}
          />
        )}
        <JsonInput key={`${p.id}-${overKey}`} value={n.over} onChange={(v) => p.set({ over: v })} testId="flow-prop-over" rows={2} />
      </Form.Item>
      <Form.Item label={t('flows.prop.as')} help={asBad ? t('flows.prop.keyBad') : t('flows.prop.asHelp', { as })} validateStatus={asBad ? 'error' : undefined}>
        <Input data-testid="flow-prop-as" placeholder="item" value={text(n.as)} onChange={(e) => p.set({ as: optionalValue(e.target.value.trim()) })} />
      </Form.Item>
    </>
  );
}

// ---------------------------------------------------------------------------------------
// http

export function HttpEditor(p: EditorProps) {
  const { t } = useI18n();
  const n = p.node;
  const name = httpResultName(n, p.id);
  const nameBad = n.name !== undefined && !isVarKey(n.name);
  return (
    <>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('flows.prop.httpHelp')}
      </Typography.Paragraph>
      <Form.Item label={t('flows.prop.method')}>
        <Select
          data-testid="flow-prop-method"
          style={{ width: 140 }}
          value={text(n.method) || DEFAULT_HTTP_METHOD}
          options={HTTP_METHODS.map((m) => ({ value: m, label: m }))}
          onChange={(m: string) => p.set({ method: m })}
        />
      </Form.Item>
      <UrlInput node={n} set={p.set} />
      <Form.Item label={t('flows.prop.headers')} help={t('flows.prop.templateHelp')}>
        <KeyValueEditor value={n.headers} onChange={(v) => p.set({ headers: v as Record<string, string> | undefined })} kind="template" testId="flow-prop-headers" keyPlaceholder="X-Header" />
      </Form.Item>
      <Form.Item label={t('flows.prop.httpBody')} help={t('flows.prop.logicMapHelp')}>
        <KeyValueEditor value={n.body} onChange={(v) => p.set({ body: v })} kind="logic" vars={p.lookups.vars} testId="flow-prop-http-body" />
      </Form.Item>
      <Form.Item
        label={t('flows.prop.httpName')}
        help={nameBad ? t('flows.prop.keyBad') : t('flows.prop.httpNameHelp', { name })}
        validateStatus={nameBad ? 'error' : undefined}
      >
        <Input data-testid="flow-prop-name" placeholder={p.id} value={text(n.name)} onChange={(e) => p.set({ name: optionalValue(e.target.value.trim()) })} />
      </Form.Item>
      <RoleInput node={n} set={p.set} lookups={p.lookups} help={t('flows.prop.asRoleSendHelp')} />
    </>
  );
}

// ---------------------------------------------------------------------------------------
// notify

export function NotifyEditor(p: EditorProps) {
  const { t, label } = useI18n();
  const n = p.node;
  const channel = notifyChannel(n);
  const [addressKey, setAddressKey] = useState(0);
  const emailFields = fieldOptions(p.lookups.fields, label, isEmail).map((o) => ({ value: `record.${o.value}`, label: o.label }));
  const addressVar =
    typeof n.address === 'object' && n.address !== null && 'var' in n.address && typeof (n.address as { var: unknown }).var === 'string'
      ? (n.address as { var: string }).var
      : undefined;
  const known = (NOTIFY_CHANNELS as readonly string[]).includes(channel);
  return (
    <>
      <Form.Item label={t('flows.prop.channel')}>
        <Select
          data-testid="flow-prop-channel"
          value={channel}
          options={[
            ...NOTIFY_CHANNELS.map((c) => ({ value: c, label: t(`flows.prop.channel.${c}`) })),
            ...(known ? [] : [{ value: channel, label: channel }]),
          ]}
          onChange={(c: string) => {
            if ((NOTIFY_CHANNELS as readonly string[]).includes(c)) p.set(switchNotifyChannel(n, c as NotifyChannel));
          }}
        />
      </Form.Item>
      {channel !== 'inbox' && (
        <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
          {t(channel === 'webhook' ? 'flows.prop.channelWebhookHelp' : 'flows.prop.channelEmailHelp')}
        </Typography.Paragraph>
      )}

      {channel !== 'webhook' && (
        <Form.Item
          label={channel === 'email' ? t('flows.prop.toUsers') : t('flows.prop.to')}
          help={channel === 'email' ? t('flows.prop.toEmailHelp') : undefined}
          validateStatus={channel === 'email' && n.to === undefined && n.address === undefined ? 'warning' : undefined}
        >
          <AssigneeInput value={n.to} onChange={(a) => p.set({ to: a })} lookups={p.lookups} testId="flow-prop-to" allowEmpty={channel === 'email'} />
        </Form.Item>
      )}

      {channel === 'email' && (
        <>
          <Form.Item label={t('flows.prop.address')} help={t('flows.prop.addressHelp')}>
            {emailFields.length > 0 && (
              <Select
                data-testid="flow-prop-address-field"
                style={{ width: '100%', marginBottom: 4 }}
                allowClear
                placeholder={t('flows.prop.addressField')}
                value={addressVar && emailFields.some((f) => f.value === addressVar) ? addressVar : undefined}
                options={emailFields}
                onChange={(v: string | undefined) => {
                  p.set(v ? { address: { var: v } } : { address: undefined, as_role: undefined });
                  setAddressKey((k) => k + 1);
                }}
              />
            )}
            <JsonInput key={`${p.id}-${addressKey}`} value={n.address} onChange={(v) => p.set({ address: optionalValue(v) })} testId="flow-prop-address" rows={2} />
          </Form.Item>
          {(n.address !== undefined || n.as_role !== undefined) && (
            <RoleInput node={n} set={p.set} lookups={p.lookups} required={n.address !== undefined} help={t('flows.prop.asRoleEmailHelp')} />
          )}
        </>
      )}

      {channel !== 'webhook' && (
        <>
          <Form.Item label={t('flows.prop.title')} help={t('flows.prop.templateHelp')}>
            <Input data-testid="flow-prop-title" value={text(n.title)} onChange={(e) => p.set({ title: e.target.value })} />
          </Form.Item>
          <Form.Item label={t('flows.prop.body')}>
            <Input.TextArea data-testid="flow-prop-body" rows={3} value={text(n.body)} onChange={(e) => p.set({ body: e.target.value })} />
          </Form.Item>
          <Preview {...p} />
        </>
      )}

      {channel === 'webhook' && (
        <>
          <UrlInput node={n} set={p.set} />
          <Form.Item label={t('flows.prop.headers')} help={t('flows.prop.templateHelp')}>
            <KeyValueEditor value={n.headers} onChange={(v) => p.set({ headers: v as Record<string, string> | undefined })} kind="template" testId="flow-prop-headers" keyPlaceholder="X-Header" />
          </Form.Item>
          <Form.Item label={t('flows.prop.payload')} help={t('flows.prop.payloadHelp')}>
            <KeyValueEditor value={n.payload} onChange={(v) => p.set({ payload: v })} kind="logic" vars={p.lookups.vars} testId="flow-prop-payload" />
          </Form.Item>
          <RoleInput node={n} set={p.set} lookups={p.lookups} help={t('flows.prop.asRoleSendHelp')} />
        </>
      )}
    </>
  );
}

// ---------------------------------------------------------------------------------------
// cc (抄送): recipients who get a message and may follow the instance; the title defaults
// to the flow's name.

export function CcEditor(p: EditorProps) {
  const { t } = useI18n();
  const n = p.node;
  return (
    <>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('flows.prop.ccHelp')}
      </Typography.Paragraph>
      <Form.Item label={t('flows.prop.to')}>
        <AssigneeInput value={n.to} onChange={(a) => p.set({ to: a })} lookups={p.lookups} testId="flow-prop-to" />
      </Form.Item>
      <Form.Item label={t('flows.prop.title')} help={t('flows.prop.ccTitleHelp')}>
        <Input data-testid="flow-prop-title" value={text(n.title)} onChange={(e) => p.set({ title: e.target.value || undefined })} />
      </Form.Item>
      <Form.Item label={t('flows.prop.body')} help={t('flows.prop.templateHelp')}>
        <Input.TextArea data-testid="flow-prop-body" rows={3} value={text(n.body)} onChange={(e) => p.set({ body: e.target.value || undefined })} />
      </Form.Item>
      <Preview {...p} />
    </>
  );
}

/** The title and body previewed on a record of the trigger form. */
function Preview(p: EditorProps) {
  const form = typeof p.state.trigger.form === 'string' && p.state.trigger.form ? p.state.trigger.form : undefined;
  return (
    <TemplatePreview
      app={p.lookups.app}
      flow={p.state.key}
      form={form}
      fields={p.lookups.fields}
      users={p.lookups.users}
      templates={{ title: p.node.title, body: p.node.body }}
    />
  );
}
