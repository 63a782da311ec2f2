/**
 * The OpenAPI documents that auth, catalog and purchase serve at `/openapi.json`, asked of the apps
 * themselves on real MariaDB databases. Each document
 * - is a valid OpenAPI 3.1 document (@readme/openapi-parser: the specification's schema, plus path
 *   parameters, duplicate operation ids and parameters);
 * - names exactly the routes its app serves, so a route cannot be added without a description;
 * - says what the app does: a JSON body's required fields are the fields the app refuses a body
 *   without, and the JSON answers the app gives match the schemas documented for them (ajv).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import { z } from 'zod';
import { serviceTokenHeader } from '@bookstore/shared/auth';
import { bearer, jsonInit, testServiceToken } from '@bookstore/shared/testing/http';
import { registerInput } from '../../services/auth/src/schemas.ts';
import { serveCatalogWithSeller } from '../../services/catalog/test/support.ts';
import { startTestPurchase } from '../../services/purchase/test/support.ts';

type AppName = 'auth' | 'catalog' | 'purchase';
type Access = 'public' | 'signed-in' | 'admin' | 'service';
interface ServedApp {
  routes: { method: string; path: string }[];
  request: (path: string, init?: RequestInit) => Response | Promise<Response>;
}
interface Operation {
  summary?: string;
  'x-access': Access;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: JsonSchema }> }>;
}
interface JsonSchema {
  properties?: Record<string, unknown>;
  required?: string[];
  allOf?: JsonSchema[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
}

/** `ALL` entries that only wrap the routes (request ids, logs, headers, token checks), serving nothing of their own. */
const middleware: Record<AppName, string[]> = {
  auth: ['ALL /*', 'ALL /api/*'],
  catalog: ['ALL /*', 'ALL /api/*', 'ALL /fragments/*'],
  purchase: ['ALL /*', 'ALL /api/*', 'ALL /fragments/*', 'ALL /gateway/*'],
};
/** Path parameters their validators accept (what they name need not exist: input is checked first). */
const samples: Record<AppName, Record<string, string>> = {
  auth: { id: '1' },
  catalog: { id: '1', orderId: 'openapi-order-1' },
  purchase: { id: `ord_${'a'.repeat(24)}`, bookId: '1', key: 'openapi-charge-1' },
};

let shop: Awaited<ReturnType<typeof serveCatalogWithSeller>>;
let purchase: Awaited<ReturnType<typeof startTestPurchase>>;
let apps: Record<AppName, ServedApp>;
let documents: Record<AppName, Document>;
let tokens: Record<'signed-in' | 'admin', string>;

beforeAll(async () => {
  shop = await serveCatalogWithSeller();
  purchase = await startTestPurchase(shop.auth.url, { catalogUrl: shop.catalogUrl });
  apps = { auth: shop.auth.app, catalog: shop.catalog.app, purchase: purchase.app };
  tokens = { 'signed-in': shop.seller, admin: (await shop.auth.signUp('Admin', 'admin')).token };
  const logs = { auth: shop.auth.log, catalog: shop.catalog.log, purchase: purchase.log };
  documents = {} as Record<AppName, Document>;
  for (const name of Object.keys(apps) as AppName[]) {
    const response = await apps[name].request('/openapi.json');
    // A route without a description fails the document: say which, from the app's log.
    if (response.status !== 200) throw new Error(`${name} /openapi.json answered ${response.status}: ${logs[name].lines.filter((line) => line.includes('error')).at(-1)}`);
    documents[name] = (await response.json()) as Document;
  }
}, 60_000);
afterAll(async () => {
  await purchase?.close();
  await shop?.close();
});

/** The headers that let `access` through. */
function credentials(access: Access): Record<string, string> {
  if (access === 'public') return {};
  if (access === 'service') return { [serviceTokenHeader]: testServiceToken };
  return bearer(tokens[access]);
}

function operations(document: Document): { method: string; path: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })));
}

/** A documented path with its parameters filled in. */
const filled = (app: AppName, path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => samples[app][name] ?? '1');

/** The properties and required fields of an object schema (an intersection's, merged). */
function objectFields(schema: JsonSchema): { properties: string[]; required: string[] } {
  const parts = schema.allOf ? schema.allOf.map(objectFields) : [{ properties: Object.keys(schema.properties ?? {}), required: schema.required ?? [] }];
  return { properties: parts.flatMap((part) => part.properties), required: parts.flatMap((part) => part.required).sort() };
}

