// The shapes the UI works with: Catalog's TorrentView (camelCase JSON, states in camelCase) and what the hub adds.

export type TorrentState =
  | 'queued' | 'fetchingMetadata' | 'checking' | 'downloading' | 'seeding' | 'paused' | 'stopped' | 'error' | 'removed';

export const torrentStates: readonly TorrentState[] =
  ['queued', 'fetchingMetadata', 'checking', 'downloading', 'seeding', 'paused', 'stopped', 'error'];

export type FilePriority = 'skip' | 'low' | 'normal' | 'high';
export type TorrentPriority = 'low' | 'normal' | 'high';

export interface TorrentFile {
  index: number;
  path: string;
  length: number;
  /** 0..1 */
  progress: number;
  priority: FilePriority;
}

export interface Tracker {
  url: string;
  health: string;
  seeders: number;
  leechers: number;
  lastError: string | null;
}

/** One torrent as the list and the detail panel show it. */
export interface Torrent {
  infoHash: string;
  name: string | null;
  totalBytes: number;
  addedAt: string;
  state: TorrentState;
  /** 0..1 */
  progress: number;
  downloadRate: number;
  uploadRate: number;
  downloadedBytes: number;
  uploadedBytes: number;
  peersConnected: number;
  peersTotal: number;
  ratio: number;
  etaSeconds: number | null;
  paused: boolean;
  priority: TorrentPriority;
  metainfoAvailable: boolean;
  files: TorrentFile[];
  trackers: Tracker[];
  error: string | null;
  workerId: string | null;
  /** The user's category ('' for none); null when the response did not say (an action's reply), so the known one stays. */
  category: string | null;
  /** The user's tags; null as for category. */
  tags: string[] | null;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds the access token lives. */
  expiresIn: number;
}

export interface User {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  createdAt: string;
}

/** Normalises a state from any source ("Downloading", "downloading", "FetchingMetadata") to the API's camelCase. */
export function normaliseState(state: unknown): TorrentState | undefined {
  if (typeof state !== 'string' || state.length === 0) return undefined;
  const camel = state[0].toLowerCase() + state.slice(1);
  return (torrentStates as readonly string[]).includes(camel) || camel === 'removed' ? (camel as TorrentState) : undefined;
}

export function normaliseFilePriority(p: unknown): FilePriority {
  const s = typeof p === 'string' ? p.toLowerCase() : '';
  return s === 'skip' || s === 'low' || s === 'high' ? s : 'normal';
}

/** A TorrentView from the REST API, made safe for the UI (states lower-cased, lists present). */
export function fromView(v: any): Torrent {
  return {
    infoHash: String(v.infoHash).toLowerCase(),
    name: v.name ?? null,
    totalBytes: v.totalBytes ?? 0,
    addedAt: v.addedAt ?? new Date().toISOString(),
    state: normaliseState(v.state) ?? 'queued',
    progress: v.progress ?? 0,
    downloadRate: v.downloadRate ?? 0,
    uploadRate: v.uploadRate ?? 0,
    downloadedBytes: v.downloadedBytes ?? 0,
    uploadedBytes: v.uploadedBytes ?? 0,
    peersConnected: v.peersConnected ?? 0,
    peersTotal: v.peersTotal ?? 0,
    ratio: v.ratio ?? 0,
    etaSeconds: v.etaSeconds ?? null,
    paused: !!v.paused,
    priority: (typeof v.priority === 'string' ? v.priority.toLowerCase() : 'normal') as TorrentPriority,
    metainfoAvailable: !!v.metainfoAvailable,
    files: (v.files ?? []).map((f: any, i: number) => ({
      index: f.index ?? i,
      path: f.path,
      length: f.length ?? 0,
      progress: f.progress ?? 0,
      priority: normaliseFilePriority(f.priority),
    })),
    trackers: (v.trackers ?? []).map((t: any) => ({
      url: t.url, health: t.health ?? 'unknown', seeders: t.seeders ?? 0, leechers: t.leechers ?? 0, lastError: t.lastError ?? null,
    })),
    error: v.error ?? null,
    workerId: v.workerId ?? null,
    category: typeof v.category === 'string' ? v.category : null,
    tags: Array.isArray(v.tags) ? v.tags.map(String) : null,
  };
}

/** A torrent as refreshed by <next>, keeping the category and tags of <previous> when <next> did not report them. */
export function mergeLabels(previous: Torrent | undefined, next: Torrent): Torrent {
  if (!previous || (next.category !== null && next.tags !== null)) return next;
  return { ...next, category: next.category ?? previous.category, tags: next.tags ?? previous.tags };
}
