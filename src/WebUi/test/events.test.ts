import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adaptHubEvent } from '../src/events.ts';
import { hash } from './helpers.ts';

const h = hash(0xabc);

// Today's payload: Contracts' TorrentProgressed as SignalR serialises it (camelCase, enum names).
const todayProgress = {
  infoHash: h.toUpperCase(), owners: ['u1'], state: 'Downloading', progress: 0.25, verifiedBytes: 250, totalBytes: 1000,
  downloadedBytes: 300, uploadedBytes: 150, downloadRate: 2048, uploadRate: 512, peersConnected: 3, peersTotal: 9, etaSeconds: 12,
  files: [{ path: 'a/b.bin', length: 400, verifiedBytes: 100, priority: 'High' }, { path: 'a/c.bin', length: 0, verifiedBytes: 0, priority: 'Skip' }],
  trackers: [{ url: 'http://t/announce', health: 'working', seeders: 4, leechers: 1, lastError: null }],
  id: '00000000-0000-0000-0000-000000000000', occurredAt: '2026-12-07T00:00:00Z', schemaVersion: 1,
};

test('adaptHubEvent_TodaysProgress_NormalisedPatch', () => {
  const e = adaptHubEvent('torrent:progress', todayProgress);
  assert.ok(e && e.kind === 'patch');
  assert.equal(e.infoHash, h);
  assert.deepEqual({ ...e.patch, files: undefined, trackers: undefined }, {
    state: 'downloading', progress: 0.25, totalBytes: 1000, downloadRate: 2048, uploadRate: 512, downloadedBytes: 300,
    uploadedBytes: 150, peersConnected: 3, peersTotal: 9, etaSeconds: 12, ratio: 0.5, files: undefined, trackers: undefined,
  });
  assert.deepEqual(e.patch.files, [
    { index: 0, path: 'a/b.bin', length: 400, progress: 0.25, priority: 'high' },
    { index: 1, path: 'a/c.bin', length: 0, progress: 1, priority: 'skip' },
  ]);
  assert.equal(e.patch.trackers?.[0].seeders, 4);
});

test('adaptHubEvent_DesignedProgress_PercentageSpeedsPeersAndName', () => {
  const e = adaptHubEvent('torrent:progress', {
    infoHash: h, name: 'ubuntu.iso', percentage: 42.5, downloadSpeed: 1000, uploadSpeed: 20, peers: { connected: 4, total: 11 }, eta: 30,
  });
  assert.ok(e && e.kind === 'patch');
  assert.deepEqual(e.patch, {
    name: 'ubuntu.iso', progress: 0.425, downloadRate: 1000, uploadRate: 20, peersConnected: 4, peersTotal: 11, etaSeconds: 30,
  });
});

test('adaptHubEvent_ProgressWithoutEta_LeavesEtaUntouched', () => {
  const e = adaptHubEvent('torrent:progress', { infoHash: h, percentage: 10 });
  assert.ok(e && e.kind === 'patch');
  assert.ok(!('etaSeconds' in e.patch));
  const unknown = adaptHubEvent('torrent:progress', { infoHash: h, etaSeconds: null });
  assert.ok(unknown && unknown.kind === 'patch' && unknown.patch.etaSeconds === null);
});

test('adaptHubEvent_PieceBatchOrSingleIndex_BothGivePieces', () => {
  assert.deepEqual(adaptHubEvent('torrent:piece', { infoHash: h, pieces: [1, 2, 3], verifiedCount: 10, pieceCount: 40 }),
    { kind: 'piece', infoHash: h, pieces: [1, 2, 3], pieceCount: 40, verifiedCount: 10 });
  assert.deepEqual(adaptHubEvent('torrent:piece', { infoHash: h, index: 7 }),
    { kind: 'piece', infoHash: h, pieces: [7], pieceCount: null, verifiedCount: null });
});

test('adaptHubEvent_ErrorReasonOrMessage_BothBecomeTheError', () => {
  const today = adaptHubEvent('torrent:error', { infoHash: h, reason: 'Disk full' });
  const designed = adaptHubEvent('torrent:error', { infoHash: h, message: 'Tracker refused' });
  assert.ok(today?.kind === 'patch' && designed?.kind === 'patch');
  assert.deepEqual(today.patch, { state: 'error', error: 'Disk full' });
  assert.deepEqual(designed.patch, { state: 'error', error: 'Tracker refused' });
});

test('adaptHubEvent_SeedingWithRatio_KeepsRatio', () => {
  const e = adaptHubEvent('torrent:seeding', { infoHash: h, ratio: 1.5 });
  assert.ok(e?.kind === 'patch');
  assert.deepEqual(e.patch, { state: 'seeding', progress: 1, etaSeconds: 0, ratio: 1.5 });
  const today = adaptHubEvent('torrent:seeding', { infoHash: h, owners: ['u'] });
  assert.ok(today?.kind === 'patch' && !('ratio' in today.patch));
});

test('adaptHubEvent_QueueUpdated_TodaysPerTorrentOrDesignedStats', () => {
  assert.deepEqual(adaptHubEvent('queue:updated', { infoHash: h, workerId: 'w1', position: 2, state: 'Queued' }),
    { kind: 'queue', infoHash: h, patch: { state: 'queued' }, stats: null });
  assert.deepEqual(adaptHubEvent('queue:updated', { userId: 'u1', stats: { activeCount: 3, queuedCount: 5 } }),
    { kind: 'queue', infoHash: null, patch: null, stats: { activeCount: 3, queuedCount: 5 } });
});

test('adaptHubEvent_StateRemovedMetadataAdded_Mapped', () => {
  const paused = adaptHubEvent('torrent:state', { infoHash: h, state: 'Paused', workerId: 'w' });
  assert.ok(paused?.kind === 'patch');
  assert.deepEqual(paused.patch, { state: 'paused', workerId: 'w', downloadRate: 0, uploadRate: 0, error: null });
  assert.deepEqual(adaptHubEvent('torrent:removed', { infoHash: h, dataDeleted: true }), { kind: 'removed', infoHash: h });
  const meta = adaptHubEvent('torrent:metadata', { infoHash: h, name: 'n', totalBytes: 5, fileCount: 2, metainfo: '' });
  assert.deepEqual(meta, { kind: 'metadata', infoHash: h, patch: { metainfoAvailable: true, name: 'n', totalBytes: 5 } });
  const added = adaptHubEvent('torrent:added', { infoHash: h, name: 'x', totalBytes: 9, workerId: 'w' });
  assert.ok(added?.kind === 'patch' && added.isNew);
});

test('adaptHubEvent_NoInfoHashOrUnknownName_Null', () => {
  assert.equal(adaptHubEvent('torrent:progress', { progress: 0.5 }), null);
  assert.equal(adaptHubEvent('torrent:progress', null), null);
  assert.equal(adaptHubEvent('torrent:unknown', { infoHash: h }), null);
});
