import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyQuery, compareTorrents, countByState, defaultQuery, matchesSearch, visibleRange } from '../src/list.ts';
import { hash, torrent } from './helpers.ts';

const rows = [
  torrent({ infoHash: hash(1), name: 'ubuntu-24.04.iso', totalBytes: 5e9, progress: 0.5, state: 'downloading', downloadRate: 100, addedAt: '2026-12-03T00:00:00Z', etaSeconds: 50 }),
  torrent({ infoHash: hash(2), name: 'Debian 13 netinst', totalBytes: 7e8, progress: 1, state: 'seeding', uploadRate: 10, addedAt: '2026-12-01T00:00:00Z', etaSeconds: null }),
  torrent({ infoHash: hash(3), name: 'album 2', totalBytes: 1e8, progress: 0.1, state: 'paused', addedAt: '2026-12-02T00:00:00Z', etaSeconds: 10 }),
  torrent({ infoHash: hash(4), name: 'album 10', totalBytes: 1e8, progress: 0.1, state: 'error', addedAt: '2026-12-04T00:00:00Z' }),
  torrent({ infoHash: hash(5), name: 'gone', state: 'removed' }),
];
const names = (list: { name: string | null }[]) => list.map(t => t.name);

test('applyQuery_DefaultQuery_NewestFirstWithoutRemoved', () => {
  assert.deepEqual(names(applyQuery(rows, defaultQuery)), ['album 10', 'ubuntu-24.04.iso', 'album 2', 'Debian 13 netinst']);
});

test('applyQuery_SortByName_NaturalOrderCaseInsensitive', () => {
  assert.deepEqual(names(applyQuery(rows, { ...defaultQuery, sort: 'name', descending: false })),
    ['album 2', 'album 10', 'Debian 13 netinst', 'ubuntu-24.04.iso']);
});

test('applyQuery_SortBySizeDescending_TiesByInfoHash', () => {
  assert.deepEqual(names(applyQuery(rows, { ...defaultQuery, sort: 'size', descending: true })),
    ['ubuntu-24.04.iso', 'Debian 13 netinst', 'album 2', 'album 10']);
});

test('applyQuery_SortByEta_UnknownLast', () => {
  const sorted = applyQuery(rows, { ...defaultQuery, sort: 'eta', descending: false });
  assert.equal(sorted[0].name, 'album 2');
  assert.equal(sorted[1].name, 'ubuntu-24.04.iso');
});

test('applyQuery_FilterByState_OnlyThatState', () => {
  assert.deepEqual(names(applyQuery(rows, { ...defaultQuery, state: 'seeding' })), ['Debian 13 netinst']);
  assert.deepEqual(names(applyQuery(rows, { ...defaultQuery, state: 'active', sort: 'name', descending: false })), ['Debian 13 netinst', 'ubuntu-24.04.iso']);
});

test('matchesSearch_EveryWordInAnyOrderCaseInsensitive', () => {
  assert.ok(matchesSearch(rows[1], 'NETINST debian'));
  assert.ok(!matchesSearch(rows[1], 'debian ubuntu'));
  assert.ok(matchesSearch(rows[1], '  '));
  assert.ok(matchesSearch(rows[0], hash(1).slice(-6)));
  assert.deepEqual(names(applyQuery(rows, { ...defaultQuery, search: 'album', sort: 'name', descending: false })), ['album 2', 'album 10']);
});

test('compareTorrents_Descending_Inverts', () => {
  assert.ok(compareTorrents(rows[0], rows[1], 'progress', false) < 0);
  assert.ok(compareTorrents(rows[0], rows[1], 'progress', true) > 0);
});

test('countByState_CountsEveryStateAndActive', () => {
  const c = countByState(rows);
  assert.equal(c.all, 4);
  assert.equal(c.active, 2);
  assert.equal(c.paused, 1);
  assert.equal(c.removed, undefined);
});

test('visibleRange_ScrolledThousandsOfRows_RendersOnlyAWindow', () => {
  const r = visibleRange(40 * 2500, 800, 40, 5000, 8);
  assert.deepEqual(r, { start: 2492, end: 2529 });
  assert.ok(r.end - r.start < 50);
  assert.deepEqual(visibleRange(0, 800, 40, 10), { start: 0, end: 10 });
  assert.deepEqual(visibleRange(1e9, 800, 40, 100), { start: 91, end: 100 });
  assert.deepEqual(visibleRange(0, 800, 40, 0), { start: 0, end: 0 });
});
