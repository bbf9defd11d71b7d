import { useEffect, useMemo, useState } from 'preact/hooks';
import { formatBytes, formatDate, formatEta, formatPercent, formatRate, formatRatio, formatState } from '../format.ts';
import type { FilePriority, Torrent, TorrentPriority } from '../model.ts';
import { errorMessage } from '../problems.ts';
import { RateChart, type RatePoint } from './Chart.tsx';
import { ProgressBar, useServices, useStoreVersion } from './common.tsx';
import { PieceMap } from './PieceMap.tsx';
import { Labels, ShareLimitsForm } from './Labels.tsx';
import { sortPeers, sourceLabel, type PeerList } from '../peers.ts';
import { decodeBitfield, withVerified, type PieceMapData } from '../pieces.ts';

type Tab = 'overview' | 'files' | 'trackers' | 'peers' | 'speed' | 'pieces';
const tabs: { id: Tab; label: string }[] = [
  { id: 'overview', label: 'Overview' }, { id: 'files', label: 'Files' }, { id: 'trackers', label: 'Trackers' },
  { id: 'peers', label: 'Peers' }, { id: 'speed', label: 'Speed' }, { id: 'pieces', label: 'Pieces' },
];

export function Detail({ infoHash, onClose, onRemove }: { infoHash: string; onClose: () => void; onRemove: (hash: string) => void }) {
  const { store, api, live, toast } = useServices();
  useStoreVersion(store);
  const [tab, setTab] = useState<Tab>('overview');
  const t = store.torrents.get(infoHash);

  useEffect(() => {
    // The full status (files, trackers) and the piece stream of this torrent while the panel is open.
    store.track(infoHash);
    void live.subscribe(infoHash);
    api.get(infoHash).then(v => store.upsert(v)).catch(e => toast(errorMessage(e), true));
    return () => { store.untrack(infoHash); void live.unsubscribe(infoHash); };
  }, [infoHash]);

  if (!t) return <aside class="detail" aria-label="Torrent details"><p>Loading…</p></aside>;
  const name = t.name ?? t.infoHash;

  const act = async (fn: () => Promise<Torrent>, done: string) => {
    try { store.upsert(await fn()); toast(done); } catch (e) { toast(errorMessage(e), true); }
  };

  const onTabKey = (e: KeyboardEvent) => {
    const i = tabs.findIndex(x => x.id === tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % tabs.length : e.key === 'ArrowLeft' ? (i + tabs.length - 1) % tabs.length : -1;
    if (next < 0) return;
    e.preventDefault();
    setTab(tabs[next].id);
    requestAnimationFrame(() => document.getElementById(`tab-${tabs[next].id}`)?.focus());
  };

  return (
    <aside class="detail" aria-labelledby="detail-title" onKeyDown={e => { if (e.key === 'Escape') onClose(); }}>
      <header>
        <h2 id="detail-title" title={name}>{name}</h2>
        <button class="icon" aria-label="Close details" onClick={onClose}>✕</button>
      </header>
      <ProgressBar value={t.progress} label={`Progress of ${name}`} />
      <div class="detail-actions" role="toolbar" aria-label={`Actions on ${name}`}>
        {t.state === 'paused' || t.paused
          ? <button onClick={() => act(() => api.action(infoHash, 'resume'), 'Resumed.')}>Resume</button>
          : <button onClick={() => act(() => api.action(infoHash, 'pause'), 'Paused.')}>Pause</button>}
        <button onClick={() => act(() => api.action(infoHash, 'recheck'), 'Recheck requested.')}>Recheck</button>
        <label>
          <span class="sr-only">Priority</span>
          <select aria-label="Priority" value={t.priority} onChange={e => act(() => api.setPriority(infoHash, (e.target as HTMLSelectElement).value as TorrentPriority), 'Priority changed.')}>
            <option value="high">High priority</option><option value="normal">Normal priority</option><option value="low">Low priority</option>
          </select>
        </label>
        <button class="danger" onClick={() => onRemove(infoHash)}>Remove…</button>
      </div>
      <div class="tabs" role="tablist" aria-label="Details" onKeyDown={onTabKey}>
        {tabs.map(x => (
          <button role="tab" id={`tab-${x.id}`} aria-selected={tab === x.id} aria-controls={tab === x.id ? `panel-${x.id}` : undefined} tabIndex={tab === x.id ? 0 : -1}
            onClick={() => setTab(x.id)}>{x.label}</button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="tabpanel" tabIndex={0}>
        {tab === 'overview' && <Overview t={t} />}
        {tab === 'files' && <Files t={t} />}
        {tab === 'trackers' && <Trackers t={t} />}
        {tab === 'peers' && <Peers t={t} />}
        {tab === 'speed' && <Speed t={t} />}
        {tab === 'pieces' && <Pieces t={t} />}
      </div>
    </aside>
  );
}

function Overview({ t }: { t: Torrent }) {
  const rows: [string, string][] = [
    ['State', formatState(t.state) + (t.paused && t.state !== 'paused' ? ' (pausing)' : '')],
    ['Size', formatBytes(t.totalBytes)],
    ['Progress', formatPercent(t.progress)],
    ['Download rate', formatRate(t.downloadRate)],
    ['Upload rate', formatRate(t.uploadRate)],
    ['Downloaded', formatBytes(t.downloadedBytes)],
    ['Uploaded', formatBytes(t.uploadedBytes)],
    ['Ratio', formatRatio(t.ratio)],
    ['Peers', `${t.peersConnected} connected of ${t.peersTotal} known`],
    ['Time left', t.progress >= 1 ? 'complete' : formatEta(t.etaSeconds)],
    ['Priority', t.priority],
    ['Added', formatDate(t.addedAt)],
    ['Info-hash', t.infoHash],
    ['Worker', t.workerId ?? '–'],
  ];
  return (
    <>
      {t.error && <p class="error" role="alert">{t.error}</p>}
      <dl class="facts">{rows.map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}</dl>
      <Labels t={t} />
      <ShareLimitsForm t={t} />
    </>
  );
}

function Files({ t }: { t: Torrent }) {
  const { api, store, toast } = useServices();
  if (!t.files.length) {
    return <p class="muted">{t.metainfoAvailable ? 'No files reported yet.' : 'The file list is known once the metadata arrives from the swarm.'}</p>;
  }
  const set = async (index: number, priority: FilePriority) => {
    try { store.upsert(await api.setFilePriorities(t.infoHash, [{ index, priority }])); } catch (e) { toast(errorMessage(e), true); }
  };
  return (
    <table class="files">
      <caption class="sr-only">Files of {t.name}</caption>
      <thead><tr><th scope="col">File</th><th scope="col">Size</th><th scope="col">Progress</th><th scope="col">Priority</th></tr></thead>
      <tbody>
        {t.files.map(f => (
          <tr>
            <th scope="row" class="path" title={f.path}>{f.path}</th>
            <td>{formatBytes(f.length)}</td>
            <td><ProgressBar value={f.progress} label={`Progress of ${f.path}`} /></td>
            <td>
              <select aria-label={`Priority of ${f.path}`} value={f.priority} onChange={e => set(f.index, (e.target as HTMLSelectElement).value as FilePriority)}>
                <option value="high">High</option><option value="normal">Normal</option><option value="low">Low</option><option value="skip">Skip</option>
              </select>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Trackers({ t }: { t: Torrent }) {
  if (!t.trackers.length) return <p class="muted">No trackers: peers come from the magnet link, DHT or peer exchange.</p>;
  return (
    <table class="trackers">
      <caption class="sr-only">Trackers of {t.name}</caption>
      <thead><tr><th scope="col">Tracker</th><th scope="col">Health</th><th scope="col">Seeders</th><th scope="col">Leechers</th><th scope="col">Last error</th></tr></thead>
      <tbody>{t.trackers.map(x => (
        <tr><th scope="row" class="path">{x.url}</th><td class={`health h-${x.health}`}>{x.health}</td><td>{x.seeders}</td><td>{x.leechers}</td><td>{x.lastError ?? '–'}</td></tr>
      ))}</tbody>
    </table>
  );
}

function Peers({ t }: { t: Torrent }) {
  const { api, toast } = useServices();
  const [list, setList] = useState<PeerList | null>(null);
  useEffect(() => {
    // The worker reports peers with its progress, about once a second: polling this endpoint while the tab is open
    // (bounded by the tab's life) shows them without a hub event per peer.
    let stop = false;
    const load = () => api.peers(t.infoHash).then(l => { if (!stop) setList(l); }).catch(e => { if (!stop) toast(errorMessage(e), true); });
    void load();
    const timer = setInterval(load, 2000);
    return () => { stop = true; clearInterval(timer); };
  }, [t.infoHash]);
  if (!list) return <p class="muted">Loading peers…</p>;
  const peers = sortPeers(list.items);
  return (
    <>
      <dl class="facts"><dt>Connected</dt><dd>{list.connected}</dd><dt>Known</dt><dd>{list.known}</dd></dl>
      {peers.length === 0
        ? <p class="muted">{t.state === 'paused' ? 'Paused: no peers are connected.' : 'No peer is connected right now.'}</p>
        : (
          <div class="table-scroll" role="region" aria-label="Peer list" tabIndex={0}>
            <table class="peers">
              <caption class="sr-only">Peers of {t.name}</caption>
              <thead><tr><th scope="col">Address</th><th scope="col">Client</th><th scope="col">Found by</th><th scope="col">Encrypted</th>
                <th scope="col">Down</th><th scope="col">Up</th><th scope="col">Has</th></tr></thead>
              <tbody>{peers.map(p => (
                <tr data-source={p.source}>
                  <th scope="row" class="path">{p.address}</th>
                  <td class="path" title={p.client}>{p.client}</td>
                  <td>{sourceLabel(p.source)}</td>
                  <td>{p.encrypted ? 'yes' : 'no'}</td>
                  <td>{formatRate(p.downloadRate)}</td>
                  <td>{formatRate(p.uploadRate)}</td>
                  <td>{formatPercent(p.progress)}</td>
                </tr>
              ))}</tbody>
            </table>
          </div>
        )}
      <p class="muted">The busiest {peers.length < list.connected ? `${peers.length} of ${list.connected}` : ''} connected peers, as the worker last reported them.</p>
    </>
  );
}

function Speed({ t }: { t: Torrent }) {
  const { api, store } = useServices();
  const version = useStoreVersion(store);
  const [history, setHistory] = useState<RatePoint[] | null>(null);
  const [source, setSource] = useState<'history' | 'live'>('live');
  useEffect(() => {
    const now = Date.now();
    api.torrentHistory(t.infoHash, now - 3600_000, now, 10).then(h => {
      if (h) { setHistory(h.map(s => ({ t: Date.parse(s.at), down: s.downloadRate, up: s.uploadRate }))); setSource('history'); }
    }).catch(() => {});
  }, [t.infoHash]);
  // Redraw at most once a second: the chart's resolution is a second.
  const second = Math.floor(Date.now() / 1000);
  const points = useMemo(() => {
    const liveSamples = store.rates.get(t.infoHash)?.all ?? [];
    if (!history) return [...liveSamples];
    const lastHistory = history.length ? history[history.length - 1].t : 0;
    return [...history, ...liveSamples.filter(s => s.t > lastHistory)];
  }, [history, second, version > 0]);
  return (
    <>
      <RateChart points={points} label={source === 'history' ? 'Rates over the last hour (Analytics) and live' : 'Rates seen live since this panel opened'} />
      {source === 'live' && <p class="muted">This Analytics serves no rate history yet, so the chart starts when the panel opens.</p>}
    </>
  );
}

function Pieces({ t }: { t: Torrent }) {
  const { api, store, toast } = useServices();
  const version = useStoreVersion(store);
  const [fetched, setFetched] = useState<PieceMapData | null>(null);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    // Catalog keeps the bitfield the worker sends (when it changed, every few seconds at most); pieces verified since
    // arrive live from the hub and are drawn on top.
    let stop = false;
    const load = () => api.pieces(t.infoHash).then(v => {
      if (stop) return;
      const bits = decodeBitfield(v.bitfield, v.pieceCount);
      setFetched(bits ? { pieceCount: v.pieceCount, bits } : null);
      setLoaded(true);
    }).catch(e => { if (!stop) toast(errorMessage(e), true); });
    void load();
    const timer = setInterval(load, 5000);
    return () => { stop = true; clearInterval(timer); };
  }, [t.infoHash]);
  const live = store.pieces.get(t.infoHash);
  const map = useMemo(() => {
    if (fetched) return live ? withVerified(fetched, live.verified) : fetched;
    if (live?.count) {
      const bits = new Uint8Array(Math.ceil(live.count / 8));
      return withVerified({ pieceCount: live.count, bits }, live.verified);
    }
    return null;
  }, [fetched, version]);
  return (
    <>
      {map ? <PieceMap map={map} />
        : <p class="muted">{loaded ? 'No piece map yet: it appears once a worker has checked the torrent’s data.' : 'Loading the piece map…'}</p>}
      <ul class="file-bars">{t.files.map(f => <li><span class="path">{f.path}</span><ProgressBar value={f.progress} label={`Progress of ${f.path}`} /></li>)}</ul>
    </>
  );
}
