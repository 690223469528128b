import { useMemo } from 'preact/hooks';
import { alignPacked, seriesName } from '../lib/packed.js';
import { rangeInput, stepFor } from '../lib/time-range.js';
import { setParams } from '../router.js';
import { useQuery } from '../use-query.js';
import { RangePicker, useRange } from './range-picker.js';
import { TimeChart } from './time-chart.js';
import { formText } from '../lib/form-text.js';
import { AGGREGATIONS, parseMatchers } from '../lib/matchers.js';
import { MetricChartDocument, type MetricQueryInput, MetricNamesDocument } from '../generated/operations.js';

export function MetricsView({ url }: { url: URL }) {
  const range = useRange(url);
  const p = url.searchParams;
  const name = p.get('name') ?? '';
  const search = p.get('search') ?? '';
  const names = useQuery(MetricNamesDocument, {
    search: search || null,
  });
  const matchers = parseMatchers(p.get('match') ?? '');
  const groupBy = (p.get('by') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  const agg = p.get('agg') ?? 'AVG';
  const input: MetricQueryInput = {
    name,
    ...(Array.isArray(matchers) && matchers.length > 0 ? { matchers } : {}),
    range: rangeInput(range),
    step: p.get('step') || stepFor(range),
    aggregation: AGGREGATIONS.find((a) => a === agg) ?? 'AVG',
    ...(groupBy.length > 0 ? { groupBy } : {}),
  };
  const result = useQuery(MetricChartDocument, { input }, { skip: name === '' || !Array.isArray(matchers) });
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const value = (key: string) => formText(data, key) || null;
    setParams({ name: value('name'), match: value('match'), agg: value('agg'), by: value('by'), step: value('step') });
  };
  const series = result.data?.metricQuery.series ?? [];
  // Decoded once per answer: a render for another reason must not hand the chart new columns.
  const chart = useMemo(
    () => ({ columns: alignPacked(series.map((s) => s.packed)), names: series.map((s) => seriesName(s.labels)) }),
    [result.data],
  );
  return (
    <div class="metrics-view">
      <div class="toolbar">
        <form
          class="metric-query"
          onSubmit={submit}
          // Remade when the chart's inputs change, not while the name is typed (the search follows each key).
          key={['name', 'match', 'agg', 'by', 'step'].map((k) => p.get(k) ?? '').join('|')}
        >
          <input
            name="name"
            aria-label="Metric"
            list="metric-names"
            placeholder="metric name"
            defaultValue={name}
            onInput={(event) => setParams({ search: event.currentTarget.value || null }, { replace: true })}
          />
          <datalist id="metric-names">
            {(names.data?.metricNames ?? []).map((m) => (
              <option value={m.name}>
                {m.type} {m.unit}
              </option>
            ))}
          </datalist>
          <input
            name="match"
            aria-label="Label matchers"
            placeholder='service="checkout", route!~"/health.*"'
            defaultValue={p.get('match') ?? ''}
            size={30}
          />
          <select
            name="agg"
            aria-label="Aggregation"
            value={p.get('agg') ?? 'AVG'}
            onChange={(event) => setParams({ agg: event.currentTarget.value })}
          >
            {AGGREGATIONS.map((a) => (
              <option value={a}>{a}</option>
            ))}
          </select>
          <input
            name="by"
            aria-label="Group by"
            placeholder="group by: service, route"
            defaultValue={p.get('by') ?? ''}
          />
          <input
            name="step"
            aria-label="Step"
            placeholder={stepFor(range)}
            defaultValue={p.get('step') ?? ''}
            size={5}
          />
          <button type="submit">Run</button>
        </form>
        <RangePicker url={url} />
      </div>
      {!Array.isArray(matchers) && <p class="error">{matchers.error}</p>}
      {name === '' ? (
        <p class="empty">Pick a metric to chart it.</p>
      ) : result.error !== undefined ? (
        <p class="error">{result.error.message}</p>
      ) : result.data === undefined ? (
        <p class="loading">Querying…</p>
      ) : series.length === 0 ? (
        <p class="empty">No series of {name} in this range.</p>
      ) : (
        <>
          <TimeChart
            data={chart.columns}
            names={chart.names}
            height={360}
            label={`${name} by ${groupBy.join(', ') || 'all'}`}
          />
          <p class="hint">
            {series.length} series · read from {result.data.metricQuery.source.toLowerCase()} · click a legend entry to
            hide or show its series
          </p>
        </>
      )}
    </div>
  );
}
