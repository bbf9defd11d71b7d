import { useEffect, useRef, useState } from 'preact/hooks';
import { columnFractions, countHave, type PieceMapData } from '../pieces.ts';

/**
 * The torrent's pieces as one bar scaled to the panel's width (as qBittorrent draws it): each pixel column is a slice of
 * the torrent, filled by the share of its pieces held. Drawn on a canvas: a torrent can have a hundred thousand pieces.
 */
export function PieceMap({ map }: { map: PieceMapData }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const c = canvas.current!;
    const ro = new ResizeObserver(() => setWidth(c.clientWidth));
    ro.observe(c);
    setWidth(c.clientWidth);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    const c = canvas.current!;
    const cssWidth = Math.max(1, width || c.clientWidth || 300);
    const height = 28;
    const dpr = window.devicePixelRatio || 1;
    const columns = Math.max(1, Math.floor(cssWidth * dpr));
    c.width = columns;
    c.height = Math.round(height * dpr);
    const g = c.getContext('2d');
    if (!g) return;
    const style = getComputedStyle(document.documentElement);
    const have = style.getPropertyValue('--accent').trim() || '#2a7ae2';
    const missing = style.getPropertyValue('--bar-bg').trim() || '#ddd';
    g.fillStyle = missing;
    g.fillRect(0, 0, c.width, c.height);
    g.fillStyle = have;
    const fractions = columnFractions(map, columns);
    for (let x = 0; x < columns; x++) {
      const f = fractions[x];
      if (f <= 0) continue;
      g.globalAlpha = f;
      g.fillRect(x, 0, 1, c.height);
    }
    g.globalAlpha = 1;
  }, [map, width]);
  const n = countHave(map);
  return <canvas ref={canvas} class="piece-map" role="img" data-have={n} data-count={map.pieceCount}
    aria-label={`Piece map: ${n} of ${map.pieceCount} pieces verified`} />;
}
