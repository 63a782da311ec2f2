/**
 * Requests to fuzz an operation of an OpenAPI document with: its path, query, header parameters
 * and body made from their JSON Schemas (json-schema-arbitraries.ts), each part now and then
 * mutated, sent by the caller its `x-access` calls for or by a wrong one.
 */
import fc from 'fast-check';
import { mutatedValue, oddNumber, oddString, valueOf, type JsonSchema, type SchemaOptions } from './json-schema-arbitraries.ts';

export type Access = 'public' | 'signed-in' | 'admin' | 'service';
/**
 * Who sends a request: nobody; the signed-in owner of the fixtures; another customer; an admin; an
 * account made for this one request (for what ends the caller's session or account); the service
 * token; a user's token as the service token; a wrong service token; a token signed by a key auth
 * never had.
 */
export type Caller = 'anonymous' | 'owner' | 'other' | 'admin' | 'throwaway' | 'service' | 'userAsService' | 'wrongService' | 'forged';

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface Operation {
  service: string;
  method: string;
  /** As documented: `/api/books/{id}`. */
  path: string;
  access: Access;
  parameters: Parameter[];
  /** The body's media type and schema, when it documents one. */
  body?: { type: string; schema: JsonSchema };
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

/** A body as sent: JSON, a urlencoded or multipart form (a file field is a PNG or some bytes), or raw text. */
export type FuzzBody =
  | { json: unknown; contentType?: string }
  | { form: [string, string][] }
  | { multipart: [string, 'a PNG' | `${number} random bytes` | `text: ${string}`][] }
  | { raw: string; contentType: string };

/** What fast-check shows when a request fails: the operation, who sent it and all of the request. */
export interface FuzzRequest {
  operation: string;
  caller: Caller;
  /** The path with its parameters in (encoded); `THROWAWAY` stands for a user made for this request. */
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body?: FuzzBody;
  /** Who sends it again when it is accepted: a caller without the credentials it asks for, who must be refused. */
  echoAs?: Caller;
}

/** What a service's requests are made of: values known by name, and the schema of each field name it uses anywhere. */
export interface Vocabulary extends SchemaOptions {
  fields: Record<string, JsonSchema>;
  /** A path parameter's value as it will be sent (auth points user ids away from the test's own callers). */
  pathValue?: (name: string, encoded: string) => string;
  /** The caller an operation calls for, when it is not the one its access names. */
  rightCaller?: (operation: Operation) => Caller | undefined;
}

/** The operations of an OpenAPI document, one per method and path. */
export function operationsOf(service: string, document: { paths: Record<string, Record<string, Record<string, any>>> }): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const [type, media] = Object.entries((operation.requestBody?.content ?? {}) as Record<string, { schema: JsonSchema }>)[0] ?? [];
      return { service, method: method.toUpperCase(), path, access: operation['x-access'], parameters: operation.parameters ?? [], body: type ? { type, schema: media!.schema } : undefined, responses: operation.responses };
    }),
  );
}

/** Every field and parameter name a document uses, with the first schema given for it: what an undocumented form may be sent. */
export function fieldsOf(operations: Operation[]): Record<string, JsonSchema> {
  const fields: Record<string, JsonSchema> = {};
  const visit = (schema: JsonSchema | undefined) => {
    for (const [name, property] of Object.entries(schema?.properties ?? {})) (fields[name] ??= property, visit(property));
    if (schema?.items) visit(schema.items);
  };
  for (const operation of operations) {
    for (const parameter of operation.parameters) fields[parameter.name] ??= parameter.schema ?? { type: 'string' };
    visit(operation.body?.schema);
  }
  return fields;
}

/** The caller an access calls for, and the wrong ones: none of them holds what the access asks, except `other` (a customer, not the owner). */
const callers: Record<Access, { right: Caller; wrong: Caller[] }> = {
  public: { right: 'anonymous', wrong: ['other', 'service', 'forged'] },
  'signed-in': { right: 'owner', wrong: ['anonymous', 'other', 'service', 'forged'] },
  admin: { right: 'admin', wrong: ['anonymous', 'owner', 'service', 'forged'] },
  service: { right: 'service', wrong: ['anonymous', 'owner', 'userAsService', 'wrongService'] },
};

/** Whether `caller` lacks what `access` asks for, so that nothing but a refusal may answer. */
export function lacksCredentials(access: Access, caller: Caller): boolean {
  if (access === 'public') return false;
  if (access === 'signed-in') return !['owner', 'other', 'admin', 'throwaway'].includes(caller);
  if (access === 'admin') return caller !== 'admin';
  return caller !== 'service';
}

