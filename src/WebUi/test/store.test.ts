import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adaptHubEvent } from '../src/events.ts';
import { TorrentStore } from '../src/store.ts';
import { hash, torrent } from './helpers.ts';

test('apply_ManyEventsInOneFrame_OneNotification', () => {
  const frames: (() => void)[] = [];
  const store = new TorrentStore(fn => frames.push(fn));
  store.replaceAll(Array.from({ length: 100 }, (_, i) => torrent({ infoHash: hash(i) })));
  let notified = 0;
  store.subscribe(() => notified++);
  for (let i = 0; i < 100; i++) store.apply(adaptHubEvent('torrent:progress', { infoHash: hash(i), progress: 0.5 })!);
  assert.equal(frames.length, 1, 'one frame scheduled for replaceAll and 100 events');
  frames.shift()!();
  assert.equal(notified, 1);
  assert.equal(store.torrents.get(hash(42))!.progress, 0.5);
  store.apply(adaptHubEvent('torrent:progress', { infoHash: hash(1), progress: 0.6 })!);
  assert.equal(frames.length, 1, 'the next change schedules the next frame');
});

test('apply_EventForUnknownTorrent_AsksForIt', () => {
  const asked: string[] = [];
  const store = new TorrentStore(() => {}, Date.now, h => asked.push(h));
  store.apply(adaptHubEvent('torrent:added', { infoHash: hash(7), name: 'new' })!);
  assert.deepEqual(asked, [hash(7)]);
  assert.equal(store.torrents.size, 0);
});

test('apply_ProgressOfTrackedTorrent_KeepsOneRateSamplePerSecond', () => {
  let now = 10_000;
  const store = new TorrentStore(() => {}, () => now);
  store.upsert(torrent({ infoHash: hash(1) }));
  const ring = store.track(hash(1));
  store.apply(adaptHubEvent('torrent:progress', { infoHash: hash(1), downloadRate: 5 })!);
  now += 300;
  store.apply(adaptHubEvent('torrent:progress', { infoHash: hash(1), downloadRate: 6 })!);
  now += 1000;
  store.apply(adaptHubEvent('torrent:progress', { infoHash: hash(1), downloadRate: 7 })!);
  assert.deepEqual(ring.all.map(s => s.down), [6, 7]);
});

test('apply_PiecesAndRemoval_TrackedThenForgotten', () => {
  const store = new TorrentStore(() => {});
  store.upsert(torrent({ infoHash: hash(1) }));
  store.apply(adaptHubEvent('torrent:piece', { infoHash: hash(1), pieces: [0, 3], pieceCount: 8 })!);
  store.apply(adaptHubEvent('torrent:piece', { infoHash: hash(1), index: 5 })!);
  assert.deepEqual([...store.pieces.get(hash(1))!.verified].sort(), [0, 3, 5]);
  assert.equal(store.pieces.get(hash(1))!.count, 8);
  store.apply(adaptHubEvent('torrent:removed', { infoHash: hash(1) })!);
  assert.equal(store.torrents.size, 0);
  assert.equal(store.pieces.size, 0);
});
