/**
 * The image's file tree without a Docker engine: follows the Dockerfile's COPY and RUN lines (and
 * .dockerignore) into a directory, so a test can start each service from exactly what the image
 * holds. Handles what our Dockerfile uses: two stages, COPY from the context or `--from=<stage>`,
 * WORKDIR /app, and `RUN bun …` (other RUN lines, like adding the user, are skipped).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

const contextRoot = join(import.meta.dir, '../..');

function ignored(patterns: string[], path: string): boolean {
  return patterns.some((pattern) => new Bun.Glob(pattern).match(path) || new Bun.Glob(`${pattern}/**`).match(path));
}

/** Copies `source` (a file or a tree) to `target`, leaving out what .dockerignore names. */
function copyFromContext(patterns: string[], source: string, target: string) {
  const rel = relative(contextRoot, source);
  if (ignored(patterns, rel)) return;
  if (statSync(source).isDirectory()) {
    mkdirSync(target, { recursive: true });
    for (const entry of readdirSync(source)) copyFromContext(patterns, join(source, entry), join(target, entry));
    return;
  }
  mkdirSync(dirname(target), { recursive: true });
  cpSync(source, target);
}

/** Where a COPY puts `source`: into `dest/` as a directory, or at `dest` itself. */
function destination(stageRoot: string, source: string, dest: string): string {
  if (dest === './' || dest === '.') return join(stageRoot, basename(source));
  return dest.endsWith('/') ? join(stageRoot, dest, basename(source)) : join(stageRoot, dest);
}

/**
 * Builds the final stage's tree under `into` and returns its root (the image's /app).
 *
 * @example const app = buildImageLayout('/tmp/image'); Bun.spawn(['bun', 'web/src/main.ts'], { cwd: app });
 */
export function buildImageLayout(into: string): string {
  const dockerfile = readFileSync(join(contextRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const patterns = readFileSync(join(contextRoot, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const stages = new Map<string, string>();
  let current = '';
  for (const line of dockerfile.split('\n').map((text) => text.trim())) {
    const from = line.match(/^FROM\s+\S+(?:\s+AS\s+(\S+))?/i);
    if (from) {
      const name = from[1] ?? 'final';
      current = join(into, name, 'app');
      mkdirSync(current, { recursive: true });
      stages.set(name, current);
      continue;
    }
    const copy = line.match(/^COPY\s+(?:--from=(\S+)\s+)?(.+)$/i);
    if (copy) {
      const parts = copy[2]!.split(/\s+/);
      const dest = parts.pop()!;
      for (const source of parts) {
        if (copy[1]) {
          const origin = join(stages.get(copy[1])!, source.replace(/^\/app\/?/, ''));
          if (!existsSync(origin)) throw new Error(`COPY --from=${copy[1]} ${source}: nothing there`);
          cpSync(origin, destination(current, origin, dest), { recursive: true, verbatimSymlinks: true });
        } else {
          copyFromContext(patterns, join(contextRoot, source), destination(current, source, dest));
        }
      }
      continue;
    }
    const run = line.match(/^RUN\s+(bun\s.+)$/i);
    if (run) {
      const result = Bun.spawnSync(['sh', '-c', run[1]!], { cwd: current, env: process.env });
      if (result.exitCode !== 0) throw new Error(`RUN ${run[1]} failed: ${result.stderr.toString().slice(-1500)}`);
    }
  }
  return stages.get('final')!;
}
