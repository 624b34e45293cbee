import { describe, expect, it } from 'vitest';
import { describeHealth, parseHealth } from './health.ts';

describe('describeHealth', () => {
  it('formats the server health JSON', () => {
    expect(describeHealth({ status: 'ok', version: '0.1.0' })).toBe('Server: ok (v0.1.0)');
  });

  it('omits a missing version', () => {
    expect(describeHealth({ status: 'degraded' })).toBe('Server: degraded');
  });

  it('reports unexpected bodies', () => {
    expect(describeHealth(null)).toBe('Server: unexpected response');
    expect(describeHealth({ version: '0.1.0' })).toBe('Server: unexpected response');
    expect(describeHealth('ok')).toBe('Server: unexpected response');
  });
});

describe('parseHealth', () => {
  it('keeps only known fields', () => {
    expect(parseHealth({ status: 'ok', version: '0.1.0', extra: 1 })).toEqual({ status: 'ok', version: '0.1.0' });
  });
});
