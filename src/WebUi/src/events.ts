// The adapter between Notifier's hub and the UI. It accepts both payload shapes:
//  - today's: the integration events as serialised by SignalR (TorrentProgressed: progress 0..1, downloadRate,
//    uploadRate, peersConnected, peersTotal, files with verifiedBytes; TorrentFailed: reason; TorrentPiecesVerified:
//    pieces[] + pieceCount; TorrentQueueChanged: position + state of one torrent);
//  - the original design's: progress with name, percentage 0-100, downloadSpeed, uploadSpeed, peers.connected/total;
//    torrent:piece with index; torrent:seeding with ratio; torrent:error with message; queue:updated with per-user
//    stats.activeCount/queuedCount.
// Everything else in the UI sees only the normalised HubEvent below, so either server works.
import { normaliseFilePriority, normaliseState, type Torrent, type TorrentFile, type Tracker } from './model.ts';

export type TorrentPatch = Partial<Omit<Torrent, 'infoHash'>>;

export type HubEvent =
  | { kind: 'patch'; name: string; infoHash: string; patch: TorrentPatch; /** unknown to the list: fetch it */ isNew?: boolean }
  | { kind: 'piece'; infoHash: string; pieces: number[]; pieceCount: number | null; verifiedCount: number | null }
  | { kind: 'queue'; infoHash: string | null; patch: TorrentPatch | null; stats: { activeCount: number; queuedCount: number } | null }
  | { kind: 'removed'; infoHash: string }
  | { kind: 'metadata'; infoHash: string; patch: TorrentPatch };

/** The hub methods the UI listens to (Notifier's TorrentHubEvents). */
export const hubEventNames = [
  'torrent:added', 'torrent:progress', 'torrent:piece', 'torrent:complete', 'torrent:seeding', 'torrent:error',
  'queue:updated', 'torrent:state', 'torrent:removed', 'torrent:metadata',
] as const;

function num(...values: unknown[]): number | undefined {
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) return v;
  return undefined;
}

function str(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v.length > 0) return v;
  return undefined;
}

function hashOf(p: any): string | undefined {
  const h = str(p?.infoHash, p?.hash, p?.id && typeof p.id === 'string' && /^[0-9a-f]{40}$/i.test(p.id) ? p.id : undefined);
  return h?.toLowerCase();
}

function files(list: unknown): TorrentFile[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((f: any, i) => {
    const length = num(f.length, f.size) ?? 0;
    const verified = num(f.verifiedBytes, f.downloaded);
    const fraction = num(f.progress) ?? (num(f.percentage) !== undefined ? num(f.percentage)! / 100 : undefined);
    return {
      index: num(f.index) ?? i,
      path: str(f.path, f.name) ?? `file ${i}`,
      length,
      progress: fraction ?? (length === 0 ? 1 : Math.min(1, (verified ?? 0) / length)),
      priority: normaliseFilePriority(f.priority),
    };
  });
}

function trackers(list: unknown): Tracker[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((t: any) => ({
    url: String(t.url), health: str(t.health) ?? 'unknown', seeders: num(t.seeders) ?? 0, leechers: num(t.leechers) ?? 0,
    lastError: str(t.lastError) ?? null,
  }));
}

function set<K extends keyof TorrentPatch>(patch: TorrentPatch, key: K, value: TorrentPatch[K] | undefined) {
  if (value !== undefined) patch[key] = value;
}

