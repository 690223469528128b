import { useMemo } from 'preact/hooks';
import { DEFAULT_FROM, DEFAULT_TO, QUICK_RANGES, type Range, describeRange, resolveRange } from '../lib/time-range.js';
import { setParams } from '../router.js';
import { formText } from '../lib/form-text.js';

/** The view's range from its URL (`from`, `to`), resolved now; an unreadable one falls back to the last hour. */
export function rangeOf(url: URL, now = Date.now()): { range: Range; from: string; to: string; error: string | null } {
  const from = url.searchParams.get('from') ?? DEFAULT_FROM;
  const to = url.searchParams.get('to') ?? DEFAULT_TO;
  const resolved = resolveRange(from, to, now);
  if ('error' in resolved) {
    const fallback = resolveRange(DEFAULT_FROM, DEFAULT_TO, now) as Range;
    return { range: fallback, from: DEFAULT_FROM, to: DEFAULT_TO, error: resolved.error };
  }
  return { range: resolved, from, to, error: null };
}

/**
 * The range a view queries: resolved when its URL changes, not at every render, so that "the last hour" stays one
 * set of instants until the user asks again (a render must never start a new query by itself).
 */
export function useRange(url: URL): Range {
  const search = url.search;
  return useMemo(() => rangeOf(url).range, [search]);
}

export function RangePicker({ url }: { url: URL }) {
  const { from, to, error } = rangeOf(url);
  const apply = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setParams({ from: formText(data, 'from'), to: formText(data, 'to') });
  };
  return (
    <form class="range" onSubmit={apply} aria-label="Time range" key={`${from} ${to}`}>
      <select
        aria-label="Quick range"
        value={QUICK_RANGES.some(([d]) => `now-${d}` === from) && to === 'now' ? from : ''}
        onChange={(event) => {
          const value = event.currentTarget.value;
          if (value !== '') setParams({ from: value, to: 'now' });
        }}
      >
        <option value="">{describeRange(from, to)}</option>
        {QUICK_RANGES.map(([duration, label]) => (
          <option value={`now-${duration}`}>{label}</option>
        ))}
      </select>
      <input name="from" aria-label="From" defaultValue={from} size={22} />
      <input name="to" aria-label="To" defaultValue={to} size={22} />
      <button type="submit">Apply</button>
      {error !== null && <span class="error">{error}</span>}
    </form>
  );
}
