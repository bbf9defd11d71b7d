import type uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { formatRate } from '../format.ts';

export interface RatePoint { t: number; down: number; up: number }

/** Download and upload rates over time (uPlot: small, and fast enough to redraw every second). */
export function RateChart({ points, label, height = 200 }: { points: readonly RatePoint[]; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  const pointsRef = useRef(points);
  pointsRef.current = points;

  useEffect(() => {
    // uPlot is loaded with the first chart, not with the list: the first page needs none of it.
    let cancelled = false;
    let ro: ResizeObserver | null = null;
    void import('uplot').then(({ default: UPlot }) => {
      if (cancelled) return;
      ro = create(UPlot);
    });
    return () => { cancelled = true; ro?.disconnect(); plot.current?.destroy(); plot.current = null; };
  }, [height]);

  function create(UPlot: typeof uPlot): ResizeObserver {
    const el = box.current!;
    const style = getComputedStyle(document.documentElement);
    const down = style.getPropertyValue('--down').trim() || '#2a7ae2';
    const up = style.getPropertyValue('--up').trim() || '#2e9d4f';
    const axis = { stroke: style.getPropertyValue('--muted').trim() || '#666', grid: { stroke: style.getPropertyValue('--border').trim() || '#ddd', width: 1 } };
    plot.current = new UPlot({
      width: Math.max(200, el.clientWidth),
      height,
      series: [
        {},
        { label: 'Download', stroke: down, width: 2, fill: down + '22', value: (_u, v) => formatRate(v) },
        { label: 'Upload', stroke: up, width: 2, value: (_u, v) => formatRate(v) },
      ],
      axes: [axis, { ...axis, size: 80, values: (_u, ticks) => ticks.map(v => (v === 0 ? '0' : formatRate(v))) }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1024, max * 1.1)] } },
    }, toData(pointsRef.current), el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return ro;
  }

  useEffect(() => {
    plot.current?.setData(toData(points));
  }, [points]);

  const last = points[points.length - 1];
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={`${label}: ${points.length} samples${last ? `, latest download ${formatRate(last.down)}, upload ${formatRate(last.up)}` : ', none yet'}`} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

function toData(points: readonly RatePoint[]): uPlot.AlignedData {
  return [points.map(p => p.t / 1000), points.map(p => p.down), points.map(p => p.up)];
}
