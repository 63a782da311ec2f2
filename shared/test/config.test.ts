/** Configuration: values from the environment or from *_FILE secrets; a bad value names its variable. */
import { expect, test } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, databaseUrl, lifecycleConfig, parseConfig, port, urlList } from '../src/config.ts';

const schema = z.object({ PORT: port(3001), DATABASE_URL: databaseUrl, DATABASE_READ_URLS: urlList, SECRET: z.string().min(8) });

test('values come from the environment, with defaults and lists parsed', () => {
  const config = parseConfig(schema, {
    DATABASE_URL: 'mariadb://app@db:3306/auth',
    DATABASE_READ_URLS: 'mariadb://app@r1:3306/auth, mariadb://app@r2:3306/auth',
    SECRET: 'long-enough',
  });
  expect(config).toEqual({
    PORT: 3001,
    DATABASE_URL: 'mariadb://app@db:3306/auth',
    DATABASE_READ_URLS: ['mariadb://app@r1:3306/auth', 'mariadb://app@r2:3306/auth'],
    SECRET: 'long-enough',
  });
});

test('a secret can come from a file named by X_FILE (Docker secrets)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-'));
  writeFileSync(join(dir, 'secret'), 'from-the-file\n');
  const config = parseConfig(schema, { DATABASE_URL: 'sqlite::memory:', SECRET_FILE: join(dir, 'secret') });
  expect(config.SECRET).toBe('from-the-file');
  expect(() => parseConfig(schema, { DATABASE_URL: 'sqlite::memory:', SECRET_FILE: join(dir, 'missing') })).toThrow('SECRET_FILE');
});

test('a bad value is reported with the name of its variable', () => {
  const attempt = () => parseConfig(schema, { PORT: 'eighty', DATABASE_URL: 'postgres://x', SECRET: 'short' });
  expect(attempt).toThrow(ConfigError);
  try {
    attempt();
  } catch (error) {
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'SECRET']) expect(message).toContain(name);
  }
});

test('with BOOKSTORE_ENV=production, the embedded defaults are refused: each missing variable is named', async () => {
  const { catalogConfigSchema } = await import('../../services/catalog/src/config.ts');
  const { authConfigSchema } = await import('../../services/auth/src/config.ts');
  const token = 'a-service-token-of-at-least-32-characters';
  // Development: the SQLite file and a generated key are fine.
  expect(parseConfig(catalogConfigSchema, { SERVICE_TOKEN: token }).DATABASE_URL).toBe('sqlite:./data/catalog.sqlite');
  expect(() => parseConfig(catalogConfigSchema, { BOOKSTORE_ENV: 'production', SERVICE_TOKEN: token })).toThrow(/DATABASE_URL: is required when BOOKSTORE_ENV=production/);
  let message = '';
  try {
    parseConfig(authConfigSchema, { BOOKSTORE_ENV: 'production', SERVICE_TOKEN: token });
  } catch (error) {
    message = (error as ConfigError).message;
  }
  expect(message).toContain('DATABASE_URL: is required');
  expect(message).toContain('SIGNING_KEY: is required');
  // Given as Docker secrets (_FILE), they count.
  const dir = mkdtempSync(join(tmpdir(), 'config-'));
  writeFileSync(join(dir, 'url'), 'mariadb://app@db:3306/catalog');
  const config = parseConfig(catalogConfigSchema, { BOOKSTORE_ENV: 'production', SERVICE_TOKEN: token, DATABASE_URL_FILE: join(dir, 'url') });
  expect(config.DATABASE_URL).toBe('mariadb://app@db:3306/catalog');
});

test('a service listens on this machine only unless told otherwise; the image tells it all interfaces', async () => {
  expect(parseConfig(z.object(lifecycleConfig), {}).HOST).toBe('127.0.0.1');
  expect(parseConfig(z.object(lifecycleConfig), { HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  const dockerfile = await Bun.file(join(import.meta.dir, '../../Dockerfile')).text();
  expect(dockerfile).toMatch(/^ENV .*\bHOST=0\.0\.0\.0\b/m);
});
