import { describe, expect, it } from 'vitest';
import { ServiceMetrics } from './service-metrics.js';

describe('service metrics of a service', () => {
  it('exposes its own counters, gauges and histograms with the service labels, apart from every other registry', async () => {
    const a = new ServiceMetrics({ service: 'alerts', instance: 'a-1' });
    const b = new ServiceMetrics({ service: 'alerts', instance: 'a-2' });
    a.counter('heimdall_test_evaluations_total', 'evaluations', ['outcome']).inc({ outcome: 'ok' }, 2);
    b.counter('heimdall_test_evaluations_total', 'evaluations', ['outcome']).inc({ outcome: 'ok' });
    a.histogram('heimdall_test_duration_seconds', 'durations').observe(0.02);
    let depth = 0;
    a.gauge('heimdall_test_queue_depth', 'jobs waiting', [], (gauge) => gauge.set(depth));
    depth = 7;

    const text = await a.registry.metrics();

    expect(text).toContain('heimdall_test_evaluations_total{outcome="ok",service="alerts",instance="a-1"} 2');
    expect(text).toContain('heimdall_test_duration_seconds_bucket{le="0.025",service="alerts",instance="a-1"} 1');
    expect(text).toContain('heimdall_test_queue_depth{service="alerts",instance="a-1"} 7');
    expect(await b.registry.metrics()).toContain(
      'heimdall_test_evaluations_total{outcome="ok",service="alerts",instance="a-2"} 1',
    );
  });
});
