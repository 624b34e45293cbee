// The property panel of the selected canvas element (a field's key, type, labels and
// settings; a group's label), with the show/hide and required-when rule editors
// (RuleEditors.tsx) and the type-specific setting editors (FieldEditors.tsx); the form's
// own settings when nothing is selected.
import { useState } from 'react';
import { Alert, Button, Divider, Form, Input, InputNumber, Select, Space, Switch, Tag, Typography } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import type { FormSummary } from '../api/types.ts';
import { FIELD_TYPES, type FieldType } from '../forms/model.ts';
import { useI18n } from '../i18n/index.tsx';
import { findNode, isColumn, type FieldNode, type NodeId, type DesignerState } from './model.ts';
import { optionsOfField, typeOf } from './fieldTypes.ts';
import type { Apply } from './history.ts';
import {
  isRequired,
  remove,
  renameField,
  setFormLabel,
  setLabel,
  setOptions,
  setProp,
  setRequired,
  unwrap,
  wrap,
} from './operations.ts';
import { fieldTypeChange, setFieldType, type DroppedSetting } from './typeChange.ts';
import { DefaultInput, FormulaEditor, NUMBER_LIMITS, OptionsEditor, ReferenceEditor } from './FieldEditors.tsx';
import { RequiredWhenEditor, RuleEditor, fieldName } from './RuleEditors.tsx';
import type { PublishedTypeChange } from './publishedTypes.ts';
import { TypeChangeAlert } from './PublishedTypeWarnings.tsx';

export interface PanelProps {
  app: string;
  state: DesignerState;
  selected: NodeId | null;
  apply: Apply;
  onSelect: (id: NodeId | null) => void;
  forms: FormSummary[];
  /** Server errors of the selected node. */
  errors: string[];
  /** Fields whose type differs from the published version (`publishedVersion`). */
  typeChanges: Map<NodeId, PublishedTypeChange>;
  publishedVersion: number | null;
}

export function PropertyPanel(p: PanelProps) {
  const e = p.selected ? findNode(p.state, p.selected) : null;
  if (!e) return <FormSettings {...p} />;
  if (e.node.kind === 'field') return <FieldPanel key={e.node.id} {...p} node={e.node} />;
  return <ContainerPanel key={e.node.id} {...p} />;
}

const LOCALES = [
  ['zh', 'zh-CN'],
  ['en', 'en'],
] as const;

function FormSettings(p: PanelProps) {
  const { t, label } = useI18n();
  const s = p.state;
  return (
    <div data-testid="designer-form-settings">
      <Typography.Title level={5}>{t('designer.form.settings')}</Typography.Title>
      <Form layout="vertical" size="small">
        <Form.Item label={t('designer.form.key')}>
          <Typography.Text code data-testid="form-key">
            {s.key}
          </Typography.Text>
        </Form.Item>
        {LOCALES.map(([short, loc]) => (
          <Form.Item key={loc} label={t(`designer.prop.label.${short}`)}>
            <Input
              data-testid={`form-label-${short}`}
              value={s.label[loc] ?? ''}
              onChange={(ev) => p.apply((st) => setFormLabel(st, loc, ev.target.value), { tag: `form-label-${loc}` })}
            />
          </Form.Item>
        ))}
      </Form>
      <Divider style={{ margin: '12px 0' }} />
      <Typography.Text strong>{t('designer.reqwhen.title')}</Typography.Text>
      {s.requiredWhen.length === 0 && (
        <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
          {t('designer.reqwhen.none')}
        </Typography.Paragraph>
      )}
      <ul style={{ paddingLeft: 16 }}>
        {s.requiredWhen.map((r) => (
          <li key={r.id}>
            {t('designer.reqwhen.sentence', {
              fields: r.fields.map((k) => fieldName(s, k, label)).join(', '),
              when: fieldName(s, r.when, label),
              value: JSON.stringify(r.value),
            })}
          </li>
        ))}
      </ul>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('designer.form.selectHint')}
      </Typography.Paragraph>
    </div>
  );
}

