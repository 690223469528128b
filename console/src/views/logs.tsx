import { useEffect, useRef, useState } from 'preact/hooks';
import { graphql } from '../graphql.js';
import { highlightSegments } from '../lib/highlight.js';
import { type Range, parseDurationMs, rangeInput, zoomRange } from '../lib/time-range.js';
import { setParams } from '../router.js';
import { useQuery } from '../use-query.js';
import { RangePicker, useRange } from './range-picker.js';
import { formText } from '../lib/form-text.js';
import {
  CheckLogQueryDocument,
  LogFacetsDocument,
  type LogFacetsQuery,
  type LogFilter,
  LogHistogramDocument,
  type LogLevel,
  LogPatternsDocument,
  LogSearchDocument,
  type LogSearchQuery,
} from '../generated/operations.js';

export const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

type LogEntry = LogSearchQuery['logSearch']['entries'][number];
type Filter = LogFilter;
type FacetValue = LogFacetsQuery['logFacets']['services'][number];
type Page = LogSearchQuery['logSearch'];

function listParam(url: URL, name: string): string[] {
  return (url.searchParams.get(name) ?? '').split(',').filter((v) => v !== '');
}

function filterOf(url: URL, range: Range): Filter {
  const query = url.searchParams.get('query') ?? '';
  const services = listParam(url, 'service');
  const levels = listParam(url, 'level').filter((l): l is LogLevel => (LEVELS as readonly string[]).includes(l));
  const labels = labelParams(url);
  return {
    ...(query === '' ? {} : { query }),
    ...(services.length === 0 ? {} : { services }),
    ...(levels.length === 0 ? {} : { levels }),
    ...(labels.length === 0 ? {} : { labels }),
    range: rangeInput(range),
  };
}

/** The label filters of the URL: `label=key=value`, repeated. */
function labelParams(url: URL): { key: string; op: 'EQ'; value: string }[] {
  return url.searchParams
    .getAll('label')
    .filter((entry) => entry.includes('='))
    .map((entry) => ({
      key: entry.slice(0, entry.indexOf('=')),
      op: 'EQ' as const,
      value: entry.slice(entry.indexOf('=') + 1),
    }));
}

function toggleIn(list: readonly string[], value: string): string {
  return (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]).join(',');
}

/** The query bar: the log query language, checked by the logs subgraph, its error shown where it is. */
function QueryBar({ url }: { url: URL }) {
  const current = url.searchParams.get('query') ?? '';
  const [problem, setProblem] = useState<{ message: string; position: number | null; query: string } | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const query = formText(new FormData(event.currentTarget as HTMLFormElement), 'query');
    if (query !== '') {
      const { validateLogQuery: verdict } = await graphql(CheckLogQueryDocument, { query });
      if (!verdict.valid)
        return setProblem({ message: verdict.message ?? 'not a query', position: verdict.position, query });
    }
    setProblem(null);
    setParams({ query });
  };
  return (
    <form class="query-bar" onSubmit={(event) => void submit(event)} role="search">
      <input
        name="query"
        aria-label="Log query"
        defaultValue={current}
        placeholder='level:error AND "connection refused" · 연결 실패 · service:checkout'
        spellcheck={false}
        key={current}
      />
      <button type="submit">Search</button>
      {problem !== null && (
        <p class="error query-error" role="alert">
          {problem.message}
          {problem.position !== null && (
            <>
              {' '}
              at position {problem.position}: <code>{problem.query.slice(0, problem.position)}</code>
              <mark>{problem.query.slice(problem.position, problem.position + 1) || '⏎'}</mark>
              <code>{problem.query.slice(problem.position + 1)}</code>
            </>
          )}
        </p>
      )}
    </form>
  );
}

