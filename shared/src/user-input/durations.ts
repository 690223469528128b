/**
 * Durations as people type them, in Prometheus's and Grafana's style: one or more `<digits><unit>` parts, units
 * largest first and each at most once, with the units `y` (365 days), `w` (7 days), `d`, `h`, `m`, `s` and `ms`:
 * `90s`, `5m`, `1h30m`, `2d`, `1w`, `500ms`, `1m30s500ms`. A bare `0` is zero; white space around the text is
 * ignored. Refused: an empty text, a number without a unit (`5`), fractions (`1.5h`), signs (`-5m`), spaces or
 * other words inside (`5 m`, `5min`), units out of order or repeated (`30m1h`, `5m5m`: typos more often than
 * intent), and anything beyond 2^53 ms.
 */

/** What a parser read: the value, or why the text is refused (a message that leaves the argument to the caller). */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const DAY_MS = 86_400_000;

/** Largest first: the order parts must come in. */
const UNITS = [
  ['y', 365 * DAY_MS],
  ['w', 7 * DAY_MS],
  ['d', DAY_MS],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const PART = /(\d+)(ms|y|w|d|h|m|s)/y;
const EXAMPLE = 'a duration such as 30s, 5m, 1h30m or 1d';

/** A text as a message quotes it: long enough to recognise, never a whole pasted document. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** A duration in ms (see the grammar above). */
export function parseDuration(input: string): Parsed<number> {
  const text = input.trim();
  if (text === '0') return { ok: true, value: 0 };
  if (text === '') return { ok: false, message: `is empty; expected ${EXAMPLE}` };
  let ms = 0;
  let previousRank = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const part = PART.exec(text);
    if (part === null)
      return { ok: false, message: `${quoted(text)} is not ${EXAMPLE} (unexpected ${quoted(text.slice(at))})` };
    const rank = UNITS.findIndex(([unit]) => unit === part[2]);
    if (rank <= previousRank)
      return { ok: false, message: `${quoted(text)} repeats or misorders units; write the largest first, e.g. 1h30m` };
    previousRank = rank;
    ms += Number(part[1]) * UNITS[rank]![1];
  }
  if (!Number.isSafeInteger(ms)) return { ok: false, message: `${quoted(text)} is too long` };
  return { ok: true, value: ms };
}

/**
 * The shortest text `parseDuration` reads back as `ms`, in days and smaller units (a week is `7d`, as answers have
 * always written it): 5_400_000 → "1h30m", 0 → "0s".
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of UNITS.slice(2)) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}

/** Bounds of one duration argument, in ms. */
export interface DurationBounds {
  readonly min: number;
  readonly max?: number;
  /** The duration must be a whole number of this many ms (a step the store keeps points at). */
  readonly multipleOf?: number;
}

/** A duration within its bounds, in ms, or why not. */
export function checkDuration(text: string, bounds: DurationBounds): Parsed<number> {
  const parsed = parseDuration(text);
  if (!parsed.ok) return parsed;
  const ms = parsed.value;
  if (ms < bounds.min) return { ok: false, message: `must be at least ${formatDuration(bounds.min)}` };
  if (bounds.max !== undefined && ms > bounds.max)
    return { ok: false, message: `must be at most ${formatDuration(bounds.max)}` };
  if (bounds.multipleOf !== undefined && ms % bounds.multipleOf !== 0) {
    return {
      ok: false,
      message: `must be a multiple of ${formatDuration(bounds.multipleOf)}, not ${quoted(text.trim())}`,
    };
  }
  return parsed;
}
