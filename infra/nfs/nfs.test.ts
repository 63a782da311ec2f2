/**
 * The NFS share, for real: Debian's userspace NFS server (nfs-ganesha, VFS FSAL) exports a
 * directory prepared by server-export.sh over NFSv4 on 127.0.0.1 (a free port, no rpcbind), with
 * the export options of production (all_squash to 10001:10001). Two separate libnfs clients
 * (nfs-cp, then nfs-cat / nfs-ls) write and read it, the file is checked on disk, and check.sh
 * compares the NFS views with the exported directory.
 *
 * Needs root (ganesha's VFS FSAL opens files by handle) and the apt packages nfs-ganesha,
 * nfs-ganesha-vfs and libnfs-utils (installed by .ci/run), plus the docker CLI for
 * `docker stack config`. Installs nothing; stops every process it starts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Subprocess } from 'bun';

const here = import.meta.dir;
const repo = resolve(here, '../..');
const serverExport = join(here, 'server-export.sh');
const clientMount = join(here, 'client-mount.sh');
const check = join(here, 'check.sh');

/** The pseudo path clients mount: the same as the kernel server's default export path. */
const exportPath = '/srv/bookstore-shared';
const APP_UID = 10001;

let dir = '';
let share = '';
let port = 0;
let ganesha: Subprocess | null = null;
let logFile = '';

type Result = { code: number; stdout: string; stderr: string };

async function run(cmd: string[], options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<Result> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...options.env })) if (value !== undefined) env[key] = value;
  const child = Bun.spawn(cmd, {
    cwd: repo,
    env,
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
    timeout: options.timeoutMs ?? 10_000,
    killSignal: 'SIGKILL',
  });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

function show(result: Result): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** nfs:// URL of a path in the share, for libnfs: NFSv4 straight to the port, as uid 0 (squashed). */
function url(path = ''): string {
  return `nfs://127.0.0.1${exportPath}${path ? `/${path}` : ''}?version=4&nfsport=${port}`;
}

async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const chosen = listener.port;
  listener.stop(true);
  return chosen;
}

