import { expect, test } from 'vitest';
import type { JsonSchema } from '../api/types.ts';
import { displayField, previewTemplates } from './TemplatePreview.tsx';

test('a record is named by its serial number, else its first text field', () => {
  const f = (entries: [string, JsonSchema][]) => new Map(entries);
  expect(displayField(f([['amount', { type: 'number' }], ['title', { type: 'string', 'x-type': 'text' }], ['serial', { type: 'string', 'x-type': 'serial' }]]))).toBe('serial');
  expect(displayField(f([['amount', { type: 'number' }], ['title', { type: 'string', 'x-type': 'text' }]]))).toBe('title');
  expect(displayField(f([['note', { type: 'string' }]]))).toBe('note');
  expect(displayField(f([['email', { type: 'string', 'x-type': 'email' }]]))).toBeUndefined();
});

test('only non-empty templates are previewed', () => {
  expect(previewTemplates({ title: 'Order {{record.serial}}', body: '  ', x: undefined, n: 3 })).toEqual({ title: 'Order {{record.serial}}' });
  expect(previewTemplates({})).toEqual({});
});
