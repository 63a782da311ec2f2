/** Problem bodies (RFC 9457): the title is the problem type's title, never text a caller chose. */
import { expect, test } from 'bun:test';
import { Hono } from 'hono';
import { ProblemError, problemBody, problemErrorHandler } from '../src/errors.ts';
import { createMemoryLogger } from '../src/log.ts';
import { createServiceApp } from '../src/service.ts';
import { readForm } from '../src/validation.ts';

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

test('a fragment route that refuses (a form that cannot be read) answers HTML for the page, an API route problem+json', async () => {
  const app = createServiceApp({ service: 'test', log: createMemoryLogger('test') });
  app.post('/fragments/form', async (c) => c.html(`got ${Object.keys(await readForm(c)).length}`));
  app.post('/api/form', async (c) => c.json(await readForm(c)));
  const broken = { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: 'not a multipart body' };
  const page = await app.request('/fragments/form', broken);
  expect(page.status).toBe(400);
  expect(page.headers.get('content-type')).toStartWith('text/html');
  expect(await page.text()).toContain('The form could not be read');
  const api = await app.request('/api/form', broken);
  expect(api.status).toBeGreaterThanOrEqual(400);
  expect(api.headers.get('content-type')).toStartWith('application/problem+json');
});
