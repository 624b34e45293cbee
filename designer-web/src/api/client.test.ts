import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { actingRole, pruneActingRoles, roleHeader, setActingRole } from './client.ts';

/** A Storage over a Map (the tests run in node, without localStorage). */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    key: (i: number) => [...m.keys()][i] ?? null,
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    clear: () => m.clear(),
  };
}

describe('acting role', () => {
  beforeEach(() => vi.stubGlobal('localStorage', memoryStorage()));
  afterEach(() => vi.unstubAllGlobals());

  it('is sent only on requests of its own app', () => {
    expect(roleHeader('/apps/crm/forms/order/records')).toEqual({});
    setActingRole('crm', 'sales');
    expect(actingRole('crm')).toBe('sales');
    expect(roleHeader('/apps/crm/forms/order/records?limit=5')).toEqual({ 'X-Formwork-Role': 'sales' });
    expect(roleHeader('/apps/crm')).toEqual({ 'X-Formwork-Role': 'sales' });
    expect(roleHeader('/apps/crm2/forms/x/records')).toEqual({});
    expect(roleHeader('/apps')).toEqual({});
    expect(roleHeader('/tasks')).toEqual({});
    expect(roleHeader('/auth/me')).toEqual({});
    setActingRole('crm', null);
    expect(roleHeader('/apps/crm/forms/order/records')).toEqual({});
  });

  it('is forgotten once the user no longer holds it', () => {
    setActingRole('crm', 'sales');
    setActingRole('ops', 'clerk');
    localStorage.setItem('formwork.columns.crm.order', '["a"]');
    pruneActingRoles({ crm: ['engineer', 'sales'], ops: ['owner'] });
    expect(actingRole('crm')).toBe('sales');
    expect(actingRole('ops')).toBeNull();
    expect(localStorage.getItem('formwork.columns.crm.order')).toBe('["a"]');
    pruneActingRoles({});
    expect(actingRole('crm')).toBeNull();
  });
});
