// The signed-in session: tokens, silent refresh before the access token expires, and sharing one rotation between tabs.
// Refresh tokens rotate and Catalog revokes the whole log-in when a rotated one is presented again, so two tabs must
// never refresh with the same token: the refresh runs under a Web Lock and adopts what another tab stored meanwhile.
import { ApiError, problemMessage } from './problems.ts';
import type { TokenPair } from './model.ts';

export interface StoredSession extends TokenPair {
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  username: string;
}

export interface SessionDeps {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** Where the session survives a reload (localStorage in the browser). */
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Runs fn alone among this origin's tabs (navigator.locks), or just runs it. */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
}

export const storageKey = 'torrentedge.session';

/**
 * When to refresh, in ms from now: at 80 % of the token's life, but at least a minute before it expires when it lives
 * long enough, never sooner than 5 s (a clock far off or a tiny lifetime must not spin).
 */
export function refreshDelay(expiresAtMs: number, nowMs: number, lifetimeSeconds: number): number {
  const remaining = expiresAtMs - nowMs;
  const lifetime = lifetimeSeconds * 1000;
  const early = Math.max(lifetime * 0.2, Math.min(60_000, lifetime / 2));
  return Math.max(5_000, remaining - early);
}

/** Back-off after a refresh that failed for a reason other than being refused (network, 5xx, 429). */
export function retryDelay(attempt: number): number {
  return Math.min(60_000, 2_000 * 2 ** Math.min(attempt, 5));
}

export type SessionListener = (session: StoredSession | null, reason?: string) => void;

export class Session {
  private current: StoredSession | null = null;
  private timer: unknown = null;
  private inflight: Promise<StoredSession | null> | null = null;
  private failures = 0;
  private readonly listeners = new Set<SessionListener>();

  constructor(private readonly deps: SessionDeps) {}

  get value(): StoredSession | null { return this.current; }

  onChange(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Picks up a session stored by an earlier page or another tab; refreshes it if its access token is (nearly) spent. */
  async restore(): Promise<StoredSession | null> {
    const stored = this.read();
    if (!stored) return null;
    this.current = stored;
    if (stored.expiresAt - this.deps.now() < 10_000) return this.refresh();
    this.schedule();
    this.emit();
    return stored;
  }

  async login(username: string, password: string): Promise<StoredSession> {
    const pair = await this.post<TokenPair>('/api/auth/login', { username, password });
    return this.adopt(pair, username);
  }

  async register(username: string, password: string): Promise<void> {
    await this.post('/api/auth/register', { username, password });
  }

  async logout(): Promise<void> {
    const s = this.current;
    this.clear();
    if (s) {
      // Ends this log-in on the server; the page is signed out whatever the answer.
      try { await this.post('/api/auth/logout', { refreshToken: s.refreshToken }); } catch { /* already signed out here */ }
    }
  }

  /** The access token to use now, refreshing first when it has expired (e.g. after the machine slept). */
  async accessToken(): Promise<string | null> {
    if (!this.current) return null;
    if (this.current.expiresAt - this.deps.now() < 5_000) await this.refresh();
    return this.current?.accessToken ?? null;
  }

  /** One refresh at a time in this tab, and across tabs through the lock. */
  refresh(): Promise<StoredSession | null> {
    this.inflight ??= this.deps.exclusive(() => this.refreshAlone()).finally(() => { this.inflight = null; });
    return this.inflight;
  }

  /** Another tab stored a session (the storage event): take it instead of refreshing ourselves. */
  adoptStored(): void {
    const stored = this.read();
    if (!stored) {
      if (this.current) this.clear('Signed out in another tab.');
      return;
    }
    if (!this.current || stored.expiresAt > this.current.expiresAt) {
      this.current = stored;
      this.schedule();
      this.emit();
    }
  }

  private async refreshAlone(): Promise<StoredSession | null> {
    const mine = this.current;
    const stored = this.read();
    // Another tab rotated the token while this one waited for the lock: its pair is the live one.
    if (stored && mine && stored.refreshToken !== mine.refreshToken && stored.expiresAt - this.deps.now() > 10_000) {
      this.current = stored;
      this.schedule();
      this.emit();
      return stored;
    }
    const token = stored?.refreshToken ?? mine?.refreshToken;
    if (!token) return null;
    try {
      const pair = await this.post<TokenPair>('/api/auth/refresh', { refreshToken: token });
      this.failures = 0;
      return this.adopt(pair, stored?.username ?? mine?.username ?? '');
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
        this.clear(e.message);
        return null;
      }
      // Network or server trouble: keep the session and try again; the access token may still be good.
      this.failures++;
      this.schedule(retryDelay(this.failures));
      return this.current;
    }
  }

  private adopt(pair: TokenPair, username: string): StoredSession {
    const session: StoredSession = {
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      expiresIn: pair.expiresIn,
      expiresAt: this.deps.now() + pair.expiresIn * 1000,
      username,
    };
    this.current = session;
    this.deps.storage.setItem(storageKey, JSON.stringify(session));
    this.schedule();
    this.emit();
    return session;
  }

  private schedule(delay?: number): void {
    if (this.timer !== null) this.deps.clearTimeout(this.timer);
    this.timer = null;
    const s = this.current;
    if (!s) return;
    const ms = delay ?? refreshDelay(s.expiresAt, this.deps.now(), s.expiresIn);
    this.timer = this.deps.setTimeout(() => { this.timer = null; void this.refresh(); }, ms);
  }

  private clear(reason?: string): void {
    if (this.timer !== null) this.deps.clearTimeout(this.timer);
    this.timer = null;
    this.current = null;
    this.deps.storage.removeItem(storageKey);
    this.emit(reason);
  }

  private emit(reason?: string) {
    for (const l of this.listeners) l(this.current, reason);
  }

  private read(): StoredSession | null {
    try {
      const raw = this.deps.storage.getItem(storageKey);
      const s = raw ? JSON.parse(raw) as StoredSession : null;
      return s && typeof s.refreshToken === 'string' && typeof s.expiresAt === 'number' ? s : null;
    } catch {
      return null;
    }
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const res = await this.deps.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    if (!res.ok) throw new ApiError(res.status, problemMessage(res.status, parsed), parsed);
    return parsed as T;
  }
}

/** The claims of a JWT (not verified: only to show the name and whether the admin pages apply; the server decides). */
export function tokenClaims(token: string): { sub?: string; name?: string; role?: string | string[]; exp?: number } {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = decodeURIComponent(Array.from(atob(b64), c => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
    return JSON.parse(json);
  } catch {
    return {};
  }
}

export function isAdmin(token: string | null | undefined): boolean {
  if (!token) return false;
  const role = tokenClaims(token).role;
  return Array.isArray(role) ? role.includes('admin') : role === 'admin';
}
