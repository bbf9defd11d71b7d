// The public REST API through the Gateway (docs/catalog.md, Analytics' /api/statistics), with the session's token.
import type { Session } from './auth.ts';
import { fromView, type FilePriority, type Torrent, type TorrentPriority, type User } from './model.ts';
import { fromPeersView, type PeerList } from './peers.ts';
import { ApiError, problemMessage } from './problems.ts';

export interface AddOptions {
  paused: boolean;
  priority: TorrentPriority;
  /** One per file, in metainfo order (only for a .torrent whose files are known before adding). */
  filePriorities?: FilePriority[];
  /** The user's category ('' or absent: none) and tags, stored with the torrent as the download-client APIs see them. */
  category?: string;
  tags?: string[];
}

export interface PieceMapView { pieceCount: number; have: number; bitfield: string | null; updatedAt: string | null }

export interface ShareLimits {
  /** As set: -2 uses the user's default, -1 none. */
  ratioLimit: number;
  seedingTimeLimit: number;
  effectiveRatioLimit: number | null;
  effectiveSeedingTimeLimit: number | null;
  ratio: number;
  seedingSeconds: number;
}

export interface RateSample { at: string; downloadRate: number; uploadRate: number }

export interface StatisticsSnapshot {
  generatedAt: string;
  totals: {
    torrents: number; active: number; completed: number; failed: number;
    bytesDownloaded: number; bytesUploaded: number; downloadRate: number; uploadRate: number; peersConnected: number;
  };
  users: { userId: string; torrents: number; completed: number; bytesDownloaded: number; bytesUploaded: number; downloadRate: number; uploadRate: number }[];
  swarmHealth: { healthy: number; weak: number; dead: number; unknown: number; averagePeersConnected: number };
  rateHistory: RateSample[];
}

export class Api {
  constructor(private readonly session: Session, private readonly fetcher: typeof fetch = (i, o) => fetch(i, o)) {}

  async request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const token = await this.session.accessToken();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await this.fetcher(path, { method, headers, body: payload });
    // A token that expired in flight (or was refused): one silent refresh, then the same request again.
    if (res.status === 401 && token && !retried) {
      const s = await this.session.refresh();
      if (s) return this.request<T>(method, path, body, true);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: unknown = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    if (!res.ok) throw new ApiError(res.status, problemMessage(res.status, parsed), parsed);
    return parsed as T;
  }

  /** Every torrent the user sees, page by page (Catalog's pages hold at most 200). */
  async listAll(): Promise<Torrent[]> {
    const out: Torrent[] = [];
    const pageSize = 200;
    for (let page = 1; page <= 500; page++) {
      const r = await this.request<{ items: unknown[]; total: number }>('GET', `/api/torrents?page=${page}&pageSize=${pageSize}&sort=added&order=desc`);
      out.push(...r.items.map(fromView));
      if (r.items.length < pageSize || out.length >= r.total) break;
    }
    return out;
  }

  async get(infoHash: string): Promise<Torrent> {
    return fromView(await this.request('GET', `/api/torrents/${infoHash}`));
  }

  async addMagnet(magnetURI: string, o: AddOptions): Promise<Torrent> {
    const labels = o.category || o.tags?.length ? { category: o.category ?? '', tags: o.tags ?? [] } : {};
    return fromView(await this.request('POST', '/api/torrents', { magnetURI, paused: o.paused, priority: o.priority, ...labels }));
  }

  async addFile(file: Blob, fileName: string, o: AddOptions): Promise<Torrent> {
    const form = new FormData();
    form.append('file', file, fileName);
    form.append('paused', String(o.paused));
    form.append('priority', o.priority);
    if (o.filePriorities?.length) form.append('filePriorities', o.filePriorities.join(','));
    if (o.category) form.append('category', o.category);
    for (const tag of o.tags ?? []) form.append('tags', tag);
    return fromView(await this.request('POST', '/api/torrents', form));
  }

  async action(infoHash: string, what: 'pause' | 'resume' | 'recheck'): Promise<Torrent> {
    return fromView(await this.request('POST', `/api/torrents/${infoHash}/${what}`));
  }

