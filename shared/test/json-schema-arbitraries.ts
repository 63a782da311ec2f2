/**
 * fast-check arbitraries made from JSON Schema (the dialect zod's `toJSONSchema` writes, as the
 * services' OpenAPI documents carry it): values a schema accepts, and mutations of them it may not.
 */
import fc from 'fast-check';

/** The JSON Schema keywords read here; others are ignored (the value may then be refused: that is fuzzing too). */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  /** OpenAPI 3.0's spelling of "or null". */
  nullable?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export interface SchemaOptions {
  /** Values that mean something where a field or parameter has this name (a real book's id, the test card). */
  known?: (name: string) => readonly unknown[];
  /** How many times a known value is drawn for each value made from the schema: 1 by default. */
  knownWeight?: number;
  /** The document `$ref`s point into (`#/components/schemas/...`). */
  root?: unknown;
}

/**
 * Values `schema` accepts, short and plain (huge and odd ones come from `mutatedValue`), with the
 * values `known` for `name` mixed in.
 *
 * @example fc.sample(valueOf({ type: 'integer', minimum: 1, maximum: 100 }), 3) // [1, 57, 100]
 */
export function valueOf(schema: JsonSchema | boolean | undefined, options: SchemaOptions = {}, name?: string): fc.Arbitrary<unknown> {
  const fromSchema = schemaValue(schema, options);
  const known = name === undefined || typeof schema !== 'object' ? [] : (options.known?.(name) ?? []).filter((value) => fitsType(schema, value));
  return known.length ? fc.oneof({ weight: options.knownWeight ?? 1, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fromSchema }) : fromSchema;
}

/** Whether a known value has the type `schema` asks for (a number will do for text: path and query values are text anyway). */
function fitsType(schema: JsonSchema, value: unknown): boolean {
  if (schema.type === 'integer') return Number.isInteger(value);
  if (schema.type === 'number') return typeof value === 'number';
  if (schema.type === 'string') return typeof value === 'string' || typeof value === 'number';
  return true;
}

function schemaValue(schema: JsonSchema | boolean | undefined, options: SchemaOptions): fc.Arbitrary<unknown> {
  if (schema === undefined || schema === true || Object.keys(schema as object).length === 0) return fc.jsonValue({ maxDepth: 2 });
  if (schema === false) return fc.constant(undefined);
  if (schema.$ref) return schemaValue(resolved(schema.$ref, options.root), options);
  if (schema.nullable) return fc.option(schemaValue({ ...schema, nullable: false }, options), { nil: null });
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices) return fc.oneof(...choices.map((choice) => valueOf(choice, options)));
  if (schema.allOf) return fc.tuple(...schema.allOf.map((part) => valueOf(part, options))).map(merged);
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => schemaValue({ ...schema, type }, options)));
  switch (schema.type ?? (schema.properties ? 'object' : undefined)) {
    case 'string':
      return stringValue(schema);
    case 'integer':
      return integerValue(schema);
    case 'number':
      return fc.double({ min: lowest(schema) ?? -1e9, max: highest(schema) ?? 1e9, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valueOf(schema.items, options), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, Math.max(schema.minItems ?? 0, 4)) });
    case 'object':
      return objectValue(schema, options);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringValue(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 40, Math.max(minLength, 40));
  const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern, 'u');
  const fits = (text: string) => text.length >= minLength && text.length <= (schema.maxLength ?? Infinity) && (!pattern || pattern.test(text));
  if (schema.format === 'email') {
    const plain = fc.tuple(fc.stringMatching(/^[a-z0-9._]{1,16}$/), fc.stringMatching(/^[a-z0-9-]{1,12}$/)).map(([local, domain]) => `${local}@${domain}.test`);
    return fc.oneof(plain, fc.emailAddress()).filter(fits);
  }
  // A pattern that only forbids characters (`^[^\u0000]*$`) says nothing of a string's shape: any text that passes will do.
  if (pattern && !/^\^\[\^[^\]]*\][*+]\$$/.test(schema.pattern!)) return fc.stringMatching(new RegExp(schema.pattern!), { maxLength }).filter(fits);
  return fc.oneof(fc.string({ minLength, maxLength }), fc.string({ unit: 'grapheme', minLength, maxLength })).filter(fits);
}

function integerValue(schema: JsonSchema): fc.Arbitrary<number> {
  const min = Math.max(Math.ceil(lowest(schema) ?? -(2 ** 31)), Number.MIN_SAFE_INTEGER);
  const max = Math.min(Math.floor(highest(schema) ?? 2 ** 31 - 1), Number.MAX_SAFE_INTEGER);
  if (min >= -(2 ** 31) && max <= 2 ** 31 - 1) return fc.integer({ min, max });
  return fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
}

