// Client-side validation with the same rules as the server: the JSON Schema (Ajv, draft
// 2020-12) plus the platform checks of each field type (docs/field-types.md). Errors come
// out as the server's details (`/data/<field>` pointers), so one code path shows both.
import Ajv2020 from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ErrorDetail } from '../api/client.ts';
import type { JsonSchema } from '../api/types.ts';
import { fieldsOf, type FieldType } from './model.ts';

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const cache = new WeakMap<JsonSchema, ValidateFunction>();

function compiled(schema: JsonSchema): ValidateFunction | null {
  let v = cache.get(schema);
  if (!v) {
    try {
      v = ajv.compile(withoutServerFields(schema));
    } catch {
      return null;
    }
    cache.set(schema, v);
  }
  return v;
}

/** Serial and computed fields are filled by the server: the client never sends them, so
 * they must not be "required" nor checked here. */
function withoutServerFields(schema: JsonSchema): JsonSchema {
  const copy = structuredClone(schema);
  delete copy.$id;
  return copy;
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100-2015 check character of a unified social credit code. */
export function usccValid(code: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(code[i]!) * USCC_WEIGHTS[i]!;
  const check = (31 - (sum % 31)) % 31;
  return USCC_CHARS[check] === code[17];
}

export function dateValid(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.getUTCFullYear() === +m[1]! && d.getUTCMonth() === +m[2]! - 1 && d.getUTCDate() === +m[3]!;
}

export function datetimeValid(s: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  return !!m && dateValid(m[1]!) && +m[2]! < 24 && +m[3]! < 60 && +m[4]! < 61;
}

/** The platform check of one value, or null when it passes. */
export function checkType(t: FieldType, v: unknown): { rule: string; message: string } | null {
  if (v === undefined || v === null) return null;
  switch (t) {
    case 'money':
      if (typeof v === 'number' && Math.abs(Math.round(v * 100) - v * 100) > 1e-6)
        return { rule: 'x-type', message: 'an amount has at most 2 decimals' };
      return null;
    case 'date':
      return typeof v === 'string' && !dateValid(v) ? { rule: 'x-type', message: 'a date is YYYY-MM-DD' } : null;
    case 'datetime':
      return typeof v === 'string' && !datetimeValid(v)
        ? { rule: 'x-type', message: 'a date-time is RFC 3339 with an offset' }
        : null;
    case 'email':
      return typeof v === 'string' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)
        ? { rule: 'x-type', message: 'not an email address' }
        : null;
    case 'cn_mobile':
      return typeof v === 'string' && !/^1[3-9][0-9]{9}$/.test(v)
        ? { rule: 'x-type', message: 'a mainland mobile number has 11 digits starting 13–19' }
        : null;
    case 'uscc':
      return typeof v === 'string' && !usccValid(v)
        ? { rule: 'x-type', message: 'not a unified social credit code (check character)' }
        : null;
    case 'region': {
      // As the server checks it: a non-empty province, optionally a city and a district.
      if (typeof v !== 'object' || Array.isArray(v)) return null;
      const entries = Object.entries(v as Record<string, unknown>);
      const shaped = entries.every(
        ([k, x]) => ['province', 'city', 'district'].includes(k) && typeof x === 'string' && x.trim() !== '',
      );
      return shaped && 'province' in (v as object)
        ? null
        : { rule: 'x-type', message: 'a region is a province, optionally a city and a district' };
    }
    default:
      return null;
  }
}

function pointerOf(e: ErrorObject): string {
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty?: string }).missingProperty ?? '';
    return `/data${e.instancePath}/${missing}`;
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty?: string }).additionalProperty ?? '';
    return `/data${e.instancePath}/${extra}`;
  }
  return `/data${e.instancePath}`;
}

/** Validate record data as the server would before a write. */
export function validateRecord(schema: JsonSchema, data: Record<string, unknown>): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const validate = compiled(schema);
  if (validate && !validate(data)) {
    for (const e of validate.errors ?? []) {
      if (e.keyword === 'if') continue; // the failing `then` is reported on its own
      out.push({ pointer: pointerOf(e), rule: e.keyword, message: e.message ?? e.keyword });
    }
  }
  for (const f of fieldsOf(schema)) {
    const problem = checkType(f.type, data[f.key]);
    if (problem) out.push({ pointer: `/data/${f.key}`, ...problem });
    if (f.type === 'sub_table' && Array.isArray(data[f.key])) {
      const cols = fieldsOf(f.schema.items as JsonSchema);
      (data[f.key] as Record<string, unknown>[]).forEach((row, i) => {
        for (const c of cols) {
          const p = checkType(c.type, row?.[c.key]);
          if (p) out.push({ pointer: `/data/${f.key}/${i}/${c.key}`, ...p });
        }
      });
    }
  }
  return out;
}
