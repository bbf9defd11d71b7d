import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Api, parseHistory } from '../src/api.ts';
import type { Session } from '../src/auth.ts';
import { ApiError } from '../src/problems.ts';

function api(answers: { status: number; body?: unknown }[], refreshed: { count: number } = { count: 0 }) {
  const session = {
    accessToken: async () => 'token',
    refresh: async () => { refreshed.count++; return {}; },
  } as unknown as Session;
  const seen: { url: string; auth: string | undefined }[] = [];
  const fetcher = (async (url: string, init?: RequestInit) => {
    seen.push({ url, auth: (init?.headers as Record<string, string>)?.authorization });
    const a = answers.shift()!;
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
  }) as unknown as typeof fetch;
  return { api: new Api(session, fetcher), seen };
}

test('parseHistory_ArrayOrWrappedSamples_EitherRateNames', () => {
  assert.deepEqual(parseHistory([{ at: '2026-12-07T00:00:00Z', downloadRate: 5, uploadRate: 1 }]),
    [{ at: '2026-12-07T00:00:00Z', downloadRate: 5, uploadRate: 1 }]);
  assert.deepEqual(parseHistory({ samples: [{ time: '2026-12-07T00:00:10Z', downloadSpeed: 7, uploadSpeed: 2 }, { at: 'not a date' }] }),
    [{ at: '2026-12-07T00:00:10Z', downloadRate: 7, uploadRate: 2 }]);
  assert.equal(parseHistory({ nothing: true }), null);
});

test('torrentHistory_EndpointAbsent_NullSoTheChartDrawsLiveRates', async () => {
  const { api: a, seen } = api([{ status: 404, body: { title: 'Not Found' } }]);
  assert.equal(await a.torrentHistory('ab'.repeat(20), 0, 3_600_000, 10), null);
  assert.match(seen[0].url, /^\/api\/statistics\/torrents\/(ab){20}\/history\?from=1970-01-01T00%3A00%3A00.000Z&to=1970-01-01T01%3A00%3A00.000Z&step=10$/);
  const { api: b } = api([{ status: 200, body: [{ at: '2026-12-07T00:00:00Z', downloadRate: 1, uploadRate: 0 }] }]);
  assert.equal((await b.torrentHistory('ab'.repeat(20), 0, 1, 10))?.length, 1);
});

test('request_401_RefreshesOnceAndRetries', async () => {
  const refreshed = { count: 0 };
  const { api: a, seen } = api([{ status: 401 }, { status: 200, body: { items: [], total: 0 } }], refreshed);
  assert.deepEqual(await a.listAll(), []);
  assert.equal(refreshed.count, 1);
  assert.equal(seen.length, 2);
  assert.equal(seen[1].auth, 'Bearer token');
});

test('request_Problem_ThrowsApiErrorInWords', async () => {
  const { api: a } = api([{ status: 409, body: { title: 'Metadata not known yet', detail: 'Wait for the metadata before choosing files.' } }]);
  await assert.rejects(a.setFilePriorities('ab'.repeat(20), [{ index: 0, priority: 'skip' }]),
    (e: unknown) => e instanceof ApiError && e.status === 409 && e.message === 'Metadata not known yet. Wait for the metadata before choosing files.');
});