/** torrent:progress in either shape. */
export function progressPatch(p: any): TorrentPatch {
  const patch: TorrentPatch = {};
  set(patch, 'name', str(p.name));
  set(patch, 'state', normaliseState(p.state));
  const percentage = num(p.percentage);
  const fraction = percentage !== undefined ? percentage / 100 : num(p.progress);
  if (fraction !== undefined) patch.progress = Math.min(1, Math.max(0, fraction));
  set(patch, 'totalBytes', num(p.totalBytes, p.size, p.total));
  set(patch, 'downloadRate', num(p.downloadSpeed, p.downloadRate));
  set(patch, 'uploadRate', num(p.uploadSpeed, p.uploadRate));
  set(patch, 'downloadedBytes', num(p.downloadedBytes, p.downloaded));
  set(patch, 'uploadedBytes', num(p.uploadedBytes, p.uploaded));
  const peers = p.peers;
  set(patch, 'peersConnected', num(peers?.connected, typeof peers === 'number' ? peers : undefined, p.peersConnected));
  set(patch, 'peersTotal', num(peers?.total, p.peersTotal));
  if ('etaSeconds' in p || 'eta' in p) {
    const eta = num(p.etaSeconds, p.eta);
    patch.etaSeconds = eta ?? null;
  }
  set(patch, 'files', files(p.files));
  set(patch, 'trackers', trackers(p.trackers));
  const ratio = num(p.ratio);
  if (ratio !== undefined) {
    patch.ratio = ratio;
  } else if (patch.uploadedBytes !== undefined && patch.downloadedBytes !== undefined) {
    // As Catalog computes it: against what was downloaded, or the size once complete.
    const basis = Math.max(patch.downloadedBytes, (patch.progress ?? 0) >= 1 ? patch.totalBytes ?? 0 : 0);
    patch.ratio = basis > 0 ? Math.round((patch.uploadedBytes / basis) * 1000) / 1000 : 0;
  }
  return patch;
}

/** Turns one hub message into what the UI applies; null for a payload it cannot place (no info-hash). */
export function adaptHubEvent(name: string, payload: any): HubEvent | null {
  const p = payload ?? {};
  if (name === 'queue:updated') {
    const stats = p.stats ?? (num(p.activeCount) !== undefined ? p : null);
    const infoHash = hashOf(p) ?? null;
    const state = normaliseState(p.state);
    return {
      kind: 'queue',
      infoHash,
      patch: infoHash && state ? { state } : null,
      stats: stats ? { activeCount: num(stats.activeCount) ?? 0, queuedCount: num(stats.queuedCount) ?? 0 } : null,
    };
  }
  const infoHash = hashOf(p);
  if (!infoHash) return null;
  switch (name) {
    case 'torrent:progress':
      return { kind: 'patch', name, infoHash, patch: progressPatch(p) };
    case 'torrent:added': {
      const patch: TorrentPatch = {};
      set(patch, 'name', str(p.name));
      set(patch, 'totalBytes', num(p.totalBytes, p.size));
      set(patch, 'workerId', str(p.workerId));
      return { kind: 'patch', name, infoHash, patch, isNew: true };
    }
    case 'torrent:piece': {
      const pieces = Array.isArray(p.pieces) ? p.pieces.filter((x: unknown) => typeof x === 'number')
        : Array.isArray(p.indices) ? p.indices.filter((x: unknown) => typeof x === 'number')
        : num(p.index) !== undefined ? [p.index] : [];
      return { kind: 'piece', infoHash, pieces, pieceCount: num(p.pieceCount, p.totalPieces) ?? null, verifiedCount: num(p.verifiedCount) ?? null };
    }
    case 'torrent:complete': {
      const patch: TorrentPatch = { progress: 1, etaSeconds: 0, downloadRate: 0 };
      set(patch, 'totalBytes', num(p.totalBytes, p.size));
      return { kind: 'patch', name, infoHash, patch };
    }
    case 'torrent:seeding': {
      const patch: TorrentPatch = { state: 'seeding', progress: 1, etaSeconds: 0 };
      set(patch, 'ratio', num(p.ratio));
      return { kind: 'patch', name, infoHash, patch };
    }
    case 'torrent:error':
      return { kind: 'patch', name, infoHash, patch: { state: 'error', error: str(p.message, p.reason, p.error) ?? 'Unknown error' } };
    case 'torrent:state': {
      const state = normaliseState(p.state);
      const patch: TorrentPatch = {};
      set(patch, 'state', state);
      set(patch, 'workerId', str(p.workerId));
      if (state === 'paused' || state === 'stopped') Object.assign(patch, { downloadRate: 0, uploadRate: 0 });
      if (state && state !== 'error') patch.error = null;
      return { kind: 'patch', name, infoHash, patch };
    }
    case 'torrent:removed':
      return { kind: 'removed', infoHash };
    case 'torrent:metadata': {
      const patch: TorrentPatch = { metainfoAvailable: true };
      set(patch, 'name', str(p.name));
      set(patch, 'totalBytes', num(p.totalBytes, p.size));
      return { kind: 'metadata', infoHash, patch };
    }
    default:
      return null;
  }
}
