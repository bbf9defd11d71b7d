import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAdmin, refreshDelay, retryDelay, Session, storageKey, tokenClaims, type SessionDeps } from '../src/auth.ts';

/** A fake clock, timers, storage and server: the session's scheduling is stepped, not slept. */
function harness(answers: ((body: any) => { status: number; body: unknown })[]) {
  let now = 1_000_000;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const store = new Map<string, string>();
  const calls: { path: string; body: any }[] = [];
  let locked = Promise.resolve();
  const deps: SessionDeps = {
    now: () => now,
    setTimeout: (fn, ms) => { const id = nextId++; timers.push({ at: now + ms, fn, id }); return id; },
    clearTimeout: id => { const i = timers.findIndex(t => t.id === id); if (i >= 0) timers.splice(i, 1); },
    storage: { getItem: k => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: k => void store.delete(k) },
    exclusive: fn => { const run = locked.then(fn); locked = run.then(() => {}, () => {}); return run; },
    fetch: async (path, init) => {
      const body = JSON.parse(String(init?.body ?? 'null'));
      calls.push({ path, body });
      const answer = answers.shift();
      if (!answer) throw new TypeError('network down');
      const a = answer(body);
      return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
    },
  };
  return {
    deps, calls, store, timers,
    advance: async (ms: number) => {
      now += ms;
      for (let due = timers.filter(t => t.at <= now); due.length; due = timers.filter(t => t.at <= now)) {
        for (const t of due) { timers.splice(timers.indexOf(t), 1); t.fn(); }
        await new Promise(r => setImmediate(r));
      }
      await new Promise(r => setImmediate(r));
    },
  };
}

const pair = (n: number, expiresIn = 300) => ({ status: 200, body: { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresIn, tokenType: 'Bearer' } });

test('refreshDelay_FiveMinuteToken_RefreshesAMinuteEarly', () => {
  assert.equal(refreshDelay(300_000, 0, 300), 240_000);
  // A 15-minute token: 20 % early (3 min).
  assert.equal(refreshDelay(900_000, 0, 900), 720_000);
  // A tiny lifetime or an expired token never spins faster than every 5 s.
  assert.equal(refreshDelay(2_000, 0, 2), 5_000);
  assert.equal(refreshDelay(0, 10_000, 300), 5_000);
});

test('retryDelay_Backoff_CappedAtAMinute', () => {
  assert.deepEqual([1, 2, 3, 10].map(retryDelay), [4_000, 8_000, 16_000, 60_000]);
});

test('login_ThenTimeGoesBy_RefreshesSilentlyBeforeExpiry', async () => {
  const h = harness([() => pair(1), b => (b.refreshToken === 'refresh-1' ? pair(2) : { status: 401, body: {} }), b => (b.refreshToken === 'refresh-2' ? pair(3) : { status: 401, body: {} })]);
  const s = new Session(h.deps);
  await s.login('alice', 'pw');
  assert.equal(await s.accessToken(), 'access-1');
  await h.advance(239_000);
  assert.equal(h.calls.length, 1, 'no refresh before 4 minutes');
  await h.advance(1_000);
  assert.equal(h.calls[1].path, '/api/auth/refresh');
  assert.equal(await s.accessToken(), 'access-2');
  await h.advance(240_000);
  assert.equal(await s.accessToken(), 'access-3');
  assert.equal(JSON.parse(h.store.get(storageKey)!).refreshToken, 'refresh-3', 'the rotated token is what a reload uses');
});

test('refresh_RefusedWith401_SignsOutWithTheReason', async () => {
  const h = harness([() => pair(1), () => ({ status: 401, body: { title: 'Refresh token reuse detected' } })]);
  const s = new Session(h.deps);
  const reasons: (string | undefined)[] = [];
  s.onChange((v, reason) => { if (!v) reasons.push(reason); });
  await s.login('alice', 'pw');
  await h.advance(240_000);
  assert.equal(s.value, null);
  assert.equal(h.store.has(storageKey), false);
  assert.deepEqual(reasons, ['Refresh token reuse detected.']);
});

test('refresh_NetworkDown_KeepsSessionAndRetries', async () => {
  const h = harness([() => pair(1)]);
  const s = new Session(h.deps);
  await s.login('alice', 'pw');
  await h.advance(240_000);
  assert.equal(s.value?.accessToken, 'access-1', 'still signed in');
  assert.equal(h.timers.length, 1);
  assert.equal(h.timers[0].at - h.deps.now(), retryDelay(1));
});

test('refresh_AnotherTabRotatedMeanwhile_AdoptsItsTokensWithoutPresentingTheOldOne', async () => {
  const h = harness([() => pair(1)]);
  const s = new Session(h.deps);
  await s.login('alice', 'pw');
  // The other tab refreshed first and stored its pair.
  h.store.set(storageKey, JSON.stringify({ accessToken: 'access-other', refreshToken: 'refresh-other', expiresIn: 300, expiresAt: h.deps.now() + 300_000, username: 'alice' }));
  await s.refresh();
  assert.equal(h.calls.length, 1, 'no refresh with the rotated token (that would revoke the log-in)');
  assert.equal(await s.accessToken(), 'access-other');
});

test('refresh_TwoCallersAtOnce_OneRequest', async () => {
  const h = harness([() => pair(1), () => pair(2)]);
  const s = new Session(h.deps);
  await s.login('alice', 'pw');
  const [a, b] = await Promise.all([s.refresh(), s.refresh()]);
  assert.equal(a, b);
  assert.equal(h.calls.filter(c => c.path === '/api/auth/refresh').length, 1);
});

test('restore_StoredSessionNearlyExpired_RefreshesFirst', async () => {
  const h = harness([() => pair(9)]);
  h.store.set(storageKey, JSON.stringify({ accessToken: 'old', refreshToken: 'refresh-old', expiresIn: 300, expiresAt: h.deps.now() + 1_000, username: 'bob' }));
  const s = new Session(h.deps);
  await s.restore();
  assert.equal(h.calls[0].body.refreshToken, 'refresh-old');
  assert.equal(await s.accessToken(), 'access-9');
  assert.equal(s.value?.username, 'bob');
});

test('login_WrongPassword_ProblemTitleAsMessage', async () => {
  const h = harness([() => ({ status: 401, body: { type: 'about:blank', title: 'Invalid credentials', status: 401 } })]);
  const s = new Session(h.deps);
  await assert.rejects(s.login('alice', 'nope'), /Invalid credentials\./);
  assert.equal(s.value, null);
});

test('tokenClaims_JwtPayload_RoleAndName', () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const token = `${b64({ alg: 'ES256' })}.${b64({ sub: '1', name: 'Zoë', role: 'admin' })}.sig`;
  assert.equal(tokenClaims(token).name, 'Zoë');
  assert.ok(isAdmin(token));
  assert.ok(!isAdmin(`${b64({})}.${b64({ role: 'user' })}.x`));
  assert.deepEqual(tokenClaims('garbage'), {});
});
