// The platform's field types in the designer: their names, the property schema a new
// field starts with, reading a field's type and options, and typed-in values. Pure.
import type { JsonSchema } from '../api/types.ts';
import { FIELD_TYPES, type FieldType } from '../forms/model.ts';
import type { Label } from './model.ts';

export const TYPE_LABELS: Record<FieldType, Label> = {
  text: { 'zh-CN': '单行文本', en: 'Text' },
  long_text: { 'zh-CN': '多行文本', en: 'Long text' },
  number: { 'zh-CN': '数字', en: 'Number' },
  integer: { 'zh-CN': '整数', en: 'Integer' },
  money: { 'zh-CN': '金额', en: 'Money' },
  date: { 'zh-CN': '日期', en: 'Date' },
  datetime: { 'zh-CN': '日期时间', en: 'Date and time' },
  select: { 'zh-CN': '单选', en: 'Select' },
  multi_select: { 'zh-CN': '多选', en: 'Multi-select' },
  boolean: { 'zh-CN': '是/否', en: 'Yes/No' },
  email: { 'zh-CN': '邮箱', en: 'Email' },
  cn_mobile: { 'zh-CN': '手机号', en: 'Mobile number' },
  uscc: { 'zh-CN': '统一社会信用代码', en: 'Social credit code' },
  region: { 'zh-CN': '地区', en: 'Region' },
  member: { 'zh-CN': '成员', en: 'Member' },
  department: { 'zh-CN': '部门', en: 'Department' },
  reference: { 'zh-CN': '关联记录', en: 'Reference' },
  sub_table: { 'zh-CN': '子表', en: 'Sub-table' },
  attachment: { 'zh-CN': '附件', en: 'Attachment' },
  signature: { 'zh-CN': '签名', en: 'Signature' },
  serial: { 'zh-CN': '流水号', en: 'Serial number' },
  computed: { 'zh-CN': '计算字段', en: 'Computed' },
};

export const FILE_DEF: JsonSchema = {
  type: 'object',
  properties: {
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    name: { type: 'string' },
    size: { type: 'integer' },
    content_type: { type: 'string' },
  },
  required: ['sha256', 'name'],
  additionalProperties: false,
};

function optionsTemplate(): { enum: string[]; 'x-options': Record<string, Label> } {
  return {
    enum: ['option_1', 'option_2'],
    'x-options': {
      option_1: { 'zh-CN': '选项1', en: 'Option 1' },
      option_2: { 'zh-CN': '选项2', en: 'Option 2' },
    },
  };
}

/** The property schema of a new field of this type (without `x-label`). */
export function typeTemplate(type: FieldType): JsonSchema {
  switch (type) {
    case 'text':
    case 'date':
    case 'datetime':
    case 'cn_mobile':
    case 'uscc':
    case 'member':
    case 'department':
      return { type: 'string', 'x-type': type };
    case 'long_text':
      return { type: 'string', 'x-type': type, maxLength: 5000 };
    case 'email':
      return { type: 'string', 'x-type': type, maxLength: 254 };
    case 'number':
      return { type: 'number', 'x-type': type };
    case 'integer':
      return { type: 'integer', 'x-type': type };
    case 'money':
      return { type: 'number', 'x-type': type, 'x-currency': 'CNY', minimum: 0 };
    case 'boolean':
      return { type: 'boolean', 'x-type': type };
    case 'select': {
      const o = optionsTemplate();
      return { type: 'string', 'x-type': type, enum: o.enum, 'x-options': o['x-options'] };
    }
    case 'multi_select': {
      const o = optionsTemplate();
      return {
        type: 'array',
        'x-type': type,
        items: { type: 'string', enum: o.enum },
        uniqueItems: true,
        'x-options': o['x-options'],
      };
    }
    case 'region':
      return {
        type: 'object',
        'x-type': type,
        properties: { province: { type: 'string' }, city: { type: 'string' }, district: { type: 'string' } },
        required: ['province'],
        additionalProperties: false,
      };
    case 'reference':
      return { type: 'integer', 'x-type': type, 'x-ref': { form: '', display: '' } };
    case 'sub_table':
      return { type: 'array', 'x-type': type, items: { type: 'object', additionalProperties: false } };
    case 'attachment':
      return { type: 'array', 'x-type': type, maxItems: 10, items: { $ref: '#/$defs/file' } };
    case 'signature':
      return { 'x-type': type, $ref: '#/$defs/file', 'x-accept': ['image/png'] };
    case 'serial':
      return { type: 'string', 'x-type': type, 'x-serial': 'NO-{yyyyMMdd}-{0000}', readOnly: true };
    case 'computed':
      return { type: 'number', 'x-type': type, 'x-formula': { '+': [0, 0] }, readOnly: true };
  }
}

export function typeOf(schema: JsonSchema): FieldType {
  const t = schema['x-type'];
  return (FIELD_TYPES as readonly string[]).includes(t) ? (t as FieldType) : 'text';
}

/** An option of a select / multi-select: its stored value and its label. */
export interface OptionItem {
  value: string;
  label: Label;
}

export function optionsOfField(schema: JsonSchema): OptionItem[] {
  const src = typeOf(schema) === 'multi_select' ? (schema.items as JsonSchema | undefined) : schema;
  const values = ((src?.enum ?? []) as unknown[]).map(String);
  const labels = (schema['x-options'] ?? {}) as Record<string, Label>;
  return values.map((v) => ({ value: v, label: { ...(labels[v] ?? {}) } }));
}

/** Turn a value typed in a text box into the JSON value a field holds. */
export function coerceValue(schema: JsonSchema | undefined, text: string): unknown {
  const t = schema ? typeOf(schema) : 'text';
  const numeric = ['number', 'integer', 'money', 'reference'].includes(t) || (t === 'computed' && ['number', 'integer'].includes(schema?.type));
  if (numeric && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text);
  if (t === 'boolean' || (t === 'computed' && schema?.type === 'boolean')) {
    if (text === 'true') return true;
    if (text === 'false') return false;
  }
  return text;
}
