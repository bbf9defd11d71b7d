// Peers of a torrent as the API reports them (GET /api/torrents/{hash}/peers): how each was found, in words.

export interface Peer {
  address: string;
  client: string;
  source: string;
  incoming: boolean;
  encrypted: boolean;
  /** 0..1 of the pieces the peer has. */
  progress: number;
  downloadRate: number;
  uploadRate: number;
  downloadedBytes: number;
  uploadedBytes: number;
  peerChoking: boolean;
  amChoking: boolean;
}

export interface PeerList { items: Peer[]; connected: number; known: number; updatedAt: string | null }

const sources: Record<string, string> = {
  tracker: 'Tracker', incoming: 'Incoming', magnet: 'Magnet link (x.pe)', manual: 'Added by hand', pex: 'Peer exchange', dht: 'DHT', localdiscovery: 'Local discovery (LSD)',
};

/** A source as people read it; sources this UI does not know yet are shown as the API names them. */
export function sourceLabel(source: string): string {
  return sources[source] ?? (source ? source : 'Unknown');
}

export function fromPeersView(v: any): PeerList {
  const items = Array.isArray(v?.items) ? v.items : [];
  return {
    items: items.map((p: any) => ({
      address: String(p.address ?? '?'),
      client: String(p.client ?? 'unknown'),
      source: String(p.source ?? 'unknown').toLowerCase(),
      incoming: !!p.incoming,
      encrypted: !!p.encrypted,
      progress: Number(p.progress ?? 0),
      downloadRate: Number(p.downloadRate ?? 0),
      uploadRate: Number(p.uploadRate ?? 0),
      downloadedBytes: Number(p.downloadedBytes ?? 0),
      uploadedBytes: Number(p.uploadedBytes ?? 0),
      peerChoking: !!p.peerChoking,
      amChoking: !!p.amChoking,
    })),
    connected: Number(v?.connected ?? items.length),
    known: Number(v?.known ?? items.length),
    updatedAt: v?.updatedAt ?? null,
  };
}

/** Busiest first (both directions), then by address so rows stay put between refreshes. */
export function sortPeers(peers: readonly Peer[]): Peer[] {
  return [...peers].sort((a, b) =>
    (b.downloadRate + b.uploadRate) - (a.downloadRate + a.uploadRate) || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