const lowest = (schema: JsonSchema) => (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (schema.type === 'integer' ? 1 : Number.EPSILON) : schema.minimum);
const highest = (schema: JsonSchema) => (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (schema.type === 'integer' ? 1 : Number.EPSILON) : schema.maximum);

function objectValue(schema: JsonSchema, options: SchemaOptions): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const model = Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, valueOf(property, options, name)]));
  const fields = fc.record(model, { requiredKeys: (schema.required ?? []).filter((name) => name in properties) });
  if (typeof schema.additionalProperties !== 'object') return fields;
  const names = schema.propertyNames ? (schemaValue({ type: 'string', ...schema.propertyNames }, options) as fc.Arbitrary<string>) : fc.string({ maxLength: 20 });
  const more = fc.dictionary(names, valueOf(schema.additionalProperties, options), { maxKeys: 3 });
  return fc.tuple(more, fields).map(([extra, named]) => ({ ...extra, ...named }));
}

function resolved(ref: string, root: unknown): JsonSchema {
  const found = ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], root);
  if (!found) throw new Error(`cannot resolve ${ref}`);
  return found as JsonSchema;
}

const merged = (parts: unknown[]) => (parts.every((part) => part !== null && typeof part === 'object' && !Array.isArray(part)) ? Object.assign({}, ...parts) : parts[0]);

// --- mutations --------------------------------------------------------------------------------

/** Text a validator must survive: any UTF-16 (lone surrogates too), control characters, look-alike digits, markup and SQL, and now and then a huge one. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)), maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\u202eevil', '\ud800', '\udfff\ud800', '%', '%00', '\\', "'; drop table books; --", '<script>alert(1)</script>', '１２３', '٣', '-0', '1e400', 'NaN', 'Infinity', 'null', 'true', '[]', '{}', '../../etc/passwd', 'ｅｍａｉｌ@ｅｘａｍｐｌｅ.ｔｅｓｔ') },
  { weight: 1, arbitrary: fc.constantFrom(300, 5_001, 70_000).map((length) => 'é'.repeat(length)) },
);

/** Numbers at and past the edges: negative, fractional, past 32 and 53 bits, the largest doubles. */
export const oddNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, -1, 0.5, 1.000000001, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308, Number.MIN_VALUE),
);

/** Any JSON value, of any type; odd strings and numbers more often than chance would give. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  oddString,
  oddNumber,
  fc.constantFrom(null, true, false, [], {}, [null], { '': null }, JSON.parse('{"__proto__":{"admin":true}}')),
);

type Place = (string | number)[];

/**
 * `valid` with one thing wrong: a member dropped, replaced by any value, or one added (named from
 * `names` or anything), anywhere inside it; or the whole value swapped for another.
 *
 * @example fc.sample(mutatedValue({ quantity: 1 }, ['bookId']), 2) // [{}, { quantity: 1, bookId: '\u0000' }]
 */
export function mutatedValue(valid: unknown, names: readonly string[]): fc.Arbitrary<unknown> {
  const places = placesIn(valid);
  const name = names.length ? fc.oneof(fc.constantFrom(...names), oddString) : oddString;
  const change = fc.tuple(fc.constantFrom(...places), fc.constantFrom('drop', 'replace', 'add'), oddValue, name);
  return fc.oneof(
    { weight: 1, arbitrary: oddValue },
    { weight: 5, arbitrary: change.map(([place, how, value, key]) => changed(valid, place, how, value, key)) },
  );
}

/** The place of every member of `value` (root first), down to depth 3. */
function placesIn(value: unknown, at: Place = []): Place[] {
  if (value === null || typeof value !== 'object' || at.length >= 3) return [at];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, index) => index) : Object.keys(value);
  return [at, ...keys.flatMap((key) => placesIn((value as Record<string | number, unknown>)[key], [...at, key]))];
}

function changed(valid: unknown, place: Place, how: 'drop' | 'replace' | 'add', value: unknown, key: string): unknown {
  const copy = structuredClone(valid);
  if (place.length === 0) {
    if (how !== 'add' || copy === null || typeof copy !== 'object') return value;
    return Array.isArray(copy) ? [...copy, value] : { ...copy, [key]: value };
  }
  const parent = place.slice(0, -1).reduce<any>((at, step) => at[step], copy);
  const last = place.at(-1)!;
  if (how === 'drop') Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
  else if (how === 'replace') parent[last] = value;
  else if (parent[last] !== null && typeof parent[last] === 'object' && !Array.isArray(parent[last])) parent[last] = { ...parent[last], [key]: value };
  else parent[last] = value;
  return copy;
}
