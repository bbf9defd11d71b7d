import { fromView, type Torrent } from '../src/model.ts';

export function torrent(over: Partial<Torrent> & { infoHash: string }): Torrent {
  return { ...fromView({ infoHash: over.infoHash, addedAt: '2026-12-01T00:00:00Z' }), ...over };
}

export const hash = (n: number) => n.toString(16).padStart(40, '0');
