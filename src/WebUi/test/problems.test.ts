import assert from 'node:assert/strict';
import { test } from 'node:test';
import { problemMessage } from '../src/problems.ts';

test('problemMessage_TitleAndDetail_OneReadableSentenceEach', () => {
  assert.equal(problemMessage(400, { title: 'Invalid magnet link', detail: 'The xt parameter is missing' }),
    'Invalid magnet link. The xt parameter is missing.');
});

test('problemMessage_GenericTitle_OnlyTheDetailAndFieldErrors', () => {
  assert.equal(problemMessage(400, { title: 'One or more validation errors occurred.', errors: { password: ['Too short'] } }), 'password: Too short.');
  assert.equal(problemMessage(404, { title: 'Not Found', detail: 'No torrent abc' }), 'No torrent abc.');
});

test('problemMessage_NoBody_WordsForTheStatus', () => {
  assert.match(problemMessage(429, null), /Too many requests/);
  assert.match(problemMessage(503, ''), /not available/);
  assert.match(problemMessage(504, '<html>gateway</html>'), /server failed/);
  assert.equal(problemMessage(418, null), 'The request failed (HTTP 418).');
});
