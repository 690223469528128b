/**
 * The metrics API's packed series (`{start, step, values}`: base64 of little-endian doubles, NaN for a missing
 * step) as the columns uPlot draws: one shared time axis in seconds, one column per series, null for a gap.
 */

export interface Packed {
  readonly start: number;
  readonly step: number;
  readonly values: string;
}

export function decodeValues(base64: string): Float64Array {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const values = new Float64Array(bytes.length / 8);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * 8, true);
  return values;
}

/** Columns for uPlot: [times, ...series]; the series of one answer share its step. */
export function alignPacked(series: readonly Packed[]): [number[], ...(number | null)[][]] {
  const decoded = series.map((s) => ({ start: s.start, step: s.step, values: decodeValues(s.values) }));
  const withPoints = decoded.filter((s) => s.values.length > 0);
  if (withPoints.length === 0) return [[], ...series.map(() => [])];
  const step = Math.min(...withPoints.map((s) => s.step));
  const first = Math.min(...withPoints.map((s) => s.start));
  const last = Math.max(...withPoints.map((s) => s.start + (s.values.length - 1) * s.step));
  const times: number[] = [];
  for (let t = first; t <= last; t += step) times.push(t);
  const columns = decoded.map((s) => {
    const column = new Array<number | null>(times.length).fill(null);
    for (let i = 0; i < s.values.length; i++) {
      const value = s.values[i]!;
      const at = Math.round((s.start + i * s.step - first) / step);
      if (!Number.isNaN(value) && at >= 0 && at < times.length) column[at] = value;
    }
    return column;
  });
  return [times, ...columns];
}

export function seriesName(labels: readonly { key: string; value: string }[]): string {
  return labels.length === 0 ? '(all)' : labels.map((l) => `${l.key}=${l.value}`).join(', ');
}
