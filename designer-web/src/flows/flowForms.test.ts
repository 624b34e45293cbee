import { describe, expect, test } from 'vitest';
import { fromDefinition } from './definition.ts';
import { formsOfInterest, memberFieldPaths, referenceTargets } from './flowForms.ts';
import { crm } from './testFlows.ts';

describe('assignees through a reference, update_record on another record', () => {
  const device = new Map<string, Record<string, unknown>>([
    ['customer', { 'x-type': 'reference', 'x-ref': { form: 'customer', display: 'name' } }],
    ['responsible_engineer', { 'x-type': 'member' }],
    ['warranty_end', { 'x-type': 'date' }],
  ]);
  const customer = new Map<string, Record<string, unknown>>([
    ['name', { 'x-type': 'text' }],
    ['owner', { 'x-type': 'member' }],
  ]);
  test('member fields and reference.member paths', () => {
    expect(referenceTargets(device)).toEqual(['customer']);
    const paths = memberFieldPaths(device, (f) => (f === 'customer' ? customer : undefined)).map((p) => p.path);
    expect(paths).toEqual(['responsible_engineer', 'customer.owner']);
    // without the target's schema (not loaded yet) only the own members
    expect(memberFieldPaths(device, () => undefined).map((p) => p.path)).toEqual(['responsible_engineer']);
  });

  test('forms whose schemas the designer loads', () => {
    expect(formsOfInterest(fromDefinition(crm('qualification_review')), ['customer'])).toEqual(['customer', 'qualification']);
    // order_guard queries qualifications and the order lines' products
    expect(formsOfInterest(fromDefinition(crm('order_guard')))).toEqual(['product', 'qualification', 'sales_order']);
  });
});
