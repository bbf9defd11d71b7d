import assert from 'node:assert/strict';
import { test } from 'node:test';
import { columnFractions, countHave, decodeBitfield, hasPiece, withVerified } from '../src/pieces.ts';

test('decodeBitfield_Base64FromTheApi_PieceZeroIsTheHighBit', () => {
  const bits = decodeBitfield(Buffer.from([0b1010_0000]).toString('base64'), 3)!;
  assert.deepEqual([0, 1, 2].map(i => hasPiece(bits, i)), [true, false, true]);
});

test('decodeBitfield_MissingOrTooShortOrNotBase64_Null', () => {
  assert.equal(decodeBitfield(null, 3), null);
  assert.equal(decodeBitfield(Buffer.from([0xff]).toString('base64'), 9), null);
  assert.equal(decodeBitfield('%%%', 3), null);
});

test('withVerified_LivePieces_SetOnACopyWithinTheCount', () => {
  const map = { pieceCount: 10, bits: new Uint8Array(2) };
  const merged = withVerified(map, [0, 9, 12]);
  assert.equal(countHave(merged), 2);
  assert.equal(countHave(map), 0);
});

test('columnFractions_MorePiecesThanColumns_AveragesEachSlice', () => {
  // 8 pieces, the first half held: two columns of four pieces each.
  const map = { pieceCount: 8, bits: new Uint8Array([0b1111_0000]) };
  assert.deepEqual([...columnFractions(map, 2)], [1, 0]);
  assert.deepEqual([...columnFractions(map, 4)], [1, 1, 0, 0]);
});

test('columnFractions_FewerPiecesThanColumns_APieceSpansColumns', () => {
  const map = { pieceCount: 2, bits: new Uint8Array([0b0100_0000]) };
  assert.deepEqual([...columnFractions(map, 4)], [0, 0, 1, 1]);
});

test('columnFractions_SliceStraddlingPieces_WeightsByOverlap', () => {
  // 3 pieces over 2 columns: column 0 is piece 0 and half of piece 1.
  const map = { pieceCount: 3, bits: new Uint8Array([0b0100_0000]) };
  const f = columnFractions(map, 2);
  assert.ok(Math.abs(f[0] - 1 / 3) < 1e-6 && Math.abs(f[1] - 1 / 3) < 1e-6, `${[...f]}`);
});
