import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { rangeInput, stepFor } from '../lib/time-range.js';
import { useQuery } from '../use-query.js';
import { RangePicker, useRange } from './range-picker.js';
import { TimeChart } from './time-chart.js';
import { layoutServices } from '../lib/service-layout.js';
import {
  ServiceAlertsDocument,
  ServiceErrorsDocument,
  ServiceMapDocument,
  ServiceNamesDocument,
  ServicePageDocument,
} from '../generated/operations.js';

export function ServicesView({ url }: { url: URL }) {
  const range = useRange(url);
  const { data, error } = useQuery(ServiceMapDocument, {
    range: rangeInput(range),
  });
  const services = useQuery(ServiceNamesDocument, {});
  const edges = data?.dependencies ?? [];
  const places = layoutServices(edges);
  const alone = (services.data?.services ?? []).map((s) => s.name).filter((name) => !places.has(name));
  const columns = Math.max(1, ...[...places.values()].map((p) => p.column + 1));
  const rows = Math.max(1, ...[...places.values()].map((p) => p.row + 1));
  const W = 220;
  const H = 90;
  const at = (name: string) => {
    const p = places.get(name)!;
    return { x: p.column * W + 20, y: p.row * H + 20 };
  };
  return (
    <div class="services-view">
      <div class="toolbar">
        <h1>Service map</h1>
        <RangePicker url={url} />
      </div>
      {error !== undefined && <p class="error">{error.message}</p>}
      {data !== undefined && edges.length === 0 && <p class="empty">No calls between services in this range.</p>}
      {edges.length > 0 && (
        <svg
          class="service-map"
          viewBox={`0 0 ${columns * W + 40} ${rows * H + 40}`}
          role="img"
          aria-label="Service map"
        >
          <defs>
            <marker
              id="arrow"
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerWidth="6"
              markerHeight="6"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" />
            </marker>
          </defs>
          {edges.map((e) => {
            const a = at(e.parent);
            const b = at(e.child);
            return (
              <g
                class={`service-edge${e.errorCount > 0 ? ' bad' : ''}`}
                data-testid="service-edge"
                data-parent={e.parent}
                data-child={e.child}
              >
                <line x1={a.x + 150} y1={a.y + 20} x2={b.x} y2={b.y + 20} marker-end="url(#arrow)" />
                <text x={(a.x + 150 + b.x) / 2} y={(a.y + b.y) / 2 + 14}>
                  {e.callCount} calls{e.errorCount > 0 ? ` · ${e.errorCount} errors` : ''}
                </text>
              </g>
            );
          })}
          {[...places.keys()].map((name) => {
            const p = at(name);
            return (
              <a href={`/services/${encodeURIComponent(name)}`} data-testid="service-node">
                <rect x={p.x} y={p.y} width={150} height={40} rx={6} />
                <text x={p.x + 75} y={p.y + 25} text-anchor="middle">
                  {name}
                </text>
              </a>
            );
          })}
        </svg>
      )}
      {alone.length > 0 && (
        <p>
          Other services:{' '}
          {alone.map((name) => (
            <a class="chip" href={`/services/${encodeURIComponent(name)}`}>
              {name}
            </a>
          ))}
        </p>
      )}
    </div>
  );
}

export function ServicePage({ name, url }: { name: string; url: URL }) {
  const range = useRange(url);
  const input = rangeInput(range);
  const { data, error } = useQuery(ServicePageDocument, {
    name,
    range: input,
    step: stepFor(range),
  });
  const errors = useQuery(ServiceErrorsDocument, {
    filter: { services: [name], levels: ['ERROR', 'FATAL'], range: input },
  });
  const alerts = useQuery(ServiceAlertsDocument, { service: name });
  const red = data?.service.red ?? [];
  const times = red.map((p) => Date.parse(p.timestamp) / 1000);
  const chartData = useMemo<uPlot.AlignedData>(
    () => [times, red.map((p) => p.rate), red.map((p) => p.errorRatio * 100), red.map((p) => p.p95)],
    [data],
  );
  return (
    <div class="service-page">
      <div class="toolbar">
        <h1>{name}</h1>
        <RangePicker url={url} />
      </div>
      {error !== undefined && <p class="error">{error.message}</p>}
      <section>
        <h2>Rate, errors, duration</h2>
        {data !== undefined && data.service.red === null && <p class="hint">The RED metrics cannot be read now.</p>}
        {red.length > 0 && (
          <TimeChart data={chartData} names={['requests/s', 'errors %', 'p95 ms']} label={`RED of ${name}`} />
        )}
      </section>
      <div class="columns">
        <section>
          <h2>Operations</h2>
          <ul>
            {(data?.service.operations ?? []).map((o) => (
              <li>
                <a href={`/traces?service=${encodeURIComponent(name)}&operation=${encodeURIComponent(o.name)}`}>
                  {o.name}
                </a>{' '}
                <span class="hint">{o.spanKind}</span>
              </li>
            ))}
          </ul>
        </section>
        <section>
          <h2>Recent errors</h2>
          <ol class="context">
            {(errors.data?.logSearch.entries ?? []).map((e) => (
              <li>
                <time>{e.timestamp}</time> <span class={`level level-${e.level.toLowerCase()}`}>{e.level}</span>{' '}
                {e.message}
              </li>
            ))}
          </ol>
          <a href={`/logs?service=${encodeURIComponent(name)}`}>All its logs</a>
        </section>
        <section>
          <h2>Alerts</h2>
          <ul>
            {(alerts.data?.alerts ?? []).map((a) => (
              <li>
                <span class={`state state-${a.state.toLowerCase()}`}>{a.state}</span> {a.rule?.name ?? a.id} since{' '}
                {a.since}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
