import { createContext } from 'preact';
import { useContext, useEffect, useReducer, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import type { Session } from '../auth.ts';
import type { Live, LiveStatus } from '../hub.ts';
import type { TorrentStore } from '../store.ts';
import { formatPercent } from '../format.ts';

export interface Toast { id: number; text: string; error: boolean }

export interface AppServices {
  session: Session;
  api: Api;
  store: TorrentStore;
  live: Live;
  toast: (text: string, error?: boolean) => void;
}

export const Services = createContext<AppServices>(null as unknown as AppServices);
export const useServices = () => useContext(Services);

/** Re-renders when the store notifies (at most once a frame). */
export function useStoreVersion(store: TorrentStore): number {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  useEffect(() => store.subscribe(() => bump()), [store]);
  return store.version;
}

export function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const m = window.matchMedia(query);
    const on = () => setMatches(m.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, [query]);
  return matches;
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = formatPercent(value);
  return (
    <div class="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100}
      aria-valuenow={Math.round(Math.min(1, Math.max(0, value)) * 1000) / 10} aria-valuetext={pct}>
      <div class="bar"><div class={value >= 1 ? 'bar-fill done' : 'bar-fill'} style={{ transform: `scaleX(${Math.min(1, Math.max(0, value))})` }} /></div>
      <span class="bar-text">{pct}</span>
    </div>
  );
}

export function LiveBadge({ status }: { status: LiveStatus }) {
  const words: Record<LiveStatus, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };
  return <span class={`live live-${status}`} role="status" aria-label={`Live updates: ${words[status]}`}>{words[status]}</span>;
}
