import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Api } from './api.ts';
import { Session } from './auth.ts';
import { adaptHubEvent } from './events.ts';
import { Live, type LiveStatus } from './hub.ts';
import { fromView } from './model.ts';
import { TorrentStore } from './store.ts';
import { App } from './ui/App.tsx';
import { Services, type AppServices, type Toast } from './ui/common.tsx';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

const session = new Session({
  fetch: (i, o) => fetch(i, o),
  now: () => Date.now(),
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: h => window.clearTimeout(h as number),
  storage: window.localStorage,
  exclusive: fn => (navigator.locks ? navigator.locks.request('torrentedge.refresh', fn) : fn()),
});
window.addEventListener('storage', e => { if (e.key === 'torrentedge.session') session.adoptStored(); });

const api = new Api(session);

// Events about torrents the page does not hold yet (added elsewhere, metadata arrived): one fetch each, not polling.
const fetching = new Set<string>();
const store = new TorrentStore(fn => requestAnimationFrame(fn), Date.now, hash => {
  if (fetching.has(hash)) return;
  fetching.add(hash);
  api.get(hash).then(t => store.upsert(t)).catch(() => {}).finally(() => fetching.delete(hash));
});

let setStatus: (s: LiveStatus) => void = () => {};
const live = new Live({
  accessToken: () => session.accessToken(),
  onEvent: e => store.apply(e),
  onStatus: s => setStatus(s),
  onResync: () => { api.listAll().then(list => store.replaceAll(list)).catch(() => {}); },
});

let pushToast: (t: Toast) => void = () => {};
let toastId = 0;
const services: AppServices = {
  session, api, store, live,
  toast: (text, error = false) => pushToast({ id: ++toastId, text, error }),
};

// A seam for measurements and tests in the browser: feed hub payloads as Notifier would send them.
(window as any).torrentedge = {
  feed: (name: string, payload: unknown) => { const e = adaptHubEvent(name, payload); if (e) store.apply(e); },
  load: (views: unknown[]) => store.replaceAll(views.map(fromView)),
  store,
};

function Root() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [status, set] = useState<LiveStatus>('connecting');
  useEffect(() => {
    setStatus = set;
    pushToast = t => {
      setToasts(ts => [...ts.slice(-3), t]);
      setTimeout(() => setToasts(ts => ts.filter(x => x.id !== t.id)), t.error ? 10_000 : 4_000);
    };
  }, []);
  return <Services.Provider value={services}><App toasts={toasts} liveStatus={status} /></Services.Provider>;
}

void session.restore().finally(() => render(<Root />, document.getElementById('app')!));
