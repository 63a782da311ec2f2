/** Input validation for routes: zod schemas through Hono's validator, failures as 400 problems naming each field. */
import { zValidator } from '@hono/zod-validator';
import { validationHook } from './errors.ts';

type Schema = Parameters<typeof zValidator>[1];

/**
 * @example
 * app.post('/api/books', validJson(bookInput), (c) => c.json(c.req.valid('json')));
 */
export const validJson = <S extends Schema>(schema: S) => zValidator('json', schema, validationHook);
export const validQuery = <S extends Schema>(schema: S) => zValidator('query', schema, validationHook);
export const validParams = <S extends Schema>(schema: S) => zValidator('param', schema, validationHook);
