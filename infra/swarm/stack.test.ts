/**
 * The Swarm stack, checked offline: `docker stack config` accepts it, every service has what a
 * rolling, self-healing deployment needs, everything it references is declared, and every variable
 * a service gets is one its config knows (and every required one is set). Then each app service's
 * start command runs as a plain process with the stack's own environment (hosts, secrets and
 * volumes pointed at this machine) and reaches ready: the image and the code agree.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../shared/src/testing/database.ts';
import { eventually } from '../../shared/src/testing/http.ts';
import { findFreePorts, memorySettings } from '../../scripts/stack.ts';
import { buildImageLayout } from './image-layout.ts';
import { authConfigSchema } from '../../services/auth/src/config.ts';
import { catalogConfigSchema } from '../../services/catalog/src/config.ts';
import { purchaseConfigSchema } from '../../services/purchase/src/config.ts';
import { webConfigSchema } from '../../web/src/config.ts';

const root = resolve(import.meta.dir, '../..');
const stackFile = join(root, 'infra/swarm/stack.yml');

interface Service {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  secrets?: { source: string }[];
  configs?: { source: string }[];
  volumes?: { type: string; source: string; target: string }[];
  networks?: Record<string, unknown>;
  healthcheck?: { test: string[] };
  deploy?: {
    mode?: string;
    replicas?: number;
    update_config?: { order?: string; failure_action?: string };
    restart_policy?: { condition?: string };
    resources?: { limits?: { cpus?: string; memory?: string | number } };
    placement?: { constraints?: string[]; preferences?: unknown[]; max_replicas_per_node?: number };
  };
}
interface Stack {
  services: Record<string, Service>;
  networks: Record<string, unknown>;
  volumes: Record<string, unknown>;
  secrets: Record<string, unknown>;
  configs: Record<string, unknown>;
}

let stack: Stack;
beforeAll(() => {
  const rendered = Bun.spawnSync(['docker', 'stack', 'config', '-c', stackFile], { env: { ...process.env, NFS_SERVER_ADDR: '10.0.0.5', DOMAIN: 'shop.example.com', TAG: 'test' } });
  if (rendered.exitCode !== 0) throw new Error(`docker stack config refused the stack: ${rendered.stderr.toString()}`);
  stack = Bun.YAML.parse(rendered.stdout.toString()) as Stack;
});

/** A service's config schema, as far as this test reads it. */
type ConfigSchema = { shape: Record<string, { safeParse(value: unknown): { success: boolean } }> };
const appSchemas: Record<string, ConfigSchema> = {
  web: webConfigSchema,
  auth: authConfigSchema,
  catalog: catalogConfigSchema,
  purchase: purchaseConfigSchema,
};
const appReplicas: Record<string, number> = { web: 2, auth: 3, catalog: 3, purchase: 3 };

test('docker stack config accepts the stack, with the services an operator expects', () => {
  expect(Object.keys(stack.services).sort()).toEqual(['auth', 'autoscaler', 'catalog', 'docker-stats', 'edge', 'mysql-primary', 'mysql-replica', 'purchase', 'web']);
});

test('every service has a health check, a restart policy, resource limits and a rollback on a failed update', () => {
  for (const [name, service] of Object.entries(stack.services)) {
    expect({ name, healthcheck: Array.isArray(service.healthcheck?.test) }).toEqual({ name, healthcheck: true });
    expect({ name, restart: service.deploy?.restart_policy?.condition }).toEqual({ name, restart: 'any' });
    expect({ name, cpus: Boolean(service.deploy?.resources?.limits?.cpus), memory: Boolean(service.deploy?.resources?.limits?.memory) }).toEqual({ name, cpus: true, memory: true });
    expect({ name, failure: service.deploy?.update_config?.failure_action }).toEqual({ name, failure: 'rollback' });
  }
});

test('the app services run 2 (web) or 3 replicas, update start-first, and spread over nodes; only the edge is published', () => {
  for (const [name, replicas] of Object.entries(appReplicas)) {
    const deploy = stack.services[name]!.deploy!;
    expect({ name, replicas: deploy.replicas, order: deploy.update_config?.order }).toEqual({ name, replicas, order: 'start-first' });
    expect({ name, spread: (deploy.placement?.preferences?.length ?? 0) > 0, perNode: deploy.placement?.max_replicas_per_node }).toEqual({ name, spread: true, perNode: 4 });
  }
  const published = Object.entries(stack.services).filter(([, service]) => (service as { ports?: unknown[] }).ports?.length).map(([name]) => name);
  expect(published).toEqual(['edge']);
});

test('every volume, network, secret and config a service uses is declared', () => {
  for (const [name, service] of Object.entries(stack.services)) {
    for (const volume of service.volumes ?? []) if (volume.type === 'volume') expect({ name, volume: volume.source in stack.volumes }).toEqual({ name, volume: true });
    for (const network of Object.keys(service.networks ?? {})) expect({ name, network: network in stack.networks }).toEqual({ name, network: true });
    for (const secret of service.secrets ?? []) expect({ name, secret: secret.source in stack.secrets }).toEqual({ name, secret: true });
    for (const config of service.configs ?? []) expect({ name, config: config.source in stack.configs }).toEqual({ name, config: true });
  }
});

