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
  requireExplicitInProduction(schema, env);
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

/**
 * Variables whose default only makes sense on one machine (the embedded SQLite file, a generated
 * signing key): with `BOOKSTORE_ENV=production` they must be given, or each replica would quietly
 * get its own database or its own key.
 */
const requiredInProduction = ['DATABASE_URL', 'SIGNING_KEY', 'SERVICE_TOKEN'] as const;

function requireExplicitInProduction(schema: z.ZodObject, env: Record<string, string | undefined>) {
  if ((env.BOOKSTORE_ENV ?? 'development') !== 'production') return;
  const missing = requiredInProduction.filter((name) => name in schema.shape && !env[name] && !env[`${name}_FILE`]);
  if (missing.length) {
    throw new ConfigError(`invalid configuration\n  ${missing.map((name) => `${name}: is required when BOOKSTORE_ENV=production (give it, or ${name}_FILE)`).join('\n  ')}`);
  }
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

/** Where the process runs: `development` allows the embedded defaults, `production` requires explicit settings. */
const bookstoreEnv = z.enum(['development', 'production']).default('development');

/** The database settings every service with a database takes. */
export function databaseConfig(service: string) {
  return {
    DATABASE_URL: databaseUrl.default(`sqlite:./data/${service}.sqlite`),
    DATABASE_READ_URLS: urlList,
    /** Connections per process to the primary (and to each replica). */
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    /** Longest a statement may run before the database stops it (0: no limit). */
    DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(0),
    /** How long start-up keeps trying to reach the database (each try logged) before the process exits. */
    DATABASE_START_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  };
}

/** How a process stops: on SIGTERM it first reports not ready for this long, so load balancers stop sending to it. */
export const lifecycleConfig = {
  BOOKSTORE_ENV: bookstoreEnv,
  /**
   * The address to listen on: this machine only by default (the embedded shop is not exposed to the
   * network by accident); the image sets 0.0.0.0 for Swarm, where the overlay network needs it.
   */
  HOST: z.string().default('127.0.0.1'),
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  /** Longest a request may take before it is answered 503 with Retry-After (a hung database, say); 0 = none. */
  REQUEST_TIME_BUDGET_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
};
