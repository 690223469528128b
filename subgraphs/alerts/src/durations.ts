/**
 * Durations as rule authors write them, in the Prometheus style: one or more `<integer><unit>` parts with units
 * from largest to smallest, each at most once (`30s`, `5m`, `1h30m`, `1d`, `1500ms`), or a bare `0`.
 */

export type DurationResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly message: string };

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const UNIT_MS: ReadonlyMap<string, number> = new Map(UNITS);
const PART = /(\d+)(ms|d|h|m|s)/y;
const EXAMPLE = 'a duration such as 30s, 5m, 1h30m or 1d';

export function parseDuration(text: string): DurationResult {
  if (text === '0') return { ok: true, ms: 0 };
  if (text === '') return { ok: false, message: `is empty; expected ${EXAMPLE}` };
  let ms = 0;
  let previousUnit = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const part = PART.exec(text);
    if (part === null) return { ok: false, message: `"${text}" is not ${EXAMPLE} (unexpected "${text.slice(at)}")` };
    const unit = part[2] as string;
    const rank = UNITS.findIndex(([u]) => u === unit);
    // Largest to smallest, each once: "1m1h" and "5m5m" are typos more often than intent.
    if (rank <= previousUnit) return { ok: false, message: `"${text}" repeats or misorders units; write the largest first, e.g. 1h30m` };
    previousUnit = rank;
    ms += Number(part[1]) * (UNIT_MS.get(unit) as number);
  }
  if (!Number.isSafeInteger(ms)) return { ok: false, message: `"${text}" is too long` };
  return { ok: true, ms };
}

/** The shortest text `parseDuration` reads back as `ms`: 5_400_000 → "1h30m", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}
