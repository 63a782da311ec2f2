/** One request id follows a page from the web front into every service call, and into their logs. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { ServedTestAuth } from '../../services/auth/test/support.ts';
import { startWebWithAuth, type startTestWeb } from './support.ts';

let auth: ServedTestAuth;
let web: ReturnType<typeof startTestWeb>;
let close: () => Promise<void>;
beforeAll(async () => ({ auth, web, close } = await startWebWithAuth()));
afterAll(() => close());

const entries = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

test("the web front's request id reaches auth's log; a fresh one is made when the caller sends none or junk", async () => {
  const response = await web.browse('/login', { headers: { 'x-request-id': 'trace-abc-123' } });
  expect(response.headers.get('x-request-id')).toBe('trace-abc-123');
  const authRequests = entries(auth.log.lines).filter((entry) => entry.path === '/fragments/login-form');
  expect(authRequests.at(-1)?.requestId).toBe('trace-abc-123');
  expect(entries(web.log.lines).find((entry) => entry.path === '/login')?.requestId).toBe('trace-abc-123');

  const junk = await web.browse('/login', { headers: { 'x-request-id': 'bad id\twith spaces' } });
  const minted = junk.headers.get('x-request-id')!;
  expect(minted).toMatch(/^[0-9a-f-]{36}$/);
  expect(entries(auth.log.lines).filter((entry) => entry.path === '/fragments/login-form').at(-1)?.requestId).toBe(minted);
});
