/** What the figures ran on: the machine, the versions, and each process's resident memory (Linux /proc). */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import type { TestDatabase } from '../shared/src/testing/database.ts';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  os: string;
  /** /proc/loadavg's 1-minute figure before the run: others' work on a shared machine shows here. */
  loadBefore: number;
}

export interface Versions {
  bun: string;
  mariadb: string;
  /** The server settings that weigh most on these figures (commits flushed to disk, cache size). */
  mariadbSettings: string;
  wrk: string;
  hono: string;
}

export interface Memory {
  /** VmRSS, MB. */
  resident: number;
  /** VmHWM: the most it held at any moment, MB. */
  peak: number;
}

export function describeMachine(): Machine {
  const cpuinfo = readText('/proc/cpuinfo');
  return {
    cores: navigator.hardwareConcurrency,
    cpu: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    os: readText('/etc/os-release').match(/^PRETTY_NAME="?([^"\n]+)"?$/m)?.[1] ?? process.platform,
    loadBefore: Number(readText('/proc/loadavg').split(' ')[0] ?? Number.NaN),
  };
}

export async function readVersions(database: TestDatabase, wrk: string): Promise<Versions> {
  const [row] = (await database.query(
    'select version() as version, @@innodb_flush_log_at_trx_commit as flush, round(@@innodb_buffer_pool_size / 1048576) as pool',
  )) as { version: string; flush: number; pool: number }[];
  const hono = JSON.parse(readText(resolve(import.meta.dir, '../web/node_modules/hono/package.json')) || '{}') as { version?: string };
  const mariadbSettings = row ? `innodb_flush_log_at_trx_commit=${row.flush}, innodb_buffer_pool_size=${row.pool} MB` : 'unknown';
  return { bun: Bun.version, mariadb: row?.version ?? 'unknown', mariadbSettings, wrk, hono: hono.version ?? 'unknown' };
}

/** The process's resident memory now and at its peak, from /proc/<pid>/status. */
export function residentMemory(pid: number): Memory {
  const status = readText(`/proc/${pid}/status`);
  const megabytes = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? Number.NaN) / 1024;
  return { resident: megabytes('VmRSS'), peak: megabytes('VmHWM') };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
