// Sorting, filtering and searching the torrent list: pure functions over rows, so they are tested without a DOM.
import type { Torrent, TorrentState } from './model.ts';

export type SortKey =
  | 'name' | 'category' | 'size' | 'progress' | 'state' | 'downloadRate' | 'uploadRate' | 'peers' | 'eta' | 'ratio' | 'added';

export interface ListQuery {
  sort: SortKey;
  descending: boolean;
  /** 'all', one state, or 'active' (moving bytes either way). */
  state: TorrentState | 'all' | 'active';
  search: string;
  /** null: any; '': torrents without a category; else that category. */
  category: string | null;
  /** null: any; else torrents carrying that tag. */
  tag: string | null;
}

export const defaultQuery: ListQuery = { sort: 'added', descending: true, state: 'all', search: '', category: null, tag: null };

/** Whether the torrent passes the category and tag filters. */
export function matchesLabels(t: Torrent, category: string | null, tag: string | null): boolean {
  if (category !== null && (t.category ?? '') !== category) return false;
  if (tag !== null && !(t.tags ?? []).includes(tag)) return false;
  return true;
}

/** The categories and tags in use, sorted, for the filters (with the user's named but unused ones from the API). */
export function labelNames(rows: Iterable<Torrent>, known: { categories?: string[]; tags?: string[] } = {})
  : { categories: string[]; tags: string[] } {
  const categories = new Set(known.categories ?? []);
  const tags = new Set(known.tags ?? []);
  for (const t of rows) {
    if (t.state === 'removed') continue;
    if (t.category) categories.add(t.category);
    for (const tag of t.tags ?? []) tags.add(tag);
  }
  return { categories: [...categories].sort(collator.compare), tags: [...tags].sort(collator.compare) };
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

// addedAt never changes for a torrent: parse each ISO string once, not once per comparison of every sort.
const parsedDates = new Map<string, number>();
function addedMs(iso: string): number {
  let ms = parsedDates.get(iso);
  if (ms === undefined) {
    ms = Date.parse(iso) || 0;
    if (parsedDates.size > 100_000) parsedDates.clear();
    parsedDates.set(iso, ms);
  }
  return ms;
}

function key(t: Torrent, sort: SortKey): number | string {
  switch (sort) {
    case 'name': return t.name ?? t.infoHash;
    case 'category': return t.category ?? '';
    case 'size': return t.totalBytes;
    case 'progress': return t.progress;
    case 'state': return t.state;
    case 'downloadRate': return t.downloadRate;
    case 'uploadRate': return t.uploadRate;
    case 'peers': return t.peersConnected;
    // Unknown ETA sorts as the longest wait.
    case 'eta': return t.etaSeconds ?? Number.POSITIVE_INFINITY;
    case 'ratio': return t.ratio;
    case 'added': return addedMs(t.addedAt);
  }
}

export function compareTorrents(a: Torrent, b: Torrent, sort: SortKey, descending: boolean): number {
  const ka = key(a, sort);
  const kb = key(b, sort);
  let c = typeof ka === 'string' && typeof kb === 'string' ? collator.compare(ka, kb) : (ka as number) - (kb as number);
  if (Number.isNaN(c)) c = 0;
  if (descending) c = -c;
  // Ties broken by info-hash so rows do not jump around between live updates.
  return c !== 0 ? c : a.infoHash < b.infoHash ? -1 : a.infoHash > b.infoHash ? 1 : 0;
}

export function matchesState(t: Torrent, state: ListQuery['state']): boolean {
  if (state === 'all') return true;
  if (state === 'active') return t.downloadRate > 0 || t.uploadRate > 0;
  return t.state === state;
}

/** Every word of the search must appear in the name (or the info-hash), case-insensitively. */
export function matchesSearch(t: Torrent, search: string): boolean {
  const words = search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${t.name ?? ''} ${t.infoHash}`.toLowerCase();
  return words.every(w => hay.includes(w));
}

/**
 * The rows to show, in order. Runs once per frame while events arrive (thousands of rows): each row's sort key is
 * computed once (not twice per comparison), and names compare through one collator.
 */
export function applyQuery(rows: Iterable<Torrent>, q: ListQuery): Torrent[] {
  const kept: Torrent[] = [];
  const keys: (number | string)[] = [];
  const words = q.search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  for (const t of rows) {
    if (t.state === 'removed' || !matchesState(t, q.state)) continue;
    if ((q.category ?? null) !== null || (q.tag ?? null) !== null) {
      if (!matchesLabels(t, q.category ?? null, q.tag ?? null)) continue;
    }
    if (words.length) {
      const hay = `${t.name ?? ''} ${t.infoHash}`.toLowerCase();
      if (!words.every(w => hay.includes(w))) continue;
    }
    kept.push(t);
    keys.push(key(t, q.sort));
  }
  const order = kept.map((_, i) => i);
  const sign = q.descending ? -1 : 1;
  const text = q.sort === 'name' || q.sort === 'state' || q.sort === 'category';
  order.sort((i, j) => {
    const a = keys[i];
    const b = keys[j];
    let c = text ? collator.compare(a as string, b as string) : (a as number) - (b as number);
    if (Number.isNaN(c)) c = 0;
    if (c !== 0) return sign * c;
    const ha = kept[i].infoHash;
    const hb = kept[j].infoHash;
    return ha < hb ? -1 : ha > hb ? 1 : 0;
  });
  return order.map(i => kept[i]);
}

/** Counts per state for the filter's labels. */
export function countByState(rows: Iterable<Torrent>): Record<string, number> {
  const counts: Record<string, number> = { all: 0, active: 0 };
  for (const t of rows) {
    if (t.state === 'removed') continue;
    counts.all++;
    counts[t.state] = (counts[t.state] ?? 0) + 1;
    if (t.downloadRate > 0 || t.uploadRate > 0) counts.active++;
  }
  return counts;
}

/** The rows a viewport shows, with overscan: the list renders only these (virtualisation). */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, count: number, overscan = 8)
  : { start: number; end: number } {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count - 1, first) - overscan);
  const end = Math.min(count, first + visible + overscan);
  return { start, end };
}