function ContainerPanel(p: PanelProps) {
  const { t } = useI18n();
  const n = findNode(p.state, p.selected!)!.node;
  if (n.kind === 'field') return null;
  const id = n.id;
  return (
    <div data-testid="designer-container-panel">
      <Typography.Title level={5}>
        {t(n.kind === 'group' ? 'designer.palette.group' : n.kind === 'row' ? 'designer.palette.row' : 'designer.canvas.vertical')}
      </Typography.Title>
      <ErrorList errors={p.errors} />
      {n.kind === 'group' && (
        <Form layout="vertical" size="small">
          {LOCALES.map(([short, loc]) => (
            <Form.Item key={loc} label={t(`designer.prop.label.${short}`)}>
              <Input
                data-testid={`prop-label-${short}`}
                value={n.label?.[loc] ?? ''}
                onChange={(ev) => p.apply((st) => setLabel(st, id, loc, ev.target.value), { tag: `label-${loc}:${id}`, node: id })}
              />
            </Form.Item>
          ))}
        </Form>
      )}
      <Space wrap>
        <Button size="small" data-testid="prop-unwrap" onClick={() => p.apply((st) => unwrap(st, id))}>
          {t('designer.prop.unwrap')}
        </Button>
        <Button
          size="small"
          danger
          icon={<DeleteOutlined />}
          data-testid="prop-delete"
          onClick={() => {
            p.apply((st) => remove(st, id));
            p.onSelect(null);
          }}
        >
          {t('designer.prop.deleteContainer')}
        </Button>
      </Space>
      <Divider style={{ margin: '12px 0' }} />
      <RuleEditor {...p} nodeId={id} />
    </div>
  );
}

