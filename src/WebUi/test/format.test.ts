import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatEta, formatPercent, formatRate, formatRatio, formatState } from '../src/format.ts';

test('formatBytes_BinaryUnits_OneDecimalBelowHundred', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(48 * 1024 * 1024), '48.0 MiB');
  assert.equal(formatBytes(150 * 1024 ** 3), '150 GiB');
  assert.equal(formatBytes(-1), '–');
  assert.equal(formatBytes(undefined), '–');
});

test('formatRate_IdleIsADash_OtherwisePerSecond', () => {
  assert.equal(formatRate(0), '–');
  assert.equal(formatRate(2_000_000), '1.9 MiB/s');
});

test('formatEta_TwoLargestUnits_UnknownIsInfinity', () => {
  assert.equal(formatEta(45), '45 s');
  assert.equal(formatEta(200), '3 min 20 s');
  assert.equal(formatEta(7500), '2 h 5 min');
  assert.equal(formatEta(3 * 86400 + 4 * 3600 + 59), '3 d 4 h');
  assert.equal(formatEta(null), '∞');
  assert.equal(formatEta(Number.POSITIVE_INFINITY), '∞');
});

test('formatPercent_NeverShowsHundredBeforeComplete', () => {
  assert.equal(formatPercent(0), '0 %');
  assert.equal(formatPercent(0.5), '50 %');
  assert.equal(formatPercent(0.1234), '12.3 %');
  assert.equal(formatPercent(0.99999), '99.9 %');
  assert.equal(formatPercent(1), '100 %');
  assert.equal(formatPercent(1.7), '100 %');
});

test('formatRatioAndState_Readable', () => {
  assert.equal(formatRatio(1.23456), '1.23');
  assert.equal(formatRatio(null), '–');
  assert.equal(formatState('fetchingMetadata'), 'Fetching metadata');
});
