/** Input validation for routes: zod schemas through Hono's validator, failures as 400 problems naming each field. */
import { zValidator } from '@hono/zod-validator';
import type { Context } from 'hono';
import { z } from 'zod';
import { ProblemError, validationHook } from './errors.ts';

type Schema = Parameters<typeof zValidator>[1];

/** What a validator checks, kept on the middleware it returns: the OpenAPI document (openapi.ts) is made from it. */
export interface ValidatedInput {
  target: 'json' | 'query' | 'param' | 'header';
  schema: z.ZodType;
}
const validatedInput = Symbol('validated input');

function remember<M extends object>(middleware: M, target: ValidatedInput['target'], schema: Schema): M {
  return Object.assign(middleware, { [validatedInput]: { target, schema: schema as z.ZodType } });
}

/** The input a route handler checks, when it is one of the validators below. */
export function validatedInputOf(handler: unknown): ValidatedInput | undefined {
  return (handler as { [validatedInput]?: ValidatedInput } | undefined)?.[validatedInput];
}

/**
 * @example
 * app.post('/api/books', validJson(bookInput), (c) => c.json(c.req.valid('json')));
 */
export const validJson = <S extends Schema>(schema: S) => remember(zValidator('json', schema, validationHook), 'json', schema);
export const validQuery = <S extends Schema>(schema: S) => remember(zValidator('query', schema, validationHook), 'query', schema);
export const validParams = <S extends Schema>(schema: S) => remember(zValidator('param', schema, validationHook), 'param', schema);
export const validHeader = <S extends Schema>(schema: S) => remember(zValidator('header', schema, validationHook), 'header', schema);

/**
 * The request's form fields (urlencoded or multipart). A body that claims to be a form but cannot be
 * read (no boundary, cut short) is the client's mistake: 400, not 500.
 */
export async function readForm(c: Context): Promise<Record<string, string | File>> {
  try {
    return (await c.req.parseBody()) as Record<string, string | File>;
  } catch {
    throw new ProblemError(400, 'The form could not be read: send it as urlencoded or multipart/form-data', { errors: { body: 'could not be read' } });
  }
}

/**
 * A string without NUL characters: no text we store or search needs one, and SQLite cuts a
 * statement at the first. Use it for every text field that reaches the database.
 */
export const plainText = () => z.string().regex(/^[^\u0000]*$/, 'must not contain NUL characters');