/** Matches per bucket stacked by level; dragging across it zooms the range to what was dragged over. */
function Histogram({ filter, range }: { filter: Filter; range: Range }) {
  const { data, error } = useQuery(LogHistogramDocument, { filter });
  const [drag, setDrag] = useState<{ start: number; end: number } | null>(null);
  const svg = useRef<SVGSVGElement>(null);
  if (error !== undefined) return <p class="error">{error.message}</p>;
  const buckets = data?.logHistogram.buckets ?? [];
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const width = 1000;
  const height = 80;
  const span = range.to - range.from;
  const intervalMs = parseDurationMs(data?.logHistogram.interval ?? '') ?? 0;
  const barWidth = span > 0 ? (intervalMs / span) * width : 0;
  const fraction = (event: PointerEvent) => {
    const box = svg.current?.getBoundingClientRect();
    return box === undefined || box.width === 0 ? 0 : Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  };
  return (
    <figure class="histogram" data-testid="log-histogram" data-total={total}>
      <svg
        ref={svg}
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${total} matching entries over time`}
        onPointerDown={(event) => {
          (event.currentTarget as Element).setPointerCapture(event.pointerId);
          setDrag({ start: fraction(event), end: fraction(event) });
        }}
        onPointerMove={(event) => drag !== null && setDrag({ ...drag, end: fraction(event) })}
        onPointerUp={() => {
          if (drag !== null && Math.abs(drag.end - drag.start) > 0.01) {
            const zoomed = zoomRange(range, drag.start, drag.end);
            setParams({ from: new Date(zoomed.from).toISOString(), to: new Date(zoomed.to).toISOString() });
          }
          setDrag(null);
        }}
      >
        {buckets.map((bucket) => {
          const x = span > 0 ? ((Date.parse(bucket.timestamp) - range.from) / span) * width : 0;
          let y = height;
          return (
            <g>
              <title>
                {bucket.timestamp}: {bucket.count}
              </title>
              {bucket.levels.map((level) => {
                const h = (level.count / max) * height;
                y -= h;
                return (
                  <rect
                    class={`level-${level.level.toLowerCase()}`}
                    x={x}
                    y={y}
                    width={Math.max(barWidth - 1, 1)}
                    height={h}
                  />
                );
              })}
            </g>
          );
        })}
        {drag !== null && (
          <rect
            class="selection"
            x={Math.min(drag.start, drag.end) * width}
            y={0}
            width={Math.abs(drag.end - drag.start) * width}
            height={height}
          />
        )}
      </svg>
      <figcaption>
        {total.toLocaleString()} entries · {data?.logHistogram.interval ?? '…'} buckets · drag to zoom
      </figcaption>
    </figure>
  );
}

function Facets({ url, filter }: { url: URL; filter: Filter }) {
  const { data } = useQuery(LogFacetsDocument, { filter });
  const group = (title: string, param: string, values: FacetValue[] | undefined) => (
    <section>
      <h3>{title}</h3>
      <ul>
        {(values ?? []).map((v) => (
          <li>
            <button
              type="button"
              class="facet"
              onClick={() => setParams({ [param]: toggleIn(listParam(url, param), v.value) })}
              aria-pressed={listParam(url, param).includes(v.value)}
            >
              <span>{v.value}</span> <span class="count">{v.count.toLocaleString()}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
  return (
    <aside class="facets" aria-label="Facets">
      {group('Services', 'service', data?.logFacets.services)}
      {group('Levels', 'level', data?.logFacets.levels)}
      {(data?.logFacets.labels ?? []).map((label) => {
        const chosen = url.searchParams.getAll('label');
        return (
          <section>
            <h3>{label.key}</h3>
            <ul>
              {label.values.map((v) => {
                const entry = `${label.key}=${v.value}`;
                const on = chosen.includes(entry);
                return (
                  <li>
                    <button
                      type="button"
                      class="facet"
                      aria-pressed={on}
                      onClick={() => setParams({ label: on ? chosen.filter((c) => c !== entry) : [...chosen, entry] })}
                    >
                      <span>{v.value}</span> <span class="count">{v.count.toLocaleString()}</span>
                    </button>
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
    </aside>
  );
}

function Message({ entry }: { entry: LogEntry }) {
  const fragment = entry.highlights[0];
  if (fragment === undefined) return <span class="message">{entry.message}</span>;
  return (
    <span class="message">
      {highlightSegments(fragment).map((segment) => (segment.match ? <em>{segment.text}</em> : segment.text))}
    </span>
  );
}

/** The entries just before and after one, in the same service: what was happening around it. */
function Context({ entry }: { entry: LogEntry }) {
  const at = Date.parse(entry.timestamp);
  const around = (order: 'NEWEST_FIRST' | 'OLDEST_FIRST') =>
    graphql(LogSearchDocument, {
      filter: {
        services: [entry.service],
        range:
          order === 'NEWEST_FIRST'
            ? rangeInput({ from: at - 3_600_000, to: at + 1 })
            : rangeInput({ from: at, to: at + 3_600_000 }),
      },
      order,
    });
  const [rows, setRows] = useState<LogEntry[] | null>(null);
  useEffect(() => {
    void Promise.all([around('NEWEST_FIRST'), around('OLDEST_FIRST')]).then(([before, after]) => {
      const older = before.logSearch.entries
        .filter((e) => e.id !== entry.id)
        .slice(0, 10)
        .reverse();
      const newer = after.logSearch.entries.filter((e) => e.id !== entry.id).slice(0, 10);
      setRows([...older, entry, ...newer]);
    });
  }, [entry.id]);
  if (rows === null) return <p>Reading the context…</p>;
  return (
    <ol class="context" aria-label="Context">
      {rows.map((e) => (
        <li class={e.id === entry.id ? 'current' : ''}>
          <time>{e.timestamp}</time> <span class={`level level-${e.level.toLowerCase()}`}>{e.level}</span> {e.message}
        </li>
      ))}
    </ol>
  );
}

function LogRow({ entry }: { entry: LogEntry }) {
  const [open, setOpen] = useState(false);
  const [context, setContext] = useState(false);
  return (
    <li class={`log-row${open ? ' open' : ''}`} data-testid="log-row">
      <button type="button" class="row-line" aria-expanded={open} onClick={() => setOpen(!open)}>
        <time>{entry.timestamp.replace('T', ' ').slice(0, 23)}</time>
        <span class={`level level-${entry.level.toLowerCase()}`}>{entry.level}</span>
        <span class="service">{entry.service}</span>
        <Message entry={entry} />
      </button>
      {open && (
        <div class="details">
          <dl>
            <dt>timestamp</dt>
            <dd>{entry.timestamp}</dd>
            <dt>message</dt>
            <dd class="pre">{entry.message}</dd>
            {entry.stackTrace !== null && (
              <>
                <dt>stack trace</dt>
                <dd class="pre">{entry.stackTrace}</dd>
              </>
            )}
            {entry.traceId !== null && (
              <>
                <dt>trace</dt>
                <dd>
                  <a href={`/traces/${entry.traceId}`}>{entry.traceId}</a>
                  {entry.spanId !== null && <> · span {entry.spanId}</>}
                </dd>
              </>
            )}
            {[
              ...entry.labels.map((l) => ['label', l] as const),
              ...entry.resource.map((l) => ['resource', l] as const),
            ].map(([kind, l]) => (
              <>
                <dt title={kind}>{l.key}</dt>
                <dd>{l.value}</dd>
              </>
            ))}
          </dl>
          <button type="button" onClick={() => setContext(!context)}>
            {context ? 'Hide context' : 'Show context'}
          </button>
          {context && <Context entry={entry} />}
        </div>
      )}
    </li>
  );
}

/** Pages of results, the next one read when the end of the list comes into view; live tail adds new entries on top. */
function Results({ filter, live }: { filter: Filter; live: boolean }) {
  const key = JSON.stringify(filter);
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const controller = new AbortController();
    setPage(null);
    setError(null);
    graphql(LogSearchDocument, { filter }, controller.signal).then(
      (data) => setPage(data.logSearch),
      (failure: unknown) =>
        !controller.signal.aborted && setError(failure instanceof Error ? failure.message : String(failure)),
    );
    return () => controller.abort();
  }, [key]);
  useEffect(() => {
    const sentinel = end.current;
    if (sentinel === null || page?.cursor == null) return;
    const observer = new IntersectionObserver((seen) => {
      if (!seen.some((s) => s.isIntersecting) || loadingMore) return;
      setLoadingMore(true);
      void graphql(LogSearchDocument, { filter, after: page.cursor })
        .then((data) =>
          setPage({ ...data.logSearch, entries: [...page.entries, ...data.logSearch.entries], total: page.total }),
        )
        .finally(() => setLoadingMore(false));
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [page, loadingMore]);
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => {
      // Paused while the reader is scrolled into the list.
      if (scrollY > 120 || page === null) return;
      const newest = page.entries[0]?.timestamp;
      const since = newest === undefined ? Date.parse(filter.range.from) : Date.parse(newest);
      void graphql(LogSearchDocument, {
        filter: { ...filter, range: rangeInput({ from: since, to: Date.now() + 1_000 }) },
      }).then((data) => {
        const known = new Set(page.entries.map((e) => e.id));
        const fresh = data.logSearch.entries.filter((e) => !known.has(e.id));
        if (fresh.length > 0)
          setPage({ ...page, entries: [...fresh, ...page.entries], total: page.total + fresh.length });
      });
    }, 2_000);
    return () => clearInterval(timer);
  }, [live, page]);
  if (error !== null)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (page === null) return <p class="loading">Searching…</p>;
  return (
    <section class="results" aria-label="Log entries">
      <p class="summary" data-testid="log-total" data-total={page.total}>
        {page.totalRelation === 'AT_LEAST' ? 'more than ' : ''}
        {page.total.toLocaleString()} entries
      </p>
      {page.entries.length === 0 ? (
        <p class="empty">Nothing matches in this range.</p>
      ) : (
        <ol class="log-rows">
          {page.entries.map((entry) => (
            <LogRow key={entry.id} entry={entry} />
          ))}
        </ol>
      )}
      <div ref={end} class="end">
        {page.cursor === null ? '' : loadingMore ? 'Reading more…' : ' '}
      </div>
    </section>
  );
}

function Patterns({ filter }: { filter: Filter }) {
  const { data, error } = useQuery(LogPatternsDocument, {
    filter,
  });
  if (error !== undefined) return <p class="error">{error.message}</p>;
  if (data === undefined) return <p class="loading">Mining patterns…</p>;
  return (
    <table class="patterns">
      <thead>
        <tr>
          <th>count</th>
          <th>pattern</th>
        </tr>
      </thead>
      <tbody>
        {data.logPatterns.map((p) => (
          <tr title={p.sample}>
            <td class="num">{p.count.toLocaleString()}</td>
            <td class="pre">{p.pattern}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function LogsView({ url }: { url: URL }) {
  const range = useRange(url);
  const filter = filterOf(url, range);
  const levels = listParam(url, 'level');
  const live = url.searchParams.get('live') === '1';
  const tab = url.searchParams.get('tab') ?? 'entries';
  return (
    <div class="logs-view">
      <div class="toolbar">
        <QueryBar url={url} />
        <RangePicker url={url} />
      </div>
      <div class="toolbar">
        <fieldset class="levels">
          <legend>Levels</legend>
          {LEVELS.map((level) => (
            <label>
              <input
                type="checkbox"
                checked={levels.includes(level)}
                onChange={() => setParams({ level: toggleIn(levels, level) })}
              />{' '}
              {level}
            </label>
          ))}
        </fieldset>
        <label>
          <input
            type="checkbox"
            checked={live}
            onChange={() => setParams({ live: live ? null : '1', from: live ? null : 'now-15m', to: null })}
          />{' '}
          Live tail
        </label>
        <nav class="tabs">
          <button type="button" aria-pressed={tab === 'entries'} onClick={() => setParams({ tab: null })}>
            Entries
          </button>
          <button type="button" aria-pressed={tab === 'patterns'} onClick={() => setParams({ tab: 'patterns' })}>
            Patterns
          </button>
        </nav>
      </div>
      <Histogram filter={filter} range={range} />
      <div class="with-facets">
        <Facets url={url} filter={filter} />
        {tab === 'patterns' ? <Patterns filter={filter} /> : <Results filter={filter} live={live} />}
      </div>
    </div>
  );
}
