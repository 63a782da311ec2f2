/**
 * `bun run rehearse` as CI runs it: the three-node topology on this machine, each step passing
 * (zero failed requests through the rolling restart, the shop answering without one node, reads
 * falling back without the replica). The rehearsal prints why a step failed; this test shows it.
 */
import { expect, test } from 'bun:test';
import { resolve } from 'node:path';

test('the cluster rehearsal passes every step', async () => {
  const child = Bun.spawn(['bun', 'scripts/rehearse.ts', '--no-write'], { cwd: resolve(import.meta.dir, '../..'), stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`the rehearsal failed (exit ${code}):\n${out.slice(-4000)}\n${err.slice(-2000)}`);
  expect(out).toContain('Rehearsal passed: 6 steps.');
  expect(out).toMatch(/rolling restart .* 0 failed/);
}, 300_000);