/**
 * Requests for `operation`: mostly the caller it calls for with valid-looking input, now and then
 * a wrong caller, an odd path value, a query or header mutated, a body mutated or not JSON at all.
 *
 * @example await fc.assert(fc.asyncProperty(requestsFor(operation, vocabulary), send));
 */
export function requestsFor(operation: Operation, vocabulary: Vocabulary): fc.Arbitrary<FuzzRequest> {
  const { right, wrong } = callers[operation.access];
  const rightCaller = vocabulary.rightCaller?.(operation) ?? right;
  const wrongCallers = wrong.map((caller) => (caller === 'other' && rightCaller === 'throwaway' ? 'throwaway' : caller));
  const lacking = wrong.filter((caller) => lacksCredentials(operation.access, caller));
  return fc.record({
    operation: fc.constant(`${operation.method} ${operation.path}`),
    caller: fc.oneof({ weight: 5, arbitrary: fc.constant(rightCaller) }, { weight: 1, arbitrary: fc.constantFrom(...wrongCallers) }),
    path: pathOf(operation, vocabulary),
    query: queryOf(operation, vocabulary),
    headers: headersOf(operation, vocabulary),
    body: bodyOf(operation, vocabulary),
    echoAs: lacking.length ? fc.constantFrom(...lacking) : fc.constant(undefined),
  });
}

function pathOf(operation: Operation, vocabulary: Vocabulary): fc.Arbitrary<string> {
  const names = [...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name!);
  const values = names.map((name) => {
    const schema = operation.parameters.find((parameter) => parameter.in === 'path' && parameter.name === name)?.schema;
    // A path mostly names something that exists: a route does little with an id it does not know.
    const valid = valueOf(schema, { ...vocabulary, knownWeight: 3 }, name).map((value) => encodeURIComponent(String(value)));
    // An empty value, `.` or `..` would not reach this route at all (the URL leads elsewhere).
    const value = fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: oddPathValue }).filter((encoded) => !/^(\.|%2E){0,2}$/i.test(encoded));
    return value.map((encoded) => vocabulary.pathValue?.(name, encoded) ?? encoded);
  });
  return fc.tuple(...values).map((filled) => names.reduce((path, name, index) => path.replace(`{${name}}`, filled[index]!), operation.path));
}

/** Text for an address: odd, but short enough for the HTTP server to read the request line (Bun answers 431 past its limit, before any app). */
const oddUrlText = oddString.map((text) => text.slice(0, 1_000));

/** Path values a route must refuse cleanly: negative, huge, fractional, not numbers, encoded slashes and NULs, any text. */
const oddPathValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('-1', '0', '-0', '2147483648', '9007199254740993', '99999999999999999999999', '1e3', '0x1F', '1.5', '%201', 'abc', 'NaN', 'Infinity', '%00', '%2F', 'a%2Fb', '%E2%80%AE', '%EF%BC%91', '%25', '_', 'ORD_AAAAAAAAAAAAAAAAAAAAAAAA', 'ord_' + 'a'.repeat(23)),
  oddUrlText.map((text) => encodeURIComponent(text.toWellFormed())),
  oddNumber.map((value) => encodeURIComponent(String(value))),
);

function queryOf(operation: Operation, vocabulary: Vocabulary): fc.Arbitrary<[string, string][]> {
  const parameters = operation.parameters.filter((parameter) => parameter.in === 'query');
  const valid = fc.tuple(
    ...parameters.map((parameter) => {
      const value = valueOf(parameter.schema, vocabulary, parameter.name).map((drawn) => [[parameter.name, queryText(drawn)]] as [string, string][]);
      return parameter.required ? value : fc.oneof(value, fc.constant([] as [string, string][]));
    }),
  ).map((pairs) => pairs.flat());
  const names = parameters.length ? fc.oneof(fc.constantFrom(...parameters.map((parameter) => parameter.name)), oddUrlText) : oddUrlText;
  return fc.oneof(
    { weight: 5, arbitrary: valid },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, names, oddUrlText, fc.constantFrom('replace', 'repeat')).map(([pairs, name, value, how]) => [...(how === 'replace' ? pairs.filter(([given]) => given !== name) : pairs), [name, value] as [string, string]]),
    },
  );
}

