import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { otlp } from '@heimdall/shared/otlp';
import { toRows } from './ingest.js';

const text = (value: string) => ({ value: { case: 'stringValue' as const, value } });

/** One gauge point per attribute list, all in one export of service "checkout". */
function gaugeExport(points: Record<string, string>[][]) {
  return create(otlp.ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: text('checkout') },
            { key: 'region', value: text('eu') },
          ],
        },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'queue_depth',
                data: {
                  case: 'gauge' as const,
                  value: {
                    dataPoints: points.map((attributes, i) => ({
                      attributes: attributes.flatMap((kv) =>
                        Object.entries(kv).map(([key, value]) => ({ key, value: text(value) })),
                      ),
                      timeUnixNano: BigInt(Date.now() - 1000 + i) * 1_000_000n,
                      value: { case: 'asDouble' as const, value: i },
                    })),
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

describe('series of an OTLP export', () => {
  it('is one series whatever order the attributes come in, on every export', () => {
    const first = toRows(
      gaugeExport([
        [{ a: '1' }, { b: '2' }],
        [{ b: '2' }, { a: '1' }],
      ]),
    );
    const again = toRows(gaugeExport([[{ b: '2' }, { a: '1' }]]));
    expect(first.series).toHaveLength(1);
    expect(new Set([...first.samples, ...again.samples].map((s) => s.fingerprint)).size).toBe(1);
    expect(first.series[0]!.labels).toEqual({ 'service.name': 'checkout', region: 'eu', a: '1', b: '2' });
  });

  it('keeps series apart whose labels differ only in where separators fall', () => {
    const rows = toRows(gaugeExport([[{ a: 'x', b: 'y' }], [{ a: 'x","b":"y' }], [{ a: 'x\u0000b\u0001y' }]]));
    expect(new Set(rows.samples.map((s) => s.fingerprint)).size).toBe(3);
  });

  it('lets point attributes override resource ones, except service.name', () => {
    const rows = toRows(gaugeExport([[{ region: 'us', 'service.name': 'spoofed' }]]));
    expect(rows.series[0]!.labels).toEqual({ 'service.name': 'checkout', region: 'us' });
  });

  it('keeps the nanoseconds of each point past its millisecond', () => {
    const request = gaugeExport([[], []]);
    const points = request.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.data.value!.dataPoints;
    const ms = BigInt(Date.now() - 1000) * 1_000_000n;
    points[0]!.timeUnixNano = ms;
    points[1]!.timeUnixNano = ms + 100_000n;
    expect(toRows(request).samples.map((s) => [s.timestamp, s.nanos])).toEqual([
      [Number(ms / 1_000_000n), 0],
      [Number(ms / 1_000_000n), 100_000],
    ]);
  });

  it("keeps a histogram's min and max, and a summary's quantiles 0 and 1 as its extremes", () => {
    const time = BigInt(Date.now() - 1000) * 1_000_000n;
    const request = create(otlp.ExportMetricsServiceRequestSchema, {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'latency',
                  data: {
                    case: 'histogram' as const,
                    value: {
                      dataPoints: [
                        {
                          timeUnixNano: time,
                          count: 2n,
                          sum: 9,
                          min: 1,
                          max: 8,
                          explicitBounds: [5],
                          bucketCounts: [1n, 1n],
                        },
                      ],
                    },
                  },
                },
                {
                  name: 'summary',
                  data: {
                    case: 'summary' as const,
                    value: {
                      dataPoints: [
                        {
                          timeUnixNano: time,
                          count: 2n,
                          sum: 9,
                          quantileValues: [
                            { quantile: 0, value: 1 },
                            { quantile: 1, value: 8 },
                          ],
                        },
                      ],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(toRows(request).samples.map((s) => [s.min, s.max])).toEqual([
      [1, 8],
      [1, 8],
    ]);
  });

  it("keeps the scope's name, version and attributes apart from the labels; one metric from two scopes is two series", () => {
    const request = gaugeExport([[{ a: '1' }]]);
    const scopeMetrics = request.resourceMetrics[0]!.scopeMetrics[0]!;
    scopeMetrics.scope = create(otlp.InstrumentationScopeSchema, {
      name: 'lib-a',
      version: '1.2.0',
      attributes: [{ key: 'region', value: text('scope-wins-nothing') }],
    });
    const other = create(otlp.ScopeMetricsSchema, {
      ...scopeMetrics,
      scope: create(otlp.InstrumentationScopeSchema, { name: 'lib-b' }),
    });
    request.resourceMetrics[0]!.scopeMetrics.push(other);

    const { series } = toRows(request);
    expect(series.map((s) => [s.labels, s.scope_name, s.scope_version, s.scope_attributes])).toEqual([
      [{ 'service.name': 'checkout', region: 'eu', a: '1' }, 'lib-a', '1.2.0', { region: 'scope-wins-nothing' }],
      [{ 'service.name': 'checkout', region: 'eu', a: '1' }, 'lib-b', '', {}],
    ]);
    expect(series[0]!.fingerprint).not.toBe(series[1]!.fingerprint);
  });

  describe('bounds on what one point stores', () => {
    it('cuts label values over 4,096 characters, never inside a character, and counts them', () => {
      const rows = toRows(gaugeExport([[{ long: 'x'.repeat(5000) }], [{ emoji: `${'a'.repeat(4095)}\u{1F600}` }]]));
      expect(rows.series.map((s) => (s.labels.long ?? s.labels.emoji)!.length)).toEqual([4096, 4095]);
      expect(rows.trimmed).toEqual({ cut: 2, dropped: 0 });
      expect(rows.rejected).toBe(0);
    });

    it('keeps the first 128 attributes of a point and leaves out one whose key no query could name, counting both', () => {
      const many = Array.from({ length: 200 }, (_, i) => ({ [`k${i}`]: 'v' }));
      const rows = toRows(gaugeExport([[{ ['k'.repeat(1025)]: 'v' }, ...many]]));
      // The resource's service.name and region, and the point's first 128.
      expect(Object.keys(rows.series[0]!.labels)).toHaveLength(130);
      expect(rows.series[0]!.labels.k127).toBe('v');
      expect(rows.trimmed).toEqual({ cut: 0, dropped: 73 });
    });

    it('rejects the points of a metric whose name is over 1,024 characters', () => {
      const request = gaugeExport([[], []]);
      request.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.name = 'm'.repeat(1025);
      expect(toRows(request)).toMatchObject({
        samples: [],
        rejected: 2,
        errors: ['metric names are at most 1024 characters'],
      });
    });
  });
});
