import { useEffect, useRef } from 'preact/hooks';

/** The torrent's pieces as a grid of cells: verified ones filled. Drawn on a canvas (thousands of pieces). */
export function PieceMap({ count, verified, complete }: { count: number; verified: ReadonlySet<number>; complete: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = canvas.current!;
    const width = c.clientWidth || 600;
    const cell = count > 4000 ? 3 : count > 1000 ? 5 : 8;
    const perRow = Math.max(1, Math.floor(width / cell));
    const rows = Math.ceil(count / perRow);
    const dpr = window.devicePixelRatio || 1;
    c.width = width * dpr;
    c.height = rows * cell * dpr;
    c.style.height = `${rows * cell}px`;
    const g = c.getContext('2d')!;
    g.scale(dpr, dpr);
    const style = getComputedStyle(document.documentElement);
    const have = style.getPropertyValue('--accent').trim() || '#2a7ae2';
    const missing = style.getPropertyValue('--bar-bg').trim() || '#ddd';
    for (let i = 0; i < count; i++) {
      g.fillStyle = complete || verified.has(i) ? have : missing;
      g.fillRect((i % perRow) * cell, Math.floor(i / perRow) * cell, cell - 1, cell - 1);
    }
  });
  return <canvas ref={canvas} class="piece-map" role="img"
    aria-label={`Piece map: ${complete ? count : verified.size} of ${count} pieces verified`} />;
}
