/**
 * What a reviewer checks on each page of the shop, done by the browser tests: axe-core's serious and
 * critical findings, sideways scrolling on a phone, and a full-page screenshot to look at.
 */
import type { AxeResults } from 'axe-core';
import type { Page } from 'playwright-core';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const axeSource = await Bun.file(Bun.resolveSync('axe-core/axe.min.js', import.meta.dir)).text();
/** Screens narrower than this are phones: nothing may scroll sideways there. */
const phoneWidth = 600;

/** How far the page scrolls sideways (0 when nothing is wider than the screen). */
export const sidewaysOverflow = (page: Page): Promise<number> => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/**
 * An audit writing its screenshots to `screenshotDir` (emptied first) as `<name>-<width>.png`, and
 * keeping what it found, one line per finding ("catalog-390: color-contrast (serious) …").
 *
 * @example
 * const audit = createPageAudit('artifacts/screenshots');
 * await page.goto('/catalog');
 * await audit.check(page, 'catalog', 390);
 * expect(audit.problems).toEqual([]);
 */
export function createPageAudit(screenshotDir: string) {
  rmSync(screenshotDir, { recursive: true, force: true });
  mkdirSync(screenshotDir, { recursive: true });
  const problems: string[] = [];

  const check = async (page: Page, name: string, width: number) => {
    await page.waitForLoadState('load');
    const where = `${name}-${width}`;
    if (width < phoneWidth) {
      const overflow = await sidewaysOverflow(page);
      if (overflow > 0) problems.push(`${where}: scrolls sideways by ${overflow} px`);
    }
    problems.push(...(await axeFindings(page)).map((line) => `${where}: ${line}`));
    await page.mouse.move(0, 0); // no button left in its hover colour by the last click
    await page.screenshot({ path: join(screenshotDir, `${where}.png`), fullPage: true, animations: 'disabled' });
  };
  const screenshots = () => readdirSync(screenshotDir).filter((file) => file.endsWith('.png')).length;
  return { check, problems, screenshots };
}

/** axe-core's serious and critical violations on the page as it is now: id, impact, where (the first few places), and what the rule asks. */
async function axeFindings(page: Page): Promise<string[]> {
  // Evaluated, not added as a <script>: the shop's CSP lets no inline script run.
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } }).axe;
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => {
        const targets = violation.nodes.slice(0, 5).map((node) => node.target.join(' '));
        const more = violation.nodes.length > 5 ? ` and ${violation.nodes.length - 5} more` : '';
        return `${violation.id} (${violation.impact}) ${targets.join(', ')}${more}: ${violation.help}`;
      });
  });
}
