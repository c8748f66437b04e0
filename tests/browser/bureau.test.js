// The county bureau's trace and recall on a phone (360x740): the demo regulator signs in and
// lands on the trace page; types a lot's trace code and lands on the lot (custody, holders,
// buyers, the hash chain intact); opens the recall, which first says whom it will reach; a
// recall without a reason is refused and changes nothing; with a reason it is done, the lot
// page shows its progress, and the report is shown, printed (print media) and downloaded as CSV
// whose first lines say which product, lot, reason and officer it is about. axe-core on every
// bureau page in zh and en, with a screenshot of each.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { useSuite, withPhone } from './lib/fixture.js';
import { screenshot, phoneContext, watchPage, horizontalOverflow } from './lib/browser.js';
import { expectAccessible } from './lib/axe.js';
import { signIn, setField } from './lib/pages.js';

const s = useSuite();
const story = 'bureau';

async function noSidewaysScroll(page) {
  const o = await horizontalOverflow(page);
  assert.ok(o.scrollWidth <= o.clientWidth, `no page-wide sideways scroll at 360 px on ${page.url()}: ${JSON.stringify(o)}`);
}

test('a regulator traces a code to its lot, recalls it, and prints and downloads the report', { timeout: 300_000 }, async () => {
  const reg = s.server.login('REGULATOR');
  assert.ok(reg, 'the demo prints a regulator login');
  const code = s.server.traceCodes.find((c) => c.length < 20) ?? s.server.traceCodes[0];
  await withPhone(s, story, {}, async (page) => {
    await signIn(page, reg);
    assert.equal(new URL(page.url()).pathname, '/bureau', 'a regulator lands on the bureau');
    await screenshot(page, story, '01-trace', 'zh');

    // An unknown code says so.
    await setField(page, 'code', 'NO-SUCH-CODE');
    await Promise.all([page.waitForLoadState('load'), page.locator('form[role=search] button[type=submit]').click()]);
    assert.ok(await page.locator('[data-test=trace-none]').isVisible(), 'an unknown code is reported');

    // The lot's code, typed in lower case: its page.
    await setField(page, 'code', code.toLowerCase());
    await Promise.all([page.waitForURL(/\/bureau\/lots\/\d+$/), page.locator('form[role=search] button[type=submit]').click()]);
    const lotPath = new URL(page.url()).pathname;
    await screenshot(page, story, '02-lot', 'zh');
    await noSidewaysScroll(page);
    assert.ok((await page.locator('[data-test=custody-row]').count()) > 0, 'the chain of custody is shown');
    assert.ok((await page.locator('[data-test=holder-row]').count()) > 0, 'the holders are listed');
    assert.match(await page.locator('[data-test=chain]').innerText(), /哈希链完整/, 'the hash chain is checked');
    assert.match(await page.locator('[data-test=lot-status]').innerText(), /正常/);

    // The recall's confirmation says whom it reaches.
    await Promise.all([page.waitForURL(/\/recall$/), page.locator('[data-test=recall]').click()]);
    await screenshot(page, story, '03-recall-confirm', 'zh');
    await noSidewaysScroll(page);
    const holders = Number((await page.locator('[data-test=reach-holders]').innerText()).match(/^\d+/)[0]);
    assert.equal(holders, await page.evaluate(async (p) => {
      const html = await (await fetch(p)).text();
      return (html.match(/data-test="holder-row"/g) || []).length;
    }, lotPath), 'the holders counted are the holders listed');

    // Without a reason the browser stops the form; an all-blank reason is refused by the server.
    await setField(page, 'reason', '   ');
    await Promise.all([page.waitForLoadState('load'), page.locator('[data-test=recall-confirm]').click()]);
    await page.waitForLoadState('load');
    assert.equal(await page.locator('[data-test=lot-error]').count(), 1, 'a blank reason is refused with a message');
    await page.goto(lotPath);
    assert.match(await page.locator('[data-test=lot-status]').innerText(), /正常/, 'the refused recall changed nothing');

    await page.goto(`${lotPath}/recall`);
    await setField(page, 'reason', '抽检不合格：总养分不足');
    await Promise.all([page.waitForURL(/done=recalled/), page.locator('[data-test=recall-confirm]').click()]);
    await screenshot(page, story, '04-recalled', 'zh');
    assert.match(await page.locator('[data-test=lot-status]').innerText(), /已召回/);
    assert.ok(await page.locator('[data-test=progress]').isVisible(), 'the recall shows its progress');

    // The report: on screen, printed, and as CSV.
    await page.goto(`${lotPath}/report`);
    await screenshot(page, story, '05-report', 'zh');
    await noSidewaysScroll(page);
    const head = await page.locator('[data-test=report-head]').innerText();
    assert.match(head, /抽检不合格：总养分不足/, 'the report names the reason');
    assert.match(head, /下令人/, 'the report names who ordered it');
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('nav.menu').isVisible(), false, 'the menu is not printed');
    await screenshot(page, story, '06-report-print', 'zh');
    await page.emulateMedia({ media: 'screen' });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=report-csv]').click()]);
    const csv = (await readFile(await download.path(), 'utf8')).replace(/^\ufeff/, '');
    const lines = csv.split(/\r\n/);
    assert.match(lines[0], /^召回报告,/, `the CSV starts with what it is about: ${lines[0]}`);
    assert.ok(lines.some((l) => l.startsWith('原因,抽检不合格')), 'the CSV names the reason');
    assert.ok(lines.some((l) => l.startsWith('类型,经销商')), 'then the table with its header');

    // Listed among holds and recalls.
    await page.goto('/bureau/recalls');
    await screenshot(page, story, '07-recalls', 'zh');
    assert.ok((await page.locator(`a[href="${lotPath}/report"]`).count()) === 1, 'the recalled lot is listed with its report');
  });
});

