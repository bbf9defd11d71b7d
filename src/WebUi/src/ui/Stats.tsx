import { useEffect, useMemo, useState } from 'preact/hooks';
import type { StatisticsSnapshot } from '../api.ts';
import { formatBytes, formatRate, formatRatio } from '../format.ts';
import { errorMessage } from '../problems.ts';
import { RateChart } from './Chart.tsx';
import { useServices, useStoreVersion } from './common.tsx';

/** Totals, rates over time and ratio from Analytics (/api/statistics), with the live totals appended between reloads. */
export function StatsPage() {
  const { api, store } = useServices();
  const version = useStoreVersion(store);
  const [snap, setSnap] = useState<StatisticsSnapshot | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.statistics().then(setSnap).catch(e => setError(errorMessage(e)));
  }, []);
  const second = Math.floor(Date.now() / 1000);
  const points = useMemo(() => {
    const history = (snap?.rateHistory ?? []).map(s => ({ t: Date.parse(s.at), down: s.downloadRate, up: s.uploadRate }));
    const last = history.length ? history[history.length - 1].t : 0;
    return [...history, ...store.totalRates.all.filter(s => s.t > last)];
  }, [snap, second, version > 0]);

  if (error) return <main id="main" tabIndex={0} class="page"><h1>Statistics</h1><p class="error" role="alert">{error}</p></main>;
  if (!snap) return <main id="main" tabIndex={0} class="page"><h1>Statistics</h1><p role="status">Loading…</p></main>;
  const t = snap.totals;
  const ratio = t.bytesDownloaded > 0 ? t.bytesUploaded / t.bytesDownloaded : 0;
  const health = snap.swarmHealth;
  const healthTotal = Math.max(1, health.healthy + health.weak + health.dead + health.unknown);
  const cards: [string, string][] = [
    ['Torrents', String(t.torrents)], ['Active', String(t.active)], ['Completed', String(t.completed)], ['Failed', String(t.failed)],
    ['Downloaded', formatBytes(t.bytesDownloaded)], ['Uploaded', formatBytes(t.bytesUploaded)], ['Ratio', formatRatio(ratio)],
    ['Download rate', formatRate(t.downloadRate)], ['Upload rate', formatRate(t.uploadRate)], ['Peers connected', String(t.peersConnected)],
  ];
  return (
    <main id="main" tabIndex={0} class="page stats">
      <h1>Statistics</h1>
      <section aria-labelledby="totals-h"><h2 id="totals-h">Totals</h2>
        <dl class="cards">{cards.map(([k, v]) => <div class="card"><dt>{k}</dt><dd>{v}</dd></div>)}</dl>
      </section>
      <section aria-labelledby="rates-h"><h2 id="rates-h">Rates over time</h2>
        <RateChart points={points} label="Total download and upload rates (Analytics' samples every 10 s, then live)" height={240} />
      </section>
      <section aria-labelledby="ratio-h"><h2 id="ratio-h">Ratio</h2>
        <div class="ratio-bars" role="img" aria-label={`Uploaded ${formatBytes(t.bytesUploaded)} against downloaded ${formatBytes(t.bytesDownloaded)}: ratio ${formatRatio(ratio)}`}>
          <div><span>Downloaded</span><div class="hbar"><div class="hbar-fill down" style={{ width: `${(t.bytesDownloaded / Math.max(1, t.bytesDownloaded, t.bytesUploaded)) * 100}%` }} /></div><span>{formatBytes(t.bytesDownloaded)}</span></div>
          <div><span>Uploaded</span><div class="hbar"><div class="hbar-fill up" style={{ width: `${(t.bytesUploaded / Math.max(1, t.bytesDownloaded, t.bytesUploaded)) * 100}%` }} /></div><span>{formatBytes(t.bytesUploaded)}</span></div>
        </div>
      </section>
      <section aria-labelledby="swarm-h"><h2 id="swarm-h">Swarm health</h2>
        <div class="stack" role="img" aria-label={`Healthy ${health.healthy}, weak ${health.weak}, dead ${health.dead}, unknown ${health.unknown}`}>
          {(['healthy', 'weak', 'dead', 'unknown'] as const).map(k => <div class={`seg ${k}`} style={{ width: `${(health[k] / healthTotal) * 100}%` }} />)}
        </div>
        <p class="legend">Healthy {health.healthy} · Weak {health.weak} · Dead {health.dead} · Unknown {health.unknown} · {health.averagePeersConnected.toFixed(1)} peers on average</p>
      </section>
      {snap.users.length > 1 && (
        <section aria-labelledby="users-h"><h2 id="users-h">Per user</h2>
          <table><thead><tr><th scope="col">User</th><th scope="col">Torrents</th><th scope="col">Completed</th><th scope="col">Downloaded</th><th scope="col">Uploaded</th><th scope="col">Ratio</th></tr></thead>
            <tbody>{snap.users.map(u => <tr><th scope="row">{u.userId}</th><td>{u.torrents}</td><td>{u.completed}</td><td>{formatBytes(u.bytesDownloaded)}</td><td>{formatBytes(u.bytesUploaded)}</td><td>{formatRatio(u.bytesDownloaded ? u.bytesUploaded / u.bytesDownloaded : 0)}</td></tr>)}</tbody>
          </table>
        </section>
      )}
    </main>
  );
}
