// Notifier's hub through the Gateway (/hubs/torrents): the only source of live changes (no polling).
import { HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection } from '@microsoft/signalr';
import { adaptHubEvent, hubEventNames, type HubEvent } from './events.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveOptions {
  accessToken: () => Promise<string | null>;
  onEvent: (e: HubEvent) => void;
  onStatus: (s: LiveStatus) => void;
  /** After a reconnect events may have been missed: the page reloads its list once. */
  onResync: () => void;
}

export class Live {
  private connection: HubConnection | null = null;
  private readonly subscribed = new Set<string>();
  private stopped = false;

  constructor(private readonly o: LiveOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    const c = new HubConnectionBuilder()
      .withUrl('/hubs/torrents', { accessTokenFactory: async () => (await this.o.accessToken()) ?? '' })
      // Notifier closes a connection when its token expires; it comes back with a fresh one at once.
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => Math.min(30_000, [0, 1000, 2000, 5000, 10_000][ctx.previousRetryCount] ?? 30_000) })
      .configureLogging(LogLevel.Warning)
      .build();
    for (const name of hubEventNames) {
      c.on(name, (payload: unknown) => {
        const e = adaptHubEvent(name, payload);
        if (e) this.o.onEvent(e);
      });
    }
    c.onreconnecting(() => this.o.onStatus('reconnecting'));
    c.onreconnected(async () => {
      this.o.onStatus('live');
      for (const h of this.subscribed) await c.invoke('Subscribe', h).catch(() => {});
      this.o.onResync();
    });
    c.onclose(() => {
      this.o.onStatus('offline');
      // Gave up reconnecting (e.g. long offline): start over after a pause, unless signed out.
      if (!this.stopped) setTimeout(() => { if (!this.stopped) void this.connect(c, true); }, 15_000);
    });
    this.connection = c;
    await this.connect(c, false);
  }

  private async connect(c: HubConnection, resync: boolean) {
    for (let attempt = 0; !this.stopped && c.state === HubConnectionState.Disconnected && attempt < 1000; attempt++) {
      this.o.onStatus('connecting');
      try {
        await c.start();
        this.o.onStatus('live');
        for (const h of this.subscribed) await c.invoke('Subscribe', h).catch(() => {});
        if (resync) this.o.onResync();
        return;
      } catch {
        this.o.onStatus('offline');
        await new Promise(r => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  /** Per-torrent detail events (verified pieces) while its panel is open. */
  async subscribe(infoHash: string) {
    this.subscribed.add(infoHash);
    if (this.connection?.state === HubConnectionState.Connected) await this.connection.invoke('Subscribe', infoHash).catch(() => {});
  }

  async unsubscribe(infoHash: string) {
    this.subscribed.delete(infoHash);
    if (this.connection?.state === HubConnectionState.Connected) await this.connection.invoke('Unsubscribe', infoHash).catch(() => {});
  }

  async stop() {
    this.stopped = true;
    await this.connection?.stop();
    this.connection = null;
  }
}
