import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bdecode, summariseTorrent } from '../src/bencode.ts';

const enc = (s: string) => new TextEncoder().encode(s);

test('summariseTorrent_MultiFileWithPadding_FilesInOrderPaddingMarked', () => {
  const t = 'd8:announce3:url4:infod5:filesld6:lengthi5e4:pathl1:a5:x.bineed4:attr1:p6:lengthi3e4:pathl4:.pad1:3eed6:lengthi7e4:pathl1:beee4:name5:album12:piece lengthi16384e6:pieces0:ee';
  const s = summariseTorrent(enc(t));
  assert.deepEqual(s, {
    name: 'album', totalBytes: 15, files: [
      { index: 0, path: 'album/a/x.bin', length: 5, padding: false },
      { index: 1, path: 'album/.pad/3', length: 3, padding: true },
      { index: 2, path: 'album/b', length: 7, padding: false },
    ],
  });
});

test('summariseTorrent_SingleFile_OneFile', () => {
  assert.deepEqual(summariseTorrent(enc('d4:infod6:lengthi42e4:name3:isoee'))?.files, [{ index: 0, path: 'iso', length: 42, padding: false }]);
});

test('bdecode_Malformed_Throws', () => {
  assert.throws(() => bdecode(enc('i12')));
  assert.throws(() => bdecode(enc('5:abc')));
  assert.throws(() => bdecode(enc('d1:ai1e')));
  assert.throws(() => bdecode(enc('i1ei2e')));
  assert.throws(() => bdecode(enc('l'.repeat(100) + 'e'.repeat(100))));
  assert.equal(summariseTorrent(enc('not a torrent')), null);
});