const queryText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function headersOf(operation: Operation, vocabulary: Vocabulary): fc.Arbitrary<Record<string, string>> {
  const parameters = operation.parameters.filter((parameter) => parameter.in === 'header');
  const printable = oddString.map((text) => text.replace(/[^\x20-\x7e]/g, '').trim());
  const values = parameters.map((parameter) => {
    const valid = valueOf(parameter.schema, vocabulary, parameter.name).map((value) => [[parameter.name, String(value)]]);
    return fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: printable.map((text) => [[parameter.name, text]]) });
  });
  // The web front passes HX-Request on to the fragments, which then answer a piece of the page.
  const htmx = fc.option(fc.constant([['hx-request', 'true']]), { nil: [] });
  return fc.tuple(htmx, ...values).map((pairs) => Object.fromEntries(pairs.flat() as [string, string][]));
}

function bodyOf(operation: Operation, vocabulary: Vocabulary): fc.Arbitrary<FuzzBody | undefined> {
  const names = Object.keys(vocabulary.fields);
  const garbage = fc.oneof(
    fc.constantFrom('', '{', '{"a":', '[1,', 'null', 'not json', '\u0000', '{"a":1}{"b":2}', '['.repeat(5_000) + ']'.repeat(5_000)).map((raw) => ({ raw, contentType: 'application/json' })),
    fc.tuple(oddString, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/xml')).map(([raw, contentType]) => ({ raw, contentType })),
  );
  const { type, schema } = operation.body ?? {};
  if (type === 'application/json') {
    const valid = valueOf(schema, vocabulary);
    const body = fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: valid.chain((value) => mutatedValue(value, names)) });
    return fc.oneof({ weight: 8, arbitrary: body.map((json) => ({ json })) }, { weight: 1, arbitrary: garbage });
  }
  if (type === 'application/x-www-form-urlencoded') return fc.oneof({ weight: 6, arbitrary: formOf(schema!, vocabulary) }, { weight: 1, arbitrary: garbage });
  if (type === 'multipart/form-data') return multipartOf(schema!);
  if (operation.method === 'GET') return fc.constant(undefined);
  // No body documented: none, any JSON, or a form of fields the service knows by name (an HTML route's form may not say its fields).
  const anyFields: JsonSchema = { type: 'object', properties: vocabulary.fields };
  const formWeight = Object.values(operation.responses).some((response) => response.content?.['text/html']) ? 4 : 1;
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: mutatedValue(null, names).map((json) => ({ json })) },
    { weight: formWeight, arbitrary: formOf(anyFields, vocabulary) },
    { weight: 1, arbitrary: garbage },
  );
}

/** A urlencoded form: its fields from the schema (as text), or with one dropped, replaced, added or sent twice. */
function formOf(schema: JsonSchema, vocabulary: Vocabulary): fc.Arbitrary<FuzzBody> {
  const valid = valueOf(schema, vocabulary).map((fields) => Object.entries(fields as Record<string, unknown>).map(([name, value]) => [name, queryText(value)] as [string, string]));
  const known = Object.keys(vocabulary.fields);
  const names = known.length ? fc.oneof(fc.constantFrom(...known), oddString) : oddString;
  const mutated = fc.tuple(valid, names, oddString, fc.constantFrom('drop', 'replace', 'repeat')).map(([pairs, name, value, how]) => {
    const others = pairs.filter(([given]) => given !== name);
    return how === 'drop' ? others : [...(how === 'replace' ? others : pairs), [name, value] as [string, string]];
  });
  return fc.oneof({ weight: 2, arbitrary: valid }, { weight: 1, arbitrary: mutated }).map((form) => ({ form }));
}

/** A multipart form: each file field a PNG, some bytes or text; a field now and then left out or added. */
function multipartOf(schema: JsonSchema): fc.Arbitrary<FuzzBody> {
  const fileFields = Object.keys(schema.properties ?? {});
  const part = fc.oneof(
    { weight: 3, arbitrary: fc.constant('a PNG' as const) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, 16, 4096, 300_000).map((size) => `${size} random bytes` as const) },
    { weight: 1, arbitrary: oddString.map((text) => `text: ${text.slice(0, 200)}` as const) },
  );
  const fields = fc.tuple(...fileFields.map((name) => fc.option(part, { freq: 6 }).map((value) => (value === null ? [] : [[name, value] as const])))).map((pairs) => pairs.flat());
  const extra = fc.option(fc.tuple(oddString, part), { freq: 4 });
  return fc.tuple(fields, extra).map(([named, more]) => ({ multipart: [...named, ...(more ? [more] : [])] as [string, any][] }));
}
