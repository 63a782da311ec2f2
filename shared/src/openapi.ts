/**
 * OpenAPI 3.1 documents made from what an app serves: its routes (Hono's `app.routes`), the zod
 * schemas its validators check (validation.ts), and the `describeRoute` beside each route saying what
 * it does, who may call it and what it answers. Nothing is written twice, so a document cannot drift
 * from the code: a route without a description fails the document, and a validator changed is a
 * document changed.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { findTargetHandler } from 'hono/utils/handler';
import { z } from 'zod';
import { validatedInputOf, type ValidatedInput } from './validation.ts';

/** Who may call a route: anyone, a signed-in user (Bearer token), an administrator, or another Bookstore service. */
export type Access = 'public' | 'signed-in' | 'admin' | 'service';

/** An answer of a route: a text saying when it comes, the schema of its JSON body, or both. */
export type RouteAnswer = string | z.ZodType | readonly [when: string, body: z.ZodType];

export interface RouteDescription {
  /** One line: what the route does. */
  summary: string;
  /** More, when it helps: rules, what differs by caller, headers it reads. */
  description?: string;
  access: Access;
  /**
   * Its answers by status. 400 (when it has validators), 401 and 403 (by its access) are added unless
   * given here. A refusal given as text is a problem+json body (an HTML notice for fragments).
   */
  responses: Record<number, RouteAnswer>;
  /** Media type of its answers: JSON by default, `text/html` for the fragments the web front composes. */
  content?: string;
  /** A body the handler reads itself rather than through a validator: form fields, or a multipart upload. */
  form?: z.ZodType;
  upload?: z.ZodType;
}

export interface ApiInfo {
  /** "Bookstore auth" */
  title: string;
  /** What the service owns, in a sentence or two. */
  description: string;
}

/** The version of every service's API: raised when a contract changes in a way clients notice. */
const apiVersion = '1.0.0';

const routeDescription = Symbol('route description');

/**
 * Describes a route for its service's OpenAPI document; at run time it only passes the request on.
 *
 * @example
 * app.post('/api/users', describeRoute({ summary: 'Register', access: 'public', responses: { 201: publicUser, 409: 'the email is taken' } }), validJson(registerInput), register);
 */
export function describeRoute(route: RouteDescription): MiddlewareHandler {
  const passOn: MiddlewareHandler = (_c, next) => next();
  return Object.assign(passOn, { [routeDescription]: route });
}

/** A route as Hono lists it: one entry per handler (Hono's `RouterRoute`). */
interface ServedRoute {
  method: string;
  path: string;
  handler: unknown;
}

/**
 * The `GET /openapi.json` route of `app`: its description, and a handler answering the document of
 * every route `app` serves, made at the first request (when all are registered) and kept.
 *
 * @example
 * app.get('/openapi.json', ...openApiRoute(app, { title: 'Bookstore auth', description: 'Users, passwords, sessions and tokens.' }));
 */
export function openApiRoute(app: { routes: readonly ServedRoute[] }, info: ApiInfo) {
  let document: string | undefined;
  const serve = (c: Context) => {
    document ??= JSON.stringify(openApiDocument(app, info));
    return c.body(document, 200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' });
  };
  const description = describeRoute({ summary: 'This API as an OpenAPI 3.1 document', access: 'public', responses: { 200: ['this document', z.looseObject({ openapi: z.string() })] } });
  return [description, serve] as const;
}

/** The OpenAPI 3.1 document of the routes `app` serves. Throws, naming them, when a route has no `describeRoute`. */
export function openApiDocument(app: { routes: readonly ServedRoute[] }, info: ApiInfo) {
  const paths: Record<string, Record<string, unknown>> = {};
  const undescribed: string[] = [];
  for (const [key, handlers] of handlersByRoute(app.routes)) {
    const [method, path] = key.split(' ') as [string, string];
    const route = handlers.map((handler) => (handler as { [routeDescription]?: RouteDescription })[routeDescription]).find(Boolean);
    if (method === 'ALL' && !route) continue; // middleware (app.use): it serves nothing of its own
    if (!route || method === 'ALL') {
      undescribed.push(key);
      continue;
    }
    const inputs = handlers.map(validatedInputOf).filter((input) => input !== undefined);
    (paths[openApiPath(path)] ??= {})[method.toLowerCase()] = operation(method, path, route, inputs);
  }
  if (undescribed.length) throw new Error(`Routes without describeRoute() (one per method, not ALL): ${undescribed.join(', ')}`);
  return {
    openapi: '3.1.1',
    info: {
      title: info.title,
      version: apiVersion,
      description: `${info.description}\n\nErrors are RFC 9457 problem details (\`application/problem+json\`). Any route may also answer 503 with Retry-After when a database or a service it needs does not answer in time, 413 for a body over its limit, and 415 for an API body that is not JSON.`,
    },
    paths,
    components: {
      schemas: { Problem: jsonSchema(problem, 'output') },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "A session token from auth's `POST /api/sessions`: a JWT signed with EdDSA, checked against auth's `/.well-known/jwks.json`.",
        },
        serviceToken: { type: 'apiKey', in: 'header', name: 'X-Service-Token', description: 'The shared secret of the Bookstore services (`SERVICE_TOKEN`).' },
      },
    },
  };
}

// --- helpers of this file -------------------------------------------------------------------

