import { useEffect, useState } from 'preact/hooks';
import { isAdmin, tokenClaims, type StoredSession } from '../auth.ts';
import type { LiveStatus } from '../hub.ts';
import { defaultQuery, type ListQuery } from '../list.ts';
import { errorMessage } from '../problems.ts';
import { AddDialog } from './AddDialog.tsx';
import { AuthPage } from './Auth.tsx';
import { LiveBadge, useServices, type Toast } from './common.tsx';
import { Detail } from './Detail.tsx';
import { StatsPage } from './Stats.tsx';
import { RemoveDialog, TorrentList } from './TorrentList.tsx';
import { UsersPage } from './Users.tsx';

type Route = 'torrents' | 'stats' | 'users';
const routeOf = (hash: string): Route => (hash === '#/stats' ? 'stats' : hash === '#/users' ? 'users' : 'torrents');
type Theme = 'auto' | 'light' | 'dark';

export function App({ toasts, liveStatus }: { toasts: Toast[]; liveStatus: LiveStatus }) {
  const { session, api, store, live, toast } = useServices();
  const [current, setCurrent] = useState<StoredSession | null>(session.value);
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState<Route>(routeOf(location.hash));
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('torrentedge.theme') as Theme) || 'auto');
  const [query, setQuery] = useState<ListQuery>(defaultQuery);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [detail, setDetail] = useState<string | null>(null);
  const [adding, setAdding] = useState<File[] | null>(null);
  const [removing, setRemoving] = useState<string[] | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => session.onChange((s, reason) => { setCurrent(s); if (!s && reason) setNotice(reason); }), []);
  useEffect(() => {
    const on = () => setRoute(routeOf(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('torrentedge.theme', theme);
  }, [theme]);

  const signedIn = current !== null;
  useEffect(() => {
    if (!signedIn) return;
    setLoading(true);
    api.listAll().then(list => {
      store.replaceAll(list);
      // Time to interactive, as measured: the list is drawn with its data (the frame after the store's notification).
      requestAnimationFrame(() => requestAnimationFrame(() => performance.mark('torrentedge:list-ready')));
    }).catch(e => toast(errorMessage(e), true)).finally(() => setLoading(false));
    void live.start();
    const sampler = setInterval(() => store.sampleTotals(), 1000);
    return () => { clearInterval(sampler); void live.stop(); store.replaceAll([]); setSelected(new Set()); setDetail(null); };
  }, [signedIn]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => { if (e.altKey && e.key.toLowerCase() === 'n' && signedIn) { e.preventDefault(); setAdding([]); } };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [signedIn]);

  const toastRegion = (
    <div class="toasts" aria-live="polite" role="status">
      {toasts.map(t => <p class={t.error ? 'toast error' : 'toast'}>{t.text}</p>)}
    </div>
  );

  if (!current) return <>{<AuthPage notice={notice} />}{toastRegion}</>;
  const admin = isAdmin(current.accessToken);
  const name = tokenClaims(current.accessToken).name ?? current.username;

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand" aria-hidden="true">TorrentEdge</span>
        <nav aria-label="Pages">
          <a href="#/" aria-current={route === 'torrents' ? 'page' : undefined}>Torrents</a>
          <a href="#/stats" aria-current={route === 'stats' ? 'page' : undefined}>Statistics</a>
          {admin && <a href="#/users" aria-current={route === 'users' ? 'page' : undefined}>Users</a>}
        </nav>
        <LiveBadge status={liveStatus} />
        <label class="theme">
          <span class="sr-only">Theme</span>
          <select aria-label="Theme" value={theme} onChange={e => setTheme((e.target as HTMLSelectElement).value as Theme)}>
            <option value="auto">Auto theme</option><option value="light">Light</option><option value="dark">Dark</option>
          </select>
        </label>
        <span class="user" aria-label={`Signed in as ${name}`}>{name}</span>
        <button onClick={() => { void session.logout(); setNotice('Signed out.'); }}>Log out</button>
      </header>
      {route === 'torrents' && (
        <main id="main" class={`torrents${detail ? ' with-detail' : ''}`} aria-busy={loading}>
          <h1 class="sr-only">Torrents</h1>
          <TorrentList query={query} setQuery={setQuery} selected={selected} setSelected={setSelected}
            openDetail={setDetail} openAdd={files => setAdding(files ?? [])} detailHash={detail} />
          {detail && <Detail infoHash={detail} onClose={() => setDetail(null)} onRemove={h => setRemoving([h])} />}
        </main>
      )}
      {route === 'stats' && <StatsPage />}
      {route === 'users' && (admin ? <UsersPage /> : <main id="main" tabIndex={0} class="page"><p class="error" role="alert">Only administrators see the users page.</p></main>)}
      {adding && <AddDialog initialFiles={adding} onClose={() => setAdding(null)} onAdded={h => setDetail(h)} />}
      {removing && <RemoveDialog hashes={removing} onClose={() => setRemoving(null)} onRemoved={hs => {
        for (const h of hs) store.delete(h);
        if (detail && hs.includes(detail)) setDetail(null);
      }} />}
      {toastRegion}
    </>
  );
}
