import { useEffect, useRef, useState } from 'preact/hooks';
import {
  durationTicks,
  formatDurationMs,
  preciseMs,
  traceDurationMs,
  visibleWindow,
  waterfallRows,
} from '../lib/waterfall.js';
import { rangeInput } from '../lib/time-range.js';
import { setParams } from '../router.js';
import { useQuery } from '../use-query.js';
import { RangePicker, useRange } from './range-picker.js';
import { formText } from '../lib/form-text.js';
import { parseTags } from '../lib/matchers.js';
import {
  OperationsDocument,
  type TraceQuery,
  ServiceNamesDocument,
  TraceDocument,
  TraceLogsDocument,
  TraceSearchDocument,
} from '../generated/operations.js';

type Span = NonNullable<TraceQuery['trace']>['spans'][number];
type Tag = Span['tags'][number];

export function TraceSearch({ url }: { url: URL }) {
  const range = useRange(url);
  const p = url.searchParams;
  const service = p.get('service') ?? '';
  const services = useQuery(ServiceNamesDocument, {});
  const operations = useQuery(OperationsDocument, { service }, { skip: service === '' });
  const filter = {
    ...(service === '' ? {} : { service }),
    ...(p.get('operation') ? { operation: p.get('operation') } : {}),
    ...(p.get('tags') ? { tags: parseTags(p.get('tags')!) } : {}),
    ...(p.get('minDuration') ? { minDurationMs: Number(p.get('minDuration')) } : {}),
    ...(p.get('maxDuration') ? { maxDurationMs: Number(p.get('maxDuration')) } : {}),
    errorsOnly: p.get('errors') === '1',
    range: rangeInput(range),
    limit: 50,
  };
  const traces = useQuery(TraceSearchDocument, { filter }, { skip: service === '' });
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => formText(data, name) || null;
    setParams({
      service: value('service'),
      operation: value('operation'),
      tags: value('tags'),
      minDuration: value('minDuration'),
      maxDuration: value('maxDuration'),
      errors: data.get('errors') === 'on' ? '1' : null,
    });
  };
  return (
    <div class="traces-view">
      <div class="toolbar">
        <form class="trace-search" onSubmit={submit} key={url.search}>
          <select
            name="service"
            aria-label="Service"
            value={service}
            onChange={(event) => setParams({ service: event.currentTarget.value || null, operation: null })}
          >
            <option value="">Service…</option>
            {(services.data?.services ?? []).map((s) => (
              <option value={s.name}>{s.name}</option>
            ))}
          </select>
          <select
            name="operation"
            aria-label="Operation"
            value={p.get('operation') ?? ''}
            onChange={(event) => setParams({ operation: event.currentTarget.value || null })}
          >
            <option value="">Any operation</option>
            {(operations.data?.operations ?? []).map((o) => (
              <option value={o.name}>{o.name}</option>
            ))}
          </select>
          <input name="tags" aria-label="Tags" placeholder="http.status_code=500" defaultValue={p.get('tags') ?? ''} />
          <input
            name="minDuration"
            aria-label="Min duration (ms)"
            placeholder="min ms"
            size={7}
            inputMode="decimal"
            defaultValue={p.get('minDuration') ?? ''}
          />
          <input
            name="maxDuration"
            aria-label="Max duration (ms)"
            placeholder="max ms"
            size={7}
            inputMode="decimal"
            defaultValue={p.get('maxDuration') ?? ''}
          />
          <label>
            <input type="checkbox" name="errors" checked={p.get('errors') === '1'} /> errors only
          </label>
          <button type="submit">Find traces</button>
        </form>
        <RangePicker url={url} />
      </div>
      {service === '' ? (
        <p class="empty">Pick a service to find its traces.</p>
      ) : traces.error !== undefined ? (
        <p class="error">{traces.error.message}</p>
      ) : traces.data === undefined ? (
        <p class="loading">Searching…</p>
      ) : (
        <table class="data" data-testid="trace-results">
          <thead>
            <tr>
              <th>started</th>
              <th>root</th>
              <th>services</th>
              <th class="num">duration</th>
              <th class="num">spans</th>
              <th class="num">errors</th>
            </tr>
          </thead>
          <tbody>
            {traces.data.traces.map((t) => (
              <tr data-testid="trace-result">
                <td>{t.startTime.replace('T', ' ').slice(0, 23)}</td>
                <td>
                  <a href={`/traces/${t.traceId}`}>
                    {t.rootSpan.service.name}: {t.rootSpan.operationName}
                  </a>
                </td>
                <td>{t.services.map((s) => s.name).join(', ')}</td>
                <td class="num">{formatDurationMs(t.durationMs)}</td>
                <td class="num">{t.spanCount}</td>
                <td class={`num${t.errorCount > 0 ? ' bad' : ''}`}>{t.errorCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

const ROW_HEIGHT = 24;

/** The entries written inside the span: the trace's entries (logs subgraph, through the gateway) of this span. */
function SpanLogs({ traceId, spanId }: { traceId: string; spanId: string }) {
  const { data, error } = useQuery(TraceLogsDocument, {
    id: traceId,
  });
  if (error !== undefined) return <p class="error">{error.message}</p>;
  if (data === undefined) return <p class="hint">Reading…</p>;
  const logs = data.trace?.logs;
  if (logs == null) return <p class="hint">The logs cannot be read now.</p>;
  const entries = logs.filter((e) => e.spanId === spanId);
  if (entries.length === 0) return <p class="hint">No log entries written in this span.</p>;
  return (
    <ol class="context">
      {entries.map((e) => (
        <li>
          <time>{e.timestamp}</time> <span class={`level level-${e.level.toLowerCase()}`}>{e.level}</span> {e.message}
        </li>
      ))}
    </ol>
  );
}

function SpanDetails({ traceId, span }: { traceId: string; span: Span }) {
  const list = (title: string, tags: Tag[]) =>
    tags.length === 0 ? null : (
      <>
        <h4>{title}</h4>
        <dl>
          {tags.map((t) => (
            <>
              <dt>{t.key}</dt>
              <dd>{t.value}</dd>
            </>
          ))}
        </dl>
      </>
    );
  return (
    <aside class="span-details" aria-label="Span details">
      <h3>
        {span.service.name}: {span.operationName}
      </h3>
      <p>
        {span.kind} · {formatDurationMs(span.durationMs)} · status {span.status.code}
        {span.status.message ? `: ${span.status.message}` : ''} · span {span.spanId}
      </p>
      {list('Tags', span.tags)}
      {list('Resource', span.resource)}
      {span.events.length > 0 && (
        <>
          <h4>Events</h4>
          <ol class="context">
            {span.events.map((e) => (
              <li>
                <time>{e.timestamp}</time> {e.name} {e.fields.map((f) => `${f.key}=${f.value}`).join(' ')}
              </li>
            ))}
          </ol>
        </>
      )}
      <h4>Logs</h4>
      <SpanLogs traceId={traceId} spanId={span.spanId} />
    </aside>
  );
}

/** Span rows on a shared time axis, only the visible ones in the DOM, so a 2,000-span trace scrolls smoothly. */
function Waterfall({
  spans,
  critical,
  selected,
  onSelect,
}: {
  spans: Span[];
  critical: ReadonlySet<string>;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const timed = spans.map((s) => ({ ...s, startMs: preciseMs(s.startTime) }));
  const rows = waterfallRows(timed);
  const total = traceDurationMs(timed);
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  useEffect(() => {
    if (box.current !== null) setScroll({ top: box.current.scrollTop, height: box.current.clientHeight });
  }, []);
  const view = visibleWindow(rows.length, scroll.top, scroll.height, ROW_HEIGHT);
  return (
    <div class="waterfall">
      <div class="axis" aria-hidden="true">
        <span class="axis-label">service: operation</span>
        <div class="ticks">
          {durationTicks(total).map((t) => (
            <span style={{ left: `${total === 0 ? 0 : (t / total) * 100}%` }}>{formatDurationMs(t)}</span>
          ))}
        </div>
      </div>
      <div
        class="span-rows"
        ref={box}
        role="tree"
        aria-label="Spans"
        tabIndex={0}
        onScroll={(event) =>
          setScroll({
            top: (event.currentTarget as HTMLElement).scrollTop,
            height: (event.currentTarget as HTMLElement).clientHeight,
          })
        }
        onKeyDown={(event) => {
          const index = rows.findIndex((r) => r.span.spanId === selected);
          const next = event.key === 'ArrowDown' ? index + 1 : event.key === 'ArrowUp' ? index - 1 : -2;
          if (next >= 0 && next < rows.length) {
            event.preventDefault();
            onSelect(rows[next]!.span.spanId);
          }
        }}
      >
        <div style={{ height: `${view.padTop}px` }} />
        {rows.slice(view.first, view.last).map((row) => {
          const span = row.span;
          const error = span.status.code === 'ERROR';
          return (
            <div
              class={`span-row${error ? ' error' : ''}${critical.has(span.spanId) ? ' critical' : ''}${selected === span.spanId ? ' selected' : ''}`}
              data-testid="span-row"
              data-span-id={span.spanId}
              data-depth={row.depth}
              data-critical={critical.has(span.spanId) ? 'true' : 'false'}
              role="treeitem"
              aria-level={row.depth + 1}
              aria-selected={selected === span.spanId}
              style={{ height: `${ROW_HEIGHT}px` }}
              onClick={() => onSelect(span.spanId)}
            >
              <span class="span-name" style={{ paddingLeft: `${row.depth * 14 + 4}px` }}>
                {error && (
                  <span class="error-mark" title="error">
                    !
                  </span>
                )}
                {span.service.name}: {span.operationName}
              </span>
              <span class="span-track">
                <span
                  class="span-bar"
                  style={{ left: `${row.offset * 100}%`, width: `max(2px, ${row.width * 100}%)` }}
                />
                <span class="span-duration" style={{ left: `${Math.min(row.offset + row.width, 0.9) * 100}%` }}>
                  {formatDurationMs(span.durationMs)}
                </span>
              </span>
            </div>
          );
        })}
        <div style={{ height: `${view.padBottom}px` }} />
      </div>
    </div>
  );
}

/** Each depth one band, each span as wide as its time: where a trace spends its time at a glance. */
function Flame({ spans, onSelect }: { spans: Span[]; onSelect: (id: string) => void }) {
  const rows = waterfallRows(spans.map((s) => ({ ...s, startMs: preciseMs(s.startTime) })));
  const depth = Math.max(0, ...rows.map((r) => r.depth)) + 1;
  return (
    <div class="flame" style={{ height: `${depth * 20}px` }} role="img" aria-label="Flame view">
      {rows.map((row) => (
        <button
          type="button"
          class={`flame-box${row.span.status.code === 'ERROR' ? ' error' : ''}`}
          style={{ top: `${row.depth * 20}px`, left: `${row.offset * 100}%`, width: `max(1px, ${row.width * 100}%)` }}
          title={`${row.span.service.name}: ${row.span.operationName} ${formatDurationMs(row.span.durationMs)}`}
          onClick={() => onSelect(row.span.spanId)}
        >
          {row.span.operationName}
        </button>
      ))}
    </div>
  );
}

export function TraceView({ traceId, url }: { traceId: string; url: URL }) {
  const { data, error } = useQuery(TraceDocument, { id: traceId });
  const selected = url.searchParams.get('span');
  const select = (id: string) => setParams({ span: id }, { replace: true });
  if (error !== undefined) return <p class="error">{error.message}</p>;
  if (data === undefined) return <p class="loading">Reading the trace…</p>;
  if (data.trace === null) return <p class="empty">No trace {traceId} (it may have expired).</p>;
  const trace = data.trace;
  const critical = new Set((data.criticalPath ?? []).map((c) => c.span.spanId));
  const span = trace.spans.find((s) => s.spanId === selected);
  const view = url.searchParams.get('view') ?? 'waterfall';
  return (
    <div class="trace-view">
      <header class="trace-head">
        <h1>Trace {trace.traceId}</h1>
        <p>
          {formatDurationMs(trace.durationMs)} · {trace.spanCount} spans · {trace.errorCount} errors
          {trace.truncated ? ' · cut to fit' : ''}
        </p>
        <nav class="tabs">
          <button type="button" aria-pressed={view === 'waterfall'} onClick={() => setParams({ view: null })}>
            Waterfall
          </button>
          <button type="button" aria-pressed={view === 'flame'} onClick={() => setParams({ view: 'flame' })}>
            Flame
          </button>
        </nav>
      </header>
      <div class="trace-body">
        {view === 'flame' ? (
          <Flame spans={trace.spans} onSelect={select} />
        ) : (
          <Waterfall spans={trace.spans} critical={critical} selected={selected} onSelect={select} />
        )}
        {span !== undefined && <SpanDetails traceId={trace.traceId} span={span} />}
      </div>
    </div>
  );
}