function ErrorList({ errors }: { errors: string[] }) {
  if (errors.length === 0) return null;
  return (
    <Alert
      type="error"
      showIcon
      data-testid="prop-errors"
      style={{ marginBottom: 12 }}
      message={
        <ul style={{ margin: 0, paddingLeft: 16 }}>
          {errors.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      }
    />
  );
}

const STRING_LIMITS = ['text', 'long_text', 'email', 'cn_mobile', 'uscc'];
const ITEM_LIMITS = ['multi_select', 'attachment', 'sub_table'];

/** The panel's name of each setting a type change can drop (typeChange.ts). */
const SETTING_NAMES: Record<string, string> = {
  options: 'designer.prop.options',
  columns: 'designer.canvas.columns',
  required: 'designer.prop.required',
  default: 'designer.prop.default',
  indexes: 'designer.type.indexes',
  minLength: 'designer.prop.minLength',
  maxLength: 'designer.prop.maxLength',
  minimum: 'designer.prop.minimum',
  maximum: 'designer.prop.maximum',
  maxItems: 'designer.prop.maxItems',
  'x-currency': 'designer.prop.currency',
  'x-ref': 'designer.prop.refForm',
  'x-serial': 'designer.prop.serial',
  'x-formula': 'designer.prop.formula',
  'x-accept': 'designer.prop.accept',
  'x-max-size': 'designer.prop.x-max-size',
  'x-indexed': 'designer.prop.indexed',
  'x-unique': 'designer.prop.unique',
};

/** The last type change made in this panel, to say what it kept and dropped. */
interface TypeNotice {
  from: FieldType;
  to: FieldType;
  dropped: DroppedSetting[];
}

/** The field's type, changeable: the field keeps its key, labels, help and required flag
 * and the settings the new type understands; what it lost is listed below the choice
 * until the type changes again (undo brings the settings back). A column cannot become a
 * sub-table. */
function TypeSelect(p: { state: DesignerState; apply: Apply; node: FieldNode; column: boolean }) {
  const { t } = useI18n();
  const id = p.node.id;
  const type = typeOf(p.node.schema);
  const [notice, setNotice] = useState<TypeNotice | null>(null);
  const change = (to: FieldType) => {
    const { dropped } = fieldTypeChange(p.state, id, to);
    p.apply((st) => setFieldType(st, id, to), { node: id });
    setNotice({ from: type, to, dropped });
  };
  const settingName = (k: string) => (SETTING_NAMES[k] ? t(SETTING_NAMES[k]) : k);
  const shown = notice && notice.to === type ? notice : null;
  return (
    <Form.Item label={t('designer.prop.type')} help={t('designer.type.help')}>
      <Select
        data-testid="prop-type"
        showSearch
        optionFilterProp="label"
        value={type}
        options={FIELD_TYPES.filter((x) => !(p.column && x === 'sub_table')).map((x) => ({ value: x, label: t(`designer.palette.${x}`) }))}
        onChange={(v: FieldType) => change(v)}
      />
      {shown && (
        <Alert
          data-testid="prop-type-notice"
          style={{ marginTop: 6 }}
          type={shown.dropped.length > 0 ? 'warning' : 'info'}
          showIcon
          message={t('designer.type.changed', { from: t(`designer.palette.${shown.from}`), to: t(`designer.palette.${shown.to}`) })}
          description={
            shown.dropped.length > 0 ? (
              <>
                {t('designer.type.dropped')}
                <ul style={{ margin: 0, paddingLeft: 16 }} data-testid="prop-type-dropped">
                  {shown.dropped.map((k) => (
                    <li key={k} data-setting={k}>
                      {settingName(k)}
                    </li>
                  ))}
                </ul>
              </>
            ) : (
              t('designer.type.keptAll')
            )
          }
        />
      )}
    </Form.Item>
  );
}

function FieldPanel(p: PanelProps & { node: FieldNode }) {
  const { t } = useI18n();
  const n = p.node;
  const id = n.id;
  const sc = n.schema;
  const type = typeOf(sc);
  const column = isColumn(p.state, id);
  const set = (path: string[], value: unknown, tag?: string) =>
    p.apply((st) => setProp(st, id, path, value), { tag: tag ?? `${path.join('.')}:${id}`, node: id });
  const num = (name: string, min?: number) => (
    <Form.Item label={t(`designer.prop.${name}`)} key={name}>
      <InputNumber
        data-testid={`prop-${name}`}
        style={{ width: '100%' }}
        min={min}
        value={typeof sc[name] === 'number' ? sc[name] : null}
        onChange={(v) => set([name], v === null || v === undefined ? undefined : Number(v))}
      />
    </Form.Item>
  );
  const serverAssigned = type === 'serial' || type === 'computed';
  return (
    <div data-testid="designer-field-panel">
      <Typography.Title level={5} style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
        {t('designer.prop.field')} <Tag>{t(`designer.palette.${type}`)}</Tag>
      </Typography.Title>
      <ErrorList errors={p.errors} />
      <Form layout="vertical" size="small">
        <Form.Item label={t('designer.prop.key')} tooltip={t('designer.prop.keyHelp')}>
          <Input
            data-testid="prop-key"
            value={n.key}
            onChange={(ev) => p.apply((st) => renameField(st, id, ev.target.value.trim()), { tag: `key:${id}`, node: id })}
          />
        </Form.Item>
        <TypeSelect state={p.state} apply={p.apply} node={n} column={column} />
        <TypeChangeAlert change={p.typeChanges.get(id)} version={p.publishedVersion} />
        {LOCALES.map(([short, loc]) => (
          <Form.Item key={loc} label={t(`designer.prop.label.${short}`)}>
            <Input
              data-testid={`prop-label-${short}`}
              value={(sc['x-label'] as Record<string, string> | undefined)?.[loc] ?? ''}
              onChange={(ev) => set(['x-label', loc], ev.target.value)}
            />
          </Form.Item>
        ))}
        <Form.Item label={t('designer.prop.required')} help={serverAssigned ? t('designer.prop.serverAssigned') : undefined}>
          <Switch
            data-testid="prop-required"
            disabled={serverAssigned}
            checked={isRequired(p.state, id)}
            onChange={(v) => p.apply((st) => setRequired(st, id, v), { node: id })}
          />
        </Form.Item>
        {LOCALES.map(([short, loc]) => (
          <Form.Item key={`help-${loc}`} label={t(`designer.prop.help.${short}`)}>
            <Input
              data-testid={`prop-help-${short}`}
              value={(sc['x-help'] as Record<string, string> | undefined)?.[loc] ?? ''}
              onChange={(ev) => set(['x-help', loc], ev.target.value)}
            />
          </Form.Item>
        ))}
        <DefaultInput schema={sc} onChange={(v) => set(['default'], v)} />
        {STRING_LIMITS.includes(type) && [num('minLength'), num('maxLength')]}
        {NUMBER_LIMITS.includes(type) && [num('minimum'), num('maximum')]}
        {ITEM_LIMITS.includes(type) && num('maxItems')}
        {type === 'money' && (
          <Form.Item label={t('designer.prop.currency')}>
            <Input
              data-testid="prop-currency"
              value={String(sc['x-currency'] ?? '')}
              maxLength={3}
              onChange={(ev) => set(['x-currency'], ev.target.value.toUpperCase() || undefined)}
            />
          </Form.Item>
        )}
        {(type === 'select' || type === 'multi_select') && (
          <OptionsEditor options={optionsOfField(sc)} onChange={(o) => p.apply((st) => setOptions(st, id, o), { tag: `options:${id}`, node: id })} />
        )}
        {type === 'reference' && <ReferenceEditor app={p.app} forms={p.forms} schema={sc} set={set} />}
        {type === 'serial' && (
          <Form.Item label={t('designer.prop.serial')} help={t('designer.prop.serialHelp')}>
            <Input data-testid="prop-serial" value={String(sc['x-serial'] ?? '')} onChange={(ev) => set(['x-serial'], ev.target.value)} />
          </Form.Item>
        )}
        {type === 'computed' && <FormulaEditor schema={sc} set={set} />}
        {(type === 'attachment' || type === 'signature') && (
          <>
            <Form.Item label={t('designer.prop.accept')} help={t('designer.prop.acceptHelp')}>
              <Input
                data-testid="prop-accept"
                value={((sc['x-accept'] as string[] | undefined) ?? []).join(', ')}
                onChange={(ev) => {
                  const list = ev.target.value
                    .split(',')
                    .map((x) => x.trim())
                    .filter(Boolean);
                  set(['x-accept'], list.length > 0 ? list : undefined);
                }}
              />
            </Form.Item>
            {num('x-max-size', 1)}
          </>
        )}
        <Space wrap size="large">
          {!column && (
            <Form.Item label={t('designer.prop.indexed')}>
              <Switch data-testid="prop-indexed" checked={sc['x-indexed'] === true} onChange={(v) => set(['x-indexed'], v || undefined)} />
            </Form.Item>
          )}
          {!column && (
            <Form.Item label={t('designer.prop.unique')}>
              <Switch data-testid="prop-unique" checked={sc['x-unique'] === true} onChange={(v) => set(['x-unique'], v || undefined)} />
            </Form.Item>
          )}
          <Form.Item label={t('designer.prop.confidential')}>
            <Switch
              data-testid="prop-confidential"
              checked={sc['x-confidential'] === true}
              onChange={(v) => set(['x-confidential'], v || undefined)}
            />
          </Form.Item>
        </Space>
      </Form>
      <Space wrap>
        {!column && (
          <>
            <Button size="small" data-testid="prop-wrap-group" onClick={() => p.apply((st) => wrap(st, id, 'group'))}>
              {t('designer.prop.wrapGroup')}
            </Button>
            <Button size="small" data-testid="prop-wrap-row" onClick={() => p.apply((st) => wrap(st, id, 'row'))}>
              {t('designer.prop.wrapRow')}
            </Button>
          </>
        )}
        <Button
          size="small"
          danger
          icon={<DeleteOutlined />}
          data-testid="prop-delete"
          onClick={() => {
            p.apply((st) => remove(st, id));
            p.onSelect(null);
          }}
        >
          {t('designer.prop.delete')}
        </Button>
      </Space>
      {!column && (
        <>
          <Divider style={{ margin: '12px 0' }} />
          <RuleEditor {...p} nodeId={id} />
          <Divider style={{ margin: '12px 0' }} />
          {!serverAssigned && <RequiredWhenEditor {...p} />}
        </>
      )}
    </div>
  );
}