// First, so the listings checked below hold a user and a book.
test('answers to writes match their documented schemas: a new user, a session, a book', async () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const email = `openapi.${crypto.randomUUID().slice(0, 8)}@example.test`;
  const calls = [
    { app: 'auth', path: '/api/users', body: { name: 'Open Api', email, password: 'a long enough password' }, headers: {} },
    { app: 'auth', path: '/api/sessions', body: { email, password: 'a long enough password' }, headers: {} },
    { app: 'catalog', path: '/api/books', body: { title: 'Documented', author: 'An Author', priceCents: 1500, stock: 2 }, headers: bearer(shop.seller) },
  ] as const;
  const mismatches = [];
  for (const call of calls) {
    const response = await apps[call.app].request(call.path, jsonInit('POST', call.body, call.headers));
    const schema = documents[call.app].paths[call.path]!.post!.responses[String(response.status)]?.content?.['application/json']?.schema;
    const body = await response.json();
    if (response.status !== 201 || !schema || !ajv.validate(schema, body)) mismatches.push({ route: call.path, status: response.status, errors: ajv.errorsText(ajv.errors) });
  }
  expect(mismatches).toEqual([]);
});

for (const name of ['auth', 'catalog', 'purchase'] as const) {
  test(`${name}: /openapi.json is a valid OpenAPI 3.1 document`, async () => {
    const result = await validate(JSON.parse(JSON.stringify(documents[name]))); // a copy: it dereferences in place
    expect(result.valid ? [] : result.errors.map((error) => error.message)).toEqual([]);
    expect(documents[name].openapi).toMatch(/^3\.1\.\d+$/);
  });

  test(`${name}: the document names every route the app serves, and no other`, () => {
    const served = new Set<string>();
    const wrappers = new Set<string>();
    for (const { method, path } of apps[name].routes) {
      const key = `${method} ${path}`;
      if (middleware[name].includes(key)) wrappers.add(key);
      else served.add(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
    const documented = new Set(operations(documents[name]).map(({ method, path }) => `${method} ${path}`));
    expect({
      servedNotDocumented: [...served].filter((key) => !documented.has(key)),
      documentedNotServed: [...documented].filter((key) => !served.has(key)),
      middlewareNotThere: middleware[name].filter((key) => !wrappers.has(key)),
    }).toEqual({ servedNotDocumented: [], documentedNotServed: [], middlewareNotThere: [] });
  });

  test(`${name}: every operation says what it does and who may call it, with its refusals`, () => {
    const schemes = Object.keys(documents[name].components.securitySchemes);
    const incomplete = operations(documents[name]).filter(({ operation }) => {
      const access = operation['x-access'];
      const refusals = { public: [], 'signed-in': ['401'], admin: ['401', '403'], service: ['403'] }[access];
      return (
        !operation.summary ||
        !refusals ||
        refusals.some((status) => !operation.responses[status]) ||
        operation.security.some((requirement) => Object.keys(requirement).some((scheme) => !schemes.includes(scheme)))
      );
    });
    expect(incomplete.map(({ method, path }) => `${method} ${path}`)).toEqual([]);
  });

  test(`${name}: the fields a JSON body must have are the fields the app refuses an empty body without`, async () => {
    const bodies = operations(documents[name]).filter(({ operation }) => operation.requestBody?.content['application/json']);
    const differences = [];
    for (const { method, path, operation } of bodies) {
      const { properties, required } = objectFields(operation.requestBody!.content['application/json']!.schema);
      const headers = { ...credentials(operation['x-access']), 'idempotency-key': 'openapi-check-0001' };
      const response = await apps[name].request(filled(name, path), jsonInit(method, {}, headers));
      const errors = response.status === 400 ? ((await response.json()) as { errors?: Record<string, string> }).errors ?? {} : {};
      const refused = Object.keys(errors).filter((field) => properties.includes(field)).sort();
      if (!Bun.deepEquals(refused, required)) differences.push({ route: `${method} ${path}`, status: response.status, documented: required, refused });
    }
    expect(bodies.length).toBeGreaterThan(0);
    expect(differences).toEqual([]);
  });

  test(`${name}: the JSON answers of its plain GET routes match the documented schemas`, async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    const mismatches = [];
    for (const { method, path, operation } of operations(documents[name])) {
      const schema = operation.responses['200']?.content?.['application/json']?.schema;
      if (method !== 'GET' || path.includes('{') || !schema) continue;
      const response = await apps[name].request(path, { headers: credentials(operation['x-access']) });
      const body = await response.json();
      if (response.status !== 200 || !ajv.validate(schema, body)) mismatches.push({ route: path, status: response.status, errors: ajv.errorsText(ajv.errors) });
    }
    expect(mismatches).toEqual([]);
  });
}

test('auth: the schema documented for POST /api/users is the one its validator checks', () => {
  const { $schema: _, ...validated } = z.toJSONSchema(registerInput, { io: 'input', unrepresentable: 'any' });
  expect(documents.auth.paths['/api/users']!.post!.requestBody!.content['application/json']!.schema).toEqual(validated);
});