/** Read by the runtime itself, not by a service's config (scripts/stack.ts `memorySettings`). */
const runtimeVariables = Object.keys(memorySettings);

test('every variable an app service gets is one its config knows (or the runtime reads), and every required one is set', () => {
  for (const [name, schema] of Object.entries(appSchemas)) {
    const environment = stack.services[name]!.environment ?? {};
    const known = Object.keys(schema.shape);
    for (const variable of Object.keys(environment)) {
      const base = variable.replace(/_FILE$/, '');
      expect({ name, variable, known: known.includes(base) || runtimeVariables.includes(variable) }).toEqual({ name, variable, known: true });
    }
    for (const variable of known) {
      const required = !schema.shape[variable]!.safeParse(undefined).success || ['DATABASE_URL', 'SIGNING_KEY', 'SERVICE_TOKEN'].includes(variable);
      if (!required) continue;
      const given = variable in environment || `${variable}_FILE` in environment;
      expect({ name, variable, given }).toEqual({ name, variable, given: true });
    }
    expect({ name, env: environment.BOOKSTORE_ENV }).toEqual({ name, env: 'production' });
  }
});

describe('each app service started as the image starts it, with the stack environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-run-'));
  const databases: TestDatabase[] = [];
  const children: { name: string; child: Bun.Subprocess; output: string[] }[] = [];
  const ports: Record<string, number> = {};

  afterAll(async () => {
    for (const { child } of children) child.kill('SIGKILL');
    await Promise.all(children.map(({ child }) => child.exited));
    await Promise.all(databases.map((db) => db.drop()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('all four reach ready from the image\'s own files, and the container health check passes for each', async () => {
    // What the Dockerfile copies (and .dockerignore leaves out), with its production-only install.
    const image = buildImageLayout(join(dir, 'image'));
    const [web, auth, catalog, purchase] = await findFreePorts(4);
    Object.assign(ports, { web, auth, catalog, purchase });
    const [authDb, catalogDb, purchaseDb] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()]);
    databases.push(authDb!, catalogDb!, purchaseDb!);
    // The secrets the stack names, with values for this machine.
    const { generateKeyPairSync } = await import('node:crypto');
    const secrets: Record<string, string> = {
      bookstore_service_token: 'stack-test-service-token-0123456789abcdef',
      bookstore_signing_key: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      bookstore_auth_database_url: authDb!.url,
      bookstore_catalog_database_url: catalogDb!.url,
      bookstore_purchase_database_url: purchaseDb!.url,
      bookstore_auth_database_read_urls: '',
      bookstore_catalog_database_read_urls: '',
      bookstore_purchase_database_read_urls: '',
    };
    mkdirSync(join(dir, 'secrets'));
    for (const [name, value] of Object.entries(secrets)) writeFileSync(join(dir, 'secrets', name), value);
    const local = (value: string) =>
      value
        .replace(/^\/run\/secrets\//, `${dir}/secrets/`)
        .replace(/http:\/\/(auth|catalog|purchase|web):\d+/, (_, host: string) => `http://127.0.0.1:${ports[host]}`)
        .replace(/^\/data\//, `${dir}/`);

    for (const name of ['auth', 'catalog', 'purchase', 'web']) {
      const service = stack.services[name]!;
      const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
      for (const [key, value] of Object.entries(service.environment ?? {})) env[key] = local(String(value));
      env.PORT = String(ports[name]);
      mkdirSync(join(dir, 'static'), { recursive: true });
      const output: string[] = [];
      const child = Bun.spawn(['bun', ...service.command!], { cwd: image, env, stdout: 'pipe', stderr: 'pipe' });
      for (const stream of [child.stdout, child.stderr]) void (async () => { for await (const chunk of stream) output.push(new TextDecoder().decode(chunk)); })();
      children.push({ name, child, output });
    }
    for (const { name, output, child } of children) {
      const ready = await eventually(async () => child.exitCode !== null || (await fetch(`http://127.0.0.1:${ports[name]}/health/ready`).catch(() => null))?.status === 200, 30_000, 200);
      if (ready === null || child.exitCode !== null) throw new Error(`${name} did not become ready (exit ${child.exitCode}): ${output.join('').slice(-1500)}`);
    }
    // The image's HEALTHCHECK, as the stack states it, run against each.
    for (const { name } of children) {
      const check = stack.services[name]!.healthcheck!.test;
      const result = Bun.spawnSync(check.slice(1), { env: { PATH: process.env.PATH ?? '', PORT: String(ports[name]) } });
      expect({ name, exit: result.exitCode }).toEqual({ name, exit: 0 });
    }
  }, 90_000);
});