function logTail(lines = 25): string {
  if (!logFile || !existsSync(logFile)) return '(no ganesha log written)';
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function killGanesha(): void {
  if (ganesha && ganesha.exitCode === null && ganesha.signalCode === null) ganesha.kill('SIGKILL');
}
process.on('exit', killGanesha);

function ganeshaConf(): string {
  return `
NFS_CORE_PARAM {
  Protocols = 4;            # NFSv4 needs no rpcbind and no mountd: one TCP port
  NFS_Port = ${port};
  Bind_addr = 127.0.0.1;
  Enable_NLM = false;
  Enable_RQUOTA = false;
}
NFS_KRB5 { Active_krb5 = false; }
NFSV4 {
  Graceless = true;         # no 90 s grace period after start
  RecoveryBackend = fs;
  RecoveryRoot = ${dir}/recovery;
  Only_Numeric_Owners = true;
}
EXPORT {
  Export_Id = 1;
  Path = ${share};
  Pseudo = ${exportPath};
  Protocols = 4;
  Transports = TCP;
  SecType = sys;
  Access_Type = None;
  # the same as server-export.sh's rw,all_squash,anonuid=10001,anongid=10001 for --clients 127.0.0.1
  CLIENT {
    Clients = 127.0.0.1;
    Protocols = 4;
    Access_Type = RW;
    Squash = All_Squash;
    Anonymous_Uid = ${APP_UID};
    Anonymous_Gid = ${APP_UID};
  }
  FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
`;
}

async function startGanesha(): Promise<void> {
  const why = (reason: string) =>
    new Error(`nfs-ganesha did not start: ${reason}\n--- last lines of ${logFile}\n${logTail()}`);
  if (!Bun.which('ganesha.nfsd')) throw new Error('ganesha.nfsd not found: apt-get install -y nfs-ganesha nfs-ganesha-vfs libnfs-utils');
  if (!Bun.which('nfs-cp')) throw new Error('nfs-cp not found: apt-get install -y libnfs-utils');
  if (process.getuid?.() !== 0) throw new Error("nfs-ganesha's VFS FSAL needs root (open_by_handle_at): run the tests as root, as CI does");
  port = await freePort();
  writeFileSync(join(dir, 'ganesha.conf'), ganeshaConf());
  ganesha = Bun.spawn(['ganesha.nfsd', '-F', '-f', join(dir, 'ganesha.conf'), '-L', logFile, '-p', join(dir, 'ganesha.pid'), '-N', 'NIV_EVENT'], {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (ganesha.exitCode !== null || ganesha.signalCode !== null) {
      const stderr = await new Response(ganesha.stderr as ReadableStream).text();
      throw why(`it exited with ${ganesha.exitCode ?? ganesha.signalCode}${stderr ? `; stderr: ${stderr.trim()}` : ''}`);
    }
    if (existsSync(logFile) && readFileSync(logFile, 'utf8').includes('NFS SERVER INITIALIZED')) {
      const probe = await run(['nfs-ls', url()], { timeoutMs: 3000 });
      if (probe.code === 0) return;
    }
    await Bun.sleep(100);
  }
  throw why(`no working export on 127.0.0.1:${port} after 10 s`);
}

async function stopGanesha(): Promise<void> {
  if (!ganesha || ganesha.exitCode !== null || ganesha.signalCode !== null) return;
  ganesha.kill('SIGTERM');
  const stopped = await Promise.race([ganesha.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
  if (!stopped) {
    ganesha.kill('SIGKILL');
    await ganesha.exited;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bookstore-nfs-'));
  chmodSync(dir, 0o755);
  share = join(dir, 'share');
  logFile = join(dir, 'ganesha.log');
  mkdirSync(join(dir, 'recovery'));
  // The storage host's side, with the real script (only the exports file is a scratch copy).
  const prepared = await run([
    serverExport, '--dir', share, '--clients', '127.0.0.1', '--exports-file', join(dir, 'exports'),
    '--no-reload', '--seed-static', join(repo, 'web/static'),
  ]);
  if (prepared.code !== 0) throw new Error(`server-export.sh failed:\n${show(prepared)}`);
  await startGanesha();
}, 20_000);

afterAll(async () => {
  await stopGanesha();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 10_000);

describe('NFSv4 share served by nfs-ganesha', () => {
  test('a file written through one client is read through another and lands on disk as 10001', async () => {
    const name = `cover-${crypto.randomUUID()}.bin`;
    // Debian 12's libnfs 4.0 cannot encode one NFSv4 WRITE of more than 3944 bytes ("ZDR error:
    // Failed to encode COMPOUND4args", client side) and nfs-cp writes a file in one call: stay below.
    const content = crypto.getRandomValues(new Uint8Array(3900));
    const local = join(dir, name);
    writeFileSync(local, content);

    const written = await run(['nfs-cp', local, url(`uploads/${name}`)]);
    expect(written.code, show(written)).toBe(0);

    const read = Bun.spawn(['nfs-cat', url(`uploads/${name}`)], { stdout: 'pipe', stderr: 'pipe', timeout: 10_000 });
    const bytes = new Uint8Array(await new Response(read.stdout).arrayBuffer());
    expect(await read.exited, await new Response(read.stderr).text()).toBe(0);
    expect(Buffer.compare(bytes, content)).toBe(0);

    const listed = await run(['nfs-ls', url('uploads')]);
    expect(listed.code, show(listed)).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^-\\S+\\s+1\\s+${APP_UID}\\s+${APP_UID}\\s+${content.length} ${name}$`, 'm'));

    const onDisk = join(share, 'uploads', name);
    expect(Buffer.compare(readFileSync(onDisk), content)).toBe(0);
    expect(statSync(onDisk).uid).toBe(APP_UID); // all_squash: the root client became the app user
    expect(statSync(onDisk).gid).toBe(APP_UID);
  });

  test('a large file written on the server reads back whole through NFS (many READs)', async () => {
    const content = crypto.getRandomValues(new Uint8Array(3 * 1024 * 1024 + 17));
    writeFileSync(join(share, 'uploads', 'large.bin'), content);
    const copy = join(dir, 'large.copy');
    const copied = await run(['nfs-cp', url('uploads/large.bin'), copy]);
    expect(copied.code, show(copied)).toBe(0);
    expect(Buffer.compare(readFileSync(copy), content)).toBe(0);
  });

  test('the static files on disk (favicon, css) read the same through NFS', async () => {
    const files = readdirSync(join(share, 'static'));
    expect(files).toContain('favicon.ico');
    for (const file of files) {
      const read = Bun.spawn(['nfs-cat', url(`static/${file}`)], { stdout: 'pipe', stderr: 'pipe', timeout: 10_000 });
      const bytes = new Uint8Array(await new Response(read.stdout).arrayBuffer());
      expect(await read.exited, `${file}: ${await new Response(read.stderr).text()}`).toBe(0);
      expect(Buffer.compare(bytes, readFileSync(join(repo, 'web/static', file))), file).toBe(0);
    }
  });

  test('check.sh: two NFS clients and the exported directory see the same files', async () => {
    const result = await run([check, '--nfs', url(), '--local', share, '--nfs', url()]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toContain(`marker .nfs-check-`);
    expect(result.stdout.match(/^ {2}\S.* OK {4}marker read/gm)?.length, show(result)).toBe(3);
    expect(result.stdout).toContain('OK: all 3 views see the same files');
    // the marker, written over NFS, was deleted through the local view
    expect(readdirSync(share).filter((name) => name.startsWith('.nfs-check-'))).toEqual([]);

    const staticOnly = await run([check, '--sub', 'static', '--local', share, '--nfs', url()]);
    expect(staticOnly.code, show(staticOnly)).toBe(0);
    expect(staticOnly.stdout).toContain('(static, ');
  });

  test('check.sh fails and names the view that differs', async () => {
    const copy = join(dir, 'stale-copy');
    cpSync(share, copy, { recursive: true });
    writeFileSync(join(copy, 'static', 'stale.css'), 'body{}');
    const result = await run([check, '--timeout', '1', '--nfs', url(), '--local', copy]);
    expect(result.code, show(result)).toBe(1);
    expect(result.stdout).toMatch(/local:\S+stale-copy +FAIL +marker not visible after 1s/);
    expect(result.stdout).toContain('this view: ');
    expect(result.stdout).toContain('static/stale.css');
    expect(result.stdout).toContain('FAIL: 1 of 2 views');
  });
});

describe('operator scripts', () => {
  test('server-export.sh is idempotent and writes the production export options', async () => {
    const exportsFile = join(dir, 'exports');
    const before = readFileSync(exportsFile, 'utf8');
    expect(before).toContain(`${share} 127.0.0.1(rw,sync,no_subtree_check,sec=sys,all_squash,anonuid=10001,anongid=10001)`);
    const again = await run([serverExport, '--dir', share, '--clients', '127.0.0.1', '--exports-file', exportsFile, '--no-reload']);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toContain('(unchanged)');
    expect(readFileSync(exportsFile, 'utf8')).toBe(before);
    for (const sub of ['', 'static', 'uploads']) {
      const stat = statSync(join(share, sub));
      expect([stat.uid, stat.gid, stat.mode & 0o7777]).toEqual([APP_UID, APP_UID, 0o2775]);
    }

    writeFileSync(exportsFile, `${before}/elsewhere 10.0.0.9(rw)\n${join(dir, 'other')} 10.0.0.9(ro)\n`);
    const foreign = await run([serverExport, '--dir', join(dir, 'other'), '--clients', '10.0.0.0/24', '--exports-file', exportsFile, '--no-reload']);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('did not write');
    expect(existsSync(join(dir, 'other'))).toBe(false); // refused before touching anything

    const world = await run([serverExport, '--clients', '*', '--exports-file', exportsFile, '--no-reload']);
    expect(world.code).toBe(1);
    expect(world.stderr).toContain('whole world');
  });

  test('client-mount.sh writes one NFS 4.1 fstab line, once', async () => {
    const fstab = join(dir, 'fstab');
    writeFileSync(fstab, 'UUID=0000 / ext4 defaults 0 1\n');
    const args = [clientMount, '--server', '10.0.0.10', '--fstab', fstab, '--no-mount'];
    const first = await run(args);
    expect(first.code, show(first)).toBe(0);
    const written = readFileSync(fstab, 'utf8');
    expect(written).toContain(
      '10.0.0.10:/srv/bookstore-shared /mnt/bookstore-shared nfs nfsvers=4.1,proto=tcp,hard,timeo=600,retrans=2,noatime,rsize=1048576,wsize=1048576,_netdev,nofail 0 0',
    );
    const second = await run(args);
    expect(second.code, show(second)).toBe(0);
    expect(readFileSync(fstab, 'utf8')).toBe(written);

    const moved = await run([clientMount, '--server', '10.0.0.11', '--fstab', fstab, '--no-mount']);
    expect(moved.code, show(moved)).toBe(0);
    const lines = readFileSync(fstab, 'utf8').split('\n').filter((line) => line.includes('/mnt/bookstore-shared'));
    expect(lines).toEqual([expect.stringMatching(/^10\.0\.0\.11:\/srv\/bookstore-shared /)]);

    const missing = await run([clientMount, '--fstab', fstab, '--no-mount']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--server is required');
  });

  test('check.sh over ssh runs its commands on each node (ssh replaced by a local stand-in)', async () => {
    // A stand-in for ssh: runs the remote command here, reports the mount as nfs4, and fails for
    // the host "down". It exercises the quoting of the remote commands, not a network.
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, 'ssh'),
      `#!/usr/bin/env bash
while [[ $1 == -o || $1 == -p || $1 == -i ]]; do shift 2; done
host=$1; shift
if [[ $host == down ]]; then echo "ssh: connect to host down port 22: Connection refused" >&2; exit 255; fi
findmnt() { echo nfs4; }; export -f findmnt
exec bash -c "$*"
`,
      { mode: 0o755 },
    );
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const ok = await run([check, '--path', share, '--sub', 'static', 'node1', 'node2'], { env });
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toContain('OK: all 2 views');
    const down = await run([check, '--path', share, 'node1', 'down', 'node3'], { env });
    expect(down.code, show(down)).toBe(1);
    expect(down.stdout).toMatch(/ssh:down +FAIL +not reachable/);
    expect(down.stdout).toMatch(/ssh:node3 +OK/);
  });

  test('volume.yml is a valid stack fragment with the NFS 4.1 options', async () => {
    const env = { NFS_SERVER_ADDR: '10.0.0.10', NFS_EXPORT_DIR: undefined };
    const rendered = await run(['docker', 'stack', 'config', '-c', join(here, 'volume.yml')], { env });
    expect(rendered.code, show(rendered)).toBe(0);
    const config = Bun.YAML.parse(rendered.stdout) as { volumes: Record<string, { driver: string; driver_opts: Record<string, string> }> };
    for (const [volume, device] of [['bookstore_static', ':/srv/bookstore-shared/static'], ['bookstore_uploads', ':/srv/bookstore-shared/uploads']] as const) {
      const definition = config.volumes[volume]!;
      expect(definition.driver).toBe('local');
      expect(definition.driver_opts.type).toBe('nfs');
      expect(definition.driver_opts.device).toBe(device);
      const options = definition.driver_opts.o!.split(',');
      expect(options).toEqual(expect.arrayContaining(['addr=10.0.0.10', 'nfsvers=4.1', 'rw', 'hard', 'noatime', 'timeo=600', 'retrans=2']));
    }
    const unset = await run(['docker', 'stack', 'config', '-c', join(here, 'volume.yml')], { env: { NFS_SERVER_ADDR: undefined } });
    expect(unset.code).not.toBe(0);
    expect(unset.stderr).toContain('NFS_SERVER_ADDR');
  });
});
