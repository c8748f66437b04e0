// One server and one browser per test file (node --test runs each file in its own process).

import { before, after } from 'node:test';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, outDir } from './server.js';
import { launchBrowser, phoneContext, watchPage } from './browser.js';

/** Registers before/after hooks; the returned object is filled in before the first test. */
export function useSuite() {
  const s = { server: null, browser: null };
  before(async () => {
    s.server = await startServer();
    s.browser = await launchBrowser();
    const roles = s.server.logins.map((l) => `${l.role}${l.dealerRole ? `(${l.dealerRole})` : ''} ${l.phone}`);
    console.log(`# nongzi at ${s.server.baseURL}; demo logins: ${roles.join(', ')}; trace codes: ${s.server.traceCodes.length}`);
  }, { timeout: 120_000 });
  after(async () => {
    await s.browser?.close().catch(() => {});
    await s.server?.stop();
  }, { timeout: 30_000 });
  return s;
}

/**
 * Runs fn(page, context, problems) in a fresh phone context; on failure keeps a screenshot in
 * out/failures/ and adds the page's console errors and 5xx responses to the error.
 */
export async function withPhone(s, name, opts, fn) {
  const context = await phoneContext(s.browser, s.server.baseURL, opts);
  const page = await context.newPage();
  const problems = watchPage(page);
  try {
    return await fn(page, context, problems);
  } catch (e) {
    try {
      const dir = path.join(outDir, 'failures');
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
      e.message += `\n  at ${page.url()} (screenshot ${path.relative(process.cwd(), file)})`;
    } catch {
      // the page is gone
    }
    if (problems.length) e.message += `\n  page problems:\n    ${problems.slice(0, 10).join('\n    ')}`;
    throw e;
  } finally {
    await context.close().catch(() => {});
  }
}
