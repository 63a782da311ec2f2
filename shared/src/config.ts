/** Configuration: environment variables parsed once, at start-up, with zod. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class ConfigError extends Error {}

/**
 * Parses `env` with `schema`. A variable `X` may instead be given as `X_FILE`, a path whose
 * contents (trimmed) become the value: that is how Docker secrets arrive.
 *
 * @example
 * const config = parseConfig(z.object({ PORT: port(3001) }), process.env);
 */
export function parseConfig<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const values: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema.shape)) {
    const file = env[`${name}_FILE`];
    if (file) {
      try {
        values[name] = readFileSync(file, 'utf8').trim();
      } catch {
        throw new ConfigError(`${name}_FILE: cannot read ${file}`);
      }
    } else {
      values[name] = env[name] === '' ? undefined : env[name];
    }
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

/** `parseConfig` for a `main.ts`: prints what is wrong, naming the variable, and exits. */
export function loadConfig<S extends z.ZodObject>(schema: S, env = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
}

export const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** A comma-separated list of URLs; empty means none. */
export const urlList = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))
  .pipe(z.array(z.url()));

export const databaseUrl = z
  .string()
  .refine((value) => /^(sqlite:|mariadb:\/\/|mysql:\/\/)/.test(value), 'must start with sqlite:, mariadb:// or mysql://');

export const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

export const logLevel = z.enum(['debug', 'info', 'warn', 'error']).default('info');
