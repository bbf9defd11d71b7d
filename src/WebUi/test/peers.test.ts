import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromPeersView, sortPeers, sourceLabel } from '../src/peers.ts';

test('fromPeersView_ApiShape_NormalisedWithDefaults', () => {
  const list = fromPeersView({ items: [{ address: '127.0.0.1:7001', client: 'libtorrent 2080', source: 'Tracker', encrypted: false, progress: 1 }], connected: 3, known: 9 });
  assert.equal(list.items[0].source, 'tracker');
  assert.equal(list.items[0].downloadRate, 0);
  assert.deepEqual([list.connected, list.known], [3, 9]);
  assert.deepEqual(fromPeersView(null).items, []);
});

test('sourceLabel_KnownAndFutureSources_WordsOrTheApiName', () => {
  assert.equal(sourceLabel('magnet'), 'Magnet link (x.pe)');
  assert.equal(sourceLabel('incoming'), 'Incoming');
  assert.equal(sourceLabel('localdiscovery'), 'Local discovery (LSD)');
  assert.equal(sourceLabel('lsd'), 'lsd');
});

test('sortPeers_ByTotalRateThenAddress', () => {
  const p = (address: string, down: number, up: number) => fromPeersView({ items: [{ address, downloadRate: down, uploadRate: up }] }).items[0];
  assert.deepEqual(sortPeers([p('b', 1, 0), p('a', 1, 0), p('c', 0, 5)]).map(x => x.address), ['c', 'a', 'b']);
});
