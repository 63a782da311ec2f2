/** Malformed requests to every auth endpoint get a 4xx problem with a clear message, never a 5xx. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { bearer, testServiceToken } from '@bookstore/shared/testing/http';
import { startTestAuth, type TestAuth } from './support.ts';

let auth: TestAuth;
let token: string;
beforeAll(async () => {
  auth = await startTestAuth('mariadb');
  // An admin, so the admin routes read their input (anyone else is refused before that: admin.test.ts).
  token = (await auth.signUp('Bad Input Tester', 'admin')).token;
});
afterAll(() => auth.close());

const json = 'application/json';
const huge = 'x'.repeat(70_000);
type Case = [name: string, method: string, path: string, body: string | undefined, contentType: string | undefined, expected: number];

const cases: Case[] = [
  ['register: empty body', 'POST', '/api/users', undefined, json, 400],
  ['register: invalid JSON', 'POST', '/api/users', '{"name":', json, 400],
  ['register: JSON array', 'POST', '/api/users', '[1,2]', json, 400],
  ['register: JSON null', 'POST', '/api/users', 'null', json, 400],
  ['register: numbers for strings', 'POST', '/api/users', '{"name":1,"email":2,"password":3}', json, 400],
  ['register: missing password', 'POST', '/api/users', '{"name":"A","email":"a@example.test"}', json, 400],
  ['register: huge name', 'POST', '/api/users', JSON.stringify({ name: 'n'.repeat(5000), email: 'h@example.test', password: 'long-enough' }), json, 400],
  ['register: huge password', 'POST', '/api/users', JSON.stringify({ name: 'N', email: 'p@example.test', password: 'p'.repeat(10_000) }), json, 400],
  ['register: body over the limit', 'POST', '/api/users', JSON.stringify({ name: huge, email: 'b@example.test', password: 'long-enough' }), json, 413],
  ['register: form instead of JSON', 'POST', '/api/users', 'name=a&email=b&password=c', 'application/x-www-form-urlencoded', 415],
  ['register: text/plain', 'POST', '/api/users', '{"name":"a"}', 'text/plain', 415],
  ['login: empty object', 'POST', '/api/sessions', '{}', json, 400],
  ['login: invalid JSON', 'POST', '/api/sessions', '{{{', json, 400],
  ['login: object for email', 'POST', '/api/sessions', '{"email":{"$gt":""},"password":"x"}', json, 400],
  ['login: array for password', 'POST', '/api/sessions', '{"email":"a@example.test","password":["x"]}', json, 400],
  ['login: huge email', 'POST', '/api/sessions', JSON.stringify({ email: 'e'.repeat(20_000), password: 'x' }), json, 400],
  ['login: no content type', 'POST', '/api/sessions', '{"email":"a@example.test","password":"x"}', undefined, 400],
  ['users: page is not a number', 'GET', '/api/users?page=abc', undefined, undefined, 400],
  ['users: page size 10^9', 'GET', '/api/users?pageSize=1000000000', undefined, undefined, 400],
  ['users: negative page', 'GET', '/api/users?page=-1', undefined, undefined, 400],
  ['users: search with a NUL', 'GET', '/api/users?q=a%00b', undefined, undefined, 400],
  ['users: search too long', 'GET', `/api/users?q=${'q'.repeat(300)}`, undefined, undefined, 400],
  ['role: unknown role', 'PUT', '/api/users/1/role', '{"role":"owner"}', json, 400],
  ['role: no body', 'PUT', '/api/users/1/role', undefined, json, 400],
  ['role: id is text', 'PUT', '/api/users/abc/role', '{"role":"admin"}', json, 400],
  ['disable: id out of range', 'POST', '/api/users/99999999999/disable', undefined, undefined, 400],
  ['sessions: id zero', 'DELETE', '/api/users/0/sessions', undefined, undefined, 400],
  ['admin actions: target is text', 'GET', '/api/admin-actions?targetId=me', undefined, undefined, 400],
  ['revocations: since is text', 'GET', '/api/revocations?since=yesterday', undefined, undefined, 400],
  ['login form fragment: wrong types', 'POST', '/fragments/login-form', '{"email":5}', json, 400],
  ['register form fragment: invalid JSON', 'POST', '/fragments/register-form', 'nope', json, 400],
  ['unknown route', 'GET', '/api/nothing-here', undefined, undefined, 404],
  ['wrong method', 'PUT', '/api/me', '{}', json, 404],
];

test.each(cases)('%s → %d', async (_name, method, path, body, contentType, expected) => {
  const headers: Record<string, string> = { ...bearer(token), 'x-service-token': testServiceToken };
  if (contentType) headers['content-type'] = contentType;
  const response = await auth.app.request(path, { method, headers, body });
  expect(response.status).toBe(expected);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await response.json()) as { status: number; detail: string };
  expect(problem.status).toBe(response.status);
  expect(problem.detail.length).toBeGreaterThan(5);
  expect(problem.detail).not.toMatch(/at \w+ \(|node_modules|Error:|SELECT|sql/i);
});

test('bad input never produced a logged server error', () => {
  expect(auth.log.lines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
});
