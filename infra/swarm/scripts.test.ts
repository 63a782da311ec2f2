/**
 * The operator scripts of infra/swarm: each answers --help; their dry runs print the docker
 * commands they would run (init: exactly the stack's secrets and the node labels; scale: bounds;
 * deploy: build, push, config, deploy in that order); init, scale and rollback against a fake
 * docker CLI that keeps state (no Docker engine runs here): values, idempotence, refusals; and the
 * smoke journey against the four real processes on MariaDB.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Stack } from '../../scripts/stack.ts';
import { startTestStack } from '../../scripts/test-stack.ts';
import { runSmoke } from './smoke.ts';

const root = resolve(import.meta.dir, '../..');
const script = (name: string) => join(root, 'infra/swarm', name);
const realDocker = Bun.which('docker');
/** No engine answers here; pointing at a missing socket keeps it so on a machine where one does. */
const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

function run(command: string[], env: Record<string, string> = {}, stdin?: string) {
  const child = Bun.spawnSync(command, { cwd: root, env: { ...process.env, ...env }, stdin: stdin === undefined ? 'ignore' : Buffer.from(stdin) });
  return { code: child.exitCode, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
}

/** The external secrets the rendered stack declares, by their Swarm name. */
function stackSecrets(): string[] {
  const rendered = run(['docker', 'stack', 'config', '-c', 'infra/swarm/stack.yml'], { ...noEngine, NFS_SERVER_ADDR: '10.0.0.1' });
  if (rendered.code !== 0) throw new Error(`docker stack config: ${rendered.stderr}`);
  const stack = Bun.YAML.parse(rendered.stdout) as { secrets: Record<string, { name?: string; external?: boolean }> };
  return Object.entries(stack.secrets)
    .filter(([, secret]) => secret.external)
    .map(([key, secret]) => secret.name ?? key)
    .sort();
}

describe('--help', () => {
  for (const name of ['init', 'deploy', 'rollback', 'scale', 'smoke']) {
    test(`${name} --help answers with its usage`, () => {
      const result = run([script(name), '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: infra/swarm/${name}`);
      expect(result.stdout).toContain(name === 'smoke' ? '--base-url' : '--dry-run');
    });
  }
});

describe('dry runs', () => {
  test('init creates exactly the secrets stack.yml declares, and labels the nodes named', () => {
    const result = run([script('init'), '--dry-run', '--db-primary', 'node1', '--db-replica', 'node2', '--edge', 'node3', '--zones', 'node1,node2,node3'], noEngine);
    expect(result.code).toBe(0);
    const created = [...result.stdout.matchAll(/^docker secret create (?:--label \S+ )*(\S+) -/gm)].map((match) => match[1]).sort();
    expect(created).toEqual(stackSecrets());
    expect(created.length).toBe(13);
    const labels = result.stdout.split('\n').filter((line) => line.startsWith('docker node update'));
    expect(labels).toEqual([
      'docker node update --label-add bookstore.db=primary node1',
      'docker node update --label-add bookstore.db=replica node2',
      'docker node update --label-add bookstore.edge=true node3',
      'docker node update --label-add bookstore.zone=a node1',
      'docker node update --label-add bookstore.zone=b node2',
      'docker node update --label-add bookstore.zone=c node3',
    ]);
    // The URLs follow infra/mysql/primary/01-databases.sh: user and database named after the service.
    expect(result.stdout).toContain('bookstore_auth_database_url -    # mysql://auth:<bookstore_auth_db_password>@mysql-primary:3306/auth');
    expect(result.stdout).toContain('bookstore_catalog_database_read_urls -    # mysql://catalog:<bookstore_catalog_db_password>@mysql-replica:3306/catalog');
  });

  test('init refuses one node as both primary and replica', () => {
    const result = run([script('init'), '--dry-run', '--db-primary', 'node1', '--db-replica', 'node1'], noEngine);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('same node');
  });

  test('init --rotate prints the procedure: a new secret under a new name, then a service update', () => {
    const result = run([script('init'), '--rotate', 'bookstore_auth_database_url']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/docker secret create bookstore_auth_database_url_\d{12} -/);
    expect(result.stdout).toMatch(/docker service update --secret-rm bookstore_auth_database_url --secret-add source=bookstore_auth_database_url_\d{12},target=bookstore_auth_database_url bookstore_auth/);
    // The signing key goes in three phases: published first, signing next, the old one dropped last.
    const signing = run([script('init'), '--rotate', 'bookstore_signing_key']);
    expect(signing.code).toBe(0);
    expect(signing.stdout).toContain('{ cat current-key.pem new-key.pem; }');
    expect(signing.stdout).toContain('{ cat new-key.pem current-key.pem; }');
    expect(signing.stdout).toMatch(/docker service update --secret-rm bookstore_signing_key --secret-add source=bookstore_signing_key_\d{12},target=bookstore_signing_key bookstore_auth/);
  });

  test('scale refuses a count below the minimum and prints the command for one within bounds', () => {
    const refused = run([script('scale'), '--dry-run', 'web=1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('below the minimum of 2');
    expect(refused.stdout).not.toContain('docker service scale');
    expect(run([script('scale'), '--dry-run', 'catalog=2']).code).toBe(1);
    expect(run([script('scale'), '--dry-run', 'auth=11']).code).toBe(1);
    expect(run([script('scale'), '--dry-run', 'mysql-primary=2']).code).toBe(1);

    const accepted = run([script('scale'), '--dry-run', 'catalog=4']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('docker service scale --detach bookstore_catalog=4');
    expect(run([script('scale'), '--dry-run', '--force', 'web=1']).stdout).toContain('bookstore_web=1');
  });

  test('deploy prints build, push, config and deploy, in that order', () => {
    const env = { ...noEngine, REGISTRY: 'registry.test:5000/shop', TAG: 'v1.2.3', DOMAIN: 'shop.test', NFS_SERVER_ADDR: '10.0.0.1', ACME_EMAIL: 'ops@shop.test' };
    const result = run([script('deploy'), '--dry-run'], env);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    const build = at(/^\+ docker build -t registry\.test:5000\/shop\/bookstore:v1\.2\.3 \.$/);
    const push = at(/^\+ docker push registry\.test:5000\/shop\/bookstore:v1\.2\.3$/);
    const config = at(/^\+ docker stack config -c infra\/swarm\/stack\.yml$/);
    const deploy = at(/^\+ docker stack deploy --with-registry-auth -c infra\/swarm\/stack\.yml bookstore$/);
    expect([build, push, config, deploy].every((index) => index >= 0)).toBe(true);
    expect(build < push && push < config && config < deploy).toBe(true);

    const missing = run([script('deploy'), '--dry-run'], { ...env, REGISTRY: '' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('REGISTRY is not set');
  });

  test('rollback prints a rollback for each app service, or the ones named', () => {
    const all = run([script('rollback'), '--dry-run']);
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n').filter((line) => line.startsWith('docker service rollback'))).toEqual(['web', 'auth', 'catalog', 'purchase'].map((name) => `docker service rollback --detach bookstore_${name}`));
    expect(run([script('rollback'), '--dry-run', 'catalog']).stdout).toContain('docker service rollback --detach bookstore_catalog\n');
  });
});

/**
 * A docker CLI that keeps secrets, node labels, replica counts and rollbacks in files, and hands
 * `stack config` to the real one: enough to run the scripts for real here.
 */
const fakeDocker = `#!/usr/bin/env bash
set -euo pipefail
state=$FAKE_DOCKER_STATE
printf '%s\\n' "$*" >>"$state/calls"
last=\${!#}
case "$1 $2" in
  "info --format") echo 'active true' ;;
  "stack config") exec "$REAL_DOCKER" "$@" ;;
  "secret inspect") [[ -f $state/secrets/$last ]] || { echo "Error: No such secret: $last" >&2; exit 1; }; echo "id-$last" ;;
  "secret create")
    name=\${@: -2:1}
    [[ ! -e $state/secrets/$name ]] || { echo "Error response from daemon: secret $name already exists" >&2; exit 1; }
    cat >"$state/secrets/$name" ;;
  "node inspect") [[ " $FAKE_NODES " == *" $last "* ]] || { echo "Error: No such node: $last" >&2; exit 1; }; echo "$last" ;;
  "node ls")
    label=$(printf '%s\\n' "$@" | sed -n 's/^node\\.label=//p')
    for node in $FAKE_NODES; do grep -qxF "$label" "$state/labels/$node" 2>/dev/null && echo "$node"; done; true ;;
  "node update")
    node=$last
    touch "$state/labels/$node"
    if [[ $3 == --label-add ]]; then grep -v "^\${4%%=*}=" "$state/labels/$node" >"$state/tmp" || true; echo "$4" >>"$state/tmp"; mv "$state/tmp" "$state/labels/$node"
    elif [[ $3 == --label-rm ]]; then grep -v "^$4=" "$state/labels/$node" >"$state/tmp" || true; mv "$state/tmp" "$state/labels/$node"; fi ;;
  "build -t" | "push "*) ;;
  "stack deploy")
    for svc in $(cat "$state/fail_on_deploy" 2>/dev/null); do printf 'rollback_completed\t%s\n' "$(date +%s%N)" >"$state/update/$svc"; done ;;
  "stack services")
    for svc in $FAKE_SERVICES; do
      case $5 in
        '{{.Name}}') echo "$svc" ;;
        *Replicas*) printf '%s\t%s/%s\n' "$svc" "$(cat "$state/replicas/$svc" 2>/dev/null || echo 3)" "$(cat "$state/replicas/$svc" 2>/dev/null || echo 3)" ;;
      esac
    done ;;
  "service inspect")
    format=$4 svc=$last
    if [[ $format == '{{.Spec.Name}}'* ]]; then
      for svc in "\${@:5}"; do
        if [[ $format == *UpdateStatus.State* ]]; then printf '%s\t%s\n' "$svc" "$(cat "$state/update/$svc" 2>/dev/null)"
        else printf '%s\t%s\n' "$svc" "$(cut -f2 "$state/update/$svc" 2>/dev/null)"; fi
      done
    elif [[ $format == *Replicated*replicated* ]]; then echo replicated
    elif [[ $format == *UpdateStatus.State* ]]; then
      count=$(cat "$state/replicas/$svc" 2>/dev/null || echo 3)
      if [[ -f $state/rolledback/$svc ]]; then echo "rollback_completed|2030-01-01T00:00:00Z|$count"; else echo "||$count"; fi
    else echo ""; fi ;;
  "service scale") for pair in "\${@:4}"; do echo "\${pair#*=}" >"$state/replicas/\${pair%%=*}"; done ;;
  "service rollback") touch "$state/rolledback/$last" ;;
  "service ps")
    count=$(cat "$state/replicas/$last" 2>/dev/null || echo 3)
    for ((i = 0; i < count; i++)); do echo "Running 3 seconds ago"; done ;;
  *) echo "fake docker: unexpected: $*" >&2; exit 64 ;;
esac
`;

describe('against a fake docker CLI that keeps state', () => {
  let directory: string;
  let env: Record<string, string>;
  const state = (...parts: string[]) => join(directory, 'state', ...parts);
  const secret = (name: string) => readFileSync(state('secrets', name), 'utf8');
  const calls = () => readFileSync(state('calls'), 'utf8');

  beforeAll(() => {
    if (!realDocker) throw new Error('the docker CLI is needed (for docker stack config)');
    directory = mkdtempSync(join(tmpdir(), 'bookstore-swarm-scripts-'));
    for (const dir of ['bin', 'state/secrets', 'state/labels', 'state/replicas', 'state/rolledback', 'state/update', 'values']) mkdirSync(join(directory, dir), { recursive: true });
    writeFileSync(join(directory, 'bin/docker'), fakeDocker);
    chmodSync(join(directory, 'bin/docker'), 0o755);
    writeFileSync(state('calls'), '');
    env = {
      PATH: `${join(directory, 'bin')}:${process.env.PATH}`,
      REAL_DOCKER: realDocker,
      FAKE_DOCKER_STATE: state(),
      FAKE_NODES: 'node1 node2 node3',
      FAKE_SERVICES: ['web', 'auth', 'catalog', 'purchase', 'edge', 'mysql-primary'].map((name) => `bookstore_${name}`).join(' '),
    };
  });
  afterAll(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  const nodes = ['--db-primary', 'node1', '--db-replica', 'node2', '--edge', 'node3', '--zones', 'node1,node2,node3'];

  test('init creates every secret with a strong value, the URLs built from the passwords, and labels the nodes', () => {
    const result = run([script('init'), ...nodes], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readdirSync(state('secrets')).sort()).toEqual(stackSecrets());

    expect(secret('bookstore_service_token')).toMatch(/^[0-9a-f]{64}$/);
    for (const name of ['root', 'replication', 'auth', 'catalog', 'purchase']) {
      expect(secret(`bookstore_${['root', 'replication'].includes(name) ? `db_${name}` : `${name}_db`}_password`)).toMatch(/^[0-9a-f]{48}$/);
    }
    expect(new Set(['auth', 'catalog', 'purchase'].map((svc) => secret(`bookstore_${svc}_db_password`))).size).toBe(3);
    const key = createPrivateKey(secret('bookstore_signing_key'));
    expect(key.asymmetricKeyType).toBe('ed25519');
    for (const svc of ['auth', 'catalog', 'purchase']) {
      const password = secret(`bookstore_${svc}_db_password`);
      expect(secret(`bookstore_${svc}_database_url`)).toBe(`mysql://${svc}:${password}@mysql-primary:3306/${svc}`);
      expect(secret(`bookstore_${svc}_database_read_urls`)).toBe(`mysql://${svc}:${password}@mysql-replica:3306/${svc}`);
    }
    // No value reaches the output or a command line.
    for (const name of readdirSync(state('secrets'))) {
      const value = secret(name).split('\n')[1] ?? secret(name);
      expect(result.stdout).not.toContain(value);
      expect(calls()).not.toContain(value);
    }
    expect(readFileSync(state('labels/node1'), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['bookstore.db=primary', 'bookstore.zone=a']);
    expect(readFileSync(state('labels/node2'), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['bookstore.db=replica', 'bookstore.zone=b']);
    expect(readFileSync(state('labels/node3'), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['bookstore.edge=true', 'bookstore.zone=c']);
  });

  test('init run again creates nothing and changes no secret', () => {
    const before = Object.fromEntries(readdirSync(state('secrets')).map((name) => [name, secret(name)]));
    writeFileSync(state('calls'), '');
    const result = run([script('init'), ...nodes], env);
    expect(result.code).toBe(0);
    expect(calls()).not.toContain('secret create');
    expect(result.stdout).toContain('0 secret(s) created, 13 kept');
    expect(Object.fromEntries(readdirSync(state('secrets')).map((name) => [name, secret(name)]))).toEqual(before);
  });

  test('init will not build a URL from a password it cannot read back, unless given it', () => {
    const password = secret('bookstore_catalog_db_password');
    rmSync(state('secrets/bookstore_catalog_database_url'));
    const refused = run([script('init')], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--values-dir');
    expect(existsSync(state('secrets/bookstore_catalog_database_url'))).toBe(false);

    writeFileSync(join(directory, 'values/bookstore_catalog_db_password'), `${password}\n`);
    const given = run([script('init'), '--values-dir', join(directory, 'values')], env);
    expect(given.code).toBe(0);
    expect(secret('bookstore_catalog_database_url')).toBe(`mysql://catalog:${password}@mysql-primary:3306/catalog`);
  });

  test('init will not move a database label to another node without --force', () => {
    const refused = run([script('init'), '--db-primary', 'node3'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('node1 already has bookstore.db=primary');
    const forced = run([script('init'), '--db-primary', 'node3', '--force'], env);
    expect(forced.code).toBe(0);
    expect(readFileSync(state('labels/node1'), 'utf8')).not.toContain('bookstore.db');
    expect(readFileSync(state('labels/node3'), 'utf8')).toContain('bookstore.db=primary');
  });

  test('init --external-db takes the URLs from the environment', () => {
    for (const name of readdirSync(state('secrets'))) if (name.endsWith('_urls') || name.endsWith('_url')) rmSync(state('secrets', name));
    const urls = { AUTH_DATABASE_URL: 'mysql://auth:pw1@rds-writer.example:3306/auth', AUTH_DATABASE_READ_URLS: 'mysql://auth:pw1@rds-reader.example:3306/auth', CATALOG_DATABASE_URL: 'mysql://catalog:pw2@rds-writer.example:3306/catalog', PURCHASE_DATABASE_URL: 'mysql://purchase:pw3@rds-writer.example:3306/purchase' };
    const missing = run([script('init'), '--external-db'], { ...env, ...urls, PURCHASE_DATABASE_URL: '' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('PURCHASE_DATABASE_URL is not set');
    for (const name of readdirSync(state('secrets'))) if (name.endsWith('_urls') || name.endsWith('_url')) rmSync(state('secrets', name));
    const result = run([script('init'), '--external-db'], { ...env, ...urls });
    expect(result.code).toBe(0);
    expect(secret('bookstore_auth_database_read_urls')).toBe(urls.AUTH_DATABASE_READ_URLS);
    expect(secret('bookstore_catalog_database_read_urls')).toBe(urls.CATALOG_DATABASE_URL); // no reader given: the writer
    expect(result.stdout).not.toContain('pw1');
  });

  test('scale sends one docker service scale and waits until the replicas run', () => {
    writeFileSync(state('calls'), '');
    const result = run([script('scale'), 'catalog=4', 'web=3'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(calls()).toContain('service scale --detach bookstore_catalog=4 bookstore_web=3');
    expect(result.stdout).toContain('bookstore_catalog: 4 running');
  });

  const deployEnv = { REGISTRY: 'registry.test/shop', TAG: 'v2', DOMAIN: 'shop.test', NFS_SERVER_ADDR: '10.0.0.1', ACME_EMAIL: 'ops@shop.test', DOCKER_SOCKET_GID: '998' };

  test('deploy checks secrets and labels, builds, pushes, deploys and waits until every service converged', () => {
    writeFileSync(state('calls'), '');
    const result = run([script('deploy'), '--poll', '1'], { ...env, ...deployEnv });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const sent = calls().split('\n');
    const at = (prefix: string) => sent.findIndex((line) => line.startsWith(prefix));
    expect(at('secret inspect')).toBeGreaterThanOrEqual(0);
    expect(at('node ls -q --filter node.label=bookstore.db=primary')).toBeGreaterThanOrEqual(0);
    expect(at('build -t registry.test/shop/bookstore:v2 .')).toBeLessThan(at('push registry.test/shop/bookstore:v2'));
    expect(at('push')).toBeLessThan(at('stack deploy --with-registry-auth -c infra/swarm/stack.yml bookstore'));
    expect(result.stdout).toContain('every service converged');
  }, 20_000);

  test('deploy fails, naming the service, when this deploy rolled one back; refuses to start without a secret', () => {
    writeFileSync(state('fail_on_deploy'), 'bookstore_catalog');
    const failed = run([script('deploy'), '--no-build', '--poll', '1'], { ...env, ...deployEnv });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('not converged: bookstore_catalog (rollback_completed)');
    rmSync(state('fail_on_deploy'));
    // The rollback above is an old one now: the next deploy is not blamed for it.
    expect(run([script('deploy'), '--no-build', '--poll', '1'], { ...env, ...deployEnv }).code).toBe(0);

    rmSync(state('secrets/bookstore_signing_key'));
    writeFileSync(state('calls'), '');
    const refused = run([script('deploy'), '--poll', '1'], { ...env, ...deployEnv });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('missing secrets: bookstore_signing_key');
    expect(calls()).not.toContain('build');
  }, 30_000);

  test('rollback rolls back each app service and waits until each has completed', () => {
    writeFileSync(state('calls'), '');
    const result = run([script('rollback')], env);
    expect(result.code).toBe(0);
    for (const svc of ['web', 'auth', 'catalog', 'purchase']) expect(calls()).toContain(`service rollback --detach bookstore_${svc}`);
    expect(result.stdout).toContain('rolled back: bookstore_web bookstore_auth bookstore_catalog bookstore_purchase');
  });
});

describe('smoke journey against the four processes', () => {
  let shop: Awaited<ReturnType<typeof startTestStack>>;
  let stack: Stack;
  const seller = { email: 'alice@bookstore.test', password: 'alice-demo-pass' };

  beforeAll(async () => {
    shop = await startTestStack('smoke');
    stack = shop.stack;
  }, 60_000);

  afterAll(() => shop?.stop());

  test('with no book in stock and no seller, it fails at the catalog and says why', async () => {
    const result = await runSmoke(stack.urls.web);
    expect(result.ok).toBe(false);
    const failed = result.steps.at(-1)!;
    expect(failed).toMatchObject({ name: 'catalog', ok: false, status: 200 });
    expect(failed.detail).toContain('the catalog has no book in stock');
  }, 20_000);

  test('a seller who cannot log in fails that step, with the status and the start of the page', async () => {
    const result = await runSmoke(stack.urls.web, { seedSeller: { email: seller.email, password: 'not-her-password' } });
    expect(result.ok).toBe(false);
    const failed = result.steps.at(-1)!;
    expect(failed.name).toBe('seller log in');
    expect(failed.status).toBe(401);
    expect(failed.detail).toContain('expected 200, got 401');
    expect(failed.body!.length).toBeLessThanOrEqual(300);
    expect(failed.body).toContain('Email or password is incorrect');
  }, 20_000);

  test('a seller adds a book, then register → log in → browse → buy ends with the order paid', async () => {
    const result = await runSmoke(stack.urls.web, { seedSeller: seller });
    const failed = result.steps.find((step) => !step.ok);
    expect(failed).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.steps.map((step) => step.name)).toEqual(['home', 'register', 'log out', 'log in', 'catalog', 'seller log in', 'add a book', 'catalog (seeded)', 'book', 'add to cart', 'cart', 'checkout', 'place order', 'pay', 'order paid']);
    expect(result.steps.every((step) => step.status === 200 && step.ms >= 0)).toBe(true);
    expect(result.orderId).toMatch(/^ord_[a-z2-7]{24}$/);
  }, 30_000);

  test('the command line: one line per step, then a book in stock needs no seller', () => {
    const result = run([script('smoke'), '--base-url', stack.urls.web]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((line) => /^ok {4}\S/.test(line))).toHaveLength(12);
    expect(lines.at(-1)).toMatch(/^smoke: passed, 12 steps in \d+ ms .*: order ord_\S+ paid$/);
  }, 30_000);

  test('with the web front down, it fails at the first step and names it', async () => {
    await stack.kill('web');
    const result = await runSmoke(stack.urls.web);
    expect(result.ok).toBe(false);
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0]).toMatchObject({ name: 'home', ok: false, status: null });

    const cli = run([script('smoke'), '--base-url', stack.urls.web, '--json']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('smoke: FAILED at step "home" (no response)');
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, steps: [{ name: 'home', ok: false }] });
  }, 20_000);
});
