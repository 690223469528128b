import { describe, expect, it } from 'vitest';
import { parseMatchers, parseTags } from './matchers.js';
import { layoutServices } from './service-layout.js';

describe('what users type', () => {
  it('reads label matchers with Prometheus operators, quoted or not', () => {
    expect(parseMatchers('service="checkout", route!~/health.*, env=prod')).toEqual([
      { key: 'service', op: 'EQ', value: 'checkout' },
      { key: 'route', op: 'NRE', value: '/health.*' },
      { key: 'env', op: 'EQ', value: 'prod' },
    ]);
    expect(parseMatchers('')).toEqual([]);
    const refused = parseMatchers('just words');
    expect('error' in refused ? refused.error : '').toContain('"just words" is not key=value');
  });

  it('reads tag filters as key=value pairs', () => {
    expect(parseTags('http.status_code=500 error=true')).toEqual([
      { key: 'http.status_code', value: '500' },
      { key: 'error', value: 'true' },
    ]);
  });
});

describe('the service map layout', () => {
  it('puts callers left of the services they call, a cycle without looping', () => {
    const edges = [
      { parent: 'frontend', child: 'checkout', callCount: 3, errorCount: 0 },
      { parent: 'checkout', child: 'payments', callCount: 2, errorCount: 1 },
      { parent: 'payments', child: 'checkout', callCount: 1, errorCount: 0 },
    ];
    const places = layoutServices(edges);
    expect(places.get('frontend')?.column).toBe(0);
    expect(places.get('checkout')!.column).toBeGreaterThan(0);
    expect([...places.keys()].sort()).toEqual(['checkout', 'frontend', 'payments']);
  });
});
