/** Problem bodies (RFC 9457): the title is the problem type's title, never text a caller chose. */
import { expect, test } from 'bun:test';
import { Hono } from 'hono';
import { ProblemError, problemBody, problemErrorHandler } from '../src/errors.ts';
import { createMemoryLogger } from '../src/log.ts';

test('a problem keeps its title, status and detail whatever its extensions say', () => {
  const forged = { title: '<b>You won</b>', status: 200, detail: 'forged', orderId: 'ord_1' } as unknown as Parameters<typeof problemBody>[2];
  expect(problemBody(409, 'Only 2 copies left', forged)).toEqual({ title: 'Conflict', status: 409, detail: 'Only 2 copies left', orderId: 'ord_1' });
});

test('a thrown problem is answered with its status phrase as the title; the caller’s text stays in detail', async () => {
  const app = new Hono();
  app.onError(problemErrorHandler(createMemoryLogger('test')));
  app.get('/', (c) => {
    throw new ProblemError(410, `“${c.req.query('title')}” is gone`, { title: c.req.query('title') } as never);
  });
  const response = await app.request(`/?title=${encodeURIComponent('Click here')}`);
  expect(response.status).toBe(410);
  expect(response.headers.get('content-type')).toStartWith('application/problem+json');
  expect(await response.json()).toEqual({ title: 'Gone', status: 410, detail: '“Click here” is gone' });
});