  async setPriority(infoHash: string, priority: TorrentPriority): Promise<Torrent> {
    return fromView(await this.request('PUT', `/api/torrents/${infoHash}/priority`, { priority }));
  }

  async setFilePriorities(infoHash: string, files: { index: number; priority: FilePriority }[]): Promise<Torrent> {
    return fromView(await this.request('PUT', `/api/torrents/${infoHash}/files`, { files }));
  }

  async peers(infoHash: string): Promise<PeerList> {
    return fromPeersView(await this.request('GET', `/api/torrents/${infoHash}/peers`));
  }

  pieces(infoHash: string): Promise<PieceMapView> {
    return this.request('GET', `/api/torrents/${infoHash}/pieces`);
  }

  setLabels(infoHash: string, category: string, tags: string[]): Promise<{ category: string; tags: string[] }> {
    return this.request('PUT', `/api/torrents/${infoHash}/labels`, { category, tags });
  }

  categories(): Promise<string[]> {
    return this.request('GET', '/api/categories');
  }

  tags(): Promise<string[]> {
    return this.request('GET', '/api/tags');
  }

  shareLimits(infoHash: string): Promise<ShareLimits> {
    return this.request('GET', `/api/torrents/${infoHash}/share-limits`);
  }

  setShareLimits(infoHash: string, ratioLimit: number, seedingTimeLimit: number): Promise<ShareLimits> {
    return this.request('PUT', `/api/torrents/${infoHash}/share-limits`, { ratioLimit, seedingTimeLimit });
  }

  remove(infoHash: string, deleteData: boolean): Promise<void> {
    return this.request('DELETE', `/api/torrents/${infoHash}?deleteData=${deleteData}`);
  }

  statistics(): Promise<StatisticsSnapshot> {
    return this.request('GET', '/api/statistics');
  }

  /**
   * A torrent's rate history from Analytics (GET /api/statistics/torrents/{hash}/history?from&to&step), or null when
   * this Analytics does not have that endpoint yet (404/405): the chart then draws the rates it sees live.
   */
  async torrentHistory(infoHash: string, fromMs: number, toMs: number, stepSeconds: number): Promise<RateSample[] | null> {
    const q = `from=${encodeURIComponent(new Date(fromMs).toISOString())}&to=${encodeURIComponent(new Date(toMs).toISOString())}&step=${stepSeconds}`;
    try {
      const r = await this.request<unknown>('GET', `/api/statistics/torrents/${infoHash}/history?${q}`);
      return parseHistory(r);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 400)) return null;
      throw e;
    }
  }

  users(): Promise<User[]> {
    return this.request('GET', '/api/admin/users');
  }

  setUserEnabled(id: string, enabled: boolean): Promise<User> {
    return this.request('POST', `/api/admin/users/${id}/${enabled ? 'enable' : 'disable'}`);
  }

  setUserRole(id: string, role: 'admin' | 'user'): Promise<User> {
    return this.request('PUT', `/api/admin/users/${id}/role`, { role });
  }
}

/**
 * The history endpoint's samples, accepting a bare array or an object holding one (samples/points/items/history),
 * with rates named downloadRate/uploadRate or downloadSpeed/uploadSpeed and the time as at/time/timestamp.
 */
export function parseHistory(body: unknown): RateSample[] | null {
  const list = Array.isArray(body) ? body
    : body && typeof body === 'object'
      ? (['samples', 'points', 'items', 'history'].map(k => (body as any)[k]).find(Array.isArray) ?? null)
      : null;
  if (!list) return null;
  return list.map((s: any) => ({
    at: String(s.at ?? s.time ?? s.timestamp ?? s.from ?? ''),
    downloadRate: Number(s.downloadRate ?? s.downloadSpeed ?? s.down ?? 0),
    uploadRate: Number(s.uploadRate ?? s.uploadSpeed ?? s.up ?? 0),
  })).filter(s => s.at && !Number.isNaN(Date.parse(s.at)));
}
