/**
 * `bun run test`: every test of every package with `bun test`, then one line `N passed, N failed`.
 * Exits non-zero when a test failed or when no test ran.
 */
// bunfig's [test] timeout is not applied by Bun 1.4.5 (tests stop at its 5 s default): given here.
const child = Bun.spawn(['bun', 'test', '--timeout', '30000', ...process.argv.slice(2)], {
  cwd: new URL('..', import.meta.url).pathname,
  stdout: 'inherit',
  stderr: 'pipe',
  env: process.env,
});

// bun prints its summary on stderr; pass everything through and keep the counts.
let passed = 0;
let failed = 0;
const decoder = new TextDecoder();
let tail = '';
for await (const chunk of child.stderr) {
  const text = decoder.decode(chunk, { stream: true });
  process.stderr.write(text);
  tail = (tail + text).slice(-4000);
}
const code = await child.exited;
passed = Number(tail.match(/^\s*(\d+) pass$/m)?.[1] ?? 0);
failed = Number(tail.match(/^\s*(\d+) fail$/m)?.[1] ?? 0);
console.log(`${passed} passed, ${failed} failed`);
if (code !== 0 || failed > 0 || passed === 0) {
  if (passed === 0 && failed === 0) console.error('No test ran.');
  process.exit(code || 1);
}
