// The torrents the page knows, changed by REST answers and hub events, and observed by the views.
// Notifications are coalesced into one per frame: thousands of progress events a second cost one re-render.
import type { HubEvent } from './events.ts';
import { mergeLabels, type Torrent } from './model.ts';

export interface Sample { t: number; down: number; up: number }

/** A bounded series of rate samples (oldest dropped first). */
export class SampleRing {
  private readonly items: Sample[] = [];
  constructor(readonly capacity: number) {}
  push(s: Sample) {
    // One sample per second at most: events of the same second replace the last one.
    const last = this.items[this.items.length - 1];
    if (last && Math.floor(last.t / 1000) === Math.floor(s.t / 1000)) {
      this.items[this.items.length - 1] = s;
      return;
    }
    this.items.push(s);
    if (this.items.length > this.capacity) this.items.shift();
  }
  get all(): readonly Sample[] { return this.items; }
}

export class TorrentStore {
  readonly torrents = new Map<string, Torrent>();
  /** Bumped on every change: views compare it to skip work. */
  version = 0;
  queueStats: { activeCount: number; queuedCount: number } | null = null;
  /** Verified pieces seen live, for the torrents whose piece map is open. */
  readonly pieces = new Map<string, { count: number | null; verified: Set<number> }>();
  readonly rates = new Map<string, SampleRing>();
  readonly totalRates = new SampleRing(600);
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  /** unknown: called for an event about a torrent the page does not have yet (the view fetches it). */
  constructor(
    private readonly schedule: (fn: () => void) => void,
    private readonly now: () => number = Date.now,
    private readonly unknown: (infoHash: string) => void = () => {},
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  replaceAll(list: Torrent[]) {
    this.torrents.clear();
    for (const t of list) this.torrents.set(t.infoHash, t);
    this.changed();
  }

  upsert(t: Torrent) {
    this.torrents.set(t.infoHash, mergeLabels(this.torrents.get(t.infoHash), t));
    this.changed();
  }

  delete(infoHash: string) {
    if (this.torrents.delete(infoHash)) this.changed();
    this.pieces.delete(infoHash);
  }

  /** Starts keeping live rate samples of one torrent (its detail panel is open). */
  track(infoHash: string): SampleRing {
    let ring = this.rates.get(infoHash);
    if (!ring) this.rates.set(infoHash, ring = new SampleRing(600));
    return ring;
  }

  untrack(infoHash: string) { this.rates.delete(infoHash); }

  apply(e: HubEvent) {
    switch (e.kind) {
      case 'patch':
      case 'metadata': {
        const t = this.torrents.get(e.infoHash);
        if (!t) {
          this.unknown(e.infoHash);
          return;
        }
        // A new object, so views that memoise a row see that it changed.
        const next = { ...t, ...e.patch };
        this.torrents.set(e.infoHash, next);
        if (e.kind === 'patch' && e.name === 'torrent:progress') {
          this.rates.get(e.infoHash)?.push({ t: this.now(), down: next.downloadRate, up: next.uploadRate });
        }
        if (e.kind === 'metadata') this.unknown(e.infoHash);
        break;
      }
      case 'piece': {
        let p = this.pieces.get(e.infoHash);
        if (!p) this.pieces.set(e.infoHash, p = { count: null, verified: new Set() });
        if (e.pieceCount !== null) p.count = e.pieceCount;
        for (const i of e.pieces) p.verified.add(i);
        break;
      }
      case 'queue':
        if (e.stats) this.queueStats = e.stats;
        if (e.infoHash && e.patch) {
          const t = this.torrents.get(e.infoHash);
          if (t) this.torrents.set(e.infoHash, { ...t, ...e.patch });
        }
        break;
      case 'removed':
        this.torrents.delete(e.infoHash);
        this.pieces.delete(e.infoHash);
        break;
    }
    this.changed();
  }

  /** The sum of every torrent's rates now, sampled for the list's header chart when no history is served. */
  sampleTotals() {
    let down = 0;
    let up = 0;
    for (const t of this.torrents.values()) {
      down += t.downloadRate;
      up += t.uploadRate;
    }
    this.totalRates.push({ t: this.now(), down, up });
  }

  private changed() {
    this.version++;
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      for (const l of this.listeners) l();
    });
  }
}