/** A problem's body, as shared/src/errors.ts writes it. */
const problem = z.looseObject({
  type: z.string().optional(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  errors: z.record(z.string(), z.string()).optional().describe('For invalid input: a message per field, by its dotted path ("items.0.quantity").'),
});

const accessText: Record<Access, string> = {
  public: 'Anyone may call it.',
  'signed-in': 'Needs a session token (Bearer).',
  admin: 'Administrators only (Bearer).',
  service: 'Bookstore services only (X-Service-Token).',
};
const security: Record<Access, Record<string, string[]>[]> = {
  public: [],
  'signed-in': [{ bearer: [] }],
  admin: [{ bearer: [] }],
  service: [{ serviceToken: [] }],
};
const statusTexts: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content', 303: 'See other' };

/** Each route's handlers, by "METHOD /path", in the order the app registered them. */
function handlersByRoute(routes: readonly ServedRoute[]): Map<string, unknown[]> {
  const byRoute = new Map<string, unknown[]>();
  for (const { method, path, handler } of routes) {
    const key = `${method} ${path}`;
    // A sub-app's handler (`app.route`) may be wrapped for its own error handler: its original is the one described.
    byRoute.set(key, [...(byRoute.get(key) ?? []), findTargetHandler(handler as Function)]);
  }
  return byRoute;
}

/** "/api/users/:id" → "/api/users/{id}". */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

function operation(method: string, path: string, route: RouteDescription, inputs: ValidatedInput[]) {
  const input = (target: ValidatedInput['target']) => inputs.find((found) => found.target === target)?.schema;
  const params = input('param') && jsonSchema(input('param')!, 'input');
  if (/[*?{]/.test(path)) throw new Error(`${method} ${path}: only plain :name parameters are documented`);
  const parameters = [
    ...[...path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: params?.properties?.[name!] ?? { type: 'string' } })),
    ...fieldsOf(input('query'), 'query'),
    ...fieldsOf(input('header'), 'header'),
  ];
  const body = input('json') ?? route.form ?? route.upload;
  const bodyType = input('json') ? 'application/json' : route.form ? 'application/x-www-form-urlencoded' : 'multipart/form-data';
  return {
    operationId: method.toLowerCase() + path.split(/[^A-Za-z0-9]+/).filter(Boolean).map((word) => word[0]!.toUpperCase() + word.slice(1)).join(''),
    summary: route.summary,
    description: [accessText[route.access], route.description].filter(Boolean).join('\n\n'),
    tags: [tagOf(path)],
    security: security[route.access],
    'x-access': route.access,
    ...(parameters.length ? { parameters } : {}),
    ...(body ? { requestBody: { required: true, content: { [bodyType]: { schema: jsonSchema(body, 'input') } } } } : {}),
    responses: responsesOf(route, inputs.length > 0),
  };
}

/** The parameters a query or header schema names, each with its own schema. */
function fieldsOf(schema: z.ZodType | undefined, where: 'query' | 'header') {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input');
  return Object.entries(json.properties ?? {}).map(([name, field]) => ({ name, in: where, required: json.required?.includes(name) ?? false, schema: field }));
}

/** "/api/books/:id" → "books"; "/fragments/sell" → "fragments"; "/.well-known/jwks.json" → "well-known". */
function tagOf(path: string): string {
  const [first, second] = path.split('/').filter(Boolean);
  return (first === 'api' && second ? second : (first ?? 'root')).replace(/^\./, '').replace(/\.json$/, '');
}

function responsesOf(route: RouteDescription, validated: boolean) {
  const signedIn = route.access === 'signed-in' || route.access === 'admin';
  const implied: Record<number, RouteAnswer> = {};
  if (validated) implied[400] = 'the input is invalid: `errors` names each field and what is wrong with it';
  if (signedIn) implied[401] = 'no session: the token is missing, expired or revoked';
  if (route.access === 'admin') implied[403] = 'the caller is not an administrator';
  if (route.access === 'service') implied[403] = 'no valid service token';
  const answers = { ...implied, ...route.responses };
  const media = route.content ?? 'application/json';
  // A validator refuses with a problem, whatever the route answers otherwise.
  const mediaOf = (status: number) => (status === 400 && validated && !route.responses[400] ? 'application/json' : media);
  return Object.fromEntries(Object.entries(answers).map(([status, answer]) => [status, response(Number(status), answer, mediaOf(Number(status)))]));
}

function response(status: number, answer: RouteAnswer, media: string) {
  const [when, body] = typeof answer === 'string' ? [answer] : isTuple(answer) ? answer : [statusTexts[status] ?? `HTTP ${status}`, answer];
  if (body) return { description: when, content: { 'application/json': { schema: jsonSchema(body, 'output') } } };
  if (status >= 300 && status < 400) return { description: when, headers: { Location: { description: 'Where the browser goes next', schema: { type: 'string' } } } };
  if (media === 'text/html') return { description: when, content: { 'text/html': { schema: { type: 'string' } } } };
  if (status >= 400) return { description: when, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  if (media === 'application/json') return { description: when }; // no body (204)
  return { description: when, content: { [media]: {} } };
}

const isTuple = (answer: RouteAnswer): answer is readonly [string, z.ZodType] => Array.isArray(answer);

interface JsonSchemaObject {
  properties?: Record<string, unknown>;
  required?: string[];
  [keyword: string]: unknown;
}

/**
 * A zod schema as JSON Schema 2020-12, the dialect of OpenAPI 3.1: what a client sends (`input`: before
 * coercions, transforms and defaults) or what it receives (`output`). A check JSON Schema cannot say
 * (a refinement, a transform) is left out; a type it has no word for (a Date) reads as "anything".
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchemaObject {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return json as JsonSchemaObject;
}