for (const lang of ['zh', 'en']) {
  test(`accessibility and screenshots of the bureau's trace and recall pages (${lang})`, { timeout: 300_000 }, async (t) => {
    const context = await phoneContext(s.browser, s.server.baseURL, { lang });
    const page = await context.newPage();
    const problems = watchPage(page);
    try {
      if (lang === 'en') await page.goto('/login?lang=en');
      await signIn(page, s.server.login('REGULATOR'));
      await page.goto(`/bureau?code=${encodeURIComponent(s.server.traceCodes[s.server.traceCodes.length - 1])}`);
      const lotPath = new URL(page.url()).pathname;
      assert.match(lotPath, /^\/bureau\/lots\/\d+$/);
      const pages = [
        { name: 'trace', path: '/bureau' },
        { name: 'not-found', path: '/bureau?code=NO-SUCH', status: 404 },
        { name: 'lot', path: lotPath },
        { name: 'recall-confirm', path: `${lotPath}/recall` },
        { name: 'report', path: `${lotPath}/report` },
        { name: 'recalls', path: '/bureau/recalls' },
      ];
      for (const entry of pages) {
        await t.test(`${lang} ${entry.name}`, async () => {
          problems.length = 0;
          const resp = await page.goto(entry.path);
          assert.equal(resp.status(), entry.status ?? 200, `GET ${entry.path}`);
          assert.match(await page.locator('html').getAttribute('lang'), lang === 'en' ? /^en/i : /^zh/i);
          await screenshot(page, 'bureau-a11y', entry.name, lang);
          await noSidewaysScroll(page);
          await expectAccessible(page, `bureau-${entry.name}-${lang}`);
          assert.deepEqual(problems.filter((p) => !/404/.test(p)), [], 'no script errors or 5xx');
        });
      }
    } finally {
      await context.close();
    }
  });
}

test('a farmer gets 403 on the bureau, a signed-out browser goes to sign-in and back', { timeout: 60_000 }, async () => {
  const context = await phoneContext(s.browser, s.server.baseURL, { lang: 'zh' });
  const page = await context.newPage();
  try {
    const resp = await page.goto('/bureau/recalls');
    assert.match(new URL(page.url()).pathname, /^\/login/, 'signed out: to the sign-in page');
    assert.ok(resp.status() < 400);
    await signIn(page, s.server.login('FARMER'));
    const r = await page.goto('/bureau');
    assert.equal(r.status(), 403, 'a farmer is refused');
  } finally {
    await context.close();
  }
});
