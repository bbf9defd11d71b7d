import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLimit, parseLimit, parseTags } from '../src/labels.ts';
import { applyQuery, defaultQuery, labelNames } from '../src/list.ts';
import { mergeLabels } from '../src/model.ts';
import { hash, torrent } from './helpers.ts';

test('parseTags_CommaSeparated_TrimmedDistinctInOrder', () => {
  assert.deepEqual(parseTags(' hd, weekly,,hd , '), ['hd', 'weekly']);
  assert.deepEqual(parseTags(''), []);
});

test('parseLimit_DefaultNoneNumberOrInvalid', () => {
  assert.deepEqual(['', 'none', '-1', '1.5', '0', 'abc', '-3'].map(parseLimit), [-2, -1, -1, 1.5, 0, null, null]);
  assert.deepEqual([-2, -1, 2].map(formatLimit), ['', 'none', '2']);
});

const rows = [
  torrent({ infoHash: hash(1), name: 'a', category: 'tv', tags: ['hd'] }),
  torrent({ infoHash: hash(2), name: 'b', category: 'movies', tags: ['hd', '4k'] }),
  torrent({ infoHash: hash(3), name: 'c', category: '', tags: [] }),
];

test('applyQuery_CategoryAndTagFilters_KeepOnlyMatches', () => {
  const names = (q: Partial<typeof defaultQuery>) => applyQuery(rows, { ...defaultQuery, sort: 'name', descending: false, ...q }).map(t => t.name);
  assert.deepEqual(names({ category: 'tv' }), ['a']);
  assert.deepEqual(names({ category: '' }), ['c']);
  assert.deepEqual(names({ tag: 'hd' }), ['a', 'b']);
  assert.deepEqual(names({ category: 'movies', tag: '4k' }), ['b']);
  assert.deepEqual(names({}), ['a', 'b', 'c']);
});

test('labelNames_InUseAndKnown_SortedOnce', () => {
  assert.deepEqual(labelNames(rows, { categories: ['music'], tags: ['hd'] }), { categories: ['movies', 'music', 'tv'], tags: ['4k', 'hd'] });
});

test('mergeLabels_ReplyWithoutLabels_KeepsTheKnownOnes', () => {
  const before = rows[0];
  const reply = torrent({ infoHash: hash(1), name: 'a', state: 'paused', category: null, tags: null });
  assert.deepEqual([mergeLabels(before, reply).category, mergeLabels(before, reply).tags], ['tv', ['hd']]);
  const relabelled = torrent({ infoHash: hash(1), category: 'anime', tags: [] });
  assert.equal(mergeLabels(before, relabelled).category, 'anime');
});
