import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

const PALETTE = [
  '#3b82f6',
  '#ef4444',
  '#10b981',
  '#f59e0b',
  '#8b5cf6',
  '#ec4899',
  '#14b8a6',
  '#f97316',
  '#6366f1',
  '#84cc16',
];

/** A uPlot time-series chart (seconds on x); its legend toggles a series on click. Made once, fed new data after. */
export function TimeChart({
  data,
  names,
  height = 260,
  label,
}: {
  data: uPlot.AlignedData;
  names: readonly string[];
  height?: number;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  // The data the chart was made with: drawn already, not to be set again.
  const drawn = useRef<uPlot.AlignedData | null>(null);
  const shape = names.join('\n');
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    // With many series, per-point markers and a legend following the cursor cost more than they tell.
    const many = names.length > 20;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 300),
      height,
      series: [
        {},
        ...names.map((name, i) => ({
          label: name,
          stroke: PALETTE[i % PALETTE.length]!,
          width: many ? 1 : 1.5,
          spanGaps: false,
          points: { show: !many },
        })),
      ],
      axes: [{}, { size: 60 }],
      legend: { live: !many },
      cursor: { drag: { x: true, y: false } },
    };
    chart.current = new uPlot(options, data, element);
    drawn.current = data;
    const resize = new ResizeObserver(() =>
      chart.current?.setSize({ width: Math.max(element.clientWidth, 300), height }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.current?.destroy();
      chart.current = null;
    };
  }, [shape, height]);
  useEffect(() => {
    if (drawn.current === data) return;
    drawn.current = data;
    chart.current?.setData(data);
  }, [data]);
  return (
    <div class="chart" ref={box} role="img" aria-label={label} data-testid="time-chart" data-series={names.length} />
  );
}
